// The release preview's reasons come from the node as stable codes, which the
// console shows in the reader's language (the English sentence stays in the
// API answer for other clients).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { visible } from '../lib/page.mjs';

const fixture = useCluster();
const messages = (lang) => JSON.parse(readFileSync(new URL(`../../../crates/trilat-node/console/i18n/${lang}.json`, import.meta.url)));
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');

test('the release preview gives each withheld partner\'s reason in Japanese', async () => {
  const usa = await fixture.openConsole('USA', 'analyst');
  const ja = messages('ja');
  await usa.getByRole('combobox', { name: /Language/ }).first().selectOption({ label: '日本語' });
  await usa.waitForFunction(() => document.documentElement.lang === 'ja');
  await usa.getByRole('navigation', { name: ja['nav.label'] }).getByRole('button', { name: ja['nav.write'] }).click();
  await usa.getByLabel(ja['marking.level']).selectOption('SECRET');
  await usa.getByRole('checkbox', { name: 'JPN' }).check();

  const marking = { level: 'SECRET', tlp: 'AMBER', rel_to: ['USA', 'JPN'], further_sharing: 'none' };
  const answer = await api(fixture.cluster.nodes.USA, 'analyst', 'POST', '/api/v1/release/preview', { marking, exercise: false });
  const withheld = answer.recipients.filter((r) => !r.released);
  assert.ok(withheld.length > 0, `no partner withheld: ${JSON.stringify(answer)}`);
  for (const r of withheld) {
    assert.ok(r.reason_code && `release.reason_${r.reason_code}` in ja, `no Japanese text for ${JSON.stringify(r)}`);
    assert.ok(r.reason, `no English reason kept for API clients: ${JSON.stringify(r)}`);
    const reason = fill(ja[`release.reason_${r.reason_code}`], r.reason_values);
    const line = fill(ja['preview.withheld'], { party: r.party, reason });
    await visible(usa.getByText(line, { exact: true }), 15_000);
    assert.equal(await usa.getByText(r.reason).count(), 0, `the English reason is shown: ${r.reason}`);
  }
  await screenshot(usa, 'release-preview-ja');
  await usa.close();
});

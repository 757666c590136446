// axe-core over the console's views: no serious or critical violations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signIn } from '../lib/browser.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { axeViolations, consoleReady, visible } from '../lib/page.mjs';

const fixture = useCluster();

test('axe-core finds no serious or critical violation in any view', async () => {
  const page = await fixture.browser.newPage();
  await signIn(page, fixture.cluster.nodes.JPN, 'admin');
  await consoleReady(page);
  const found = {};
  found.picture = await axeViolations(page);
  const nav = page.getByRole('navigation', { name: 'Views' });
  for (const view of ['Write', 'Screening', 'Federation', 'Audit']) {
    await nav.getByRole('button', { name: view }).click();
    await visible(page.getByRole('main').getByRole('heading', { level: 2 }));
    await page.waitForTimeout(500);
    found[view] = await axeViolations(page);
  }
  await nav.getByRole('button', { name: 'Picture' }).click();
  await (await visible(page.getByRole('region', { name: 'Timeline' }).getByRole('listitem').getByRole('button'))).click();
  await visible(page.getByRole('complementary', { name: 'Report detail' }));
  found.detail = await axeViolations(page);
  const bad = Object.entries(found).filter(([, v]) => v.length);
  assert.deepEqual(bad, [], JSON.stringify(bad, null, 2));
  await page.close();
});

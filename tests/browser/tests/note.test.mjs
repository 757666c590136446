// A note written at USA reaches JPN's console, never KOR's, against a real
// three-node cluster (USA, JPN, KOR of the demo); a screenshot at each end.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { fetchBodies, timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();
const openConsole = (...args) => fixture.openConsole(...args);

test('a note written at USA for USA and JPN shows at JPN within a second, never at KOR', async () => {
  const text = `Tanker loitering off Tsushima, AIS dark 14 h — ${randomUUID()}`;
  const usa = await openConsole('USA', 'analyst');
  const jpn = await openConsole('JPN', 'reader');
  const kor = await openConsole('KOR', 'reader', { record: true });

  await usa.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Write' }).click();
  await usa.getByLabel('Text').fill(text);
  await usa.getByLabel('Classification').selectOption('CONFIDENTIAL');
  await usa.getByRole('checkbox', { name: 'JPN' }).check();
  // JPN's page notes when the note's text first enters its timeline (the
  // page's clock and this process's are the machine's one clock).
  await jpn.evaluate((text) => {
    const list = document.getElementById('timeline-list');
    window.__noteSeenAt = null;
    new MutationObserver(() => {
      if (window.__noteSeenAt === null && list.textContent.includes(text)) window.__noteSeenAt = Date.now();
    }).observe(list, { childList: true, subtree: true, characterData: true });
  }, text);
  const [created] = await Promise.all([
    usa.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/reports'),
    usa.getByRole('button', { name: 'Publish' }).click(),
  ]);
  assert.equal(created.status(), 201, await created.text());
  await visible(timelineItem(jpn, text), 5_000);
  const shownAfterMs = (await jpn.evaluate(() => window.__noteSeenAt)) - created.request().timing().startTime;
  assert.ok(shownAfterMs <= 1_000, `the note reached JPN's console ${shownAfterMs.toFixed(0)} ms after USA's create request (at most 1,000)`);
  await screenshot(jpn, 'note-at-jpn');

  // KOR is not in REL TO: wait past a pull interval (2 s) and look again,
  // in KOR's page and in every byte KOR's page read from its node.
  await kor.waitForTimeout(3_000);
  assert.equal(await kor.getByText(text).count(), 0, 'the note is on KOR\'s page');
  const bodies = await fetchBodies(kor);
  assert.ok(bodies.some((b) => b.url.includes('/api/v1/stream')), 'KOR\'s page never opened the live stream');
  const leaked = bodies.filter((b) => b.body.includes(text));
  assert.deepEqual(leaked.map((b) => b.url), [], 'the note reached KOR\'s page over the network');
  const korReports = await api(fixture.cluster.nodes.KOR, 'admin', 'GET', '/api/v1/reports?kind=note&limit=1000');
  assert.ok(!JSON.stringify(korReports).includes(text), 'KOR\'s node holds the note');
  await Promise.all([usa.close(), jpn.close(), kor.close()]);
});

test('the release preview shows, per partner, the node\'s own decision and reason', async () => {
  const usa = await openConsole('USA', 'analyst');
  await usa.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Write' }).click();
  await usa.getByLabel('Classification').selectOption('SECRET');
  await usa.getByRole('checkbox', { name: 'JPN' }).check();
  const marking = { level: 'SECRET', tlp: 'AMBER', rel_to: ['USA', 'JPN'], further_sharing: 'none' };
  const answer = await api(fixture.cluster.nodes.USA, 'analyst', 'POST', '/api/v1/release/preview', { marking, exercise: false });
  const withheld = answer.recipients.filter((r) => !r.released);
  assert.ok(withheld.some((r) => r.party === 'KOR'), `KOR is released: ${JSON.stringify(answer)}`);
  assert.ok(answer.recipients.some((r) => r.party === 'JPN' && r.released), `JPN is withheld: ${JSON.stringify(answer)}`);
  const preview = usa.getByRole('list').filter({ hasText: 'not released' });
  for (const r of answer.recipients) {
    const line = r.released ? `${r.party}: released` : `${r.party}: not released — ${r.reason}`;
    await visible(preview.getByText(line, { exact: true }));
  }
  await visible(usa.getByText(`Banner: ${answer.banner}`));
  await screenshot(usa, 'release-preview-usa');
  await usa.close();
});

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

// One note's latency is one sample on a shared two-core machine: the test
// writes three and holds the median to the second (each must still
// arrive within five, where a pull, not a push, would have brought it).
const NOTES = 3;

/** Marks in JPN's page when `text` first enters its timeline (one clock: the machine's). */
async function watchTimeline(page, text) {
  await page.evaluate((text) => {
    const list = document.getElementById('timeline-list');
    window.__noteSeenAt = null;
    new MutationObserver(() => {
      if (window.__noteSeenAt === null && list.textContent.includes(text)) window.__noteSeenAt = Date.now();
    }).observe(list, { childList: true, subtree: true, characterData: true });
  }, text);
}

/** Publishes `text` for USA and JPN from USA's Write view; the create request. */
async function publishNote(usa, text) {
  await usa.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Write' }).click();
  await usa.getByLabel('Text').fill(text);
  await usa.getByLabel('Classification').selectOption('CONFIDENTIAL');
  await usa.getByRole('checkbox', { name: 'JPN' }).check();
  const [created] = await Promise.all([
    usa.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/reports'),
    usa.getByRole('button', { name: 'Publish' }).click(),
  ]);
  assert.equal(created.status(), 201, await created.text());
  return created;
}

test('a note written at USA for USA and JPN shows at JPN within a second, never at KOR', async () => {
  const usa = await openConsole('USA', 'analyst');
  const jpn = await openConsole('JPN', 'reader');
  const kor = await openConsole('KOR', 'reader', { record: true });

  const texts = [];
  const latencies = [];
  for (let i = 0; i < NOTES; i += 1) {
    const text = `Tanker loitering off Tsushima, AIS dark 14 h — ${randomUUID()}`;
    texts.push(text);
    await watchTimeline(jpn, text);
    const created = await publishNote(usa, text);
    await visible(timelineItem(jpn, text), 5_000);
    latencies.push((await jpn.evaluate(() => window.__noteSeenAt)) - created.request().timing().startTime);
  }
  const median = [...latencies].sort((a, b) => a - b)[Math.floor(NOTES / 2)];
  const shown = latencies.map((ms) => ms.toFixed(0)).join(', ');
  console.log(`note USA → JPN console: ${shown} ms (median ${median.toFixed(0)})`);
  assert.ok(median <= 1_000, `the notes reached JPN's console ${shown} ms after USA's create request (median at most 1,000)`);
  await screenshot(jpn, 'note-at-jpn');

  // KOR is not in REL TO: wait past a pull interval (2 s) and look again,
  // in KOR's page and in every byte KOR's page read from its node.
  await kor.waitForTimeout(3_000);
  for (const text of texts) assert.equal(await kor.getByText(text).count(), 0, 'the note is on KOR\'s page');
  const bodies = await fetchBodies(kor);
  assert.ok(bodies.some((b) => b.url.includes('/api/v1/stream')), 'KOR\'s page never opened the live stream');
  const leaked = bodies.filter((b) => texts.some((text) => b.body.includes(text)));
  assert.deepEqual(leaked.map((b) => b.url), [], 'a note reached KOR\'s page over the network');
  const korReports = JSON.stringify(await api(fixture.cluster.nodes.KOR, 'admin', 'GET', '/api/v1/reports?kind=note&limit=1000'));
  assert.ok(!texts.some((text) => korReports.includes(text)), 'KOR\'s node holds a note');
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

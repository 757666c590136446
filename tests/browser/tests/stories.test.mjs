// The console's stories, each as a person does it, against a real
// three-node cluster (USA, JPN, KOR of the demo); a screenshot at each end.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launch, screenshot, signIn } from '../lib/browser.mjs';
import { api, startCluster } from '../lib/cluster.mjs';
import { consoleReady, fetchBodies, recordFetchBodies, timelineItem, visible } from '../lib/page.mjs';

let cluster;
let browser;
before(async () => {
  cluster = await startCluster();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function openConsole(party, role, { record = false } = {}) {
  const page = await browser.newPage();
  if (record) await recordFetchBodies(page);
  await signIn(page, cluster.nodes[party], role);
  await consoleReady(page);
  return page;
}

test('a watch officer signs in at JPN with the #token= link', async () => {
  const page = await openConsole('JPN', 'reader');
  await visible(page.getByText('watch · JPN · reader'));
  assert.ok(!page.url().includes('token='), `the token stays in the address bar: ${page.url()}`);
  assert.equal(await page.title(), await page.getByRole('heading', { level: 1 }).textContent());
  await screenshot(page, 'signin-jpn');
  await page.close();
});

test('a reader has no create button; an analyst has one', async () => {
  const reader = await openConsole('JPN', 'reader');
  const analyst = await openConsole('JPN', 'analyst');
  const nav = (page) => page.getByRole('navigation', { name: 'Views' });
  await visible(nav(analyst).getByRole('button', { name: 'Write' }));
  await visible(nav(reader).getByRole('button', { name: 'Picture' }));
  assert.equal(await nav(reader).getByRole('button', { name: 'Write' }).count(), 0);
  assert.equal(await reader.getByRole('button', { name: 'Publish' }).count(), 0);
  await reader.close();
  await analyst.close();
});

test('a note written at USA for USA and JPN shows at JPN within a second, never at KOR', async () => {
  const text = `Tanker loitering off Tsushima, AIS dark 14 h — ${randomUUID()}`;
  const usa = await openConsole('USA', 'analyst');
  const jpn = await openConsole('JPN', 'reader');
  const kor = await openConsole('KOR', 'reader', { record: true });

  await usa.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Write' }).click();
  await usa.getByLabel('Text').fill(text);
  await usa.getByLabel('Classification').selectOption('CONFIDENTIAL');
  await usa.getByRole('checkbox', { name: 'JPN' }).check();
  const published = Date.now();
  await usa.getByRole('button', { name: 'Publish' }).click();
  await visible(timelineItem(jpn, text), 5_000);
  const shownAfterMs = Date.now() - published;
  assert.ok(shownAfterMs <= 1_000, `the note reached JPN's console ${shownAfterMs} ms after Publish (at most 1,000)`);
  await screenshot(jpn, 'note-at-jpn');

  // KOR is not in REL TO: wait past a pull interval (2 s) and look again,
  // in KOR's page and in every byte KOR's page read from its node.
  await kor.waitForTimeout(3_000);
  assert.equal(await kor.getByText(text).count(), 0, 'the note is on KOR\'s page');
  const bodies = await fetchBodies(kor);
  assert.ok(bodies.some((b) => b.url.includes('/api/v1/stream')), 'KOR\'s page never opened the live stream');
  const leaked = bodies.filter((b) => b.body.includes(text));
  assert.deepEqual(leaked.map((b) => b.url), [], 'the note reached KOR\'s page over the network');
  const korReports = await api(cluster.nodes.KOR, 'admin', 'GET', '/api/v1/reports?kind=note&limit=1000');
  assert.ok(!JSON.stringify(korReports).includes(text), 'KOR\'s node holds the note');
  await Promise.all([usa.close(), jpn.close(), kor.close()]);
});

// Two owners, one report id (issue 13): a party may publish first under
// another party's id; the nodes then hold two reports, told apart by their
// owner. JPN's console must show both, and open each as its own.
//
// No client of the API can choose a report's id (the node draws it; a STIX
// import hashes the owner into it), so a squat needs a modified node, which
// this harness does not have. The test therefore lets USA and KOR each
// publish a real note to JPN, and JPN's page reads KOR's note under USA's
// note's id: the page's listing and KOR's detail read are answered by JPN's
// node (`route.fetch`), with KOR's id replaced by USA's in the answer. What
// the console does with the pair is then what it would do with a real squat.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot, signIn } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { consoleReady, timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();

const note = (relTo, text) => ({
  kind: 'note',
  marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: relTo, further_sharing: 'none' },
  payload: { text },
});

/** Waits until JPN's node holds `report` (federation is asynchronous). */
async function heldByJpn(jpn, report) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await api(jpn, 'reader', 'GET', `/api/v1/reports/${report.owner}/${report.id}`);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${report.owner}/${report.id} not at JPN in 20 s: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** JPN's answers to `page`, with KOR's report `from` renamed to id `to`. */
async function squat(page, jpnUrl, from, to) {
  await page.route(`${jpnUrl}/api/v1/reports**`, async (route) => {
    const url = new URL(route.request().url());
    const renamed = `/api/v1/reports/KOR/${to}`;
    if (url.pathname === renamed) url.pathname = `/api/v1/reports/KOR/${from}`;
    const answer = await route.fetch({ url: url.toString() });
    const body = (await answer.text()).replaceAll(from, to);
    await route.fulfill({ response: answer, body });
  });
}

test('JPN\'s console shows two owners\' reports with one id, each opening as its own', async () => {
  const { USA: usa, KOR: kor, JPN: jpn } = fixture.cluster.nodes;
  const tag = randomUUID();
  const usaText = `USA: radar contact north of Tsushima — ${tag}`;
  const korText = `KOR: under USA's id, not USA's report — ${tag}`;
  const { report: genuine } = await api(usa, 'analyst', 'POST', '/api/v1/reports', note(['USA', 'JPN'], usaText));
  const { report: squatter } = await api(kor, 'analyst', 'POST', '/api/v1/reports', note(['KOR', 'JPN'], korText));
  await heldByJpn(jpn, genuine);
  await heldByJpn(jpn, squatter);

  const page = await fixture.browser.newPage();
  await squat(page, jpn.url, squatter.id, genuine.id);
  await signIn(page, jpn, 'reader');
  await consoleReady(page);

  // Both are in the timeline: neither replaced the other in the page.
  await visible(timelineItem(page, usaText), 15_000);
  await visible(timelineItem(page, korText), 15_000);
  const keys = await page.getByRole('region', { name: 'Timeline' }).getByRole('button').filter({ hasText: tag })
    .evaluateAll((items) => items.map((b) => b.dataset.key).sort());
  assert.deepEqual(keys, [`KOR/${genuine.id}`, `USA/${genuine.id}`]);

  const detail = page.getByRole('complementary', { name: 'Report detail' });
  for (const [owner, text, other] of [['USA', usaText, korText], ['KOR', korText, usaText]]) {
    await timelineItem(page, text).click();
    await visible(detail.getByText(text, { exact: true }));
    const ownerRow = detail.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Owner', exact: true }) });
    assert.equal((await ownerRow.getByRole('cell').textContent()).trim(), owner);
    assert.equal(await detail.getByText(other).count(), 0, `${owner}'s detail shows the other owner's text`);
    assert.equal(await detail.getByRole('code').filter({ hasText: genuine.id }).count(), 1);
    await detail.getByRole('button', { name: 'Close' }).click();
    await detail.waitFor({ state: 'hidden' });
  }
  await screenshot(page, 'same-id-two-owners-at-jpn');
  await page.close();
});

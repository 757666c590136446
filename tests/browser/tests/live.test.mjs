// The live picture loses no report. The console reads the reports once
// (GET /api/v1/reports) and then follows the live stream (GET
// /api/v1/stream); a report stored between the two must still reach the
// page. The test holds the console's stream request in the browser until a
// note written at USA is stored at JPN, then lets it through: a console that
// loads first and subscribes second never sees that note (it was stored
// after its last page was read and before its stream was open).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { signIn } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { consoleReady, timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();

/** Resolves once `node` holds report `id` (`OWNER/uuid`; pushed or pulled from its owner). */
async function heldAt(node, id, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await api(node, 'reader', 'GET', `/api/v1/reports/${id}`);
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`report ${id} not at ${node.party} after ${timeoutMs} ms: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('a note stored at JPN while its console connects to the live stream still shows', async () => {
  const { USA: usa, JPN: jpn } = fixture.cluster.nodes;
  const page = await fixture.browser.newPage();
  let streamAsked;
  const asked = new Promise((resolve) => { streamAsked = resolve; });
  let letThrough;
  const released = new Promise((resolve) => { letThrough = resolve; });
  const streamRequests = [];
  await page.route((url) => url.pathname === '/api/v1/stream', async (route) => {
    streamRequests.push(route.request().url());
    streamAsked();
    await released;
    await route.continue();
  });
  await signIn(page, jpn, 'reader');
  await consoleReady(page);
  await asked;

  const text = `Dhow transfer at dusk, stored while JPN connects — ${randomUUID()}`;
  const { report } = await api(usa, 'analyst', 'POST', '/api/v1/reports', {
    kind: 'note',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
    payload: { text },
  });
  await heldAt(jpn, `${report.owner}/${report.id}`);
  letThrough();

  await page.locator('#stream-state[data-i18n="stream.live"]').waitFor({ timeout: 30_000 });
  // Shown without a reconnect: the first stream request was the only one.
  await visible(timelineItem(page, text), 10_000);
  assert.equal(streamRequests.length, 1, `the console reconnected: ${streamRequests.join(', ')}`);

  // And what comes after is live as before.
  const after = `Second note, after the stream opened — ${randomUUID()}`;
  await api(usa, 'analyst', 'POST', '/api/v1/reports', {
    kind: 'note',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
    payload: { text: after },
  });
  await visible(timelineItem(page, after), 10_000);
  await page.close();
});

// The replay slider shows the picture as it was: a note written at USA and
// revised a few seconds later reads, at a time between the two versions, as
// its first version (read from JPN's change feed), and is absent before it
// was written.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();

test('the replay slider shows a report in the version current at the chosen time', async () => {
  const { USA: usa, JPN: jpn } = fixture.cluster.nodes;
  const tag = randomUUID();
  const draft = (text) => ({
    kind: 'note',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
    payload: { text },
  });
  const first = `Coaster anchored off Mokpo, first sighting — ${tag}`;
  const second = `Coaster under way to the south-west, revised — ${tag}`;
  const { report: v1 } = await api(usa, 'analyst', 'POST', '/api/v1/reports', draft(first));
  await new Promise((r) => setTimeout(r, 4_000));
  const { report: v2 } = await api(usa, 'analyst', 'PUT', `/api/v1/reports/${v1.owner}/${v1.id}`, draft(second));

  const page = await fixture.openConsole('JPN', 'reader');
  await visible(timelineItem(page, second), 20_000);
  assert.equal(await timelineItem(page, first).count(), 0, 'the live picture shows the first version');

  // The slider spans the oldest report the page holds to now (timeline.mjs).
  const { reports } = await api(jpn, 'reader', 'GET', '/api/v1/reports?exercise=false&include_revoked=true&limit=1000');
  const start = Math.min(...reports.map((r) => Date.parse(r.observed_at) || Date.parse(r.modified)));
  const valueAt = (at) => String(Math.round((1000 * (at - start)) / (Date.now() - start)));
  const between = (Date.parse(v1.modified) + Date.parse(v2.modified)) / 2;
  const slider = page.getByRole('slider', { name: 'Replay' });
  await slider.fill(valueAt(between));
  await visible(timelineItem(page, first), 20_000);
  assert.equal(await timelineItem(page, second).count(), 0, 'the replayed picture shows the later version');
  await screenshot(page, 'replay-at-jpn');

  await slider.fill(valueAt(Date.parse(v1.modified) - 3_000));
  await timelineItem(page, first).waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await timelineItem(page, second).count(), 0);
  await page.close();
});

// A withdrawal in a replayed window: USA writes a note for USA and JPN, then
// narrows it to USA alone, so JPN's node records USA's withdrawal (with the
// time it received it). Replayed at a time before that, JPN's console shows
// the note; at a time after it, not, as JPN knew it then (the change feed
// alone still holds version 1 of the note, the newest version JPN has).
test('the replay slider hides a report withdrawn by the chosen time and shows it before', async () => {
  const { USA: usa, JPN: jpn } = fixture.cluster.nodes;
  const text = `Tanker loitering south of Jeju, later withdrawn — ${randomUUID()}`;
  const draft = (relTo, body) => ({
    kind: 'note',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: relTo, further_sharing: 'none' },
    payload: { text: body },
  });
  const { report: v1 } = await api(usa, 'analyst', 'POST', '/api/v1/reports', draft(['USA', 'JPN'], text));
  await new Promise((r) => setTimeout(r, 4_000));
  await api(usa, 'analyst', 'PUT', `/api/v1/reports/${v1.owner}/${v1.id}`, draft(['USA'], `${text} (USA only)`));

  // When JPN's node received the withdrawal, from its withdrawal log.
  let received = null;
  for (const deadline = Date.now() + 20_000; received === null && Date.now() < deadline;) {
    const { withdrawals } = await api(jpn, 'reader', 'GET', '/api/v1/withdrawals');
    const entry = withdrawals.find((w) => w.owner === v1.owner && w.id === v1.id);
    if (entry) received = Date.parse(entry.received_at);
    else await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(received > Date.parse(v1.modified), 'JPN recorded the withdrawal after version 1');
  await new Promise((r) => setTimeout(r, 4_000));

  const page = await fixture.openConsole('JPN', 'reader');
  assert.equal(await timelineItem(page, text).count(), 0, 'the live picture shows the withdrawn note');

  const { reports } = await api(jpn, 'reader', 'GET', '/api/v1/reports?exercise=false&include_revoked=true&limit=1000');
  const start = Math.min(...reports.map((r) => Date.parse(r.observed_at) || Date.parse(r.modified)));
  const valueAt = (at) => String(Math.round((1000 * (at - start)) / (Date.now() - start)));
  const slider = page.getByRole('slider', { name: 'Replay' });
  await slider.fill(valueAt((Date.parse(v1.modified) + received) / 2));
  await visible(timelineItem(page, text), 20_000);
  await screenshot(page, 'replay-before-withdrawal-at-jpn');

  await slider.fill(valueAt(received + 2_000));
  await timelineItem(page, text).waitFor({ state: 'detached', timeout: 20_000 });
  await page.close();
});

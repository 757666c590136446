// The picture view beyond the stories: the timeline's filters and the
// replay slider, a missile warning acknowledged from its banner, and the
// vessels of the node's own AIS feed on the map, against a real three-node
// cluster (USA, JPN, KOR of the demo).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { staticName, positionReport } from '../lib/ais.mjs';
import { api, postText } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { clickMapUntil, timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();
const openConsole = (...args) => fixture.openConsole(...args);
const marking = (level, relTo) => ({ level, tlp: 'GREEN', rel_to: relTo, further_sharing: 'none' });

async function post(party, body) {
  return (await api(fixture.cluster.nodes[party], 'analyst', 'POST', '/api/v1/reports', body)).report;
}

/** Polls JPN's API until `id` (`OWNER/uuid`) is there (a partner's report arrives by push or pull). */
async function atJpn(id) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await api(fixture.cluster.nodes.JPN, 'reader', 'GET', `/api/v1/reports/${id}`);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('the filters narrow the timeline by kind, owner and marking, and the count follows', async () => {
  const tag = randomUUID();
  await post('JPN', { kind: 'note', marking: marking('UNCLASSIFIED', ['JPN']), payload: { text: `Filter note JPN ${tag}` } });
  await post('JPN', {
    kind: 'maritime.incident',
    marking: marking('CONFIDENTIAL', ['JPN']),
    payload: {
      category: 'collision', time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lat: 34.1, lon: 129.6,
      vessels: [{ name: 'SEA STAR', mmsi: 431999001, flag: 'JPN' }], narrative: `Filter incident ${tag}`, attachments: [],
    },
    geometry: { type: 'Point', coordinates: [129.6, 34.1] },
  });
  const usaNote = await post('USA', { kind: 'note', marking: marking('CONFIDENTIAL', ['USA', 'JPN']), payload: { text: `Filter note USA ${tag}` } });
  await atJpn(`${usaNote.owner}/${usaNote.id}`);

  const page = await openConsole('JPN', 'reader');
  const item = (what) => timelineItem(page, `${what} ${tag}`);
  const shown = async () => {
    const out = [];
    for (const what of ['Filter note JPN', 'Filter incident', 'Filter note USA']) {
      if ((await item(what).count()) > 0) out.push(what);
    }
    return out;
  };
  const expect = async (wanted, why) => {
    const deadline = Date.now() + 5_000;
    let got = await shown();
    while (JSON.stringify(got) !== JSON.stringify(wanted) && Date.now() < deadline) {
      await page.waitForTimeout(100);
      got = await shown();
    }
    assert.deepEqual(got, wanted, why);
  };
  await visible(item('Filter note USA'));
  await expect(['Filter note JPN', 'Filter incident', 'Filter note USA'], 'no filter: all three');

  const filters = page.locator('#filters');
  await filters.getByLabel('Kind').selectOption('note');
  await expect(['Filter note JPN', 'Filter note USA'], 'kind note');
  await filters.getByLabel('Owner').selectOption('USA');
  await expect(['Filter note USA'], 'kind note, owner USA');
  await filters.getByLabel('Marking').selectOption('CONFIDENTIAL');
  await expect(['Filter note USA'], 'kind note, owner USA, CONFIDENTIAL');

  // The count line counts what the filters let through: JPN's node says how many.
  const all = await api(fixture.cluster.nodes.JPN, 'reader', 'GET', '/api/v1/reports?kind=note&limit=1000');
  const expected = all.reports.filter((r) => r.owner === 'USA' && r.marking.level === 'CONFIDENTIAL' && !r.revoked).length;
  assert.ok(expected >= 1);
  await page.locator('#timeline-count', { hasText: `${expected} report` }).waitFor({ timeout: 5_000 });
  await screenshot(page, 'filters-jpn');

  await filters.getByLabel('Kind').selectOption('');
  await filters.getByLabel('Owner').selectOption('');
  await expect(['Filter incident', 'Filter note USA'], 'CONFIDENTIAL only');
  await filters.getByLabel('Marking').selectOption('');
  await expect(['Filter note JPN', 'Filter incident', 'Filter note USA'], 'filters cleared');
  await page.close();
});

test('the replay slider shows the picture of a past moment; Live returns to now', async () => {
  const tag = randomUUID();
  // Observed ten years ago: the oldest report, so the slider's left end.
  const tenYearsAgo = new Date(Date.now() - 10 * 365.25 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  await post('JPN', { kind: 'note', marking: marking('UNCLASSIFIED', ['JPN']), payload: { text: `Replay old ${tag}` }, observed_at: tenYearsAgo });
  await post('JPN', { kind: 'note', marking: marking('UNCLASSIFIED', ['JPN']), payload: { text: `Replay new ${tag}` } });

  const page = await openConsole('JPN', 'reader');
  const oldItem = timelineItem(page, `Replay old ${tag}`);
  const newItem = timelineItem(page, `Replay new ${tag}`);
  await visible(oldItem);
  await visible(newItem);
  await visible(page.getByText('Live picture', { exact: true }));

  // Half-way along the slider: about five years ago.
  await page.getByRole('slider', { name: 'Replay' }).fill('500');
  await visible(page.getByText(/^Picture at \d{4}-\d\d-\d\d/));
  await newItem.waitFor({ state: 'detached', timeout: 5_000 });
  await visible(oldItem);
  const at = await page.locator('#replay-at').textContent();
  const year = Number(at.match(/(\d{4})-/)[1]);
  const thisYear = new Date().getUTCFullYear();
  assert.ok(year > thisYear - 10 && year < thisYear, `the replay time ${at} is not between the two notes`);
  await screenshot(page, 'replay-jpn');

  await page.getByRole('button', { name: 'Live', exact: true }).click();
  await visible(page.getByText('Live picture', { exact: true }));
  await visible(newItem, 5_000);
  await visible(oldItem);
  await page.close();
});

test('a missile warning shows as a banner until acknowledged; the node records the acknowledgement', async () => {
  const tag = randomUUID();
  const warning = await post('JPN', {
    kind: 'missile.warning',
    marking: marking('UNCLASSIFIED', ['JPN']),
    payload: {
      track_id: 4242, level: 'high', status: 'issued', issued_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      reason: `Impact predicted inside Japan's EEZ — ${tag}`, parties: ['JPN'],
    },
  });

  const page = await openConsole('JPN', 'reader');
  const alert = page.getByRole('region', { name: 'Missile warnings' }).getByRole('alert').filter({ hasText: tag });
  await visible(alert);
  await screenshot(page, 'warning-jpn');
  const [ack] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/v1/reports/${warning.owner}/${warning.id}/acknowledge`)),
    alert.getByRole('button', { name: 'Acknowledge' }).click(),
  ]);
  assert.equal(ack.status(), 200, await ack.text());
  await alert.waitFor({ state: 'detached', timeout: 5_000 });
  await visible(page.getByText('Acknowledged; recorded as JPN:watch.'));

  // The node's acknowledgements list it, by this user, for this version.
  const { acknowledgements } = await api(fixture.cluster.nodes.JPN, 'reader', 'GET', '/api/v1/acknowledgements?limit=1000');
  const mine = acknowledgements.filter((a) => a.report_id === warning.id && a.report_owner === warning.owner);
  assert.deepEqual(mine.map((a) => [a.by, a.version]), [['JPN:watch', 1]], JSON.stringify(acknowledgements));

  // The detail panel offers no second Acknowledge.
  await (await visible(timelineItem(page, tag))).click();
  const panel = page.getByRole('complementary', { name: 'Report detail' });
  await visible(panel.getByText(tag).first());
  assert.equal(await panel.getByRole('button', { name: 'Acknowledge' }).count(), 0);
  await page.close();

  // A new session of the same user: the warning is listed, the banner is not.
  const again = await openConsole('JPN', 'reader');
  await visible(timelineItem(again, tag));
  const stillThere = again.getByRole('region', { name: 'Missile warnings' }).getByRole('alert').filter({ hasText: tag });
  await again.waitForTimeout(1_000);
  assert.equal(await stillThere.count(), 0, 'the acknowledged warning is back as a banner after a reload');
  await again.close();
});

test('vessels of the node\'s AIS feed are drawn; clicking one shows its name, MMSI, speed and flag', async () => {
  const jpn = fixture.cluster.nodes.JPN;
  const mmsi = 431999777;
  const name = 'KAIYO MARU 7';
  // Out in the Philippine Sea, away from the demo's vessels, inside the initial view.
  const [lon, lat] = [147, 27];
  const sentences = [staticName({ mmsi, name }), positionReport({ mmsi, lat, lon, sogKn: 11.5, cogDeg: 45, headingDeg: 44, second: 7 })];
  const posted = await postText(jpn, 'analyst', '/api/v1/ais/nmea', `${sentences.join('\n')}\n`);
  assert.equal(posted.status, 200, JSON.stringify(posted.body));
  const feed = await api(jpn, 'reader', 'GET', '/api/v1/ais/vessels?limit=10000');
  const vessel = feed.vessels.find((v) => v.mmsi === mmsi);
  assert.ok(vessel, `vessel ${mmsi} not in JPN's feed`);
  assert.equal(vessel.name, name);

  const page = await openConsole('JPN', 'reader');
  // The demo's AIS feed is exercise data: drawn in exercise mode only.
  await visible(page.getByText('The vessel feed is exercise data: switch to exercise mode to see it.'));
  await page.getByRole('radio', { name: 'Exercise' }).check();
  const count = page.locator('#vessels-status', { hasText: /^Vessels: \d+ shown of \d+$/ });
  await visible(count, 10_000);
  const [, shownCount] = (await count.textContent()).match(/Vessels: (\d+) shown/);
  assert.ok(Number(shownCount) >= 1, await count.textContent());

  const popup = page.locator('.maplibregl-popup');
  await clickMapUntil(page, [lon, lat], popup.getByRole('heading', { name }));
  await visible(popup.getByText('EXERCISE — own AIS feed (not a report)'));
  const row = (label) => popup.getByRole('row', { name: new RegExp(`^${label}`) });
  await visible(row('MMSI').getByText(String(mmsi), { exact: true }));
  await visible(row('Speed').getByText('11.5', { exact: false }));
  // The flag as the node's feed gives it (none for a vessel heard only by AIS: '—').
  await visible(row('Flag').getByText(vessel.flag ?? '—', { exact: true }));
  await screenshot(page, 'vessel-jpn');
  await page.close();
});

// Two parties' missile tracks with one track id. Each party's tracker numbers
// its own tracks, so USA's track 7 and JPN's track 7 are two tracks: JPN's
// map draws both (each opens its own owner's report) and the time-to-impact
// box lists both assessments, each naming its owner. Grouped by the track id
// alone, the newer track hid the older one and one countdown replaced the
// other.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { clickMapUntil, visible } from '../lib/page.mjs';

const fixture = useCluster();
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const MARKING = { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' };

function track(trackId, [lon, lat]) {
  return {
    track_id: trackId, time: iso(Date.now()), lat, lon, height_km: 250, speed_mps: 3000, phase: 'ballistic',
    p_ballistic: 0.99, state: 'live', parties: ['USA'], n_detections: 30,
  };
}

function assessment(trackId, [lon, lat], classLabel) {
  const launch = Date.now() - 300e3;
  const impact = Date.now() + 900e3;
  return {
    track_id: trackId, assessed_at: iso(Date.now()), launch_time: iso(launch), launch_lat: 39.0, launch_lon: 125.5,
    launch_method: 'boost-extrapolation', apogee_km: 500, range_km: 950, flight_time_s: 1200, impact_time: iso(impact),
    impact_lat: lat, impact_lon: lon, impact_ellipse: { semi_major_km: 20, semi_minor_km: 8, bearing_deg: 80, confidence: 0.95 },
    class: classLabel, energy_range_km: 1200, overflown: [], p_impact_in_jpn_eez: 0.5, p_impact_in_jpn_territory: 0.0,
    p_impact_on_land: 0.0, zones_approximate: true, parties: ['USA'], n_detections: 40, track_live: true,
    impact_time_s: impact / 1000, launch_time_s: launch / 1000,
  };
}

/** Waits until JPN's node holds `report` (federation is asynchronous). */
async function heldByJpn(jpn, report) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await api(jpn, 'reader', 'GET', `/api/v1/reports/${report.owner}/${report.id}`);
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${report.owner}/${report.id} not at JPN in 20 s: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('two parties\' tracks with one track id are two tracks on JPN\'s map and in its countdowns', async () => {
  const { USA: usa, JPN: jpn } = fixture.cluster.nodes;
  const trackId = Number.parseInt(randomUUID().slice(0, 8), 16);
  const at = { USA: [129.0, 39.0], JPN: [137.0, 33.0] };
  const publish = (node, kind, payload) =>
    api(node, 'analyst', 'POST', '/api/v1/reports', { kind, marking: MARKING, payload }).then((a) => a.report);
  // USA's first, JPN's second: JPN's is the newer under the shared id.
  const usaTrack = await publish(usa, 'missile.track', track(trackId, at.USA));
  await publish(usa, 'missile.assessment', assessment(trackId, [134.0, 41.0], 'IRBM'));
  await heldByJpn(jpn, usaTrack);
  await publish(jpn, 'missile.track', track(trackId, at.JPN));
  await publish(jpn, 'missile.assessment', assessment(trackId, [140.0, 35.0], 'MRBM'));

  const page = await fixture.openConsole('JPN', 'reader');
  const countdowns = page.getByRole('region', { name: 'Time to impact' });
  await visible(countdowns.getByRole('button', { name: new RegExp(`^Track ${trackId} \\(USA\\) IRBM: impact in`) }), 20_000);
  await visible(countdowns.getByRole('button', { name: new RegExp(`^Track ${trackId} \\(JPN\\) MRBM: impact in`) }));

  // Each track's symbol is on the map, and opens its own owner's report.
  const popup = page.locator('.maplibregl-popup');
  for (const party of ['USA', 'JPN']) {
    await clickMapUntil(page, at[party], popup.getByText(`${party} · `), 30);
    await visible(popup.getByRole('heading', { name: 'Missile track' }));
    assert.equal(await popup.getByText(`Track ${trackId}:`).count(), 1);
  }
  await screenshot(page, 'two-owners-one-track-id-at-jpn');
  await page.close();
});

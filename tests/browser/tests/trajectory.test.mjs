// A missile assessment's predicted trajectory is drawn from the sampled
// flight path its payload carries (`trajectory`: [lat, lon, height_km] from
// launch to impact), not as the great circle from launch to impact: the
// assessment here bends far south of that circle, and a click on the bend
// finds the line. Its detail panel sums the path up.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { clickMapUntil, visible } from '../lib/page.mjs';

const fixture = useCluster();
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function assessment(trackId) {
  const launch = Date.now() - 300e3;
  const impact = Date.now() + 600e3;
  return {
    track_id: trackId, assessed_at: iso(Date.now()), launch_time: iso(launch), launch_lat: 39.0, launch_lon: 125.5,
    launch_method: 'boost-extrapolation', apogee_km: 500, range_km: 950, flight_time_s: 900, impact_time: iso(impact),
    impact_lat: 40.0, impact_lon: 136.0, impact_ellipse: { semi_major_km: 20, semi_minor_km: 8, bearing_deg: 80, confidence: 0.95 },
    class: 'MRBM', energy_range_km: 1200, overflown: [], p_impact_in_jpn_eez: 0.9, p_impact_in_jpn_territory: 0.0,
    p_impact_on_land: 0.0, zones_approximate: true, parties: ['JPN'], n_detections: 40, track_live: true,
    impact_time_s: impact / 1000, launch_time_s: launch / 1000,
    // Launch, climb, a bend to 30° N 138° E (apogee), descent, impact.
    trajectory: [[39.0, 125.5, 0], [34.0, 132.0, 300], [30.0, 138.0, 500], [35.0, 137.5, 300], [40.0, 136.0, 0]],
  };
}

test('a missile assessment\'s trajectory is drawn along its sampled path', async () => {
  const trackId = Number.parseInt(randomUUID().slice(0, 8), 16);
  const payload = assessment(trackId);
  const { report } = await api(fixture.cluster.nodes.JPN, 'analyst', 'POST', '/api/v1/reports', {
    kind: 'missile.assessment',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['JPN'], further_sharing: 'none' },
    payload,
  });
  assert.equal(report.payload.trajectory.length, 5);
  const page = await fixture.openConsole('JPN', 'reader');
  // The bend: on the drawn path, ~10° of latitude off the launch–impact great circle.
  const popup = page.locator('.maplibregl-popup');
  await clickMapUntil(page, [138.0, 30.0], popup.getByRole('heading', { name: 'Missile assessment' }), 30);
  await popup.getByRole('button', { name: 'Open detail' }).click();
  const panel = page.getByRole('complementary', { name: 'Report detail' });
  await visible(panel.getByRole('rowheader', { name: 'Trajectory', exact: true }));
  await visible(panel.getByText('5 points; highest 500 km at 30.00, 138.00', { exact: true }));
  await screenshot(page, 'trajectory-jpn');
  await page.close();
});

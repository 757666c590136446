// Seismic events and nuclear-test assessments in the console: bulletins
// posted at USA (engines mark CONFIDENTIAL REL TO TRILAT, exercise data in
// the demo's nodes) show on JPN's map with their uncertainty, the 2017 test
// raises the likely-test banner, its assessment opens in the detail panel,
// and Acknowledge is recorded by JPN's node.
//
// Inputs are read from ../shared/data/seismic (never copied): ObsPy's real
// IMS1.0 bulletin (earthquakes with 90 % ellipses) and the 2017-09-03 row of
// the shared table of declared tests, written as the USGS summary feed
// carries an event. The test skips, saying so, when that folder is absent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api, postText } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { clickMapUntil, consoleReady, visible } from '../lib/page.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA = process.env.TRILAT_SHARED_DATA ?? path.resolve(ROOT, '../shared/data');
const BULLETIN = path.join(DATA, 'seismic/obspy_testdata/iaspei/ipe202409sel_ims.txt');
const TABLE = path.join(DATA, 'seismic/dprk_nuclear_tests.csv');
const missing = [BULLETIN, TABLE].filter((f) => !existsSync(f));

/** The 2017 test's row (date, origin time, lat, lon, depth, mb: the unquoted first columns) as a USGS GeoJSON feed. */
function usgsFeed2017() {
  const row = readFileSync(TABLE, 'utf8').split('\n').find((l) => l.startsWith('2017-09-03,'));
  assert.ok(row, `no 2017-09-03 row in ${TABLE}`);
  const [, time, lat, lon, , mb] = row.split(',');
  return JSON.stringify({
    type: 'FeatureCollection',
    features: [{
      type: 'Feature',
      id: 'us2000aert',
      properties: { mag: Number(mb), magType: 'mb', time: Date.parse(time), net: 'us' },
      geometry: { type: 'Point', coordinates: [Number(lon), Number(lat), 0] },
    }],
  });
}

async function postSeismic(node, text) {
  const { status, body } = await postText(node, 'analyst', '/api/v1/seismic/events', text);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

const fixture = useCluster();

test('a likely nuclear test posted at USA shows at JPN: banner, map feature and popup, assessment detail, acknowledge', { skip: missing.length ? `seismic data absent: ${missing.join(', ')}` : false }, async () => {
  const usa = fixture.cluster.nodes.USA;
  const quakes = await postSeismic(usa, readFileSync(BULLETIN, 'utf8'));
  assert.ok(quakes.events.length > 0 && quakes.events.every((e) => !e.likely_nuclear_test), JSON.stringify(quakes.events));
  const test2017 = await postSeismic(usa, usgsFeed2017());
  const [event] = test2017.events;
  assert.equal(event.likely_nuclear_test, true, JSON.stringify(event));

  const page = await fixture.browser.newPage();
  // The demo's engines publish exercise reports: JPN's console in exercise mode.
  await page.goto(`${fixture.cluster.nodes.JPN.url}/#token=${fixture.cluster.nodes.JPN.tokens.reader}&mode=exercise`);
  await consoleReady(page);
  await page.locator('#map[data-ready="true"]').waitFor({ timeout: 15_000 });

  // The banner: one likely test (the bulletin's earthquakes raise none), with its marking.
  const banner = page.getByRole('region', { name: 'Likely nuclear tests' }).getByRole('alert');
  await visible(banner, 10_000);
  assert.equal(await banner.count(), 1);
  const text = await banner.innerText();
  assert.match(text, /Likely nuclear test — \d+\.\d km from Punggye-ri/);
  assert.match(text, /CONFIDENTIAL/);
  assert.match(text, /REL TO .*TRILAT|REL TO USA, JPN, KOR/);

  // The map: the assessment drawn at its epicentre, clickable to its popup.
  const report = await api(fixture.cluster.nodes.JPN, 'reader', 'GET', `/api/v1/reports/USA/${event.assessment_report}`);
  // The map draws its sources asynchronously (a worker tiles them): click
  // until the feature is there.
  const popup = page.locator('.maplibregl-popup');
  const title = popup.getByText('Nuclear-test assessment', { exact: true });
  await clickMapUntil(page, report.report.geometry.coordinates, title);
  await visible(popup.getByText(/Likely nuclear test, \d+\.\d km from Punggye-ri/));
  await screenshot(page, 'seismic-jpn');

  // The detail: verdict, distance, yield with the cited relation, reasons.
  await banner.getByRole('button', { name: 'Details' }).click();
  const panel = page.getByRole('complementary', { name: 'Report detail' });
  await visible(panel.getByText('Nuclear-test assessment', { exact: true }));
  for (const label of ['Distance to Punggye-ri', 'Yield from mb', 'Central relation', 'mb–Ms discriminant', 'Reasons', 'Distance to the declared tests']) {
    await visible(panel.getByText(label, { exact: true }));
  }
  await visible(panel.getByText(/Murphy \(1981\)/).first());
  await screenshot(page, 'seismic-assessment-detail');

  // Acknowledge from the banner: recorded by JPN's node, the banner goes.
  const [ack] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/v1/reports/USA/${event.assessment_report}/acknowledge`)),
    banner.getByRole('button', { name: 'Acknowledge' }).click(),
  ]);
  assert.equal(ack.status(), 200, await ack.text());
  await page.getByRole('region', { name: 'Likely nuclear tests' }).waitFor({ state: 'hidden', timeout: 5_000 });
  await page.close();
});

// The map's report layers as GeoJSON, derived from the visible reports:
// missile tracks, assessments (launch point, predicted trajectory, impact
// point and its 95 % ellipse), maritime events, and any other report with a
// position. The map view feeds these to sources with setData.

import { greatCircle, ellipseRing, reportPoint } from './geo.mjs';
import { reportKey } from './store.mjs';

const collection = (features) => ({ type: 'FeatureCollection', features });
const point = (coordinates, properties) => ({ type: 'Feature', geometry: { type: 'Point', coordinates }, properties });
const line = (coordinates, properties) => ({ type: 'Feature', geometry: { type: 'LineString', coordinates }, properties });

const MARITIME = new Set(['maritime.event', 'maritime.sanctioned-vessel', 'maritime.incident']);
const MISSILE = new Set(['missile.track', 'missile.assessment', 'missile.warning']);
const SEISMIC = new Set(['seismic.event', 'nuclear.assessment']); // drawn by seismic.mjs

/**
 * A track's key: its owner and its track id. Track ids are numbered by each
 * party's own tracker, so two parties' tracks may share one: they are two
 * tracks, as two owners' reports under one id are two reports.
 */
export function trackKey(report) {
  return `${report.owner}/${report.payload?.track_id}`;
}

/** The newest report per track (owner and track id) among `reports` of one kind. */
function newestPerTrack(reports) {
  const best = new Map();
  for (const r of reports) {
    const key = trackKey(r);
    const old = best.get(key);
    if (!old || r.observed_at > old.observed_at || (r.observed_at === old.observed_at && r.modified > old.modified)) best.set(key, r);
  }
  return [...best.values()];
}

/** Latest assessment per track: what the countdowns and the map draw. */
export function latestAssessments(reports) {
  return newestPerTrack(reports.filter((r) => r.kind === 'missile.assessment'));
}

export function missileFeatures(reports) {
  const tracks = reports.filter((r) => r.kind === 'missile.track');
  const paths = new Map();
  for (const r of [...tracks].sort((a, b) => a.observed_at.localeCompare(b.observed_at))) {
    const track = trackKey(r);
    if (!paths.has(track)) paths.set(track, []);
    paths.get(track).push([r.payload.lon, r.payload.lat]);
  }
  const features = [];
  for (const [track, coords] of paths) if (coords.length > 1) features.push(line(coords, { role: 'track-path', track }));
  for (const r of newestPerTrack(tracks)) {
    features.push(point([r.payload.lon, r.payload.lat], { role: 'track', key: reportKey(r), track: trackKey(r) }));
  }
  for (const r of latestAssessments(reports)) {
    const p = r.payload;
    const launch = [p.launch_lon, p.launch_lat];
    const impact = [p.impact_lon, p.impact_lat];
    const e = p.impact_ellipse ?? {};
    // The engine's sampled flight path ([lat, lon, height_km], launch to
    // impact); a payload from before it had one gets the great circle.
    const path = (p.trajectory ?? []).length >= 2 ? p.trajectory.map(([lat, lon]) => [lon, lat]) : greatCircle(launch, impact);
    features.push(line(path, { role: 'trajectory', key: reportKey(r) }));
    if (e.semi_major_km > 0) {
      features.push({
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [ellipseRing(impact, e.semi_major_km, e.semi_minor_km, e.bearing_deg)] },
        properties: { role: 'ellipse', key: reportKey(r) },
      });
    }
    features.push(point(launch, { role: 'launch', key: reportKey(r) }));
    features.push(point(impact, { role: 'impact', key: reportKey(r) }));
  }
  return collection(features);
}

export function maritimeFeatures(reports) {
  const features = [];
  for (const r of reports) {
    if (!MARITIME.has(r.kind)) continue;
    const at = reportPoint(r);
    if (at) features.push(point(at, { key: reportKey(r), kind: r.kind, event: r.payload?.event ?? r.payload?.category ?? '' }));
  }
  return collection(features);
}

export function otherFeatures(reports) {
  const features = [];
  for (const r of reports) {
    if (MARITIME.has(r.kind) || MISSILE.has(r.kind) || SEISMIC.has(r.kind)) continue;
    const at = reportPoint(r);
    if (at) features.push(point(at, { key: reportKey(r), kind: r.kind }));
  }
  return collection(features);
}

/**
 * The reports each report source is drawn from, in one pass over the
 * visible reports: missile products, maritime reports with a position,
 * seismic reports, and any other report with a position. A report no
 * source draws (a note without a position) is in none.
 */
export function sourceReports(reports) {
  const parts = { missile: [], maritime: [], seismic: [], other: [] };
  for (const r of reports) {
    if (MISSILE.has(r.kind)) parts.missile.push(r);
    else if (SEISMIC.has(r.kind)) parts.seismic.push(r);
    else if (reportPoint(r)) (MARITIME.has(r.kind) ? parts.maritime : parts.other).push(r);
  }
  return parts;
}

export const empty = collection([]);

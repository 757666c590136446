// Seismic events and nuclear-test assessments (docs/seismic.md): their map
// layer (epicentre and uncertainty area), one-line summaries, the detail
// view of both payloads, and the banner for a likely nuclear test, which
// stays until this user acknowledges it like a missile warning.

import * as store from './store.mjs';
import { h, num, timeEl } from './dom.mjs';
import { t } from './i18n.mjs';
import { markingBlock } from './markings.mjs';
import { ellipseRing, reportPoint } from './geo.mjs';
import { acknowledge, isAcknowledged } from './warnings.mjs';

export const KINDS = new Set(['seismic.event', 'nuclear.assessment']);

/** The map layers, in drawing order; all open the report when clicked. */
export const LAYERS = ['seismic-area', 'seismic-radius', 'seismic-event', 'seismic-assessment'];

const VERDICT_COLOUR = ['match', ['get', 'explosion'], 'likely', '#ff2d55', 'possible', '#ff9f1c', '#8e8e93'];

/**
 * The uncertainty area as [semi-major km, semi-minor km, azimuth°], from the
 * event's `origin.uncertainty` (ellipse semi-axes and azimuth, circle
 * radius, or north–south / east–west errors) or the assessment's
 * `uncertainty_km` (its largest extent, drawn as a circle).
 */
function uncertaintyAxes(report) {
  const p = report.payload ?? {};
  if (report.kind === 'nuclear.assessment') return p.uncertainty_km > 0 ? [p.uncertainty_km, p.uncertainty_km, 0] : null;
  const u = p.origin?.uncertainty;
  if (u?.kind === 'ellipse' && u.semi_major_km > 0) return [u.semi_major_km, u.semi_minor_km, u.azimuth_deg];
  if (u?.kind === 'circle' && u.radius_km > 0) return [u.radius_km, u.radius_km, 0];
  if (u?.kind === 'lat-lon' && (u.lat_error_km > 0 || u.lon_error_km > 0)) return [u.lat_error_km, u.lon_error_km, 0];
  return null;
}

/** Epicentres and uncertainty areas of the visible seismic reports. */
export function features(reports) {
  const out = [];
  for (const r of reports) {
    if (!KINDS.has(r.kind)) continue;
    const at = reportPoint(r);
    if (!at) continue;
    const assessment = r.kind === 'nuclear.assessment';
    const properties = { key: store.reportKey(r), kind: r.kind, explosion: assessment ? r.payload?.explosion ?? '' : '' };
    const axes = uncertaintyAxes(r);
    if (axes) {
      out.push({
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [ellipseRing(at, ...axes)] },
        properties: { ...properties, role: assessment ? 'radius' : 'area' },
      });
    }
    out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { ...properties, role: assessment ? 'assessment' : 'event' } });
  }
  return { type: 'FeatureCollection', features: out };
}

/** Adds the source and layers: the event's ellipse filled, the assessment's circle outlined. */
export function addLayers(map) {
  map.addSource('seismic', { type: 'geojson', data: features([]) });
  const role = (r) => ['==', ['get', 'role'], r];
  map.addLayer({ id: 'seismic-area', type: 'fill', source: 'seismic', filter: role('area'), paint: { 'fill-color': '#bf5af2', 'fill-opacity': 0.22, 'fill-outline-color': '#bf5af2' } });
  map.addLayer({ id: 'seismic-radius', type: 'line', source: 'seismic', filter: role('radius'), paint: { 'line-color': VERDICT_COLOUR, 'line-width': 1.5, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'seismic-event', type: 'circle', source: 'seismic', filter: role('event'), paint: { 'circle-radius': 4, 'circle-color': '#bf5af2', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  map.addLayer({ id: 'seismic-assessment', type: 'circle', source: 'seismic', filter: role('assessment'), paint: {
    'circle-radius': 9, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': VERDICT_COLOUR, 'circle-stroke-width': 3 } });
}

function firstMagnitude(p) {
  const m = (p.magnitudes ?? [])[0];
  return m ? `${m.raw_type || m.scale} ${num(m.value, 1)}` : '—';
}

/** One line per report (timeline item, popup, detail heading). */
export function summary(report) {
  const p = report.payload ?? {};
  if (report.kind === 'seismic.event') {
    return t('summary.seismic_event', { magnitude: firstMagnitude(p), region: p.region ?? '', agency: p.agency ?? '—' });
  }
  const verdict = p.likely_nuclear_test ? t('seismic.likely_test') : t(`seismic.explosion_${p.explosion}`);
  return t('summary.nuclear_assessment', { verdict, distance: num(p.site_distance_km, 1) });
}

function table(rows) {
  return h('table', { class: 'kv' },
    h('tbody', {}, rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))));
}

function grid(caption, columns, rows) {
  if (!rows.length) return null;
  return h('table', { class: 'grid' },
    h('caption', {}, t(caption)),
    h('thead', {}, h('tr', {}, columns.map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c ?? '—'))))));
}

const position = (lat, lon) => (typeof lat === 'number' ? `${num(lat, 3)}, ${num(lon, 3)}` : '—');
const km = (value, digits = 1) => (typeof value === 'number' ? t('unit.km', { value: num(value, digits) }) : '—');

function uncertaintyText(u) {
  if (!u) return t('seismic.not_given');
  const confidence = u.confidence_pct ? t('seismic.confidence', { pct: num(u.confidence_pct, 0) }) : '';
  if (u.kind === 'ellipse') return t('seismic.ellipse', { major: num(u.semi_major_km), minor: num(u.semi_minor_km), azimuth: num(u.azimuth_deg, 0) }) + confidence;
  if (u.kind === 'circle') return t('seismic.circle', { radius: num(u.radius_km) }) + confidence;
  return t('seismic.lat_lon', { lat: num(u.lat_error_km), lon: num(u.lon_error_km) }) + confidence;
}

function eventView(p) {
  const o = p.origin ?? {};
  const depth = typeof o.depth_km === 'number'
    ? `${km(o.depth_km)}${typeof o.depth_error_km === 'number' ? ` ± ${num(o.depth_error_km)}` : ''}${o.depth_fixed ? ` (${t('seismic.depth_fixed')})` : ''}`
    : '—';
  return h('div', {},
    table([
      [t('seismic.origin_time'), h('span', {}, timeEl(o.time), typeof o.time_error_s === 'number' ? ` ± ${num(o.time_error_s, 2)} s` : '')],
      [t('seismic.epicentre'), position(o.lat, o.lon)],
      [t('seismic.uncertainty'), uncertaintyText(o.uncertainty)],
      [t('seismic.depth'), depth],
      [t('seismic.agency'), p.agency ?? '—'],
      [t('seismic.event_type'), p.event_type ? `${p.event_type}${p.event_type_certainty ? ` (${p.event_type_certainty})` : ''}` : '—'],
      [t('seismic.region'), p.region ?? '—'],
      [t('seismic.format'), p.format],
      [t('seismic.event_id'), h('code', {}, p.id)],
    ]),
    grid('seismic.magnitudes', ['seismic.mag_scale', 'seismic.mag_type', 'seismic.mag_value', 'seismic.mag_error', 'seismic.agency', 'seismic.mag_stations'],
      (p.magnitudes ?? []).map((m) => [m.scale, m.raw_type, num(m.value, 1), typeof m.error === 'number' ? num(m.error, 2) : null, m.agency, m.station_count])));
}

function discriminantText(d) {
  if (!d) return t('seismic.no_discriminant');
  return t('seismic.discriminant_value', {
    ms: num(d.ms, 2), mb: num(d.mb, 2), value: num(d.value, 2), verdict: t(`seismic.verdict_${d.verdict}`),
    agencies: [...new Set([d.mb_agency, d.ms_agency].filter(Boolean))].join(', ') || '—' });
}

function yieldView(y) {
  if (!y) return [[t('seismic.yield'), t('seismic.no_yield')]];
  const [central] = y.by_relation ?? [];
  return [
    [t('seismic.yield'), t('seismic.yield_value', { central: num(y.central_kt, 1), low: num(y.low_kt, 1), high: num(y.high_kt, 1), mb: num(y.mb, 1), agency: y.mb_agency ?? '—' })],
    central ? [t('seismic.yield_relation'), central[0]] : null,
  ];
}

function assessmentView(p) {
  const verdict = p.likely_nuclear_test ? t('seismic.likely_test') : t(`seismic.explosion_${p.explosion}`);
  return h('div', {},
    table([
      [t('seismic.verdict'), h('strong', {}, verdict)],
      [t('seismic.explosion'), t(`seismic.explosion_${p.explosion}`)],
      [t('seismic.score'), String(p.score)],
      [t('seismic.origin_time'), timeEl(p.origin_time)],
      [t('seismic.epicentre'), position(p.lat, p.lon)],
      [t('seismic.uncertainty'), typeof p.uncertainty_km === 'number' ? t('seismic.largest_extent', { value: num(p.uncertainty_km) }) : t('seismic.not_given')],
      [t('seismic.depth'), km(p.depth_km)],
      [t('seismic.site_distance'), km(p.site_distance_km)],
      [t('seismic.discriminant'), discriminantText(p.discriminant)],
      ...yieldView(p.yield_estimate),
      [t('seismic.event_id'), h('code', {}, p.event_id)],
    ]),
    grid('seismic.reasons', ['seismic.reason_factor', 'seismic.reason_weight', 'seismic.reason_text'],
      (p.reasons ?? []).map((r) => [r.factor, r.weight > 0 ? `+${r.weight}` : String(r.weight), r.text])),
    grid('seismic.relations', ['seismic.relation_kind', 'seismic.relation_to', 'seismic.relation_dt', 'seismic.relation_distance'],
      (p.relations ?? []).map((r) => [t(`seismic.relation_${r.kind}`), r.to, t('seismic.minutes', { value: num(r.dt_s / 60, 1) }), km(r.distance_km)])),
    grid('seismic.yield_relations', ['seismic.relation_name', 'seismic.yield_kt'],
      (p.yield_estimate?.by_relation ?? []).map(([name, kt]) => [name, num(kt, 1)])),
    grid('seismic.declared_tests', ['seismic.test_date', 'seismic.test_distance'],
      (p.declared_tests ?? []).map((d) => [d.date, km(d.distance_km)])));
}

/** The detail panel's view of a seismic payload, or null for another kind. */
export function detailView(report) {
  if (report.kind === 'seismic.event') return eventView(report.payload ?? {});
  if (report.kind === 'nuclear.assessment') return assessmentView(report.payload ?? {});
  return null;
}

/** Whether `report` is one the desk must acknowledge: a likely nuclear test. */
export function needsAck(report) {
  return report.kind === 'nuclear.assessment' && report.payload?.likely_nuclear_test === true && !report.revoked && !isAcknowledged(report);
}

function renderBanner(s) {
  const pending = [...s.reports.values()].filter(needsAck).sort((a, b) => b.modified.localeCompare(a.modified));
  const region = document.getElementById('nuclear-alerts');
  // Redrawn only when the set changes: each redraw is announced as an alert.
  const key = s.lang + pending.map((r) => `${store.reportKey(r)}@${r.version}`).join();
  if (region.dataset.key === key) return;
  region.dataset.key = key;
  region.hidden = pending.length === 0;
  document.getElementById('nuclear-alerts-list').replaceChildren(...pending.map((r) => {
    const p = r.payload;
    return h('div', { class: 'warning nuclear', role: 'alert' },
      markingBlock(r.marking, { exercise: r.exercise }),
      h('p', { class: 'warning-text' },
        h('strong', {}, t('seismic.banner', { distance: num(p.site_distance_km, 1) })), ' ',
        p.yield_estimate ? t('seismic.banner_yield', { low: num(p.yield_estimate.low_kt, 1), high: num(p.yield_estimate.high_kt, 1) }) : '', ' ',
        timeEl(p.origin_time)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => store.set({ selected: store.reportKey(r) }) }, t('warning.details')),
        h('button', { type: 'button', class: 'primary', onclick: () => acknowledge(r) }, t('warning.acknowledge'))));
  }));
}

/** Starts the likely-test banner (the acknowledgements are loaded by warnings.mjs). */
export function initBanner() {
  store.watch(['reports', 'acks', 'lang'], renderBanner);
}

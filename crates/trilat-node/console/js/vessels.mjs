// Vessels from the node's own AIS feed (GET /api/v1/ais/vessels), polled
// about once a second for the map's view and drawn from two GeoJSON sources
// (positions, trails) updated in place. The feed says whether it is exercise
// data; vessels are drawn only in the matching mode.

import * as store from './store.mjs';
import { api, query } from './api.mjs';
import { h, num, timeEl } from './dom.mjs';
import { t, setText } from './i18n.mjs';

const POLL_MS = 1000;
const UNAVAILABLE_POLL_MS = 30000;
/** Vessels asked for at most per poll (the route's own bound may be lower). */
const LIMIT = 10000;
const empty = { type: 'FeatureCollection', features: [] };

let map = null;
let enabled = true;
let timer = null;
let inFlight = false;

function status(key, values) {
  setText(document.getElementById('vessels-status'), key, values);
}

function bbox() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const west = clamp(b.getWest(), -180, 180);
  const east = clamp(b.getEast(), -180, 180);
  if (west >= east) return undefined; // across the antimeridian: ask for all
  return [west, clamp(b.getSouth(), -90, 90), east, clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(4)).join(',');
}

function toFeatures(list) {
  const points = [];
  const trails = [];
  for (const v of list) {
    points.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
      properties: {
        mmsi: v.mmsi, name: v.name ?? '', flag: v.flag ?? '', ship_type: v.ship_type ?? '',
        callsign: v.callsign ?? '', imo: v.imo ?? '', sog: v.sog_kn ?? null, cog: v.cog_deg ?? null,
        heading: v.heading_deg ?? v.cog_deg ?? 0, has_heading: v.heading_deg != null || v.cog_deg != null,
        last_seen: v.last_seen,
      },
    });
    if (Array.isArray(v.trail) && v.trail.length > 1) {
      trails.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: v.trail.map(([lon, lat]) => [lon, lat]) }, properties: { mmsi: v.mmsi } });
    }
  }
  return [{ type: 'FeatureCollection', features: points }, { type: 'FeatureCollection', features: trails }];
}

function clear() {
  map.getSource('vessels')?.setData(empty);
  map.getSource('vessel-trails')?.setData(empty);
}

async function poll() {
  timer = null;
  if (!enabled || inFlight) return schedule(POLL_MS);
  inFlight = true;
  let next = POLL_MS;
  try {
    const answer = await api('/api/v1/ais/vessels' + query({ bbox: bbox(), limit: LIMIT }));
    const exerciseMode = store.get().mode === 'exercise';
    if (answer.exercise !== exerciseMode) {
      clear();
      status(answer.exercise ? 'vessel.feed_is_exercise' : 'vessel.feed_is_real');
    } else {
      const [points, trails] = toFeatures(answer.vessels ?? []);
      map.getSource('vessels').setData(points);
      map.getSource('vessel-trails').setData(trails);
      status('vessel.count', { shown: points.features.length, total: answer.total ?? points.features.length });
    }
  } catch (e) {
    clear();
    if (e.notAvailable) status('vessel.not_available');
    else status('vessel.unavailable', { reason: e.message });
    next = UNAVAILABLE_POLL_MS;
  } finally {
    inFlight = false;
  }
  schedule(next);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, document.hidden ? ms * 5 : ms);
}

export function setEnabled(on) {
  enabled = on;
  if (!on) {
    clear();
    status('');
  } else schedule(0);
}

export function popup(p) {
  return h('div', { class: 'popup' },
    h('p', { class: 'muted' }, t(store.get().mode === 'exercise' ? 'vessel.source_exercise' : 'vessel.source')),
    h('h3', {}, p.name || t('vessel.unnamed')),
    h('table', { class: 'kv' }, h('tbody', {},
      [['vessel.mmsi', p.mmsi], ['vessel.flag', p.flag || '—'], ['vessel.type', p.ship_type || '—'], ['vessel.callsign', p.callsign || '—'],
        ['vessel.sog', t('unit.kn', { value: num(p.sog, 1) })], ['vessel.cog', t('unit.deg', { value: num(p.cog, 0) })]]
        .map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, t(k)), h('td', {}, String(v)))),
      h('tr', {}, h('th', { scope: 'row' }, t('vessel.last_seen')), h('td', {}, timeEl(p.last_seen))))));
}

export function init(m) {
  map = m;
  map.addSource('vessels', { type: 'geojson', data: empty });
  map.addSource('vessel-trails', { type: 'geojson', data: empty });
  map.addLayer({ id: 'vessel-trails', type: 'line', source: 'vessel-trails', paint: { 'line-color': '#9ad0ec', 'line-width': 1, 'line-opacity': 0.6 } });
  map.addLayer({ id: 'vessels', type: 'symbol', source: 'vessels', layout: { 'icon-image': 'sym-vessel', 'icon-allow-overlap': true, 'icon-size': 0.8 } });
  map.addLayer({ id: 'vessel-heading', type: 'symbol', source: 'vessels', filter: ['get', 'has_heading'], layout: {
    'icon-image': 'heading', 'icon-rotate': ['get', 'heading'], 'icon-rotation-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true } });
  store.watch(['mode'], () => { clear(); schedule(0); });
  schedule(0);
}

// Vessels from the node's own AIS feed (GET /api/v1/ais/vessels), polled
// about once a second for the map's view and drawn from two GeoJSON sources
// (positions, trails). A poll asks only for the vessels heard since the
// newest one held, without trails (`since`, `trail=false`), and hands them to
// MapLibre as a diff (`updateData`, features keyed by MMSI through
// `promoteId`); the page extends each trail itself. The whole picture, with
// the node's trails, is re-read every RESYNC_MS and whenever the view or the
// mode changes, so vessels that left it (evicted, out of view) leave the map.
// The feed says whether it is exercise data; vessels are drawn only in the
// matching mode.

import * as store from './store.mjs';
import { api, query } from './api.mjs';
import { h, num, timeEl } from './dom.mjs';
import { t, setText } from './i18n.mjs';

const POLL_MS = 1000;
/** The whole picture is re-read this often (and when the view moves). */
const RESYNC_MS = 30000;
/** Positions a trail keeps (the node's tracker keeps 8). */
const TRAIL_POINTS = 8;
/** From this zoom on vessels are symbols with heading and trail; below it, dots. */
const DETAIL_ZOOM = 6;
const UNAVAILABLE_POLL_MS = 30000;
/** Vessels asked for at most per poll (the route's own bound may be lower). */
const LIMIT = 10000;
const empty = { type: 'FeatureCollection', features: [] };

let map = null;
let enabled = true;
let timer = null;
let inFlight = false;
/** MMSI → { point, trail } as last drawn. */
const held = new Map();
/** `since` for the next poll (unix ms of the newest last_seen held), or null: re-read all. */
let sinceMs = null;
let resyncAt = 0;
let viewChanged = false;
/**
 * Whether both sources are empty: a setData re-tiles and repaints the whole
 * map (hundreds of ms in software rendering), so "empty again" is skipped,
 * as in a real-world view of a node whose AIS feed is an exercise one, where
 * every poll found nothing to draw.
 */
let sourcesEmpty = true;

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

function point(v) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
    properties: {
      mmsi: v.mmsi, name: v.name ?? '', flag: v.flag ?? '', ship_type: v.ship_type ?? '',
      callsign: v.callsign ?? '', imo: v.imo ?? '', sog: v.sog_kn ?? null, cog: v.cog_deg ?? null,
      heading: v.heading_deg ?? v.cog_deg ?? 0, has_heading: v.heading_deg != null || v.cog_deg != null,
      last_seen: v.last_seen,
    },
  };
}

function trailFeature(mmsi, coordinates) {
  return { type: 'Feature', geometry: { type: 'LineString', coordinates }, properties: { mmsi } };
}

/** The whole picture, trails as the node keeps them: replaces what is drawn. */
function drawAll(list) {
  held.clear();
  if (list.length === 0 && sourcesEmpty) return;
  sourcesEmpty = list.length === 0;
  const points = [];
  const trails = [];
  for (const v of list) {
    const trail = (v.trail ?? []).map(([lon, lat]) => [lon, lat]);
    held.set(v.mmsi, { trail });
    points.push(point(v));
    if (trail.length > 1) trails.push(trailFeature(v.mmsi, trail));
  }
  map.getSource('vessels').setData({ type: 'FeatureCollection', features: points });
  map.getSource('vessel-trails').setData({ type: 'FeatureCollection', features: trails });
}

/** Vessels heard since the last poll: a diff keyed by MMSI; each trail gains the new position. */
function drawChanged(list) {
  if (list.length === 0) return;
  const points = [];
  const trails = [];
  for (const v of list) {
    const entry = held.get(v.mmsi) ?? { trail: [] };
    held.set(v.mmsi, entry);
    const last = entry.trail.at(-1);
    if (!last || last[0] !== v.lon || last[1] !== v.lat) {
      entry.trail.push([v.lon, v.lat]);
      if (entry.trail.length > TRAIL_POINTS) entry.trail.shift();
      if (entry.trail.length > 1) trails.push(trailFeature(v.mmsi, entry.trail.slice()));
    }
    points.push(point(v));
  }
  sourcesEmpty = false;
  map.getSource('vessels').updateData({ add: points });
  if (trails.length) map.getSource('vessel-trails').updateData({ add: trails });
}

/** The newest last_seen in `list` (unix ms), or `previous`. */
function newest(list, previous) {
  let ms = previous ?? -Infinity;
  for (const v of list) ms = Math.max(ms, Date.parse(v.last_seen));
  return Number.isFinite(ms) ? ms : null;
}

function clear() {
  held.clear();
  sinceMs = null;
  if (sourcesEmpty) return;
  sourcesEmpty = true;
  map.getSource('vessels')?.setData(empty);
  map.getSource('vessel-trails')?.setData(empty);
}

async function poll() {
  timer = null;
  if (!enabled || inFlight) return schedule(POLL_MS);
  inFlight = true;
  let next = POLL_MS;
  try {
    // Bounded: more held than one answer carries means some left; re-read.
    const whole = sinceMs == null || viewChanged || held.size > LIMIT || Date.now() >= resyncAt;
    if (whole) viewChanged = false;
    const changes = whole ? {} : { since: sinceMs, trail: false };
    const answer = await api('/api/v1/ais/vessels' + query({ bbox: bbox(), limit: LIMIT, ...changes }));
    const exerciseMode = store.get().mode === 'exercise';
    if (answer.exercise !== exerciseMode) {
      clear();
      status(answer.exercise ? 'vessel.feed_is_exercise' : 'vessel.feed_is_real');
    } else {
      const list = answer.vessels ?? [];
      if (whole) {
        drawAll(list);
        resyncAt = Date.now() + RESYNC_MS;
      } else drawChanged(list);
      sinceMs = newest(list, whole ? null : sinceMs);
      status('vessel.count', { shown: held.size, total: answer.total ?? held.size });
    }
  } catch (e) {
    clear();
    if (e.notAvailable) status('vessel.not_available');
    else status('vessel.unavailable', { reason: e.reason ?? e.message });
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
  map.addSource('vessels', { type: 'geojson', data: empty, promoteId: 'mmsi' });
  map.addSource('vessel-trails', { type: 'geojson', data: empty, promoteId: 'mmsi' });
  // Zoomed out (the whole region, thousands of vessels) a vessel is a dot:
  // symbols, heading arrows and trails for 10,000 vessels cost the page
  // seconds per redraw under software rendering. From DETAIL_ZOOM on, the
  // symbol, its heading and its trail.
  map.addLayer({ id: 'vessel-trails', type: 'line', source: 'vessel-trails', minzoom: DETAIL_ZOOM, paint: { 'line-color': '#9ad0ec', 'line-width': 1, 'line-opacity': 0.6 } });
  map.addLayer({ id: 'vessel-dots', type: 'circle', source: 'vessels', maxzoom: DETAIL_ZOOM, paint: {
    'circle-radius': 2.5, 'circle-color': '#9ad0ec', 'circle-stroke-color': '#0e2536', 'circle-stroke-width': 0.5 } });
  map.addLayer({ id: 'vessels', type: 'symbol', source: 'vessels', minzoom: DETAIL_ZOOM, layout: { 'icon-image': 'sym-vessel', 'icon-allow-overlap': true, 'icon-size': 0.8 } });
  map.addLayer({ id: 'vessel-heading', type: 'symbol', source: 'vessels', minzoom: DETAIL_ZOOM, filter: ['get', 'has_heading'], layout: {
    'icon-image': 'heading', 'icon-rotate': ['get', 'heading'], 'icon-rotation-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true } });
  store.watch(['mode'], () => { clear(); schedule(0); });
  // A new view: re-read the whole picture for it at the next poll.
  map.on('moveend', () => { viewChanged = true; });
  schedule(0);
}

// The map view: an offline basemap (Natural Earth countries from the vendored
// TopoJSON), the node's zones, the missile products, vessels and maritime
// events, with layer toggles, coordinates under the cursor and a
// range-and-bearing tool. Every layer reads a GeoJSON source that is updated
// in place with setData; symbols are drawn once per kind (milsymbol) and
// reused. The style has no `glyphs` or `sprite`: nothing is fetched from
// anywhere, and names are shown in HTML popups instead of map text.

import * as maplibregl from '../vendor/maplibre-gl.mjs';
import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, num, duration, timeEl } from './dom.mjs';
import { t, setText } from './i18n.mjs';
import { visibleReports } from './filters.mjs';
import { markingBlock } from './markings.mjs';
import { kindName, summary } from './summary.mjs';
import { distanceKm, bearingDeg } from './geo.mjs';
import * as features from './map-features.mjs';
import * as vessels from './vessels.mjs';
import * as seismic from './seismic.mjs';

let map = null;
let popup = null;

/** MIL-STD-2525C symbol codes, one image per kind of thing on the map. */
const SYMBOLS = {
  'sym-missile': 'SHAPM-----', // hostile air track, missile
  'sym-launcher': 'SHGPEWM---', // hostile ground equipment, missile launcher
  'sym-vessel': 'SNSP------', // neutral sea surface track
};

/** Layer groups the user toggles, by the ids of their map layers. */
const GROUPS = {
  zones: ['zones-fill', 'zones-line', 'zones-approx'],
  missile: ['missile-ellipse', 'missile-trajectory', 'missile-path', 'missile-impact', 'missile-launch', 'missile-track'],
  vessels: ['vessel-trails', 'vessel-dots', 'vessels', 'vessel-heading'],
  maritime: ['maritime'],
  seismic: seismic.LAYERS,
  other: ['other'],
};

const ZONE_COLOURS = ['match', ['get', 'kind'],
  'territorial_sea', '#4aa3ff', 'contiguous_zone', '#6cc3d5', 'eez', '#2e7d9a',
  'declared_area', '#ff9f1c', '#b388ff'];

function addSymbolImages() {
  const ratio = window.devicePixelRatio || 1;
  for (const [id, sidc] of Object.entries(SYMBOLS)) {
    const canvas = new window.ms.Symbol(sidc, { size: 22 * ratio }).asCanvas();
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    map.addImage(id, data, { pixelRatio: ratio });
  }
  // The heading arrow: drawn once, rotated per vessel by the layer.
  const size = 32 * ratio;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffe066';
  g.strokeStyle = '#1b1b1b';
  g.lineWidth = ratio;
  g.beginPath();
  g.moveTo(size / 2, 0);
  g.lineTo(size / 2 + 4 * ratio, 9 * ratio);
  g.lineTo(size / 2 - 4 * ratio, 9 * ratio);
  g.closePath();
  g.fill();
  g.stroke();
  map.addImage('heading', g.getImageData(0, 0, size, size), { pixelRatio: ratio });
}

/** The basemap's TopoJSON, fetched while MapLibre starts. */
function fetchBasemap() {
  return fetch('/console/vendor/countries-50m.json').then((r) => r.json());
}

async function addBasemap(topoPromise) {
  const topo = await topoPromise;
  const land = window.topojson.feature(topo, topo.objects.countries);
  const borders = window.topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b);
  map.addSource('land', { type: 'geojson', data: land });
  map.addSource('borders', { type: 'geojson', data: borders });
  map.addLayer({ id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#2b3a2e' } });
  map.addLayer({ id: 'borders', type: 'line', source: 'borders', paint: { 'line-color': '#7a8a7e', 'line-width': 0.6 } });
}

async function addZones(zonesPromise) {
  map.addSource('zones', { type: 'geojson', data: features.empty });
  map.addLayer({ id: 'zones-fill', type: 'fill', source: 'zones', paint: { 'fill-color': ZONE_COLOURS, 'fill-opacity': 0.12 } });
  map.addLayer({ id: 'zones-line', type: 'line', source: 'zones', filter: ['!', ['get', 'approximate']], paint: { 'line-color': ZONE_COLOURS, 'line-width': 1.2 } });
  // Computed (approximate) zones are dashed, and say so in their popup.
  map.addLayer({ id: 'zones-approx', type: 'line', source: 'zones', filter: ['get', 'approximate'], paint: { 'line-color': ZONE_COLOURS, 'line-width': 1.2, 'line-dasharray': [3, 2] } });
  await loadZones(zonesPromise, 1);
}

// The node answers 503 engines_starting until its engines (and zones) are
// up; a console opened then asks again, a bounded number of times.
const ZONES_RETRY_MS = 2000;
const ZONES_ATTEMPTS_MAX = 30;

async function loadZones(zonesPromise, attempt) {
  const note = document.getElementById('zones-note');
  try {
    const zones = await zonesPromise;
    map.getSource('zones').setData(zones);
    const approx = zones.features.filter((f) => f.properties?.approximate).length;
    setText(note, 'zone.count', { count: zones.features.length, approximate: approx });
  } catch (e) {
    if (e.notAvailable) setText(note, 'zone.not_available');
    else setText(note, 'zone.unavailable', { reason: e.reason ?? e.message });
    if (e.status === 503 && attempt < ZONES_ATTEMPTS_MAX) {
      setTimeout(() => loadZones(api('/api/v1/geo/zones'), attempt + 1), ZONES_RETRY_MS);
    }
  }
}

function addReportLayers() {
  for (const id of ['missile', 'maritime', 'other']) map.addSource(id, { type: 'geojson', data: features.empty });
  const role = (r) => ['==', ['get', 'role'], r];
  map.addLayer({ id: 'missile-ellipse', type: 'fill', source: 'missile', filter: role('ellipse'), paint: { 'fill-color': '#ff3b30', 'fill-opacity': 0.25, 'fill-outline-color': '#ff3b30' } });
  map.addLayer({ id: 'missile-trajectory', type: 'line', source: 'missile', filter: role('trajectory'), paint: { 'line-color': '#ff6b6b', 'line-width': 2, 'line-dasharray': [2, 2] } });
  map.addLayer({ id: 'missile-path', type: 'line', source: 'missile', filter: role('track-path'), paint: { 'line-color': '#ffd60a', 'line-width': 2 } });
  map.addLayer({ id: 'missile-impact', type: 'circle', source: 'missile', filter: role('impact'), paint: { 'circle-radius': 6, 'circle-color': '#ff3b30', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'missile-launch', type: 'symbol', source: 'missile', filter: role('launch'), layout: { 'icon-image': 'sym-launcher', 'icon-allow-overlap': true } });
  map.addLayer({ id: 'missile-track', type: 'symbol', source: 'missile', filter: role('track'), layout: { 'icon-image': 'sym-missile', 'icon-allow-overlap': true } });
  map.addLayer({ id: 'maritime', type: 'circle', source: 'maritime', paint: {
    'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5,
    'circle-color': ['match', ['get', 'kind'], 'maritime.sanctioned-vessel', '#ff2d55', 'maritime.incident', '#ff9f1c', '#bf5af2'] } });
  seismic.addLayers(map);
  map.addLayer({ id: 'other', type: 'circle', source: 'other', paint: { 'circle-radius': 6, 'circle-color': '#64d2ff', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
}

let pending = false;
/** The reports each report source was last drawn from (report objects are replaced, never changed). */
const drawnFrom = new Map();

/**
 * Gives source `id` the features of `reports` only if they are not the
 * reports it was drawn from: every setData re-tiles the whole source in
 * MapLibre's worker and repaints, and most reports change one source or
 * none (a note without a position changes none). Comparing the report
 * objects also spares building and comparing a thousand features per event.
 */
function setSource(id, reports, build) {
  const old = drawnFrom.get(id);
  if (old && old.length === reports.length && old.every((r, i) => r === reports[i])) return;
  const source = map.getSource(id);
  if (!source) return;
  source.setData(build(reports));
  drawnFrom.set(id, reports);
}

function updateReports() {
  pending = false;
  const reports = visibleReports();
  const parts = features.sourceReports(reports);
  setSource('missile', parts.missile, features.missileFeatures);
  setSource('maritime', parts.maritime, features.maritimeFeatures);
  setSource('seismic', parts.seismic, seismic.features);
  setSource('other', parts.other, features.otherFeatures);
  renderCountdowns(reports);
}
function scheduleReports() {
  if (!pending) {
    pending = true;
    requestAnimationFrame(updateReports);
  }
}

/** Time to impact of each live assessment, refreshed every second. */
function renderCountdowns(reports = visibleReports()) {
  const box = document.getElementById('countdowns');
  const now = store.get().replayAt ?? Date.now();
  const latest = features.latestAssessments(reports);
  // Track ids are per owner: the line names the owner too.
  const line = (r) => {
    const p = r.payload;
    const left = (Date.parse(p.impact_time) - now) / 1000;
    const values = { id: p.track_id, owner: r.owner, class: p.class, time: duration(left) };
    return t(left > 0 ? 'missile.countdown_line' : 'missile.countdown_passed', values);
  };
  // Same assessments as drawn: update the times in place (keeps keyboard focus).
  const key = store.get().lang + latest.map((r) => `${store.reportKey(r)}@${r.version}`).join();
  if (box.dataset.key === key) {
    latest.forEach((r, i) => { box.querySelectorAll('.countdown strong')[i].textContent = line(r); });
    return;
  }
  box.dataset.key = key;
  const rows = latest.map((r) => h('li', {},
    h('button', { type: 'button', class: 'countdown', onclick: () => store.set({ selected: store.reportKey(r) }) },
      h('strong', {}, line(r)),
      h('span', {}, t('missile.figures', { apogee: num(r.payload.apogee_km, 0), range: num(r.payload.range_km, 0) })))));
  box.hidden = rows.length === 0;
  box.replaceChildren(h('h3', {}, t('missile.countdowns')), h('ul', {}, rows));
}

function reportPopup(key) {
  // Replaying: the version drawn is the one current then, maybe gone since.
  const s = store.get();
  const report = (s.replayAt !== null && s.replayReports ? s.replayReports : s.reports).get(key);
  if (!report) return null;
  return h('div', { class: 'popup' },
    markingBlock(report.marking, { exercise: report.exercise }),
    h('h3', {}, kindName(report.kind)),
    h('p', {}, summary(report)),
    h('p', {}, report.owner, ' · ', timeEl(report.observed_at)),
    h('button', { type: 'button', onclick: () => store.set({ selected: key }) }, t('map.open_detail')));
}

function zonePopup(p) {
  return h('div', { class: 'popup' },
    h('h3', {}, p.name),
    h('p', {}, t(`zone.kind_${p.kind}`)),
    p.party ? h('p', {}, t('zone.party', { party: p.party })) : null,
    p.approximate ? h('p', { class: 'approx' }, t('zone.approximate')) : null,
    p.source ? h('p', { class: 'muted' }, t('zone.source', { source: p.source })) : null);
}

const CLICKABLE = ['missile-track', 'missile-launch', 'missile-impact', 'missile-ellipse', 'missile-trajectory', 'maritime', ...seismic.LAYERS, 'other', 'vessels', 'vessel-dots', 'zones-fill'];

function onClick(event) {
  if (measuring) return measureClick(event);
  const layers = CLICKABLE.filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
  const [hit] = map.queryRenderedFeatures(event.point, { layers });
  if (!hit) return;
  let content = null;
  if (hit.layer.id === 'vessels' || hit.layer.id === 'vessel-dots') content = vessels.popup(hit.properties);
  else if (hit.layer.id === 'zones-fill') content = zonePopup(hit.properties);
  else content = reportPopup(hit.properties.key);
  if (!content) return;
  popup?.remove();
  popup = new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(event.lngLat).setDOMContent(content).addTo(map);
}

// Range and bearing: two clicks, great-circle distance and initial bearing.
let measuring = false;
let measureFrom = null;
function measureClick(event) {
  const at = [event.lngLat.lng, event.lngLat.lat];
  const out = document.getElementById('measure-out');
  if (!measureFrom) {
    measureFrom = at;
    map.getSource('measure').setData({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: {} }] });
    setText(out, 'measure.second_point');
    return;
  }
  const km = distanceKm(measureFrom, at);
  setText(out, 'measure.result', { km: num(km, 1), nm: num(km / 1.852, 1), bearing: num(bearingDeg(measureFrom, at), 1) });
  map.getSource('measure').setData({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: [measureFrom, at] }, properties: {} }] });
  measureFrom = null;
}

function initMeasure() {
  map.addSource('measure', { type: 'geojson', data: features.empty });
  map.addLayer({ id: 'measure-line', type: 'line', source: 'measure', paint: { 'line-color': '#fff', 'line-width': 2, 'line-dasharray': [1, 1] } });
  map.addLayer({ id: 'measure-point', type: 'circle', source: 'measure', paint: { 'circle-radius': 4, 'circle-color': '#fff' } });
  const button = document.getElementById('measure');
  button.addEventListener('click', () => {
    measuring = !measuring;
    measureFrom = null;
    button.setAttribute('aria-pressed', String(measuring));
    map.getCanvas().style.cursor = measuring ? 'crosshair' : '';
    setText(document.getElementById('measure-out'), measuring ? 'measure.first_point' : '');
    if (!measuring) map.getSource('measure').setData(features.empty);
  });
}

function initToggles() {
  const box = document.getElementById('layers');
  for (const group of Object.keys(GROUPS)) {
    const input = h('input', { type: 'checkbox', checked: true, name: group });
    input.addEventListener('change', () => {
      for (const layer of GROUPS[group]) map.setLayoutProperty(layer, 'visibility', input.checked ? 'visible' : 'none');
      if (group === 'vessels') vessels.setEnabled(input.checked);
    });
    box.append(h('label', { class: 'check' }, input, ' ', h('span', { 'data-i18n': `layer.${group}` }, t(`layer.${group}`))));
  }
  box.append(h('p', { id: 'zones-note', class: 'muted' }));
}

function initCursor() {
  const out = document.getElementById('cursor');
  map.on('mousemove', (e) => {
    const { lng, lat } = e.lngLat.wrap();
    out.textContent = t('map.cursor_value', { lat: num(lat, 4), lon: num(lng, 4) });
  });
}

export function resize() {
  map?.resize();
}

export async function init() {
  // Both fetched while MapLibre starts (its style, worker and first frame),
  // not after its `load`.
  const topo = fetchBasemap();
  const zones = api('/api/v1/geo/zones');
  topo.catch(() => {});
  zones.catch(() => {});
  map = new maplibregl.Map({
    container: 'map',
    style: { version: 8, sources: {}, layers: [{ id: 'sea', type: 'background', paint: { 'background-color': '#0e2536' } }] },
    center: [133, 36],
    zoom: 3.6,
    // No symbol fade-in: with thousands of vessels each fade frame is a full
    // software-rendered redraw (BENCHMARKS.md, "Console").
    fadeDuration: 0,
    attributionControl: { compact: true, customAttribution: 'Natural Earth' },
    // The canvas is the map's landmark ("Map" region); its name follows the language.
    locale: { 'Map.Title': t('map.label') },
  });
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'nautical' }), 'bottom-left');
  await new Promise((resolve) => map.on('load', resolve));
  performance.mark('trilat:map-loaded');
  addSymbolImages();
  initToggles();
  await addBasemap(topo);
  performance.mark('trilat:basemap-added');
  await addZones(zones);
  performance.mark('trilat:zones-added');
  addReportLayers();
  vessels.init(map);
  initMeasure();
  initCursor();
  map.on('click', onClick);
  for (const layer of CLICKABLE) {
    map.on('mouseenter', layer, () => { if (!measuring) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { if (!measuring) map.getCanvas().style.cursor = ''; });
  }
  store.watch(['reports', 'filters', 'replayAt', 'replayReports', 'lang'], scheduleReports);
  store.watch(['mode'], () => popup?.remove());
  setInterval(() => renderCountdowns(), 1000);
  updateReports();
  performance.mark('trilat:map-ready');
  const container = document.getElementById('map');
  container.dataset.ready = 'true';
  // Every source tiled and painted (the basemap included): screenshots wait for it.
  map.once('idle', () => { container.dataset.idle = 'true'; });
}

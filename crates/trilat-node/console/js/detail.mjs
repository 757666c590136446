// The detail panel: a report's payload rendered for its kind, its markings
// at top and bottom, provenance (owner, versions, contributing parties),
// raw JSON, and the owner's Revoke / New version buttons.

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, timeEl, num, duration, announce } from './dom.mjs';
import { t } from './i18n.mjs';
import { markingBlock } from './markings.mjs';
import { kindName, summary } from './summary.mjs';
import { acknowledge, isAcknowledged } from './warnings.mjs';
import * as seismic from './seismic.mjs';

let opener = null; // element focused before the panel opened (focus returns there)

function table(rows) {
  return h('table', { class: 'kv' },
    h('tbody', {}, rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))));
}

/** The sampled flight path in a line: how many points, and its highest. */
function trajectoryText(points) {
  const top = points.reduce((a, b) => (b[2] > a[2] ? b : a));
  return t('missile.trajectory_value', { count: points.length, height: num(top[2], 0), lat: num(top[0], 2), lon: num(top[1], 2) });
}

function missileAssessment(p) {
  const e = p.impact_ellipse ?? {};
  const left = (Date.parse(p.impact_time) - Date.now()) / 1000;
  return table([
    [t('missile.class'), p.class],
    [t('missile.track_id'), p.track_id],
    [t('missile.launch_time'), timeEl(p.launch_time)],
    [t('missile.launch_point'), `${num(p.launch_lat, 3)}, ${num(p.launch_lon, 3)}`],
    [t('missile.launch_method'), p.launch_method],
    [t('missile.apogee'), t('unit.km', { value: num(p.apogee_km, 0) })],
    [t('missile.range'), t('unit.km', { value: num(p.range_km, 0) })],
    [t('missile.flight_time'), duration(p.flight_time_s)],
    [t('missile.impact_time'), timeEl(p.impact_time)],
    [t('missile.countdown'), left > 0 ? duration(left) : t('missile.impacted')],
    [t('missile.impact_point'), `${num(p.impact_lat, 3)}, ${num(p.impact_lon, 3)}`],
    [t('missile.ellipse'), t('missile.ellipse_value', {
      major: num(e.semi_major_km, 1), minor: num(e.semi_minor_km, 1), bearing: num(e.bearing_deg, 0), confidence: num((e.confidence ?? 0.95) * 100, 0) })],
    p.trajectory?.length ? [t('missile.trajectory'), trajectoryText(p.trajectory)] : null,
    [t('missile.overflown'), (p.overflown ?? []).join(', ') || '—'],
    [t('missile.p_jpn_territory'), num(p.p_impact_in_jpn_territory, 3)],
    [t('missile.p_jpn_eez'), num(p.p_impact_in_jpn_eez, 3)],
    [t('missile.p_land'), num(p.p_impact_on_land, 3)],
    p.zones_approximate ? [t('missile.zones'), t('zone.approximate')] : null,
    [t('missile.detections'), p.n_detections],
    [t('missile.track_live'), p.track_live ? t('common.yes') : t('common.no')],
  ]);
}

function vesselsTable(vessels) {
  return h('table', { class: 'grid' },
    h('caption', {}, t('detail.vessels')),
    h('thead', {}, h('tr', {}, ['vessel.name', 'vessel.mmsi', 'vessel.imo', 'vessel.flag', 'vessel.role'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, vessels.map((v) => h('tr', {}, [v.name, v.mmsi, v.imo, v.flag, v.role].map((x) => h('td', {}, x ?? '—'))))));
}

function maritimeEvent(p) {
  const rows = [
    [t('maritime.event'), p.event],
    [t('vessel.mmsi'), p.mmsi],
    [t('maritime.position'), `${num(p.lat, 4)}, ${num(p.lon, 4)}`],
    [t('maritime.start'), timeEl(new Date(p.start_unix_ms).toISOString())],
    [t('maritime.end'), timeEl(new Date(p.end_unix_ms).toISOString())],
  ];
  const known = new Set(['mmsi', 'segment', 'start_unix_ms', 'end_unix_ms', 'lat', 'lon', 'event', 'evidence']);
  for (const [k, v] of Object.entries(p)) {
    if (!known.has(k)) rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  const vessels = [{ mmsi: p.mmsi, role: t('maritime.subject') }];
  if (p.other_mmsi) vessels.push({ mmsi: p.other_mmsi, role: t('maritime.other') });
  return h('div', {}, table(rows), vesselsTable(vessels));
}

function incident(p) {
  return h('div', {},
    table([
      [t('incident.category'), p.category],
      [t('incident.time'), timeEl(p.time)],
      [t('maritime.position'), `${num(p.lat, 4)}, ${num(p.lon, 4)}`],
    ]),
    h('h4', {}, t('incident.narrative')),
    h('p', { class: 'text' }, p.narrative),
    vesselsTable(p.vessels ?? []));
}

function stix(p) {
  let object = {};
  try {
    object = JSON.parse(p.object);
  } catch {
    // Shown raw below.
  }
  return h('div', {},
    table([
      [t('stix.type'), p.stix_type],
      [t('stix.id'), p.stix_id],
      [t('stix.name'), object.name ?? '—'],
      object.pattern ? [t('stix.pattern'), h('code', {}, object.pattern)] : null,
      object.valid_from ? [t('stix.valid_from'), timeEl(object.valid_from)] : null,
    ]),
    object.description ? h('p', { class: 'text' }, object.description) : null);
}

function sanctionsHit(p) {
  const hit = p.hit ?? {};
  return h('div', {},
    table([
      [t('screen.query'), p.query?.name],
      [t('screen.listed'), hit.caption],
      [t('screen.matched_name'), hit.matched_name],
      [t('screen.score'), num(hit.score, 3)],
      [t('screen.source'), `${hit.source ?? ''} ${hit.list_version ?? ''}`],
      [t('screen.decision'), p.decision],
      [t('screen.reviewed_by'), p.reviewed_by],
      p.note ? [t('screen.note'), p.note] : null,
    ]),
    explanation(hit.explanation ?? []));
}

/** The score's explanation: which name parts matched how (also used by screening). */
export function explanation(parts) {
  return h('table', { class: 'grid' },
    h('caption', {}, t('screen.explanation')),
    h('thead', {}, h('tr', {}, ['screen.part_query', 'screen.part_candidate', 'screen.part_how', 'screen.part_similarity', 'screen.part_contribution'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, parts.map((c) => h('tr', {}, h('td', {}, c.query), h('td', {}, c.candidate), h('td', {}, c.how), h('td', {}, num(c.similarity, 2)), h('td', {}, num(c.contribution, 3))))));
}

function payloadView(report) {
  const p = report.payload ?? {};
  switch (report.kind) {
    case 'note':
      return h('p', { class: 'text' }, p.text);
    case 'missile.assessment':
      return missileAssessment(p);
    case 'missile.track':
      return table([
        [t('missile.track_id'), p.track_id], [t('missile.time'), timeEl(p.time)],
        [t('maritime.position'), `${num(p.lat, 3)}, ${num(p.lon, 3)}`],
        [t('missile.height'), t('unit.km', { value: num(p.height_km, 1) })],
        [t('missile.speed'), t('unit.mps', { value: num(p.speed_mps, 0) })],
        [t('missile.phase'), p.phase], [t('missile.p_ballistic'), num(p.p_ballistic, 2)], [t('missile.state'), p.state]]);
    case 'missile.warning':
      return table([[t('warning.level'), p.level], [t('warning.status'), p.status], [t('warning.issued'), timeEl(p.issued_at)], [t('warning.reason'), p.reason], [t('missile.track_id'), p.track_id]]);
    case 'maritime.event':
    case 'maritime.sanctioned-vessel':
      return maritimeEvent(p);
    case 'maritime.incident':
      return incident(p);
    case 'cyber.stix':
      return stix(p);
    case 'sanctions.hit':
      return sanctionsHit(p);
    case 'seismic.event':
    case 'nuclear.assessment':
      return seismic.detailView(report);
    default:
      return h('p', { class: 'muted' }, t('detail.no_renderer'));
  }
}

function provenance(report, history) {
  const parties = report.payload?.parties;
  return h('section', { 'aria-labelledby': 'prov-title' },
    h('h3', { id: 'prov-title' }, t('detail.provenance')),
    table([
      [t('detail.owner'), report.owner],
      [t('detail.version'), report.version],
      [t('detail.created'), timeEl(report.created_at)],
      [t('detail.modified'), timeEl(report.modified)],
      [t('detail.observed'), timeEl(report.observed_at)],
      Array.isArray(parties) && parties.length ? [t('detail.contributors'), parties.join(', ')] : null,
      [t('detail.id'), h('code', {}, report.id)],
    ]),
    history ? h('ol', { class: 'history', 'aria-label': t('detail.history') },
      history.map((v) => h('li', {}, t('detail.history_item', { version: v.version, banner: `${v.marking.level}//REL TO ${v.marking.rel_to.join(', ')}//TLP:${v.marking.tlp}` }), ' ', timeEl(v.modified), v.revoked ? ` ${t('report.revoked')}` : ''))) : null);
}

function actions(report) {
  const s = store.get();
  const who = s.whoami;
  const writer = (who.role === 'analyst' || who.role === 'admin') && who.party === who.node && report.owner === who.party;
  const buttons = [];
  if ((report.kind === 'missile.warning' && !isAcknowledged(report)) || seismic.needsAck(report)) {
    buttons.push(h('button', { type: 'button', onclick: () => acknowledge(report) }, t('warning.acknowledge')));
  }
  if (writer && !report.revoked) {
    buttons.push(h('button', { type: 'button', onclick: () => import('./write.mjs').then((w) => w.editVersion(report)) }, t('detail.new_version')));
    buttons.push(h('button', { type: 'button', class: 'danger', onclick: () => revoke(report) }, t('detail.revoke')));
  }
  return buttons.length ? h('div', { class: 'actions' }, buttons) : null;
}

async function revoke(report) {
  if (!confirm(t('detail.revoke_confirm'))) return;
  try {
    const answer = await api(`/api/v1/reports/${report.owner}/${report.id}/revoke`, { method: 'POST', body: {} });
    store.putReports([answer.report]);
    announce(t('detail.revoked_done'));
  } catch (e) {
    announce(e.message, 'error');
  }
}

/** Shows the report `key` (OWNER/id, the store's key and the report's API path). */
async function render(key) {
  const panel = document.getElementById('detail');
  const body = document.getElementById('detail-body');
  if (!key) {
    if (panel.hidden) return;
    panel.hidden = true;
    // The timeline redraws its items: return focus to the same report's item.
    const item = opener?.dataset?.key && document.querySelector(`#timeline-list .item[data-key="${CSS.escape(opener.dataset.key)}"]`);
    (item && item.isConnected ? item : opener)?.focus?.();
    return;
  }
  const cached = store.get().reports.get(key);
  if (!panel.hidden && body.dataset.key === key && body.dataset.version === String(cached?.version)) return;
  if (panel.hidden) opener = document.activeElement;
  panel.hidden = false;
  let report = cached;
  let history = null;
  try {
    // A report's path names its owner and its id (two owners may share an id).
    const answer = await api(`/api/v1/reports/${key}?history=true`);
    report = answer.report;
    history = answer.history;
  } catch (e) {
    if (!report) {
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
      return;
    }
  }
  if (store.get().selected !== key) return;
  console.assert(store.reportKey(report) === key, 'the panel shows the report selected');
  body.dataset.key = key;
  body.dataset.version = String(report.version);
  body.replaceChildren(...[
    markingBlock(report.marking, { exercise: report.exercise }),
    h('h3', { class: 'detail-kind' }, kindName(report.kind)),
    report.revoked ? h('p', { class: 'revoked-tag' }, t('report.revoked')) : null,
    report.kind === 'note' ? null : h('p', { class: 'detail-summary' }, summary(report)),
    payloadView(report),
    provenance(report, history),
    actions(report),
    h('details', {}, h('summary', {}, t('detail.raw')), h('pre', { class: 'raw' }, JSON.stringify(report, null, 2))),
    markingBlock(report.marking, { exercise: report.exercise }),
  ].filter(Boolean));
  document.getElementById('detail-title').focus();
}

export function init() {
  const title = document.getElementById('detail-title');
  title.tabIndex = -1;
  document.getElementById('detail-close').addEventListener('click', () => store.set({ selected: null }));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && store.get().selected) store.set({ selected: null });
  });
  store.watch(['selected', 'lang'], (s) => {
    document.getElementById('detail-body').dataset.key = '';
    render(s.selected);
  });
  store.watch(['reports'], (s) => s.selected && render(s.selected));
}

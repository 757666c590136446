// Exercises (analysts and admins of the node's party): the runs registered
// here by `trilat exercise run` with their progress, Pause and Resume for
// admins (POST /api/v1/exercise/runs/{run}/pause|resume: the runner holds
// its clock while any node has the run paused), and the after-action
// reports published here (GET /api/v1/exercise/reports/{run}): this node's
// party's share, drawn as a timeline per party and a latency distribution
// from the report's own figures. Admins of a demo node also start plays of
// the shipped scenarios here (exercise-start.mjs).

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, timeEl } from './dom.mjs';
import { t } from './i18n.mjs';
import { refreshScenarios, reset as resetScenarios } from './exercise-start.mjs';

const POLL_MS = 1000;
/** Latency bins, upper bounds in ms (the last is open): as the HTML report's. */
const LATENCY_BINS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000];
const PARTY_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const INJECT_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const SVG_NS = 'http://www.w3.org/2000/svg';

let timer = null;
let shownRuns = '';
let shownReports = '';
let selected = null; // run id of the report shown
let selectedReport = null; // its share, as fetched

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  // The page's text colour is light; the charts are drawn on white.
  if (tag === 'text' && !('fill' in attrs)) el.setAttribute('fill', '#222');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  // Rows come as nested arrays (a label and a rule per party).
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function section() {
  return document.getElementById('view-exercise');
}

function skeleton() {
  const root = section();
  if (root.querySelector('#exercise-runs')) return;
  root.replaceChildren(
    h('h2', { id: 'exercise-title', 'data-i18n': 'exercise.title' }, t('exercise.title')),
    h('p', { class: 'muted', 'data-i18n': 'exercise.intro' }, t('exercise.intro')),
    h('div', { id: 'exercise-scenarios' }),
    h('h3', { 'data-i18n': 'exercise.runs' }, t('exercise.runs')),
    h('div', { id: 'exercise-runs' }),
    h('h3', { 'data-i18n': 'exercise.reports' }, t('exercise.reports')),
    h('div', { id: 'exercise-reports' }),
    h('div', { id: 'exercise-report', class: 'exercise-report' }),
  );
}

async function steer(run, verb) {
  try {
    await api(`/api/v1/exercise/runs/${encodeURIComponent(run.run_id)}/${verb}`, { method: 'POST', body: {} });
  } catch (e) {
    document.getElementById('exercise-runs').append(h('p', { class: 'error', role: 'alert' }, e.message));
  }
  await refresh();
}

function runRow(run, admin) {
  const paused = run.state === 'paused';
  const action = admin && run.state !== 'finished'
    ? h('button', { type: 'button', onclick: () => steer(run, paused ? 'resume' : 'pause') },
      t(paused ? 'exercise.resume' : 'exercise.pause'))
    : '—';
  return h('tr', {},
    h('th', { scope: 'row' }, h('code', {}, run.run_id)),
    h('td', {}, run.scenario),
    h('td', {}, h('span', { class: `state run-${run.state}` }, t(`exercise.state_${run.state}`))),
    h('td', {},
      h('progress', { max: run.injects_total, value: run.injects_done, 'aria-label': t('exercise.progress_label', { run: run.run_id }) }),
      ' ', t('exercise.progress', { done: run.injects_done, total: run.injects_total })),
    h('td', {}, run.steered_by ?? '—'),
    h('td', {}, action));
}

function renderRuns(runs) {
  const admin = store.get().whoami?.role === 'admin';
  const root = document.getElementById('exercise-runs');
  if (!runs.length) {
    root.replaceChildren(h('p', { class: 'muted' }, t('exercise.no_runs')));
    return;
  }
  root.replaceChildren(h('table', { class: 'grid' },
    h('caption', {}, t('exercise.runs_caption', { count: runs.length })),
    h('thead', {}, h('tr', {}, ['exercise.run', 'exercise.scenario', 'exercise.state', 'exercise.progress_col', 'exercise.steered_by', 'exercise.action']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, runs.map((run) => runRow(run, admin)))));
}

function renderReports(reports) {
  const root = document.getElementById('exercise-reports');
  if (!reports.length) {
    root.replaceChildren(h('p', { class: 'muted' }, t('exercise.no_reports')));
    return;
  }
  root.replaceChildren(h('ul', { class: 'exercise-reports' }, reports.map((r) => h('li', {},
    h('button', { type: 'button', 'aria-pressed': String(r.run_id === selected), onclick: () => select(r.run_id) },
      t('exercise.open_report', { scenario: r.scenario, run: r.run_id })),
    ' ', t('exercise.report_meta', { injects: r.n_injects, products: r.n_products }), ' ',
    timeEl(r.published_at)))));
}

async function select(runId) {
  selected = runId;
  shownReports = ''; // re-render the list's pressed state
  const root = document.getElementById('exercise-report');
  root.replaceChildren(h('p', { class: 'muted' }, t('exercise.loading')));
  try {
    selectedReport = await api(`/api/v1/exercise/reports/${encodeURIComponent(runId)}`);
    renderReport();
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, e.message));
  }
  await refresh();
}

/** Every delivery of the share with its inject, in the report's order. */
function deliveries(report) {
  const out = [];
  for (const inject of report.injects) {
    for (const product of inject.products) {
      for (const delivery of product.deliveries) out.push({ inject, product, delivery });
    }
  }
  return out;
}

/** One row per party; a dot where its node had a product, a square for one withheld, a cross for one missing. */
function timelineChart(report) {
  const start = Date.parse(report.started_at);
  const marks = [];
  for (const { inject, delivery } of deliveries(report)) {
    const row = report.parties.indexOf(delivery.party);
    if (row < 0 || delivery.status === 'stored') continue;
    const had = delivery.status === 'owner' || delivery.status === 'received';
    const at = had ? Date.parse(delivery.at) : Date.parse(inject.played_at);
    marks.push({ row, s: Math.max(0, (at - start) / 1000), inject: inject.inject_idx, kind: had ? 'had' : delivery.status });
  }
  const spanS = Math.max(1, ...marks.map((m) => m.s));
  const [width, left, rowH] = [900, 60, 40];
  const height = 40 + rowH * report.parties.length;
  const x = (s) => left + ((width - left - 20) * s) / spanS;
  const y = (row) => 20 + rowH * (row + 0.5);
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'exercise-chart', 'aria-label': t('exercise.timeline_label', { count: marks.length }) },
    report.parties.map((party, row) => [
      svg('text', { x: 5, y: y(row) + 4, 'font-size': 13 }, party),
      svg('line', { x1: left, x2: width - 20, y1: y(row), y2: y(row), stroke: '#ccc' })]),
    marks.map((m) => {
      const colour = INJECT_COLOURS[m.inject % INJECT_COLOURS.length];
      const title = svg('title', {}, t(`exercise.mark_${m.kind}`, { inject: m.inject + 1, s: m.s.toFixed(1) }));
      if (m.kind === 'had') return svg('circle', { cx: x(m.s), cy: y(m.row), r: 4, fill: colour, class: 'mark-had' }, title);
      if (m.kind === 'withheld') return svg('rect', { x: x(m.s) - 4, y: y(m.row) - 14, width: 8, height: 8, fill: 'none', stroke: colour, class: 'mark-withheld' }, title);
      return svg('text', { x: x(m.s) - 4, y: y(m.row) + 18, fill: '#b00', 'font-size': 14, class: 'mark-missing' }, '×', title);
    }),
    svg('text', { x: left, y: height - 4, 'font-size': 11 }, '0 s'),
    svg('text', { x: width - 20, y: height - 4, 'font-size': 11, 'text-anchor': 'end' }, t('exercise.timeline_axis', { s: spanS.toFixed(1), speed: report.speed })));
}

/** Grouped bars: per latency bin, one bar per party counting its deliveries (created or received) within it. */
function latencyChart(report) {
  const nBins = LATENCY_BINS_MS.length + 1;
  const counts = report.parties.map(() => new Array(nBins).fill(0));
  for (const { delivery } of deliveries(report)) {
    const row = report.parties.indexOf(delivery.party);
    if (row < 0 || typeof delivery.latency_ms !== 'number') continue;
    const bin = LATENCY_BINS_MS.findIndex((upper) => delivery.latency_ms <= upper);
    counts[row][bin < 0 ? nBins - 1 : bin] += 1;
  }
  const countMax = Math.max(1, ...counts.flat());
  const [width, height, left, bottom] = [900, 220, 40, 40];
  const groupW = (width - left - 20) / nBins;
  const barW = Math.max(2, (groupW - 8) / report.parties.length);
  const bars = [];
  counts.forEach((bins, row) => bins.forEach((count, bin) => {
    if (!count) return;
    const barH = ((height - bottom - 20) * count) / countMax;
    bars.push(svg('rect', { x: left + bin * groupW + 4 + row * barW, y: height - bottom - barH, width: barW - 1, height: barH, fill: PARTY_COLOURS[row % PARTY_COLOURS.length], class: 'bar' },
      svg('title', {}, t('exercise.bar', { party: report.parties[row], count, bin: binLabel(bin) }))));
  }));
  const total = counts.flat().reduce((a, b) => a + b, 0);
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'exercise-chart', 'aria-label': t('exercise.latency_label', { count: total }) },
    svg('line', { x1: left, x2: width - 20, y1: height - bottom, y2: height - bottom, stroke: '#888' }),
    bars,
    Array.from({ length: nBins }, (_, bin) => svg('text', { x: left + bin * groupW + groupW / 2, y: height - bottom + 14, 'font-size': 11, 'text-anchor': 'middle' }, binLabel(bin))),
    report.parties.map((party, row) => svg('text', { x: left + row * 60, y: height - 6, 'font-size': 12, fill: PARTY_COLOURS[row % PARTY_COLOURS.length] }, `■ ${party}`)),
    svg('text', { x: 4, y: 14, 'font-size': 11 }, String(countMax)));
}

function binLabel(bin) {
  return bin < LATENCY_BINS_MS.length ? `≤${LATENCY_BINS_MS[bin]} ms` : `>${LATENCY_BINS_MS.at(-1)} ms`;
}

function ms(value) {
  return typeof value === 'number' ? String(value) : '—';
}

function summaryTable(report) {
  return h('table', { class: 'grid' },
    h('caption', {}, t('exercise.summary')),
    h('thead', {}, h('tr', {}, ['exercise.party', 'exercise.received', 'exercise.withheld', 'exercise.missing', 'exercise.p50', 'exercise.p90', 'exercise.max', 'exercise.acknowledged']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, report.summary.map((s) => h('tr', {},
      h('th', { scope: 'row' }, s.party), h('td', {}, String(s.n_received)), h('td', {}, String(s.n_withheld)), h('td', {}, String(s.n_missing)),
      h('td', {}, ms(s.latency_ms_p50)), h('td', {}, ms(s.latency_ms_p90)), h('td', {}, ms(s.latency_ms_max)), h('td', {}, String(s.n_acknowledged))))));
}

/** What a party did not receive, and why: the release rule's reason, or a gap. */
function notReceivedTable(report) {
  const rows = deliveries(report).filter(({ delivery }) => delivery.status === 'withheld' || delivery.status === 'missing');
  if (!rows.length) return h('p', { class: 'ok' }, t('exercise.all_received'));
  return h('table', { class: 'grid' },
    h('caption', {}, t('exercise.not_received_caption', { count: rows.length })),
    h('thead', {}, h('tr', {}, ['exercise.inject', 'exercise.product', 'exercise.party', 'exercise.why']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows.map(({ inject, product, delivery }) => h('tr', {},
      h('td', {}, t('exercise.inject_label', { n: inject.inject_idx + 1, label: inject.label })),
      h('td', {}, `${product.kind} — ${product.banner}`),
      h('th', { scope: 'row' }, delivery.party),
      h('td', { class: delivery.status }, delivery.status === 'withheld' ? t('exercise.withheld_reason', { reason: delivery.reason }) : t('exercise.missing_gap'))))));
}

function renderReport() {
  const share = selectedReport;
  const report = share.report;
  const findings = report.findings.length
    ? h('ul', {}, report.findings.map((f) => h('li', {}, t('exercise.finding', { kind: f.kind, n: f.inject_idx + 1, message: f.message }))))
    : h('p', { class: 'muted' }, t('exercise.no_findings'));
  document.getElementById('exercise-report').replaceChildren(
    h('h3', { id: 'exercise-report-title' }, t('exercise.report_title', { scenario: report.scenario })),
    h('p', { class: 'exercise-banner' }, t('exercise.banner')),
    h('p', {}, t('exercise.share_note', { party: share.party, hidden: share.n_injects_not_shown, speed: report.speed })),
    h('p', {}, t('exercise.run_started', { run: report.run_id }), ' ', timeEl(report.started_at)),
    summaryTable(report),
    h('h4', {}, t('exercise.timeline')),
    timelineChart(report),
    h('h4', {}, t('exercise.latency')),
    latencyChart(report),
    h('h4', {}, t('exercise.not_received')),
    notReceivedTable(report),
    h('h4', {}, t('exercise.findings')),
    findings);
}

async function refresh() {
  if (store.get().view !== 'exercise') return;
  skeleton();
  try {
    const [{ runs }, { reports }] = await Promise.all([api('/api/v1/exercise/runs'), api('/api/v1/exercise/reports')]);
    // The runner's polls change `updated_at` every few hundred ms: not a reason to redraw.
    const runsJson = JSON.stringify([runs.map(({ updated_at: _, ...run }) => run), store.get().lang]);
    if (runsJson !== shownRuns) {
      shownRuns = runsJson;
      renderRuns(runs);
    }
    const reportsJson = JSON.stringify([reports, selected, store.get().lang]);
    if (reportsJson !== shownReports) {
      shownReports = reportsJson;
      renderReports(reports);
    }
  } catch (e) {
    shownRuns = '';
    document.getElementById('exercise-runs').replaceChildren(h('p', { class: 'error' }, e.message));
  }
  try {
    const admin = store.get().whoami?.role === 'admin';
    await refreshScenarios(document.getElementById('exercise-scenarios'), admin, store.get().lang, refresh);
  } catch (e) {
    resetScenarios();
    document.getElementById('exercise-scenarios').replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

export function init() {
  store.watch(['view', 'lang'], (s) => {
    clearInterval(timer);
    if (s.view !== 'exercise') return;
    section().replaceChildren();
    shownRuns = '';
    shownReports = '';
    resetScenarios();
    refresh().then(() => selectedReport && renderReport());
    timer = setInterval(refresh, POLL_MS);
  });
}

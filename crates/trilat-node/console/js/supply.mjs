// Critical minerals: the supply-risk ranking (GET /api/v1/supply/ranking),
// one commodity's producer shares as a bar chart with the partners, allies
// and countries of concern marked (GET /api/v1/supply/indicators), a
// "country stops exporting" scenario with each partner's exposure
// (POST /api/v1/supply/scenario; analysts of this node may share it as an
// econ.scenario report), and the analyst's own import figures shared as an
// econ.figures report (POST /api/v1/supply/figures), and the econ.scenario
// reports the console holds, this node's and those partners shared. Charts
// are drawn here from the JSON: no image service.

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, num, announce, timeEl } from './dom.mjs';
import { t } from './i18n.mjs';
import { markingBlock } from './markings.mjs';

const SVG = 'http://www.w3.org/2000/svg';
const RANKED_SHOWN = 30;
const BARS_MAX = 15;
const SHARED_SHOWN = 20;

let rendered = false;
let sharedSlot = null;

function writer() {
  const w = store.get().whoami;
  return (w.role === 'analyst' || w.role === 'admin') && w.party === w.node;
}

const pct = (x) => (typeof x === 'number' ? num(100 * x, 1) : '—');

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Which group a country is in, for the bar's class and legend. */
function groupOf(groups, code) {
  if (groups.partners?.includes(code)) return 'partner';
  if (groups.allies?.includes(code)) return 'ally';
  if (groups.concern?.includes(code)) return 'concern';
  return 'other';
}

/** Horizontal bars of each producer's share of world production. */
function shareChart(series, groups) {
  const c = series.production;
  const shares = c.shares.slice(0, BARS_MAX);
  const row = 22;
  const width = 560;
  const label = 60;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${row * shares.length + 4}`, role: 'img', class: 'supply-chart',
    'aria-label': t('supply.chart_label', { commodity: series.name, column: c.column }) });
  shares.forEach((s, i) => {
    const y = i * row + 2;
    const w = Math.max(1, (width - label - 70) * s.share);
    chart.append(
      svg('text', { x: 0, y: y + 15, class: 'supply-code' }, s.country),
      svg('rect', { x: label, y, width: w, height: row - 6, class: `supply-bar supply-${groupOf(groups, s.country)}` },
        svg('title', {}, t('supply.bar_title', { country: s.country, share: pct(s.share), lines: s.lines.join('+'), file: series.file }))),
      svg('text', { x: label + w + 6, y: y + 15, class: 'supply-value' }, `${pct(s.share)} %`));
  });
  const legend = h('p', { class: 'supply-legend' },
    ['partner', 'ally', 'concern', 'other'].map((g) => h('span', { class: `supply-key supply-${g}` }, t(`supply.group_${g}`))));
  return h('figure', {}, chart, legend,
    h('figcaption', { class: 'muted' }, t('supply.chart_caption', {
      file: series.file, column: c.column, world: c.world, unit: c.unit, hhi: num(c.hhi, 0),
      hhi_wgi: num(c.hhi_wgi, 2), others: pct(c.unattributed_share) })));
}

async function showCommodity(slot, code) {
  slot.replaceChildren(h('p', {}, t('supply.loading')));
  try {
    const answer = await api(`/api/v1/supply/indicators?commodity=${encodeURIComponent(code)}`);
    slot.replaceChildren(...answer.indicators.map((s) => h('section', { class: 'supply-series' },
      h('h3', {}, t('supply.series_title', { commodity: s.name, series: s.series_type, stage: s.stage })),
      s.production ? shareChart(s, answer.groups) : h('p', {}, t('supply.no_figures')),
      s.us_reliance ? h('p', {}, t('supply.reliance', { pct: String(s.us_reliance.net_import_reliance_pct.value ?? s.us_reliance.net_import_reliance_pct.bound?.value ?? '—'),
        sources: s.us_reliance.import_sources.join(', ') })) : null,
      ...s.notes.map((n) => h('p', { class: 'muted' }, n)))));
  } catch (err) {
    slot.replaceChildren(h('p', { class: 'error' }, err.message));
  }
}

function rankingTable(ranked, slot) {
  const head = h('tr', {}, ['rank', 'commodity', 'series', 'hhi_wgi', 'hhi', 'top1', 'concern', 'coalition', 'us_nir']
    .map((k) => h('th', { scope: 'col' }, t(`supply.col_${k}`))));
  const rows = ranked.slice(0, RANKED_SHOWN).map((e) => h('tr', {},
    h('td', {}, e.rank),
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showCommodity(slot, e.commodity) }, e.name)),
    h('td', { title: e.provenance.join('\n') }, e.series_type),
    h('td', {}, num(e.hhi_wgi, 2)),
    h('td', {}, num(e.hhi, 0)),
    h('td', {}, e.top1 ? `${e.top1[0]} ${pct(e.top1[1])} %` : '—'),
    h('td', {}, pct(e.concern_share)),
    h('td', {}, pct(e.coalition_share)),
    h('td', {}, num(e.us_reliance_pct, 0))));
  return h('table', { class: 'grid supply-ranking' }, h('thead', {}, head), h('tbody', {}, rows));
}

function scenarioForm() {
  const stop = h('input', { id: 'supply-stop', required: true, value: 'CHN', autocomplete: 'off' });
  const commodities = h('input', { id: 'supply-commodities', value: 'gallium,germanium,graphite,antimony', autocomplete: 'off' });
  const share = writer() ? h('input', { id: 'supply-publish', type: 'checkbox' }) : null;
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'supply-scenario' },
    h('div', { class: 'field' }, h('label', { for: 'supply-stop' }, t('supply.stop')), stop),
    h('div', { class: 'field' }, h('label', { for: 'supply-commodities' }, t('supply.commodities')), commodities),
    share ? h('label', { class: 'supply-publish' }, share, ' ', t('supply.publish')) : null,
    h('button', { type: 'submit', class: 'primary' }, t('supply.run')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.replaceChildren(h('p', {}, t('supply.loading')));
    try {
      const split = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
      const answer = await api('/api/v1/supply/scenario', { method: 'POST',
        body: { stop: split(stop.value), commodities: split(commodities.value), publish: Boolean(share?.checked) } });
      const head = h('tr', {}, ['commodity', 'series', 'lost', 'partners', 'allies', 'reserves', 'gap', 'exposed']
        .map((k) => h('th', { scope: 'col' }, t(`supply.scol_${k}`))));
      const rows = answer.result.outcomes.map((o) => h('tr', {},
        h('td', {}, o.name), h('td', {}, o.series_type), h('td', {}, pct(o.lost_share)),
        h('td', {}, pct(o.partners_share)), h('td', {}, pct(o.allies_share)),
        h('td', {}, pct(o.coalition_reserves_share)), h('td', {}, pct(o.gap_share)),
        h('td', { title: o.most_exposed ? o.exposures.map((x) => `${x.party}: ${x.basis}`).join('\n') : t('supply.none_exposed') },
          o.most_exposed ?? '—')));
      result.replaceChildren(...[
        h('table', { class: 'grid supply-outcomes' }, h('thead', {}, head), h('tbody', {}, rows)),
        ...answer.result.without_figures.map((w) => h('p', { class: 'muted' }, t('supply.without_figures', { series: w }))),
        exposureTable(answer.result.outcomes),
        h('p', { class: 'muted' }, answer.figures.length
          ? t('supply.figures_used', { list: answer.figures.join('; ') }) : t('supply.figures_none')),
        ...answer.notes.map((n) => h('p', { class: 'muted' }, n)),
        answer.report ? h('p', {}, t('supply.shared')) : null].filter(Boolean));
      if (answer.report) announce(t('supply.shared'));
    } catch (err) {
      result.replaceChildren(h('p', { class: 'error' }, err.message));
    }
  });
  return h('section', {}, h('h3', {}, t('supply.scenario_title')), form, result);
}

/** Each partner's exposure per series, with where its numbers come from. */
function exposureTable(outcomes) {
  const head = h('tr', {}, ['commodity', 'party', 'exposure', 'reliance', 'stopped', 'basis']
    .map((k) => h('th', { scope: 'col' }, t(`supply.ecol_${k}`))));
  const rows = outcomes.flatMap((o) => o.exposures.map((x) => h('tr', { class: x.party === o.most_exposed ? 'supply-most' : '' },
    h('td', {}, o.name), h('th', { scope: 'row' }, x.party),
    h('td', {}, x.upper_bound && x.exposure != null ? `≤ ${pct(x.exposure)}` : pct(x.exposure)),
    h('td', {}, pct(x.net_import_reliance)), h('td', {}, pct(x.import_share_stopped)),
    h('td', { class: 'supply-basis' }, x.basis))));
  return h('section', {}, h('h4', {}, t('supply.exposures_title')),
    h('table', { class: 'grid supply-exposures' }, h('thead', {}, head), h('tbody', {}, rows)));
}

/** An analyst's own figures CSV, shared as an econ.figures report. */
function figuresForm() {
  const file = h('input', { id: 'supply-figures-file', type: 'file', accept: '.csv,text/csv', required: true });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'supply-figures' },
    h('p', { class: 'muted' }, t('supply.figures_help')),
    h('div', { class: 'field' }, h('label', { for: 'supply-figures-file' }, t('supply.figures_file')), file),
    h('button', { type: 'submit' }, t('supply.figures_send')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    result.replaceChildren(h('p', {}, t('supply.loading')));
    try {
      await api(`/api/v1/supply/figures?file=${encodeURIComponent(chosen.name)}`, { method: 'POST', csv: await chosen.text() });
      result.replaceChildren(h('p', {}, t('supply.figures_shared')));
      announce(t('supply.figures_shared'));
    } catch (err) {
      result.replaceChildren(h('p', { class: 'error' }, err.message));
    }
  });
  return h('section', {}, h('h3', {}, t('supply.figures_title')), form, result);
}

/**
 * The econ.scenario reports this console holds, this node's and those
 * partners shared (the loaded reports of the current mode), newest first.
 */
function renderShared() {
  const list = [...store.get().reports.values()]
    .filter((r) => r.kind === 'econ.scenario' && !r.revoked)
    .sort((a, b) => b.modified.localeCompare(a.modified))
    .slice(0, SHARED_SHOWN);
  if (list.length === 0) {
    sharedSlot.replaceChildren(h('p', { class: 'muted' }, t('supply.shared_none')));
    return;
  }
  const head = h('tr', {}, ['owner', 'when', 'stopped', 'exposed', 'marking']
    .map((k) => h('th', { scope: 'col' }, t(`supply.hcol_${k}`))));
  const rows = list.map((r) => {
    const p = r.payload ?? {};
    const stop = p.scenario === 'stop';
    return h('tr', {},
      h('th', { scope: 'row' }, r.owner), h('td', {}, timeEl(r.modified)),
      h('td', {}, stop ? (p.stopped ?? []).join(', ') : t('supply.pool')),
      h('td', {}, (p.outcomes ?? []).map((o) => `${o.name}: ${stop ? (o.most_exposed ?? '—') : pct(o.coalition_production_share)}`).join('; ')),
      h('td', {}, markingBlock(r.marking, { exercise: r.exercise })));
  });
  sharedSlot.replaceChildren(h('table', { class: 'grid supply-shared' }, h('thead', {}, head), h('tbody', {}, rows)));
}

function render() {
  const section = document.getElementById('view-supply');
  const chartSlot = h('div', { class: 'supply-detail' });
  const rankingSlot = h('div', {}, h('p', {}, t('supply.loading')));
  api('/api/v1/supply/ranking').then((ranked) => {
    rankingSlot.replaceChildren(rankingTable(ranked, chartSlot));
  }).catch((err) => { rankingSlot.replaceChildren(h('p', { class: 'error' }, err.message)); });
  sharedSlot = h('div', { 'aria-live': 'polite' });
  section.replaceChildren(h('h2', { id: 'supply-title' }, t('supply.title')), h('p', {}, t('supply.help')),
    rankingSlot, chartSlot, scenarioForm(), ...(writer() ? [figuresForm()] : []),
    h('section', {}, h('h3', {}, t('supply.shared_title')), sharedSlot));
  rendered = true;
  renderShared();
}

export function init() {
  store.watch(['lang'], () => rendered && render());
  store.watch(['reports'], () => rendered && renderShared());
}

export function show() {
  if (!rendered) render();
}

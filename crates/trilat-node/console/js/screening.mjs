// Screening: a name in any script against the node's sanctions lists
// (POST /api/v1/sanctions/screen), hits with their explained scores, and a
// hit shared as a report (POST /api/v1/sanctions/hits, analysts and admins).
// Identifier search: a wallet address, e-mail, BIC, IMO … matched exactly
// (POST /api/v1/sanctions/screen-id), a hit shared as a sanctions.id-hit
// report (POST /api/v1/sanctions/id-hits).

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, num, announce } from './dom.mjs';
import { t } from './i18n.mjs';
import { explanation } from './detail.mjs';
import { markingPicker } from './marking-picker.mjs';

let rendered = false;

function writer() {
  const w = store.get().whoami;
  return (w.role === 'analyst' || w.role === 'admin') && w.party === w.node;
}

/** Identifier types as the API names them (`trilat sanctions screen-id --type`). */
const ID_TYPES = ['digital_currency', 'email', 'website', 'phone', 'swift_bic', 'imo_ship', 'imo_company', 'mmsi', 'call_sign', 'passport', 'national_id', 'registration', 'aircraft_tail'];

function shareForm(query, hit, route = '/api/v1/sanctions/hits', sharedText = 'screen.shared') {
  const decision = h('select', { id: 'share-decision' }, new Option(t('screen.confirmed'), 'confirmed'), new Option(t('screen.false_positive'), 'false_positive'));
  const note = h('textarea', { id: 'share-note', rows: 3 });
  const picker = markingPicker(null);
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'share' },
    h('div', { class: 'field' }, h('label', { for: 'share-decision' }, t('screen.decision')), decision),
    h('div', { class: 'field' }, h('label', { for: 'share-note' }, t('screen.note')), note),
    picker.el,
    h('button', { type: 'submit', class: 'primary' }, t('screen.share_submit')),
    error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const report = await api(route, { method: 'POST', body: { query, hit, decision: decision.value, note: note.value, marking: picker.marking() } });
      store.putReports([report]);
      announce(t(sharedText));
      form.replaceWith(h('p', {}, t(sharedText)));
    } catch (err) {
      error.textContent = t('write.failed', { reason: err.message });
    }
  });
  return form;
}

function hitItem(query, hit) {
  const slot = h('div');
  return h('li', { class: 'hit' },
    h('h3', {}, hit.caption, ' ', h('span', { class: 'score' }, t('screen.score_value', { score: num(hit.score, 3) }))),
    h('p', {}, t('screen.hit_line', { matched: hit.matched_name, source: hit.source, schema: hit.schema, method: hit.method })),
    explanation(hit.explanation ?? []),
    writer() ? h('button', { type: 'button', onclick: (e) => { e.target.hidden = true; slot.replaceChildren(shareForm(query, hit)); } }, t('screen.share')) : null,
    slot);
}

function idHitItem(query, hit) {
  const slot = h('div');
  const value = hit.currency ? `${hit.value} (${hit.currency})` : hit.value;
  return h('li', { class: 'hit' },
    h('h3', {}, hit.caption),
    h('p', {}, t('screen.id_hit_line', { scheme: t(`screen.id_type_${hit.scheme}`), value, source: hit.source, record: hit.record_id, programmes: (hit.programmes ?? []).join(', ') || '—' })),
    hit.listed_invalid ? h('p', { class: 'muted' }, t('screen.id_listed_invalid', { reason: hit.listed_invalid })) : null,
    writer() ? h('button', { type: 'button', onclick: (e) => { e.target.hidden = true; slot.replaceChildren(shareForm(query, hit, '/api/v1/sanctions/id-hits', 'screen.id_shared')); } }, t('screen.share')) : null,
    slot);
}

function idSearch() {
  const value = h('input', { id: 'screen-id-value', type: 'search', required: true, autocomplete: 'off', spellcheck: 'false' });
  const type = h('select', { id: 'screen-id-type' }, new Option(t('screen.id_type_any'), ''), ...ID_TYPES.map((s) => new Option(t(`screen.id_type_${s}`), s)));
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'screen-form', role: 'search', 'aria-label': t('screen.id_form') },
    h('div', { class: 'field' }, h('label', { for: 'screen-id-value' }, t('screen.id_value')), value),
    h('div', { class: 'field' }, h('label', { for: 'screen-id-type' }, t('screen.id_type')), type),
    h('button', { type: 'submit', class: 'primary' }, t('screen.id_submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    results.replaceChildren(h('p', {}, t('screen.running')));
    try {
      const body = { value: value.value };
      if (type.value) body.type = type.value;
      const answer = await api('/api/v1/sanctions/screen-id', { method: 'POST', body });
      results.replaceChildren(
        ...(answer.query_invalid ?? []).map(([scheme, reason]) => h('p', { class: 'muted' }, t('screen.id_invalid', { scheme: t(`screen.id_type_${scheme}`), reason }))),
        h('p', {}, t('screen.id_count', { count: answer.hits.length })),
        h('ul', { class: 'hits' }, answer.hits.map((hit) => idHitItem(answer.query, hit))));
    } catch (err) {
      results.replaceChildren(h('p', { class: 'error' }, err.message));
    }
  });
  return [h('h3', { id: 'screening-id-title' }, t('screen.id_title')), h('p', {}, t('screen.id_help')), form, results];
}

/** The loaded lists and their versions as people read them
 * ("un_consolidated 2026-02-27T00:00:09.554Z"), not the status JSON; or, when
 * none are, the node's own reason. */
function listsLine(status) {
  if (!status.loaded) return `— (${status.note ?? '503'})`;
  return (status.lists ?? []).map((l) => `${l.list} ${l.version}`).join(', ');
}

function render() {
  const section = document.getElementById('view-screening');
  const name = h('input', { id: 'screen-name', type: 'search', required: true, autocomplete: 'off' });
  const schema = h('select', { id: 'screen-schema' }, new Option(t('screen.any'), ''), ...['person', 'organization', 'vessel', 'aircraft'].map((s) => new Option(t(`screen.schema_${s}`), s)));
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'screen-form', role: 'search', 'aria-label': t('screen.name_form') },
    h('div', { class: 'field' }, h('label', { for: 'screen-name' }, t('screen.name')), name),
    h('div', { class: 'field' }, h('label', { for: 'screen-schema' }, t('screen.schema')), schema),
    h('button', { type: 'submit', class: 'primary' }, t('screen.submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    results.replaceChildren(h('p', {}, t('screen.running')));
    try {
      const body = { name: name.value };
      if (schema.value) body.schema = schema.value;
      const answer = await api('/api/v1/sanctions/screen', { method: 'POST', body });
      results.replaceChildren(
        h('p', {}, t('screen.count', { count: answer.hits.length })),
        h('ul', { class: 'hits' }, answer.hits.map((hit) => hitItem(answer.query, hit))));
    } catch (err) {
      results.replaceChildren(h('p', { class: 'error' }, err.message));
    }
  });
  const listStatus = h('p', { class: 'muted' });
  api('/api/v1/sanctions/status').then((s) => {
    listStatus.textContent = t('screen.lists', { lists: listsLine(s) });
  }).catch((e) => { listStatus.textContent = e.message; });
  section.replaceChildren(h('h2', { id: 'screening-title' }, t('screen.title')), h('p', {}, t('screen.help')), listStatus, form, results, ...idSearch());
  rendered = true;
}

export function init() {
  store.watch(['lang'], () => rendered && render());
}

export function show() {
  if (!rendered) render();
}

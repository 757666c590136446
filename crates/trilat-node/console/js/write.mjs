// Write: a note or a maritime incident report (the kinds a person writes;
// the engines publish the others), with the marking picker and its release
// preview; also a new version of an existing report. Readers never see it
// (the node would refuse them anyway).

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, announce } from './dom.mjs';
import { t } from './i18n.mjs';
import { markingPicker } from './marking-picker.mjs';
import { kindName } from './summary.mjs';

const CATEGORIES = ['collision', 'illegal-fishing', 'ship-to-ship-transfer', 'harassment', 'water-cannon', 'piracy', 'armed-robbery', 'search-and-rescue', 'smuggling', 'pollution', 'other'];
let editing = null; // the report a new version is written for

function field(id, labelKey, control) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), control);
}

function noteFields(payload) {
  return [field('w-text', 'write.text', h('textarea', { rows: 6, required: true }, payload?.text ?? ''))];
}

function incidentFields(p = {}) {
  const v = p.vessels?.[0] ?? {};
  const category = h('select', {}, CATEGORIES.map((c) => new Option(t(`incident.cat_${c}`), c)));
  if (p.category) category.value = p.category;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return [
    field('w-category', 'incident.category', category),
    field('w-time', 'incident.time_utc', h('input', { type: 'text', required: true, value: p.time ?? now, pattern: '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(:\\d\\d)?Z' })),
    field('w-lat', 'incident.lat', h('input', { type: 'number', step: 'any', min: -90, max: 90, required: true, value: p.lat ?? '' })),
    field('w-lon', 'incident.lon', h('input', { type: 'number', step: 'any', min: -180, max: 180, required: true, value: p.lon ?? '' })),
    field('w-vname', 'vessel.name', h('input', { type: 'text', value: v.name ?? '' })),
    field('w-mmsi', 'vessel.mmsi', h('input', { type: 'text', inputmode: 'numeric', pattern: '\\d{9}', value: v.mmsi ?? '' })),
    field('w-flag', 'vessel.flag', h('input', { type: 'text', pattern: '[A-Za-z]{3}', value: v.flag ?? '' })),
    field('w-role', 'vessel.role', h('input', { type: 'text', value: v.role ?? '' })),
    field('w-narrative', 'incident.narrative', h('textarea', { rows: 6, required: true }, p.narrative ?? '')),
  ];
}

function payloadOf(kind, form) {
  const val = (id) => form.querySelector(`#${id}`).value.trim();
  if (kind === 'note') return { payload: { text: val('w-text') } };
  const vessel = {};
  if (val('w-vname')) vessel.name = val('w-vname');
  if (val('w-mmsi')) vessel.mmsi = Number(val('w-mmsi'));
  if (val('w-flag')) vessel.flag = val('w-flag').toUpperCase();
  if (val('w-role')) vessel.role = val('w-role');
  const lat = Number(val('w-lat'));
  const lon = Number(val('w-lon'));
  return {
    payload: { category: val('w-category'), time: val('w-time'), lat, lon, vessels: [vessel], narrative: val('w-narrative'), attachments: [] },
    geometry: { type: 'Point', coordinates: [lon, lat] },
  };
}

function render() {
  const section = document.getElementById('view-write');
  const s = store.get();
  const kinds = editing ? [editing.kind] : ['note', 'maritime.incident'];
  const kind = h('select', { id: 'w-kind', disabled: !!editing }, kinds.map((k) => new Option(kindName(k), k)));
  const fieldsBox = h('div', { class: 'fields' });
  const fill = () => fieldsBox.replaceChildren(...(kind.value === 'note' ? noteFields(editing?.payload) : incidentFields(editing?.payload)));
  kind.addEventListener('change', fill);
  fill();
  const picker = markingPicker(editing?.marking);
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'write-form' },
    h('div', { class: 'field' }, h('label', { for: 'w-kind' }, t('write.kind')), kind),
    fieldsBox,
    picker.el,
    h('p', { class: s.mode === 'exercise' ? 'exercise-note' : 'muted' }, t(s.mode === 'exercise' ? 'write.is_exercise' : 'write.is_real')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t(editing ? 'write.submit_version' : 'write.submit')),
      editing ? h('button', { type: 'button', onclick: () => { editing = null; render(); } }, t('write.cancel')) : null),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (kind.value !== 'note' && !editing && !form.reportValidity()) return;
    const body = { kind: kind.value, marking: picker.marking(), exercise: store.get().mode === 'exercise', ...payloadOf(kind.value, form) };
    try {
      const answer = editing
        ? await api(`/api/v1/reports/${editing.owner}/${editing.id}`, { method: 'PUT', body })
        : await api('/api/v1/reports', { method: 'POST', body });
      store.putReports([answer.report]);
      announce(t('write.done', { kind: kindName(answer.report.kind), version: answer.report.version }));
      editing = null;
      render();
      store.set({ selected: store.reportKey(answer.report) });
    } catch (e) {
      error.textContent = t('write.failed', { reason: e.message });
    }
  });
  section.replaceChildren(...[
    h('h2', { id: 'write-title' }, t(editing ? 'write.title_version' : 'write.title')),
    editing ? h('p', {}, t('write.versioning', { id: editing.id, version: editing.version })) : null,
    form].filter(Boolean));
}

/** Opens the write view on a new version of `report` (from the detail panel). */
export function editVersion(report) {
  editing = report;
  document.querySelector('nav [data-view="write"]').click();
}

export function init() {
  store.watch(['lang', 'mode'], () => store.get().view === 'write' && render());
}

export function show() {
  render();
}

// Exercises view, admins only: the scenarios this node can start a play of
// (GET /api/v1/exercise/scenarios; only `trilat demo` nodes have any, as a
// play needs every party's node and token) with a Start button each (POST
// …/scenarios/{name}/start). A started play registers itself as a run, so it
// then shows in the runs list with its progress, like any other.

import { api } from './api.mjs';
import { h } from './dom.mjs';
import { t } from './i18n.mjs';

let shown = '';
let note = null; // the last start's outcome: { ok, text }

/** Forget what was drawn (the view was left, or the language changed). */
export function reset() {
  shown = '';
  note = null;
}

async function start(scenario, onStarted) {
  try {
    const answer = await api(`/api/v1/exercise/scenarios/${encodeURIComponent(scenario.name)}/start`, { method: 'POST', body: {} });
    note = { ok: true, text: t('exercise.started', { scenario: answer.scenario, run: answer.run_id }) };
  } catch (e) {
    note = { ok: false, text: e.message };
  }
  shown = '';
  await onStarted();
}

function row(scenario, onStarted) {
  const action = scenario.playing_run_id
    ? h('span', { class: 'muted' }, t('exercise.playing', { run: scenario.playing_run_id }))
    : h('button', { type: 'button', onclick: () => start(scenario, onStarted) }, t('exercise.start'));
  return h('tr', {},
    h('th', { scope: 'row' }, scenario.name),
    h('td', {}, scenario.description),
    h('td', {}, t('exercise.scenario_meta', {
      injects: scenario.n_injects,
      minutes: (scenario.duration_s / 60).toFixed(1),
      speed: scenario.speed,
      wall: (scenario.duration_s / scenario.speed / 60).toFixed(1),
    })),
    h('td', {}, action));
}

function render(root, starter, scenarios, onStarted) {
  const parts = [h('h3', { 'data-i18n': 'exercise.scenarios' }, t('exercise.scenarios'))];
  if (!starter || !scenarios.length) {
    parts.push(h('p', { class: 'muted' }, t('exercise.no_scenarios')));
  } else {
    parts.push(h('table', { class: 'grid' },
      h('caption', {}, t('exercise.scenarios_caption')),
      h('thead', {}, h('tr', {}, ['exercise.scenario', 'exercise.description', 'exercise.length', 'exercise.action']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, scenarios.map((s) => row(s, onStarted)))));
  }
  if (note) parts.push(h('p', { class: note.ok ? 'ok' : 'error', role: note.ok ? 'status' : 'alert' }, note.text));
  root.replaceChildren(...parts);
}

/** Draws the startable scenarios into `root` for an admin; nothing for anyone else. */
export async function refreshScenarios(root, admin, lang, onStarted) {
  if (!admin) {
    root.replaceChildren();
    shown = '';
    return;
  }
  const { starter, scenarios } = await api('/api/v1/exercise/scenarios');
  const json = JSON.stringify([starter, scenarios, note, lang]);
  if (json === shown) return;
  shown = json;
  render(root, starter, scenarios, onStarted);
}

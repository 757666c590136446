// The filters shared by the map and the timeline: kind, owner, time window,
// marking level, revoked, and the replay time. One predicate, two views.

import * as store from './store.mjs';
import { t } from './i18n.mjs';
import { LEVELS } from './markings.mjs';

const WINDOWS = { '': 0, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };

const whens = new WeakMap(); // report object -> its time (reports are replaced, never changed)

/** When a report happened, for filtering and ordering (ms). */
export function when(report) {
  let at = whens.get(report);
  if (at === undefined) {
    at = Date.parse(report.observed_at) || Date.parse(report.modified) || 0;
    whens.set(report, at);
  }
  return at;
}

/** Whether `report` passes the filters and the replay time. */
export function visible(report, s = store.get()) {
  const f = s.filters;
  if (f.kind && report.kind !== f.kind) return false;
  if (f.owner && report.owner !== f.owner) return false;
  if (f.level && report.marking.level !== f.level) return false;
  if (report.revoked && !f.revoked) return false;
  const now = s.replayAt ?? Date.now();
  const at = when(report);
  if (s.replayAt !== null && at > now) return false;
  const span = WINDOWS[f.window] ?? 0;
  if (span && at < now - span) return false;
  return true;
}

let cached = { key: null, list: [] };

/**
 * The visible reports, newest first. The map, the timeline and the page
 * banner all ask after each change: one filter and sort serves them (the
 * key holds the second, as a time window's edge moves with the clock).
 */
export function visibleReports(s = store.get()) {
  // Replaying: the versions current at the replay time, once read from the node.
  const reports = s.replayAt !== null && s.replayReports ? s.replayReports : s.reports;
  const key = [store.reportsStamp(), reports, reports.size, s.filters, s.replayAt, Math.floor(Date.now() / 1000)];
  if (cached.key && key.every((k, i) => k === cached.key[i])) return cached.list;
  const list = [...reports.values()].filter((r) => visible(r, s)).sort((a, b) => when(b) - when(a));
  cached = { key, list };
  return list;
}

function options(select, values, allKey) {
  // Rebuilt only when the choices change (an open list must stay open).
  const key = JSON.stringify([allKey, t(allKey), values]);
  if (select.dataset.choices === key) return;
  select.dataset.choices = key;
  const current = select.value;
  select.replaceChildren(new Option(t(allKey), ''), ...values.map((v) => new Option(v, v)));
  select.value = values.includes(current) ? current : '';
}

function fillWindows(select) {
  const key = t('filter.window_all');
  if (select.dataset.choices === key) return;
  select.dataset.choices = key;
  const current = select.value;
  select.replaceChildren(...Object.keys(WINDOWS).map((w) => new Option(t(`filter.window_${w || 'all'}`), w)));
  select.value = current;
}

export function init() {
  const form = document.getElementById('filters');
  const refresh = (s) => {
    const reports = [...s.reports.values()];
    options(form.kind, [...new Set(reports.map((r) => r.kind))].sort(), 'filter.all_kinds');
    options(form.owner, [...new Set(reports.map((r) => r.owner))].sort(), 'filter.all_owners');
    const levels = [...new Set([...LEVELS, ...reports.map((r) => r.marking.level)])];
    options(form.level, levels, 'filter.all_levels');
    fillWindows(form.window);
  };
  store.watch(['reports', 'lang'], refresh);
  refresh(store.get());
  form.addEventListener('change', () => {
    store.set({
      filters: {
        kind: form.kind.value,
        owner: form.owner.value,
        window: form.window.value,
        level: form.level.value,
        revoked: form.revoked.checked,
      },
    });
  });
  form.addEventListener('submit', (e) => e.preventDefault());
}

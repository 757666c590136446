// The console's one state store: plain values, set by patch, watched by key.
// Views read with `get()` and re-render from `watch` callbacks; nothing else
// holds shared state.

const state = {
  token: null, // the API token (also in sessionStorage)
  whoami: null, // {party, role, name, node}
  lang: 'en',
  mode: 'real', // 'real' | 'exercise': never both on one screen
  reports: new Map(), // OWNER/id (reportKey) -> current Report (JSON as the API sends it)
  filters: { kind: '', owner: '', window: '', level: '', revoked: false },
  replayAt: null, // null = live; else ms since epoch (the time slider)
  replayReports: null, // while replaying: OWNER/id -> the version current at replayAt (replay.mjs)
  selected: null, // OWNER/id of the report in the detail panel
  acks: new Map(), // OWNER/id -> highest version acknowledged by this user
  view: 'picture',
};

const watchers = new Map(); // key -> Set of callbacks
let reportsVersion = 0; // bumped whenever `reports` is notified (caches key on it)
let reportsQueued = false;

export function get() {
  return state;
}

/** Sets the given keys and calls their watchers once each. */
export function set(patch) {
  for (const [key, value] of Object.entries(patch)) state[key] = value;
  notify(Object.keys(patch));
}

/** Calls the watchers of `keys` (after an in-place change of a Map). */
export function notify(keys) {
  if (keys.includes('reports')) reportsVersion++;
  const called = new Set();
  for (const key of keys) {
    for (const fn of watchers.get(key) ?? []) {
      if (!called.has(fn)) {
        called.add(fn);
        fn(state);
      }
    }
  }
}

/** A number that changes whenever the reports do. */
export function reportsStamp() {
  return reportsVersion;
}

/** Calls `fn(state)` whenever one of `keys` changes. */
export function watch(keys, fn) {
  for (const key of keys) {
    if (!watchers.has(key)) watchers.set(key, new Set());
    watchers.get(key).add(fn);
  }
}

/**
 * A report's key in the page: its owner and its id, `OWNER/id` (also its
 * path under /api/v1/reports/). Two owners may hold reports with the same
 * id (a party may publish under another's id first); they are two reports.
 */
export function reportKey(report) {
  console.assert(report.owner && report.id, 'a report has an owner and an id');
  return `${report.owner}/${report.id}`;
}

/** At most this many reports are kept in the page (oldest dropped first). */
export const REPORTS_MAX = 5000;

/**
 * Drops the copy of a report its owner withdrew (every version below
 * `version`); a newer version held stays.
 */
export function withdraw({ id, owner, version }) {
  const key = reportKey({ owner, id });
  const held = state.reports.get(key);
  if (!held || held.version >= version) return;
  console.assert(held.owner === owner && held.id === id);
  state.reports.delete(key);
  schedule();
  if (state.selected === key) set({ selected: null });
}

/**
 * Adds or replaces reports (a newer version replaces an older one). The
 * watchers run once in a microtask, so a burst of events read from one
 * stream chunk redraws once.
 */
export function putReports(list) {
  for (const report of list) {
    const key = reportKey(report);
    const old = state.reports.get(key);
    if (old && old.version > report.version) continue;
    state.reports.set(key, report);
  }
  if (state.reports.size > REPORTS_MAX) {
    const oldest = [...state.reports.values()]
      .sort((a, b) => a.modified.localeCompare(b.modified))
      .slice(0, state.reports.size - REPORTS_MAX);
    for (const report of oldest) state.reports.delete(reportKey(report));
  }
  schedule();
}

/** Notifies the reports' watchers once, in a microtask (a burst of changes redraws once). */
function schedule() {
  reportsVersion++;
  if (!reportsQueued) {
    reportsQueued = true;
    queueMicrotask(() => {
      reportsQueued = false;
      notify(['reports']);
    });
  }
}

// The console's one state store: plain values, set by patch, watched by key.
// Views read with `get()` and re-render from `watch` callbacks; nothing else
// holds shared state.

const state = {
  token: null, // the API token (also in sessionStorage)
  whoami: null, // {party, role, name, node}
  lang: 'en',
  mode: 'real', // 'real' | 'exercise': never both on one screen
  reports: new Map(), // id -> current Report (JSON as the API sends it)
  filters: { kind: '', owner: '', window: '', level: '', revoked: false },
  replayAt: null, // null = live; else ms since epoch (the time slider)
  replayReports: null, // while replaying: id -> the version current at replayAt (replay.mjs)
  selected: null, // id of the report in the detail panel
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

/** At most this many reports are kept in the page (oldest dropped first). */
export const REPORTS_MAX = 5000;

/**
 * Drops the copy of a report its owner withdrew (every version below
 * `version`); a newer version held stays.
 */
export function withdraw({ id, owner, version }) {
  const held = state.reports.get(id);
  if (!held || held.owner !== owner || held.version >= version) return;
  state.reports.delete(id);
  schedule();
  if (state.selected === id) set({ selected: null });
}

/**
 * Adds or replaces reports (a newer version replaces an older one). The
 * watchers run once in a microtask, so a burst of events read from one
 * stream chunk redraws once.
 */
export function putReports(list) {
  for (const report of list) {
    const old = state.reports.get(report.id);
    if (old && old.version > report.version) continue;
    state.reports.set(report.id, report);
  }
  if (state.reports.size > REPORTS_MAX) {
    const oldest = [...state.reports.values()]
      .sort((a, b) => a.modified.localeCompare(b.modified))
      .slice(0, state.reports.size - REPORTS_MAX);
    for (const report of oldest) state.reports.delete(report.id);
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

// The replay's data: the picture as it was at a past time, from the node's
// change feed (GET /api/v1/changes: every version this party may see, in
// store order), not from the reports the page happens to hold. At time T a
// report shows in the version that was current then (the newest with
// `modified` ≤ T), or, if it was written after T about something observed
// before T, in its first version; the filters then keep what was observed
// by T. The feed is read once on the first replay and then only from where
// it stopped.

import * as store from './store.mjs';
import { page as readPage, PAGE_MAX } from './api.mjs';
import { t } from './i18n.mjs';
import { announce } from './dom.mjs';

/** Versions kept at most (the oldest report's history is dropped first). */
export const VERSIONS_MAX = 20000;

let history = new Map(); // OWNER/id (reportKey) -> the report's versions, oldest first
let cursor = null; // where the change feed was left
let n_versions = 0;
let reading = null; // the read in progress
let mode = null; // the mode `history` holds

function reset() {
  history = new Map();
  cursor = null;
  n_versions = 0;
  reading = null;
}

function add(report) {
  const key = store.reportKey(report);
  const versions = history.get(key) ?? [];
  if (versions.some((v) => v.version === report.version)) return;
  versions.push(report);
  versions.sort((a, b) => a.version - b.version);
  history.set(key, versions);
  n_versions += 1;
  while (n_versions > VERSIONS_MAX) {
    const [oldest] = history.keys();
    n_versions -= history.get(oldest).length;
    history.delete(oldest);
  }
}

/** Reads the change feed from where it was left to its end. */
async function readFeed(exercise) {
  let more = true;
  let limit = PAGE_MAX;
  while (more) {
    let page;
    [page, limit] = await readPage('/api/v1/changes', { cursor }, limit);
    for (const change of page.changes) if (change.report.exercise === exercise) add(change.report);
    cursor = page.next;
    more = page.more && page.changes.length > 0;
  }
}

/** The reports as they were at `at` (ms since epoch): OWNER/id -> version current then. */
function pictureAt(at) {
  const picture = new Map();
  for (const [key, versions] of history) {
    let current = versions[0];
    for (const v of versions) if (Date.parse(v.modified) <= at) current = v;
    picture.set(key, current);
  }
  return picture;
}

async function refresh() {
  const s = store.get();
  if (s.replayAt === null) {
    if (s.replayReports) store.set({ replayReports: null });
    return;
  }
  if (mode !== s.mode) {
    reset();
    mode = s.mode;
  }
  const at = s.replayAt;
  try {
    reading ??= readFeed(s.mode === 'exercise').finally(() => { reading = null; });
    await reading;
  } catch (e) {
    announce(t('replay.failed', { reason: e.message }), 'error');
    return;
  }
  if (store.get().replayAt === at && store.get().mode === mode) store.set({ replayReports: pictureAt(at) });
}

let timer = null;
export function init() {
  // The slider sends many inputs while dragged: read once it rests.
  store.watch(['replayAt'], () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });
  store.watch(['mode'], () => reset());
}

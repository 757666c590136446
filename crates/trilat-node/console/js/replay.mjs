// The replay's data: the picture as this node knew it at a past time, from
// its change feed (GET /api/v1/changes: every version this party may see,
// in store order) and its withdrawal log (GET /api/v1/withdrawals: when
// each copy's owner withdrew it from this party), not from the reports the
// page happens to hold. At time T a report shows in the version that was
// current then (the newest with `modified` ≤ T), or, if it was written
// after T about something observed before T, in its first version; it does
// not show if a withdrawal of that version had reached the node by T. The
// filters then keep what was observed by T. Both logs are read once on the
// first replay and then only from where they stopped.

import * as store from './store.mjs';
import { page as readPage, PAGE_MAX } from './api.mjs';
import { t } from './i18n.mjs';
import { announce } from './dom.mjs';

/** Versions kept at most (the oldest report's history is dropped first). */
export const VERSIONS_MAX = 20000;
/** Withdrawals kept at most (the oldest dropped first). */
export const WITHDRAWALS_MAX = 20000;

let history = new Map(); // OWNER/id (reportKey) -> the report's versions, oldest first
let cursor = null; // where the change feed was left
let n_versions = 0;
let withdrawals = []; // {key, version, at}: at = ms the node received it (-Infinity: unknown)
let withdrawalsAfter = 0; // where the withdrawal log was left
let reading = null; // the read in progress
let mode = null; // the mode `history` holds

function reset() {
  history = new Map();
  cursor = null;
  n_versions = 0;
  withdrawals = [];
  withdrawalsAfter = 0;
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

/** Reads the withdrawal log from where it was left to its end. */
async function readWithdrawals() {
  let more = true;
  let limit = PAGE_MAX;
  while (more) {
    let page;
    [page, limit] = await readPage('/api/v1/withdrawals', { after: withdrawalsAfter }, limit);
    for (const w of page.withdrawals) {
      // A time the node did not keep (a store older than its log): withdrawn all along.
      const at = w.received_at === null ? -Infinity : Date.parse(w.received_at);
      withdrawals.push({ key: store.reportKey(w), version: w.version, at });
    }
    if (withdrawals.length > WITHDRAWALS_MAX) withdrawals.splice(0, withdrawals.length - WITHDRAWALS_MAX);
    console.assert(page.next >= withdrawalsAfter, 'the withdrawal log moves forward');
    // A full page may hold none this party may see: go on while the log moves.
    more = page.more && page.next > withdrawalsAfter;
    withdrawalsAfter = page.next;
  }
}

/** OWNER/id -> the highest version withdrawn from this party by `at`. */
function withdrawnBy(at) {
  const withdrawn = new Map();
  for (const w of withdrawals) {
    if (w.at <= at) withdrawn.set(w.key, Math.max(withdrawn.get(w.key) ?? 0, w.version));
  }
  return withdrawn;
}

/** The reports as the node knew them at `at` (ms since epoch): OWNER/id -> version current then. */
function pictureAt(at) {
  const picture = new Map();
  const withdrawn = withdrawnBy(at);
  for (const [key, versions] of history) {
    let current = versions[0];
    for (const v of versions) if (Date.parse(v.modified) <= at) current = v;
    // Withdrawn by then: the owner had taken this version back from us.
    if (current.version < (withdrawn.get(key) ?? 0)) continue;
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
    reading ??= Promise.all([readFeed(s.mode === 'exercise'), readWithdrawals()]).finally(() => { reading = null; });
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

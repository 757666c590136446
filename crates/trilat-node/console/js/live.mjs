// The live picture's data: the reports the party may see in the current
// mode, kept in the store. The live stream is opened first and the reports
// are read (GET /api/v1/reports) only once the node has subscribed this
// page: a report stored while the page loads then comes by one way or the
// other (or both: a report replaces only an older version of itself), never
// by neither. Switching mode drops everything and starts again, so real and
// exercise reports are never in the page together.

import * as store from './store.mjs';
import { page as readPage, query, openStream, ApiError, PAGE_MAX } from './api.mjs';
import { t, setText } from './i18n.mjs';
import { announce } from './dom.mjs';

let controller = null;

function streamState(key, values) {
  setText(document.getElementById('stream-state'), key, values);
}

/** Loads every visible report of the mode, up to the store's bound. */
async function loadAll(exercise, signal) {
  let cursor = null;
  let loaded = 0;
  let limit = PAGE_MAX; // one page for 1,000 reports: each page waits for the busy main thread
  do {
    let page;
    [page, limit] = await readPage('/api/v1/reports', { exercise, include_revoked: true, cursor }, limit, { signal });
    store.putReports(page.reports);
    loaded += page.reports.length;
    cursor = page.next;
  } while (cursor && loaded < store.REPORTS_MAX);
}

/** Applies one stream event; a `lagged` stream (events skipped) is restarted. */
function onEvent(name, data) {
  if (name === 'report') store.putReports([JSON.parse(data)]);
  if (name === 'withdrawn') store.withdraw(JSON.parse(data));
  if (name === 'lagged') throw new ApiError(0, 'lagged', data);
}

/** One connection: the stream opened, the reports loaded, the stream read until it ends. */
async function connect(exercise, signal) {
  const read = await openStream('/api/v1/stream' + query({ exercise: exercise ? 'true' : undefined }), signal);
  performance.mark('trilat:stream-open');
  // Events that arrive while the pages load are applied as they come.
  const reading = read(onEvent);
  reading.catch(() => {}); // awaited below, after the load
  await loadAll(exercise, signal);
  performance.mark('trilat:reports-loaded');
  streamState('stream.live');
  await reading;
}

async function run(exercise, signal) {
  let backoff = 1000;
  while (!signal.aborted) {
    // Each connection has its own end: a failed load closes its stream too.
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      streamState('stream.loading');
      await connect(exercise, attempt.signal);
      backoff = 1000;
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status === 401) {
        announce(t('signin.expired'), 'error');
        return;
      }
      streamState('stream.reconnecting', { reason: e.message });
    } finally {
      attempt.abort();
      signal.removeEventListener('abort', stop);
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 15000);
  }
}

function restart(mode) {
  controller?.abort();
  controller = new AbortController();
  store.get().reports.clear();
  store.set({ selected: null, replayAt: null });
  store.notify(['reports']);
  run(mode === 'exercise', controller.signal);
}

export function start() {
  store.watch(['mode'], (s) => restart(s.mode));
  restart(store.get().mode);
}

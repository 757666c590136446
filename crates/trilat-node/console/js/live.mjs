// The live picture's data: the reports the party may see in the current
// mode (first from GET /api/v1/reports, then from the SSE stream), kept in
// the store. Switching mode drops everything and starts again, so real and
// exercise reports are never in the page together.

import * as store from './store.mjs';
import { api, query, readStream, ApiError } from './api.mjs';
import { t, setText } from './i18n.mjs';
import { announce } from './dom.mjs';

const PAGE = 500;
let controller = null;

function streamState(key, values) {
  setText(document.getElementById('stream-state'), key, values);
}

/** Loads every visible report of the mode, up to the store's bound. */
async function loadAll(exercise, signal) {
  let cursor = null;
  let loaded = 0;
  do {
    const page = await api(
      '/api/v1/reports' + query({ exercise, include_revoked: true, limit: PAGE, cursor }),
      { signal },
    );
    store.putReports(page.reports);
    loaded += page.reports.length;
    cursor = page.next;
  } while (cursor && loaded < store.REPORTS_MAX);
}

async function run(exercise, signal) {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      streamState('stream.loading');
      await loadAll(exercise, signal);
      streamState('stream.live');
      backoff = 1000;
      await readStream(
        '/api/v1/stream' + query({ exercise: exercise ? 'true' : undefined }),
        (name, data) => {
          if (name === 'report') store.putReports([JSON.parse(data)]);
          // Missed events: the reload below catches up.
          if (name === 'lagged') throw new ApiError(0, 'lagged', data);
        },
        signal,
      );
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status === 401) {
        announce(t('signin.expired'), 'error');
        return;
      }
      streamState('stream.reconnecting', { reason: e.message });
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

// The one fetch wrapper: adds the token, turns the API's JSON errors
// (`{"error":{"code","message"}}`) into ApiError with a readable message,
// and reads the live stream (SSE over fetch: EventSource cannot send the
// Authorization header).

import { get } from './store.mjs';
import { has, t } from './i18n.mjs';

export class ApiError extends Error {
  /** `messageKey`: the console's own message for `message`, if it has one. */
  constructor(status, code, message, messageKey = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.messageKey = messageKey;
  }
  /**
   * The error as a message slot value that follows a language switch when
   * the console has its own message for it (`setText` keeps the key).
   */
  get reason() {
    return this.messageKey ? { key: this.messageKey } : this.message;
  }
  /** The route does not exist on this node (older node, engine off). */
  get notAvailable() {
    return this.status === 404 && this.code === 'no_route';
  }
}

function headers(body, csv) {
  const h = { Accept: 'application/json' };
  const token = get().token;
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (csv !== undefined) h['Content-Type'] = 'text/csv';
  return h;
}

async function errorOf(response) {
  let code = 'http_' + response.status;
  let message = t('error.http', { status: response.status });
  try {
    const body = await response.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    }
  } catch {
    // Not JSON (a proxy's page): keep the status message.
  }
  if (response.status === 404 && code === 'no_route') message = t('error.not_available');
  // A code whose message is always the same is shown in the console's
  // language; other messages name specifics (a field, a value) and stay.
  const key = has(`error.code.${code}`) ? `error.code.${code}` : null;
  if (key) message = t(key);
  return new ApiError(response.status, code, message, key);
}

/** Calls the API (a JSON `body`, or a `csv` text); resolves to the JSON answer or throws ApiError. */
export async function api(path, { method = 'GET', body, csv, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body, csv),
      body: body === undefined ? csv : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', t('error.network'), 'error.network');
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

/** The page size the console asks for: the node's default maximum. */
export const PAGE_MAX = 1000;
/** The page size every node serves (its default page). */
const PAGE_SAFE = 100;

/**
 * GETs one page of `path` with `params` and `limit` (`PAGE_MAX` at first);
 * a node configured with a smaller page maximum refuses it (400
 * `invalid_query`), then the smaller page is asked for. Resolves to
 * `[page, limit]`: the limit to use for the following pages.
 */
export async function page(path, params, limit = PAGE_MAX, options = {}) {
  try {
    return [await api(path + query({ ...params, limit }), options), limit];
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'invalid_query' || limit <= PAGE_SAFE) throw e;
    return [await api(path + query({ ...params, limit: PAGE_SAFE }), options), PAGE_SAFE];
  }
}

/** Builds a query string from the defined values of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Opens the server-sent-event stream at `path`. Resolves once the node has
 * answered: from then on it holds every event for this client (it
 * subscribes before it answers), so what is read after this resolves misses
 * nothing. Resolves to `read(onEvent)`, which calls `onEvent(name, data)`
 * for each event until `signal` aborts or the server closes (resolves) or
 * fails (throws ApiError); either way the connection is let go.
 */
export async function openStream(path, signal) {
  const response = await fetch(path, { headers: headers(), signal, cache: 'no-store' });
  if (!response.ok) throw await errorOf(response);
  return (onEvent) => readEvents(response, onEvent);
}

async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let name = 'message';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length) onEvent(name, data.join('\n'));
          name = 'message';
          data = [];
        } else if (line.startsWith('event:')) {
          name = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
      // An event is small (one report); a line this long is not SSE.
      if (buffer.length > 4_000_000) throw new ApiError(0, 'stream', t('error.stream_line'));
    }
  } finally {
    // A stream left for a reconnect (lagged, bad event) would stay open and
    // hold one of the browser's few connections to the node.
    reader.cancel().catch(() => {});
  }
}

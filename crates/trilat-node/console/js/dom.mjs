// Small DOM helpers: build elements without HTML strings (report text is
// untrusted and always set as text), and time formatting.

import { t } from './i18n.mjs';

/** `h('div', {class: 'x', onclick: f}, child, 'text')` */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** `2026-12-07 04:30:12Z`: the UTC time the console shows everywhere. */
export function utc(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/**
 * The browser's local date and time, as `Date.toLocaleString()` writes it.
 * One formatter for the page: `toLocaleString` builds a new one per call,
 * which took 184 ms of a 1,000-report load's script time (profile, BENCHMARKS.md).
 */
let localFormat = null;
function localTime(d) {
  localFormat ??= new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  return localFormat.format(d);
}

/** A <time> showing UTC, with the local time on hover. */
export function timeEl(iso) {
  const d = new Date(iso);
  const local = Number.isNaN(d.getTime()) ? '' : t('time.local', { time: localTime(d) });
  return h('time', { datetime: iso, title: local }, utc(iso));
}

/** `mm:ss` or `h:mm:ss` for a duration in seconds (negative → 0). */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Shows `message` in the page's live status region (read by screen readers). */
export function announce(message, kind = 'info') {
  const region = document.getElementById('status');
  region.textContent = message;
  region.dataset.kind = kind;
}

/** Number formatting with a fixed number of decimals. */
export function num(value, digits = 1) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

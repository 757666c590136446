// Timeline and alerts: every report the party may see in this mode, newest
// first, filtered like the map; the replay slider; keyboard navigation
// (arrows move, Enter opens the detail panel, Escape closes it).

import * as store from './store.mjs';
import { h, timeEl, utc } from './dom.mjs';
import { t } from './i18n.mjs';
import { visibleReports, when } from './filters.mjs';
import { markingBlock, levelClass } from './markings.mjs';
import { kindName, summary } from './summary.mjs';

/** Items drawn at most (the count line says how many match). */
const SHOWN_MAX = 300;
let pending = false;
/** Drawn items by report key (OWNER/id), reused while the report and language are the same. */
let drawn = new Map();

function item(report) {
  const button = h(
    'button',
    {
      type: 'button',
      class: `item ${levelClass(report.marking.level)}${report.revoked ? ' revoked' : ''}`,
      dataset: { key: store.reportKey(report) },
      onclick: () => store.set({ selected: store.reportKey(report) }),
    },
    h('span', { class: 'item-head' },
      h('strong', { class: 'kind' }, kindName(report.kind)),
      h('span', { class: 'owner' }, report.owner),
      timeEl(report.observed_at),
      report.revoked ? h('span', { class: 'revoked-tag' }, t('report.revoked')) : null,
      report.version > 1 ? h('span', { class: 'version' }, t('report.version', { version: report.version })) : null),
    h('span', { class: 'item-summary' }, summary(report)),
    markingBlock(report.marking, { exercise: report.exercise }),
  );
  return h('li', {}, button);
}

function render() {
  pending = false;
  const s = store.get();
  const list = document.getElementById('timeline-list');
  const reports = visibleReports(s);
  const focused = document.activeElement?.closest?.('#timeline-list .item')?.dataset.key;
  // Only new or changed reports are built; the rest keep their elements.
  const next = new Map();
  const items = reports.slice(0, SHOWN_MAX).map((report) => {
    const key = store.reportKey(report);
    const old = drawn.get(key);
    const li = old && old.report === report && old.lang === s.lang ? old.li : item(report);
    next.set(key, { report, lang: s.lang, li });
    return li;
  });
  drawn = next;
  place(list, items);
  if (focused) list.querySelector(`.item[data-key="${CSS.escape(focused)}"]`)?.focus();
  document.getElementById('timeline-count').textContent =
    reports.length > SHOWN_MAX
      ? t('timeline.count_capped', { shown: SHOWN_MAX, count: reports.length })
      : t('timeline.count', { count: reports.length });
  for (const [key, { li }] of next) {
    const current = key === s.selected ? 'true' : 'false';
    const button = li.firstChild;
    if (button.getAttribute('aria-current') !== current) button.setAttribute('aria-current', current);
  }
}

/**
 * Makes `list`'s children be `items`, in order, moving only what moved: a
 * new report at the top is one insertion and one removal at the end, not
 * 300 elements taken out and put back (each a style and layout change).
 */
function place(list, items) {
  items.forEach((li, i) => {
    const at = list.children[i];
    if (at !== li) list.insertBefore(li, at ?? null);
  });
  while (list.children.length > items.length) list.lastElementChild.remove();
  console.assert(list.children.length === items.length);
}

function schedule() {
  if (!pending) {
    pending = true;
    requestAnimationFrame(render);
  }
}

function keyboard(event) {
  const items = [...document.querySelectorAll('#timeline-list .item')];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return;
  const next = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[event.key];
  if (next !== undefined) {
    event.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, next))].focus();
  }
}

/** The replay slider spans the oldest loaded report to now; at the right end it is live. */
function initReplay() {
  const slider = document.getElementById('replay');
  const out = document.getElementById('replay-at');
  const span = () => {
    const times = [...store.get().reports.values()].map(when).filter((x) => x > 0);
    const start = times.length ? Math.min(...times) : Date.now() - 3600e3;
    return [start, Date.now()];
  };
  const show = (s) => {
    out.textContent = s.replayAt === null ? t('replay.is_live') : t('replay.at', { time: utc(new Date(s.replayAt).toISOString()) });
    if (s.replayAt === null) slider.value = slider.max;
    slider.setAttribute('aria-valuetext', out.textContent);
  };
  slider.addEventListener('input', () => {
    const [start, end] = span();
    const v = Number(slider.value);
    store.set({ replayAt: v >= Number(slider.max) ? null : start + ((end - start) * v) / Number(slider.max) });
  });
  document.getElementById('replay-live').addEventListener('click', () => store.set({ replayAt: null }));
  store.watch(['replayAt', 'replayReports', 'lang'], show);
  show(store.get());
}

export function init() {
  // Drawn in the store's notification itself (already once per burst of
  // stream events), not at the next animation frame: the new item is then
  // in the frame about to be painted, not the one after.
  store.watch(['reports', 'filters', 'replayAt', 'replayReports', 'lang', 'selected'], render);
  document.getElementById('timeline-list').addEventListener('keydown', keyboard);
  initReplay();
  // In a live window the cut-off moves: redraw once a minute.
  setInterval(schedule, 60e3);
  schedule();
}

// Markings as a reader sees them on every report, panel and popup: the
// classification banner in its conventional colour, the TLP 2.0 chip and
// the REL TO line. Display only: the release decision is the node's.

import { h } from './dom.mjs';
import { t } from './i18n.mjs';

const LEVEL_CLASS = {
  UNCLASSIFIED: 'lvl-u',
  CONFIDENTIAL: 'lvl-c',
  SECRET: 'lvl-s',
  'TOP SECRET': 'lvl-ts',
};

/** Known levels, lowest first (a node may define others: shown grey). */
export const LEVELS = Object.keys(LEVEL_CLASS);
export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

export function levelClass(level) {
  return LEVEL_CLASS[level] ?? 'lvl-other';
}

/** Rank of a level for "highest on screen" (unknown levels rank highest). */
export function levelRank(level) {
  const i = LEVELS.indexOf(level);
  return i < 0 ? LEVELS.length : i;
}

export function tlpChip(tlp) {
  const cls = 'tlp tlp-' + String(tlp).toLowerCase().replace('+', '-');
  return h('span', { class: cls, title: t('marking.tlp_title') }, `TLP:${tlp}`);
}

/** The banner (level + REL TO) and TLP chip of one marking. */
export function markingBlock(marking, { exercise = false } = {}) {
  return h(
    'div',
    { class: `marking ${levelClass(marking.level)}` },
    exercise ? h('span', { class: 'exercise-tag' }, t('mode.exercise_tag')) : null,
    h('span', { class: 'level' }, marking.level),
    h('span', { class: 'relto' }, t('marking.rel_to', { parties: marking.rel_to.join(', ') })),
    tlpChip(marking.tlp),
  );
}

/**
 * The page's classification banner: the highest level among the reports on
 * screen (UNCLASSIFIED when none), as a classified system's screen shows.
 */
export function pageBanner(reports) {
  let top = 'UNCLASSIFIED';
  for (const r of reports) if (levelRank(r.marking.level) > levelRank(top)) top = r.marking.level;
  const el = document.getElementById('page-banner');
  el.className = `page-banner ${levelClass(top)}`;
  el.textContent = t('marking.page_banner', { level: top });
}

// The marking picker: level, TLP, REL TO, further sharing, and a live
// preview of the release rule from the node (POST /api/v1/release/preview):
// per partner, released or not and the server's reason. The page decides
// nothing; it shows the node's answer.

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h } from './dom.mjs';
import { t } from './i18n.mjs';
import { LEVELS, TLPS, markingBlock } from './markings.mjs';

let uid = 0;

/** Builds a picker; `el` is its element, `marking()` its current value. */
export function markingPicker(initial) {
  const n = ++uid;
  const s = store.get();
  const own = s.whoami.node;
  const level = h('select', { id: `mp-level-${n}` }, LEVELS.map((l) => new Option(l, l)));
  const tlp = h('select', { id: `mp-tlp-${n}` }, TLPS.map((x) => new Option(`TLP:${x}`, x)));
  const sharing = h('select', { id: `mp-share-${n}` },
    new Option(t('marking.sharing_none'), 'none'), new Option(t('marking.sharing_within'), 'within-rel-to'));
  const partyBox = h('div', { class: 'parties' });
  const groups = h('input', { id: `mp-groups-${n}`, type: 'text', placeholder: 'TRILAT' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const parties = new Set([own]);

  function partyCheckbox(party, checked) {
    if (partyBox.querySelector(`input[value="${CSS.escape(party)}"]`)) return;
    partyBox.append(h('label', { class: 'check' }, h('input', { type: 'checkbox', value: party, checked, disabled: party === own }), ' ', party));
  }

  function marking() {
    const relTo = [...partyBox.querySelectorAll('input:checked')].map((i) => i.value);
    for (const g of groups.value.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean)) relTo.push(g);
    return { level: level.value, tlp: tlp.value, rel_to: relTo, further_sharing: sharing.value };
  }

  let seq = 0;
  /** The refusal in the page's language from its stable code; the server's English if the code is new. */
  function reasonText(r) {
    const key = `release.reason_${r.reason_code}`;
    return r.reason_code && t(key, r.reason_values ?? {}) !== key ? t(key, r.reason_values ?? {}) : (r.reason ?? '');
  }

  async function refresh() {
    const mine = ++seq;
    const m = marking();
    try {
      const answer = await api('/api/v1/release/preview', { method: 'POST', body: { marking: m, exercise: store.get().mode === 'exercise' } });
      if (mine !== seq) return;
      for (const r of answer.recipients) if (!parties.has(r.party)) { parties.add(r.party); partyCheckbox(r.party, false); }
      preview.replaceChildren(
        h('h3', {}, t('preview.title')),
        markingBlock(m),
        h('p', {}, t('preview.banner', { banner: answer.banner })),
        h('ul', { class: 'recipients' }, answer.recipients.map((r) => h('li', { class: r.released ? 'released' : 'withheld' },
          r.released ? t('preview.released', { party: r.party }) : t('preview.withheld', { party: r.party, reason: reasonText(r) })))));
    } catch (e) {
      if (mine !== seq) return;
      preview.replaceChildren(h('h3', {}, t('preview.title')), h('p', { class: 'error' }, t('preview.failed', { reason: e.message })));
    }
  }

  if (initial) {
    level.value = initial.level;
    tlp.value = initial.tlp;
    sharing.value = initial.further_sharing ?? 'none';
  } else tlp.value = 'AMBER';
  partyCheckbox(own, true);
  for (const p of initial?.rel_to ?? []) {
    if (/^[A-Z]{3}$/.test(p)) { parties.add(p); partyCheckbox(p, true); } else groups.value = groups.value ? `${groups.value}, ${p}` : p;
  }
  // Partners named on reports already seen: offered even when the node has
  // no preview route (the preview adds every party the node knows).
  for (const r of s.reports.values()) {
    for (const p of [r.owner, ...r.marking.rel_to]) {
      if (/^[A-Z]{3}$/.test(p) && !parties.has(p)) { parties.add(p); partyCheckbox(p, false); }
    }
  }
  const el = h('fieldset', { class: 'marking-picker' },
    h('legend', {}, t('marking.legend')),
    h('label', { for: level.id }, t('marking.level')), level,
    h('label', { for: tlp.id }, t('marking.tlp')), tlp,
    h('fieldset', { class: 'rel' }, h('legend', {}, t('marking.rel_to_legend')), partyBox,
      h('label', { for: groups.id }, t('marking.groups')), groups),
    h('label', { for: sharing.id }, t('marking.sharing')), sharing,
    preview);
  el.addEventListener('change', refresh);
  groups.addEventListener('input', refresh);
  refresh();
  return { el, marking, refresh };
}

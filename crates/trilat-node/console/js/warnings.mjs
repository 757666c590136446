// Missile warnings as a banner that stays until this user acknowledges it
// (POST /api/v1/reports/{owner}/{id}/acknowledge: recorded and audited by the node).
// A newer version of a warning needs a new acknowledgement.

import * as store from './store.mjs';
import { api, query } from './api.mjs';
import { h, timeEl, announce } from './dom.mjs';
import { t } from './i18n.mjs';
import { markingBlock } from './markings.mjs';

function me() {
  const w = store.get().whoami;
  return `${w.party}:${w.name}`;
}

export function isAcknowledged(report) {
  return (store.get().acks.get(store.reportKey(report)) ?? 0) >= report.version;
}

export async function acknowledge(report) {
  try {
    const answer = await api(`/api/v1/reports/${report.owner}/${report.id}/acknowledge`, { method: 'POST', body: {} });
    store.get().acks.set(store.reportKey(report), answer.version ?? report.version);
    store.notify(['acks']);
    announce(t('warning.acknowledged', { by: answer.by ?? me() }));
  } catch (e) {
    announce(t('warning.ack_failed', { reason: e.message }), 'error');
  }
}

async function loadAcks() {
  try {
    const answer = await api('/api/v1/acknowledgements' + query({ limit: 1000 }));
    const acks = store.get().acks;
    for (const a of answer.acknowledgements ?? []) {
      const key = store.reportKey({ owner: a.report_owner, id: a.report_id }); // a report is its owner and its id
      if (a.by === me()) acks.set(key, Math.max(acks.get(key) ?? 0, a.version));
    }
    store.notify(['acks']);
  } catch {
    // Older node without the route: every warning waits for acknowledgement.
  }
}

function render(s) {
  const pending = [...s.reports.values()]
    .filter((r) => r.kind === 'missile.warning' && !r.revoked && !isAcknowledged(r))
    .sort((a, b) => b.modified.localeCompare(a.modified));
  const region = document.getElementById('warnings');
  // Redrawn only when the set changes: each redraw is announced as an alert.
  const key = s.lang + pending.map((r) => `${store.reportKey(r)}@${r.version}`).join();
  if (region.dataset.key === key) return;
  region.dataset.key = key;
  region.hidden = pending.length === 0;
  document.getElementById('warnings-list').replaceChildren(...pending.map((r) => {
    const p = r.payload;
    return h('div', { class: `warning level-${String(p.level).toLowerCase()}`, role: 'alert' },
      markingBlock(r.marking, { exercise: r.exercise }),
      h('p', { class: 'warning-text' },
        h('strong', {}, t('warning.banner', { level: p.level, status: p.status })), ' ',
        p.reason, ' ', timeEl(p.issued_at)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => store.set({ selected: store.reportKey(r) }) }, t('warning.details')),
        h('button', { type: 'button', class: 'primary', onclick: () => acknowledge(r) }, t('warning.acknowledge'))));
  }));
}

export function init() {
  store.watch(['reports', 'acks', 'lang'], render);
  loadAcks();
}

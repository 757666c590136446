// The node's audit log for admins (GET /api/v1/audit, newest page) and the
// hash chain's verification (GET /api/v1/audit/verify).

import * as store from './store.mjs';
import { api, query } from './api.mjs';
import { h, timeEl } from './dom.mjs';
import { t } from './i18n.mjs';

const PAGE = 200;

async function render() {
  const section = document.getElementById('view-audit');
  const head = h('h2', { id: 'audit-title' }, t('audit.title'));
  const refresh = h('button', { type: 'button', onclick: render }, t('audit.refresh'));
  try {
    const verify = await api('/api/v1/audit/verify');
    const after = Math.max(0, verify.entries - PAGE);
    const page = await api('/api/v1/audit' + query({ after, limit: PAGE }));
    const intact = verify.first_broken === null || verify.first_broken === undefined;
    section.replaceChildren(head, refresh,
      h('p', { class: intact ? 'ok' : 'error', role: 'status' },
        intact ? t('audit.chain_ok', { entries: verify.entries }) : t('audit.chain_broken', { entries: verify.entries, seq: verify.first_broken })),
      h('table', { class: 'grid' },
        h('caption', {}, t('audit.latest', { count: page.entries.length })),
        h('thead', {}, h('tr', {}, ['audit.seq', 'audit.at', 'audit.actor', 'audit.action', 'audit.report', 'audit.counterparty', 'audit.detail'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, [...page.entries].reverse().map((e) => h('tr', {},
          h('td', {}, String(e.seq)), h('td', {}, timeEl(e.event.at)), h('td', {}, e.event.actor), h('td', {}, e.event.action),
          h('td', {}, e.event.report_id ? h('code', {}, `${e.event.report_owner}/${e.event.report_id}`) : '—'), h('td', {}, e.event.counterparty ?? '—'), h('td', {}, e.event.detail))))));
  } catch (e) {
    section.replaceChildren(head, refresh, h('p', { class: 'error' }, e.message));
  }
}

export function init() {
  store.watch(['lang'], (s) => s.view === 'audit' && render());
}

export function show() {
  render();
}

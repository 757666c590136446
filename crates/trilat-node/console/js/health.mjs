// Federation health (GET /api/v1/federation/peers): each peer's link state,
// last contact, push queue and pull lag, refreshed while the view is open.

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, timeEl } from './dom.mjs';
import { t } from './i18n.mjs';

let timer = null;

const when = (ts) => (ts ? timeEl(ts) : t('common.never'));

async function render() {
  const section = document.getElementById('view-health');
  const head = h('h2', { id: 'health-title' }, t('health.title'));
  try {
    const answer = await api('/api/v1/federation/peers');
    section.replaceChildren(head,
      h('p', {}, t('health.own', { party: answer.party })),
      h('table', { class: 'grid' },
        h('caption', {}, t('health.peers')),
        h('thead', {}, h('tr', {}, ['health.party', 'health.url', 'health.state', 'health.last_contact', 'health.queued', 'health.push_ok', 'health.push_error', 'health.pull_ok', 'health.behind', 'health.pull_error'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, answer.peers.map((p) => h('tr', {},
          h('th', { scope: 'row' }, p.party), h('td', {}, p.url),
          h('td', {}, h('span', { class: `state state-${p.state}` }, t(`health.state_${p.state}`))),
          h('td', {}, when(p.last_contact)), h('td', {}, String(p.push?.queued ?? '—')), h('td', {}, when(p.push?.last_ok)),
          h('td', {}, p.push?.last_error ?? '—'), h('td', {}, when(p.pull?.last_ok)), h('td', {}, p.pull?.behind ?? '—'),
          h('td', {}, p.pull?.last_error ?? '—'))))));
  } catch (e) {
    section.replaceChildren(head, h('p', { class: 'error' }, e.message));
  }
}

export function init() {
  store.watch(['view', 'lang'], (s) => {
    clearInterval(timer);
    if (s.view === 'health') {
      render();
      timer = setInterval(render, 5000);
    }
  });
}

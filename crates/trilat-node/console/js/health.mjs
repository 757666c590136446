// Federation health (GET /api/v1/federation/peers): each peer's link state,
// last contact, push queue and pull lag, refreshed while the view is open.
// For an administrator also a button to cut or restore each link (POST
// …/peers/{party}/suspend, …/resume; audited by the node) and the node's
// single-owner work and the process driving each piece
// (GET /api/v1/federation/leases).

import * as store from './store.mjs';
import { api } from './api.mjs';
import { h, timeEl, announce } from './dom.mjs';
import { t } from './i18n.mjs';

let timer = null;

const when = (ts) => (ts ? timeEl(ts) : t('common.never'));

async function render() {
  const section = document.getElementById('view-health');
  const head = h('h2', { id: 'health-title' }, t('health.title'));
  try {
    const answer = await api('/api/v1/federation/peers');
    const admin = store.get().whoami?.role === 'admin';
    const columns = ['health.party', 'health.url', 'health.state', 'health.last_contact', 'health.queued', 'health.push_ok', 'health.push_error', 'health.pull_ok', 'health.behind', 'health.pull_error'];
    if (admin) columns.push('health.action');
    section.replaceChildren(head,
      h('p', {}, t('health.own', { party: answer.party })),
      h('table', { class: 'grid' },
        h('caption', {}, t('health.peers')),
        h('thead', {}, h('tr', {}, columns.map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, answer.peers.map((p) => h('tr', {},
          h('th', { scope: 'row' }, p.party), h('td', {}, p.url),
          h('td', {}, h('span', { class: `state state-${p.state}` }, t(`health.state_${p.state}`))),
          h('td', {}, when(p.last_contact)), h('td', {}, String(p.push?.queued ?? '—')), h('td', {}, when(p.push?.last_ok)),
          h('td', {}, p.push?.last_error ?? '—'), h('td', {}, when(p.pull?.last_ok)), h('td', {}, p.pull?.behind ?? '—'),
          h('td', {}, p.pull?.last_error ?? '—'),
          admin ? h('td', {}, linkButton(p)) : null)))));
    if (admin) section.append(await leasesTable());
  } catch (e) {
    section.replaceChildren(head, h('p', { class: 'error' }, e.message));
  }
}

/** An administrator's button to cut the link to `peer`, or restore it. */
function linkButton(peer) {
  const suspended = peer.state === 'suspended';
  const label = t(suspended ? 'health.resume' : 'health.suspend', { party: peer.party });
  return h('button', { type: 'button', class: suspended ? '' : 'danger', onclick: () => setLink(peer.party, !suspended) }, label);
}

async function setLink(party, suspend) {
  if (suspend && !confirm(t('health.suspend_confirm', { party }))) return;
  try {
    await api(`/api/v1/federation/peers/${party}/${suspend ? 'suspend' : 'resume'}`, { method: 'POST', body: {} });
    announce(t(suspend ? 'health.suspended_done' : 'health.resumed_done', { party }));
  } catch (e) {
    announce(e.message, 'error');
  }
  render();
}

/** What a lease's name says is driven under it, in the console's words. */
function work(name) {
  const [kind, what] = name.split(/:(.*)/s);
  if (kind === 'link') return t('health.work_link', { party: what });
  if (kind === 'ais' && what === 'cross-vessel') return t('health.work_ais_cross');
  if (kind === 'ais') return t('health.work_ais', { k: what });
  if (kind === 'missile') return t('health.work_missile', { group: what });
  return name;
}

async function leasesTable() {
  const answer = await api('/api/v1/federation/leases');
  const rows = answer.leases.map((l) => h('tr', {},
    h('th', { scope: 'row' }, work(l.name)),
    h('td', {}, l.held ? l.holder : '—'),
    h('td', {}, t(!l.held ? 'health.lease_free' : l.this_process ? 'health.lease_this' : 'health.lease_other')),
    h('td', {}, String(l.token)),
    h('td', {}, l.held ? t('health.lease_left_s', { seconds: (l.remaining_ms / 1000).toFixed(1) }) : '—')));
  return h('div', { id: 'health-leases' },
    h('p', {}, t('health.this_process', { holder: answer.this_process })),
    rows.length === 0
      ? h('p', {}, t('health.lease_none'))
      : h('table', { class: 'grid' },
        h('caption', {}, t('health.leases')),
        h('thead', {}, h('tr', {}, ['health.lease_work', 'health.lease_holder', 'health.lease_by', 'health.lease_token', 'health.lease_left'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, rows)));
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

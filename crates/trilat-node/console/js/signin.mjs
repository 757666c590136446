// Sign-in: the token comes from the #token= fragment of a sign-in link (then
// removed from the address bar) or from the form; it lives in
// sessionStorage (gone when the tab closes) and is checked with whoami.

import * as store from './store.mjs';
import { api } from './api.mjs';
import { t } from './i18n.mjs';

const KEY = 'trilat.token';

function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  // `&mode=exercise` opens the exercise picture (for sign-in links and tests).
  const mode = params.get('mode');
  if (mode === 'exercise' || mode === 'real') sessionStorage.setItem('trilat.mode', mode);
  if (token !== null) {
    // The fragment never reaches the server; keep it out of history too.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return token;
}

async function check(token) {
  store.set({ token });
  const whoami = await api('/api/v1/whoami');
  sessionStorage.setItem(KEY, token);
  store.set({ whoami });
  return whoami;
}

function showWhoami(whoami) {
  document.getElementById('whoami').textContent = t('signin.whoami', {
    name: whoami.name,
    party: whoami.party,
    role: t(`role.${whoami.role}`),
  });
  document.getElementById('app-title').textContent = t('app.title', { node: whoami.node });
  document.title = t('app.title', { node: whoami.node });
}

function signOut() {
  sessionStorage.removeItem(KEY);
  store.set({ token: null, whoami: null });
  location.reload();
}

/** Resolves to whoami once signed in (the form waits for a good token). */
export async function init() {
  document.getElementById('signout').addEventListener('click', signOut);
  store.watch(['lang', 'whoami'], (s) => s.whoami && showWhoami(s.whoami));
  const token = tokenFromFragment() ?? sessionStorage.getItem(KEY);
  if (token) {
    try {
      return await check(token);
    } catch (e) {
      sessionStorage.removeItem(KEY);
      store.set({ token: null });
      document.getElementById('signin-error').textContent = t('signin.failed', { reason: e.message });
    }
  }
  const section = document.getElementById('signin');
  section.hidden = false;
  const form = document.getElementById('signin-form');
  const input = document.getElementById('signin-token');
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        resolve(await check(input.value.trim()));
      } catch (e) {
        store.set({ token: null });
        document.getElementById('signin-error').textContent = t('signin.failed', { reason: e.message });
      }
    });
  });
}

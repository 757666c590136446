// Boot: language, sign-in, then the views. Each view is its own module and
// reads the shared store; this file only wires them together.

import * as store from './store.mjs';
import * as i18n from './i18n.mjs';
import * as signin from './signin.mjs';
import * as live from './live.mjs';
import * as replay from './replay.mjs';
import * as filters from './filters.mjs';
import * as timeline from './timeline.mjs';
import * as detail from './detail.mjs';
import * as warnings from './warnings.mjs';
import * as seismic from './seismic.mjs';
import * as write from './write.mjs';
import * as screening from './screening.mjs';
import * as supply from './supply.mjs';
import * as health from './health.mjs';
import * as audit from './audit.mjs';
import * as exercise from './exercise.mjs';
import { t } from './i18n.mjs';
import { pageBanner } from './markings.mjs';
import { visibleReports } from './filters.mjs';

const VIEWS = { picture: null, write, screening, supply, health, audit, exercise };
let mapView = null; // loaded on first show: MapLibre is the largest module

async function setLanguage(lang) {
  lang = await i18n.load(lang);
  localStorage.setItem('trilat.lang', lang);
  for (const select of document.querySelectorAll('.lang-select')) select.value = lang;
  i18n.apply();
  store.set({ lang });
}

function fillLanguageSelects() {
  const names = { en: 'English', ja: '日本語', ko: '한국어' };
  for (const select of document.querySelectorAll('.lang-select')) {
    select.replaceChildren(...i18n.languages().map((l) => new Option(names[l], l)));
    select.addEventListener('change', () => setLanguage(select.value));
  }
}

function showView(name) {
  if (!(name in VIEWS)) name = 'picture';
  for (const button of document.querySelectorAll('nav [data-view]')) {
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const section of document.querySelectorAll('main > .view')) {
    section.hidden = section.id !== `view-${name}`;
  }
  store.set({ view: name });
  VIEWS[name]?.show?.();
  if (name === 'picture') mapView?.resize();
}

async function startMap() {
  try {
    mapView = await import('./map.mjs');
    await mapView.init();
  } catch (e) {
    document.getElementById('map').textContent = t('map.failed', { reason: e.message });
  }
}

function applyMode(mode) {
  const exercise = mode === 'exercise';
  document.body.classList.toggle('exercise', exercise);
  document.getElementById('exercise-banner').hidden = !exercise;
  document.getElementById('watermark').hidden = !exercise;
  for (const radio of document.querySelectorAll('input[name=mode]')) radio.checked = radio.value === mode;
}

async function startApp() {
  const { whoami } = store.get();
  const role = whoami.role;
  const writer = (role === 'analyst' || role === 'admin') && whoami.party === whoami.node;
  document.body.classList.toggle('is-writer', writer);
  document.body.classList.toggle('is-admin', role === 'admin');
  for (const el of document.querySelectorAll('.needs-writer')) el.hidden = !writer;
  for (const el of document.querySelectorAll('.needs-admin')) el.hidden = role !== 'admin';
  document.getElementById('app').hidden = false;
  document.getElementById('signin').hidden = true;

  for (const button of document.querySelectorAll('nav [data-view]')) {
    button.addEventListener('click', () => showView(button.dataset.view));
  }
  for (const radio of document.querySelectorAll('input[name=mode]')) {
    radio.addEventListener('change', () => {
      sessionStorage.setItem('trilat.mode', radio.value);
      store.set({ mode: radio.value });
    });
  }
  const mode = sessionStorage.getItem('trilat.mode') === 'exercise' ? 'exercise' : 'real';
  store.watch(['mode'], (s) => applyMode(s.mode));
  store.set({ mode });

  store.watch(['reports', 'filters', 'replayAt', 'replayReports', 'lang'], () => pageBanner(visibleReports()));
  pageBanner([]);
  filters.init();
  timeline.init();
  replay.init();
  detail.init();
  warnings.init();
  seismic.initBanner();
  for (const view of Object.values(VIEWS)) view?.init?.();
  showView('picture');
  live.start();
  await startMap();
}

async function boot() {
  fillLanguageSelects();
  await setLanguage(localStorage.getItem('trilat.lang') ?? navigator.language.slice(0, 2));
  const whoami = await signin.init();
  performance.mark('trilat:signed-in'); // the benchmarks' load breakdown reads the trilat: marks
  if (whoami) await startApp();
}

boot();

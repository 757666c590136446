// Interface text: one JSON file per language keyed by name. A message with
// values is one whole sentence with {named} slots; the page never joins
// translated fragments. Report content is shown as written.

const LANGS = ['en', 'ja', 'ko'];
let messages = {};
let fallback = {};

export function languages() {
  return LANGS;
}

/** Loads `lang` (and English as the fallback for a missing key). */
export async function load(lang) {
  if (!LANGS.includes(lang)) lang = 'en';
  const fetchLang = async (l) => (await fetch(`/console/i18n/${l}.json`)).json();
  fallback = await fetchLang('en');
  messages = lang === 'en' ? fallback : await fetchLang(lang);
  document.documentElement.lang = lang;
  return lang;
}

/** Whether `key` has a message (in the language or its English fallback). */
export function has(key) {
  return key in messages || key in fallback;
}

/**
 * The message `key` with its {slots} filled from `values`. A value may
 * itself be a message, `{ key, values }`, translated with the rest.
 */
export function t(key, values = {}) {
  const text = messages[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? slot(values[name]) : `{${name}}`));
}

function slot(value) {
  return value !== null && typeof value === 'object' && typeof value.key === 'string'
    ? t(value.key, value.values)
    : String(value);
}

/**
 * Fills every element under `root` carrying `data-i18n` (text),
 * `data-i18n-label` (aria-label), `data-i18n-title` or
 * `data-i18n-placeholder`.
 */
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nValues ? JSON.parse(el.dataset.i18nValues) : {});
  }
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** Sets `el`'s text to message `key` and keeps it translated on a language switch. */
export function setText(el, key, values = {}) {
  if (!key) {
    delete el.dataset.i18n;
    el.textContent = '';
    return;
  }
  el.dataset.i18n = key;
  el.dataset.i18nValues = JSON.stringify(values);
  el.textContent = t(key, values);
}

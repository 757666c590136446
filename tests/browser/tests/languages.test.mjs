// The language switch changes every visible label: English → Japanese →
// Korean, and text from reports is shown as written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot, signIn } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { consoleReady, visible, visibleTexts } from '../lib/page.mjs';

const fixture = useCluster();

// What reads the same in every language, so may stay unchanged on a switch:
const NEUTRAL = [
  /^[^\p{L}]*$/u, // numbers, times, coordinates, punctuation
  /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?Z$/, // UTC times, as the console writes them everywhere
  /^(UNCLASSIFIED|CONFIDENTIAL|SECRET|TOP SECRET)$/, // classification levels, as marked
  /^TLP(:[A-Z+]+)?$/, // TLP 2.0 labels are defined in English
  /^REL TO [A-Z0-9, -]+$/, // the REL TO line, as marked
  /^[A-Z]{3}$/, // party codes
  /^(English|日本語|한국어)$/, // each language named in itself
  /^[\d.,]+ ?(km|m|nm|mi|ft)$/, // the map's scale bar
  /^Natural Earth$/, // the basemap's name (its attribution)
];

/** Strings every report the token may see carries in its payload (shown as written). */
async function reportTexts(node) {
  const { reports } = await api(node, 'reader', 'GET', '/api/v1/reports?limit=1000');
  const texts = [];
  const walk = (value) => {
    if (typeof value === 'string') texts.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const report of reports) walk(report.payload);
  return texts;
}

function untranslated(before, after, reportText) {
  const afterSet = new Set(after);
  return [...new Set(before)].filter(
    (text) =>
      afterSet.has(text) &&
      !NEUTRAL.some((re) => re.test(text)) &&
      !reportText.some((r) => r.includes(text)),
  );
}

async function switchTo(page, label) {
  await page.getByRole('combobox', { name: /Language|言語|언어/ }).first().selectOption({ label });
}

test('the language switch changes every visible label (en → ja → ko)', async () => {
  const jpn = fixture.cluster.nodes.JPN;
  const reportText = await reportTexts(jpn);
  const page = await fixture.browser.newPage();
  await signIn(page, jpn, 'admin');
  await consoleReady(page);
  await visible(page.getByRole('heading', { name: 'Timeline' }));
  const en = await visibleTexts(page);

  await switchTo(page, '日本語');
  await page.waitForFunction(() => document.documentElement.lang === 'ja');
  await page.waitForTimeout(500);
  const ja = await visibleTexts(page);
  await screenshot(page, 'picture-ja');

  await switchTo(page, '한국어');
  await page.waitForFunction(() => document.documentElement.lang === 'ko');
  await page.waitForTimeout(500);
  const ko = await visibleTexts(page);
  await screenshot(page, 'picture-ko');

  assert.ok(en.length > 20, `only ${en.length} visible texts in English`);
  assert.deepEqual(untranslated(en, ja, reportText), [], 'unchanged from English to Japanese');
  assert.deepEqual(untranslated(ja, ko, reportText), [], 'unchanged from Japanese to Korean');
  assert.deepEqual(untranslated(en, ko, reportText), [], 'unchanged from English to Korean');
  // Report text is shown as written, whatever the language.
  const note = reportText.find((r) => en.some((text) => text.includes(r)));
  assert.ok(note, 'no report text on the page to compare');
  assert.ok(ko.some((text) => text.includes(note)), `report text changed with the language: ${note}`);
  await page.close();
});

// What the stories check on a page, beyond playwright-core's locators.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Waits until `locator` is visible (playwright-core has no `expect`). */
export async function visible(locator, timeout = 10_000) {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator.first();
}

/**
 * Runs axe-core in the page. The source is evaluated over the DevTools
 * protocol, which the page's Content-Security-Policy does not govern (a
 * script tag would be refused, as it should be).
 */
export async function axeViolations(page, impacts = ['serious', 'critical']) {
  await page.evaluate(`${AXE_SOURCE};0`);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
}

/**
 * Every visible text node of the page, trimmed, in document order (text
 * inside elements marked `translate="no"` — report text, shown as written —
 * is left out).
 */
export async function visibleTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.replace(/\s+/g, ' ').trim();
      const parent = node.parentElement;
      if (!text || !parent) continue;
      if (parent.closest('[translate="no"], script, style, noscript')) continue;
      if (!parent.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
      out.push(text);
    }
    return out;
  });
}

/** Waits for the signed-in console: its main view and the map's canvas. */
export async function consoleReady(page, timeout = 15_000) {
  await visible(page.getByRole('main'), timeout);
  await visible(page.locator('canvas.maplibregl-canvas'), timeout);
}

/**
 * Keeps a copy of every byte the page reads through `fetch` (the console's
 * only way to the API, the live stream included) in `window.__trilatNetLog`,
 * so a test can say what reached the page over the network. It observes
 * (each response is cloned and read beside the console), it changes nothing.
 */
export async function recordFetchBodies(page) {
  await page.addInitScript(() => {
    const log = [];
    window.__trilatNetLog = log;
    const original = window.fetch;
    window.fetch = async (...args) => {
      const response = await original(...args);
      const entry = { url: response.url, status: response.status, body: '' };
      log.push(entry);
      const reader = response.clone().body?.getReader();
      if (reader) {
        const decoder = new TextDecoder();
        (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            entry.body += decoder.decode(value, { stream: true });
          }
        })().catch(() => {});
      }
      return response;
    };
  });
}

/** What `recordFetchBodies` saw: `[{ url, status, body }]`. */
export async function fetchBodies(page) {
  return page.evaluate(() => window.__trilatNetLog ?? []);
}

/** The timeline's entry (a button) whose text contains `text`. */
export function timelineItem(page, text) {
  return page.getByRole('region', { name: 'Timeline' }).getByRole('button').filter({ hasText: text });
}

// The console's initial view (map.mjs): the tests do not move the map.
const MAP_CENTRE = [133, 36];
const MAP_ZOOM = 3.6;

/**
 * Where [lon, lat] is on the page at the map's initial centre and zoom:
 * MapLibre's Web Mercator with 512-pixel tiles.
 */
export async function mapPoint(page, [lon, lat]) {
  const view = await page.evaluate(() => {
    const rect = document.getElementById('map').getBoundingClientRect();
    return { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 };
  });
  const world = 512 * 2 ** MAP_ZOOM;
  const mx = (l) => ((l + 180) / 360) * world;
  const my = (p) => ((1 - Math.log(Math.tan(Math.PI / 4 + (p * Math.PI) / 360)) / Math.PI) / 2) * world;
  return { x: view.x + mx(lon) - mx(MAP_CENTRE[0]), y: view.y + my(lat) - my(MAP_CENTRE[1]) };
}

/**
 * Clicks the map at [lon, lat] until `target` shows (MapLibre tiles its
 * sources in a worker, so a feature is clickable a moment after it is
 * given to the map), for at most `tries` seconds.
 */
export async function clickMapUntil(page, lonLat, target, tries = 15) {
  const at = await mapPoint(page, lonLat);
  for (let attempt = 0; attempt < tries; attempt += 1) {
    await page.mouse.click(at.x, at.y);
    if (await target.first().isVisible()) break;
    await page.waitForTimeout(1_000);
  }
  return visible(target, 5_000);
}

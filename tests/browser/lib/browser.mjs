// Debian's Chromium driven by playwright-core (which downloads no browser),
// with the launch flags that work on these machines, a fresh profile per
// launch, and helpers the stories share.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.TRILAT_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');

// Software WebGL (SwiftShader) for MapLibre: there is no GPU here.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * Launches Chromium. playwright-core gives it a fresh temporary
 * --user-data-dir (removed on close); each `newPage()` opens in its own
 * context, so pages share no storage (language, token, mode).
 */
export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    browser,
    /** A page in a new context; `options` are playwright's context options. */
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        locale: 'en-US',
        timezoneId: 'UTC',
        ...options,
      });
      const page = await context.newPage();
      page.on('close', () => context.close().catch(() => {}));
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}

/** Opens the console of `node` signed in with its `role` token (the `#token=` link). */
export async function signIn(page, node, role) {
  await page.goto(`${node.url}/#token=${node.tokens[role]}`);
}

/** Records every request the page makes, to assert where they went. */
export function recordRequests(page) {
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  return requests;
}

/** Saves a PNG of the page under docs/screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // A shown map is taken once it has painted everything once (its first
  // `idle`): before, the basemap's land could still be missing.
  await page.waitForFunction(() => {
    const map = document.getElementById('map');
    return !map || map.offsetParent === null || map.dataset.idle === 'true';
  }, null, { timeout: 30_000 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

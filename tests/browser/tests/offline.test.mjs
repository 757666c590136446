// The console needs nothing but its own node: every request stays on the
// node's origin, and the console renders with every other origin blocked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordRequests, screenshot, signIn } from '../lib/browser.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { consoleReady } from '../lib/page.mjs';

const fixture = useCluster();

// Data URLs carry bytes already in the page; they make no request to anyone.
const LOCAL_SCHEMES = new Set(['data:']);

test('no request leaves the node\'s origin', async () => {
  const jpn = fixture.cluster.nodes.JPN;
  const page = await fixture.browser.newPage();
  const requests = recordRequests(page);
  await signIn(page, jpn, 'admin');
  await consoleReady(page);
  await page.waitForTimeout(2_000); // let the map fetch its tiles, glyphs and zones
  const origin = new URL(jpn.url).origin;
  const offOrigin = requests.filter((url) => {
    const parsed = new URL(url);
    return !LOCAL_SCHEMES.has(parsed.protocol) && parsed.origin !== origin;
  });
  assert.ok(requests.length > 3, `the console made only ${requests.length} requests: ${requests.join(', ')}`);
  assert.deepEqual(offOrigin, [], 'requests left the node\'s origin');
  await page.close();
});

test('the console renders with the network to anything but the node blocked', async () => {
  const kor = fixture.cluster.nodes.KOR;
  const origin = new URL(kor.url).origin;
  const page = await fixture.browser.newPage();
  const aborted = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin || LOCAL_SCHEMES.has(url.protocol)) return route.continue();
    aborted.push(url.href);
    return route.abort('internetdisconnected');
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, kor, 'admin');
  await consoleReady(page);
  await page.waitForTimeout(1_000);
  assert.deepEqual(aborted, [], 'the console asked for other origins');
  assert.deepEqual(errors, [], 'the page threw');
  await screenshot(page, 'offline-kor');
  await page.close();
});

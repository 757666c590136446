// A console opened while the node's engines are still starting gets
// 503 engines_starting for its zones; it must ask again and draw them once
// the engines are up, not stay without zones until reloaded. The node here
// is up already, so the page's first two zone requests are answered with
// the node's own 503 (same status, code and message) before it reaches the
// node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signIn } from '../lib/browser.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { consoleReady } from '../lib/page.mjs';

const fixture = useCluster();

test('zones refused while the engines start are asked for again and drawn', async () => {
  const { JPN: jpn } = fixture.cluster.nodes;
  const page = await fixture.browser.newPage();
  let asked = 0;
  await page.route(`${jpn.url}/api/v1/geo/zones`, async (route) => {
    asked += 1;
    if (asked <= 2) {
      await route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'engines_starting', message: 'the engines are still starting; retry shortly' } }),
      });
    } else {
      await route.continue();
    }
  });
  await signIn(page, jpn, 'reader');
  await consoleReady(page);
  const note = page.locator('#zones-note');
  await page.waitForFunction(() => /^\d+ zones/.test(document.getElementById('zones-note')?.textContent ?? ''), null, { timeout: 20_000 });
  assert.equal(asked, 3, 'two refusals, then one answer');
  const count = Number((await note.textContent()).match(/^(\d+)/)[1]);
  assert.ok(count > 0, 'the node has zones');
  await page.close();
});

// A console opened while the node's engines are still starting gets
// 503 engines_starting for its zones; it must ask again and draw them once
// the engines are up, not stay without zones until reloaded. The node here
// is up already, so the page's first two zone requests are answered with
// the node's own 503 (same status, code and message) before it reaches the
// node. The refusal's text is the console's own, in its language.
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
  // The console asks every 2 s, at most 30 times: within a minute.
  await page.waitForFunction(() => /^\d+ zones/.test(document.getElementById('zones-note')?.textContent ?? ''), null, { timeout: 60_000 });
  // Two refusals here, then the node's answer (more asks only if the node,
  // still starting on a loaded machine, refused as well).
  assert.ok(asked >= 3, `asked ${asked} times`);
  const count = Number((await note.textContent()).match(/^(\d+)/)[1]);
  assert.ok(count > 0, 'the node has zones');
  await page.close();
});

test('the refusal is told in the console language, not in the node\'s English', async () => {
  const { JPN: jpn } = fixture.cluster.nodes;
  const page = await fixture.browser.newPage({ locale: 'ja-JP' });
  // Refused every time, so the note keeps telling it however long the
  // page takes to get ready.
  await page.route(`${jpn.url}/api/v1/geo/zones`, async (route) => {
    await route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'engines_starting', message: 'the engines are still starting; retry shortly' } }),
    });
  });
  await signIn(page, jpn, 'reader');
  await consoleReady(page);
  await page.waitForFunction(() => document.documentElement.lang === 'ja');
  const note = page.locator('#zones-note');
  await page.waitForFunction(
    () => (document.getElementById('zones-note')?.textContent ?? '').includes('エンジンを起動中'),
    null,
    { timeout: 20_000 },
  );
  assert.doesNotMatch(await note.textContent(), /still starting/);
  // A language switch translates the shown refusal too.
  await page.getByRole('combobox', { name: '言語' }).first().selectOption({ label: 'English' });
  await page.waitForFunction(
    () => (document.getElementById('zones-note')?.textContent ?? '').includes("The node's engines are still starting"),
    null,
    { timeout: 20_000 },
  );
  await page.close();
});

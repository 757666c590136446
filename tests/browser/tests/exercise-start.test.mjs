// Starting a play from the console: on a running `trilat demo` (which holds
// every node's token, so its nodes can start plays), USA's admin presses
// Start beside freedom-edge-day in the Exercises view; the run then shows in
// the runs list and its progress moves. USA's reader has no Exercises view.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launch, signIn } from '../lib/browser.mjs';
import { api, freePortTriple, TRILAT_BIN } from '../lib/cluster.mjs';
import { consoleReady, visible } from '../lib/page.mjs';

const BANNER_TIMEOUT_MS = 120_000;

let demo = null;
let browser = null;
let dir = null;

/** Starts `trilat demo --json-banner`; resolves with the banner. */
async function startDemo() {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trilat-start-'));
  const port = await freePortTriple();
  demo = spawn(TRILAT_BIN, ['demo', '--json-banner', '--port', String(port), '--dir', path.join(dir, 'nodes')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  demo.stderr.on('data', (c) => { stderr = (stderr + c).slice(-20_000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no demo banner in ${BANNER_TIMEOUT_MS} ms:\n${stderr}`)), BANNER_TIMEOUT_MS);
    demo.stdout.on('data', (c) => {
      stdout += c;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    demo.once('exit', (code) => { clearTimeout(timer); reject(new Error(`trilat demo exited (${code}):\n${stderr}`)); });
  });
}

/** A banner node in the shape the harness's helpers take. */
function nodeOf(banner, party) {
  const node = banner.nodes.find((n) => n.party === party);
  return { party, url: node.url, tokens: { admin: node.admin_token, reader: node.reader_token } };
}

let usa = null;

before(async () => {
  usa = nodeOf(await startDemo(), 'USA');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('an admin starts a shipped scenario from the Exercises view and sees the run progress', async () => {
  const page = await browser.newPage();
  await signIn(page, usa, 'admin');
  await consoleReady(page);
  await page.getByRole('button', { name: 'Exercises' }).click();
  const scenario = page.getByRole('row', { name: /freedom-edge-day/ }).filter({ has: page.getByRole('button', { name: 'Start' }) });
  await visible(scenario, 15_000);
  await scenario.getByRole('button', { name: 'Start' }).click();
  const started = page.getByText(/Started freedom-edge-day as run freedom-edge-day-\d+/);
  await visible(started, 10_000);
  const runId = (await started.textContent()).match(/freedom-edge-day-\d+/)[0];

  // The play registers its run once it has checked the nodes: within seconds.
  const runRow = page.locator('#exercise-runs').getByRole('row', { name: new RegExp(runId) });
  await visible(runRow, 30_000);
  const { runs } = await api(usa, 'admin', 'GET', '/api/v1/exercise/runs');
  assert.equal(runs.find((r) => r.run_id === runId)?.scenario, 'freedom-edge-day', JSON.stringify(runs));
  // Progress moves: some inject played (freedom-edge-day's second comes 3 s in at ×10).
  // (The table is redrawn as the run moves: read the bar afresh each time.)
  const progress = runRow.getByRole('progressbar');
  const deadline = Date.now() + 60_000;
  let done = 0;
  while (done < 2) {
    assert.ok(Date.now() < deadline, `the run's progress stayed at ${done}`);
    await page.waitForTimeout(500);
    done = Number(await progress.getAttribute('value').catch(() => 0));
  }
  await visible(runRow.getByText(/injects played/), 5_000);
  // While it plays, the scenario is not startable again.
  await visible(page.getByText(`Playing as ${runId}`), 10_000);
  await page.close();
});

test('a reader has no Exercises view and no Start button', async () => {
  const page = await browser.newPage();
  await signIn(page, usa, 'reader');
  await consoleReady(page);
  // The view is for analysts and admins (the demo prints no analyst token;
  // an analyst's 403 from the scenarios route is tested in Rust).
  assert.equal(await page.locator('button[data-view="exercise"]').isHidden(), true);
  assert.equal(await page.getByRole('button', { name: 'Start' }).count(), 0);
  await page.close();
});

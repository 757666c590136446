// Screening as a sanctions analyst at JPN does it, against the real UN
// consolidated list (../shared/data, imported with `trilat sanctions import`
// and given to the cluster with `trilat demo --sanctions-store`): a Latin and
// a Hangul / kana name find DPRK designations, each hit with its explained
// score; one hit shared as a report shows in the timeline.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { TRILAT_BIN, api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { timelineItem, visible } from '../lib/page.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const UN_LIST = path.resolve(ROOT, '../shared/data/sanctions/un/UN_consolidated_2026-02-27.xml');

if (!existsSync(UN_LIST)) {
  test('screening against the real UN list', (t) => {
    const reason = `${UN_LIST} is absent (the public test data in ../shared/data)`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
  });
} else {
  const store = mkdtempSync(path.join(os.tmpdir(), 'trilat-sanctions-'));
  after(() => rmSync(store, { recursive: true, force: true }));
  const fixture = useCluster(() => {
    execFileSync(TRILAT_BIN, ['sanctions', 'import', '--store', store, UN_LIST], { stdio: 'pipe' });
    return { demoArgs: ['--sanctions-store', store] };
  });
  // The nodes answer before their engines have indexed the list: the
  // first test waits for JPN's (the tests run one after another).
  let loaded = null;
  async function waitLoaded() {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const status = await api(fixture.cluster.nodes.JPN, 'analyst', 'GET', '/api/v1/sanctions/status');
        assert.equal(status.loaded, true, `JPN loaded no list: ${JSON.stringify(status)}`);
        return status;
      } catch (e) {
        if (!e.message.includes('engines_starting') || Date.now() > deadline) throw e;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** JPN's console as its sanctions analyst, on the Screening view. */
  async function screeningAtJpn() {
    loaded ??= waitLoaded();
    await loaded;
    const page = await fixture.openConsole('JPN', 'analyst');
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Screening' }).click();
    await visible(page.getByRole('heading', { name: 'Sanctions screening' }));
    return page;
  }

  /** Screens `name` in the page and returns the hit (list item) whose heading names `caption`. */
  async function screen(page, name, caption) {
    const form = page.getByRole('search', { name: 'Name screening' });
    await form.getByRole('searchbox', { name: 'Name to screen' }).fill(name);
    await form.getByRole('button', { name: 'Screen' }).click();
    const hit = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: caption }) });
    await visible(hit);
    return hit;
  }

  /** The score the node gives `name` for `entityId` (to check the page shows it, not another). */
  async function nodeScore(name, entityId) {
    const answer = await api(fixture.cluster.nodes.JPN, 'analyst', 'POST', '/api/v1/sanctions/screen', { name });
    const hit = answer.hits.find((h) => h.entity_id === entityId);
    assert.ok(hit, `the node finds no ${entityId} for ${name}: ${JSON.stringify(answer).slice(0, 500)}`);
    return hit;
  }

  test('the status line names the loaded list and its version, not raw JSON', async () => {
    const page = await screeningAtJpn();
    const status = await api(fixture.cluster.nodes.JPN, 'analyst', 'GET', '/api/v1/sanctions/status');
    assert.equal(status.loaded, true, JSON.stringify(status));
    const [list] = status.lists;
    await visible(page.getByText(`Lists: ${list.list} ${list.version}`, { exact: true }));
    assert.equal(await page.getByText('{"').count(), 0, 'JSON shows in the page');
    await page.close();
  });

  test('a Latin and a Hangul name find the listed DPRK entity and person, each score explained', async () => {
    const page = await screeningAtJpn();

    // An abbreviated company name: a partial score, and why.
    const bank = await nodeScore('Korea Kwangson Banking Corp', 'un:KPe.025');
    const bankHit = await screen(page, 'Korea Kwangson Banking Corp', bank.caption);
    await visible(bankHit.getByRole('heading', { name: `score ${bank.score.toFixed(3)}` }));
    const bankWhy = bankHit.getByRole('table', { name: 'Why this score' });
    await visible(bankWhy.getByRole('row').filter({ hasText: 'kwangson' }));
    await visible(bankWhy.getByRole('row').filter({ hasText: 'corp' }));

    // The UN writes RI WON HO (KPi.033) in McCune–Reischauer Latin; typed in Hangul.
    const ri = await nodeScore('리원호', 'un:KPi.033');
    const riHit = await screen(page, '리원호', 'RI WON HO');
    await visible(riHit.getByRole('heading', { name: `score ${ri.score.toFixed(3)}` }));
    await visible(riHit.getByText(`Matched “${ri.matched_name}”`));
    const riWhy = riHit.getByRole('table', { name: 'Why this score' });
    for (const part of ri.explanation) {
      await visible(riWhy.getByRole('row').filter({ hasText: part.candidate }));
    }
    await screenshot(page, 'screening-jpn');
    await page.close();
  });

  test('kana finds the listed person too', async () => {
    const page = await screeningAtJpn();
    const kim = await nodeScore('キム・ヨンチョル', 'un:KPi.024');
    const hit = await screen(page, 'キム・ヨンチョル', 'KIM YONG CHOL');
    await visible(hit.getByRole('heading', { name: `score ${kim.score.toFixed(3)}` }));
    await page.close();
  });

  test('an analyst shares a hit as a report and sees it in the timeline', async () => {
    const page = await screeningAtJpn();
    const hit = await screen(page, '리원호', 'RI WON HO');
    await hit.getByRole('button', { name: 'Share as report' }).click();
    await hit.getByLabel('Decision').selectOption('confirmed');
    const note = `Applicant matched at the visa desk — ${Date.now()}`;
    await hit.getByLabel('Note').fill(note);
    const [shared] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/sanctions/hits'),
      hit.getByRole('button', { name: 'Publish hit report' }).click(),
    ]);
    assert.equal(shared.status(), 200, await shared.text());
    const report = await shared.json();
    assert.equal(report.kind, 'sanctions.hit');
    assert.equal(report.payload.hit.entity_id, 'un:KPi.033');
    assert.equal(report.payload.note, note);
    await visible(hit.getByText('Hit shared as a report.'));

    // The demo's engines mark their reports as exercise: the report is seen
    // in the mode it belongs to, never mixed with the other.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Picture' }).click();
    if (report.exercise) await page.getByRole('radio', { name: 'Exercise' }).check();
    const item = timelineItem(page, '리원호 → RI WON HO');
    await visible(item.filter({ hasText: 'Sanctions hit' }));
    await page.close();
  });
}

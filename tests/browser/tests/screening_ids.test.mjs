// Identifier search as a sanctions analyst at JPN does it, against the real
// OFAC SDN list with its comments (../shared/data, imported with `trilat
// sanctions import` and given to the cluster with `trilat demo
// --sanctions-store`): a listed Bitcoin address and an Ethereum address typed
// in another case find the listed person with the programme; a changed
// address finds nothing and the page says its checksum fails; the hit is
// shared as a sanctions.id-hit report.
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
import { visible } from '../lib/page.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OFAC = path.resolve(ROOT, '../shared/data/sanctions/ofac');
const SDN = path.join(OFAC, 'ofac_sdn_2024-05-03.csv');
const COMMENTS = path.join(OFAC, 'ofac_2025-02-27_sdn_comments.csv');

if (!existsSync(SDN) || !existsSync(COMMENTS)) {
  test('identifier search against the real OFAC list', (t) => {
    const reason = `${SDN} or its comments are absent (the public test data in ../shared/data)`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
  });
} else {
  const store = mkdtempSync(path.join(os.tmpdir(), 'trilat-sanctions-ids-'));
  after(() => rmSync(store, { recursive: true, force: true }));
  const fixture = useCluster(() => {
    execFileSync(TRILAT_BIN, ['sanctions', 'import', '--store', store, SDN, COMMENTS], { stdio: 'pipe' });
    return { demoArgs: ['--sanctions-store', store] };
  });
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

  async function screeningAtJpn() {
    loaded ??= waitLoaded();
    await loaded;
    const page = await fixture.openConsole('JPN', 'analyst');
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Screening' }).click();
    await visible(page.getByRole('heading', { name: 'Identifier search' }));
    return page;
  }

  /** Screens `value` in the identifier search and returns the form's region of the page. */
  async function screenId(page, value) {
    const form = page.getByRole('search', { name: 'Identifier screening' });
    await form.getByRole('searchbox', { name: 'Identifier to screen' }).fill(value);
    await form.getByRole('button', { name: 'Screen identifier' }).click();
  }

  test('a listed wallet finds the person and programme; a changed one is reported, not matched', async () => {
    const page = await screeningAtJpn();
    const btc = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';
    const answer = await api(fixture.cluster.nodes.JPN, 'analyst', 'POST', '/api/v1/sanctions/screen-id', { value: btc });
    assert.equal(answer.hits.length, 1, JSON.stringify(answer));
    const [listed] = answer.hits;
    await screenId(page, btc);
    const hit = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: listed.caption }) });
    await visible(hit);
    await visible(hit.getByText(`Wallet address ${btc} (XBT)`));
    await visible(hit.getByText(`programmes: ${listed.programmes.join(', ')}`));

    // An Ethereum address of the list typed in lower case: the same address.
    await screenId(page, '0x983a81ca6fb1e441266d2fbcb7d8e530ac2e05a2');
    await visible(page.getByText(/^[1-9]\d* listed identifiers match$/));

    // One letter changed: no hit, and the failing checksum is said.
    await screenId(page, '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9H');
    await visible(page.getByText('0 listed identifiers match'));
    await visible(page.getByText('Not a valid Wallet address: Base58Check checksum fails'));
    await screenshot(page, 'screening-identifiers-jpn');
    await page.close();
  });

  test('an analyst shares an identifier hit as a report', async () => {
    const page = await screeningAtJpn();
    const btc = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';
    await screenId(page, btc);
    const hit = page.getByRole('listitem').filter({ hasText: btc });
    await visible(hit);
    await hit.getByRole('button', { name: 'Share as report' }).click();
    await hit.getByLabel('Decision').selectOption('confirmed');
    const note = `Deposit address seen at an exchange — ${Date.now()}`;
    await hit.getByLabel('Note').fill(note);
    const [shared] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/sanctions/id-hits'),
      hit.getByRole('button', { name: 'Publish hit report' }).click(),
    ]);
    assert.equal(shared.status(), 200, await shared.text());
    const report = await shared.json();
    assert.equal(report.kind, 'sanctions.id-hit');
    assert.equal(report.payload.query, btc);
    assert.equal(report.payload.note, note);
    await visible(hit.getByText('Identifier hit shared as a report.'));
    await page.close();
  });
}

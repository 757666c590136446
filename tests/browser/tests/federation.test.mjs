// The Federation view: each peer's link, and for an administrator which
// process drives each link under its lease (with one process per node,
// this one; with several on one store, whichever holds it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { visible } from '../lib/page.mjs';

const fixture = useCluster();

async function openFederation(role) {
  const page = await fixture.openConsole('JPN', role);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Federation' }).click();
  await visible(page.getByRole('table', { name: 'Peers' }));
  return page;
}

test('an administrator sees which process drives each link', async () => {
  const page = await openFederation('admin');
  const leases = page.getByRole('table', { name: 'Single-owner work and the process driving it' });
  await visible(leases);
  for (const party of ['USA', 'KOR']) {
    const row = leases.getByRole('row', { name: new RegExp(`^Link to ${party}\\b`) });
    await visible(row);
    assert.match(await row.textContent(), /this process/);
    assert.match(await row.textContent(), /JPN-\d+-[0-9a-f]{8}/, 'the holder is named');
  }
  assert.match(await page.locator('#health-leases').textContent(), /This process: JPN-\d+-[0-9a-f]{8}/);
  await screenshot(page, 'federation-leases-jpn');
  await page.close();
});

test('a reader sees the links but not the node\'s processes', async () => {
  const page = await openFederation('reader');
  // The peers table is drawn in the same render as the leases would be.
  assert.equal(await page.locator('#health-leases').count(), 0);
  await page.close();
});

// The Federation view: each peer's link, and for an administrator a
// button to cut or restore each link and which process drives each link
// under its lease (with one process per node, this one; with several on
// one store, whichever holds it).
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
  assert.equal(await page.getByRole('button', { name: /^Suspend link/ }).count(), 0);
  await page.close();
});

test('an administrator cuts a link after confirming, and restores it', async () => {
  const page = await openFederation('admin');
  const peers = page.getByRole('table', { name: 'Peers' });
  const kor = peers.getByRole('row', { name: /^KOR\b/ });
  const suspend = kor.getByRole('button', { name: 'Suspend link to KOR' });
  const dialogs = [];
  // Declined: the question was asked, nothing changes.
  page.once('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  await suspend.click();
  await visible(suspend);
  assert.match(dialogs[0] ?? '', /Cut the federation link to KOR\?/);
  assert.doesNotMatch(await kor.textContent(), /suspended by an admin/);

  page.once('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.accept(); });
  await suspend.click();
  const resume = kor.getByRole('button', { name: 'Resume link to KOR' });
  await visible(resume);
  assert.equal(dialogs.length, 2);
  assert.match(await kor.textContent(), /suspended by an admin/);
  const usa = peers.getByRole('row', { name: /^USA\b/ });
  assert.doesNotMatch(await usa.textContent(), /suspended by an admin/, 'only the one link is cut');
  await resume.click();
  await visible(kor.getByRole('button', { name: 'Suspend link to KOR' }));
  assert.doesNotMatch(await kor.textContent(), /suspended by an admin/);
  await page.close();
});

// The console's stories, each as a person does it, against a real
// three-node cluster (USA, JPN, KOR of the demo); a screenshot at each end.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();
const openConsole = (...args) => fixture.openConsole(...args);

test('a watch officer signs in at JPN with the #token= link', async () => {
  const page = await openConsole('JPN', 'reader');
  await visible(page.getByText('watch · JPN · reader'));
  assert.ok(!page.url().includes('token='), `the token stays in the address bar: ${page.url()}`);
  assert.equal(await page.title(), await page.getByRole('heading', { level: 1 }).textContent());
  // The basemap drawn, not the bare sea: the map has been idle once.
  await page.locator('#map[data-idle="true"]').waitFor({ timeout: 30_000 });
  await screenshot(page, 'signin-jpn');
  await page.close();
});

test('a reader has no create button; an analyst has one', async () => {
  const reader = await openConsole('JPN', 'reader');
  const analyst = await openConsole('JPN', 'analyst');
  const nav = (page) => page.getByRole('navigation', { name: 'Views' });
  await visible(nav(analyst).getByRole('button', { name: 'Write' }));
  await visible(nav(reader).getByRole('button', { name: 'Picture' }));
  assert.equal(await nav(reader).getByRole('button', { name: 'Write' }).count(), 0);
  assert.equal(await reader.getByRole('button', { name: 'Publish' }).count(), 0);
  await reader.close();
  await analyst.close();
});

test('a revoke at USA shows as revoked at JPN', async () => {
  const text = `Suspected transfer, revoke me — ${randomUUID()}`;
  const { report } = await api(fixture.cluster.nodes.USA, 'analyst', 'POST', '/api/v1/reports', {
    kind: 'note',
    marking: { level: 'CONFIDENTIAL', tlp: 'AMBER', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
    payload: { text },
  });
  const usa = await openConsole('USA', 'analyst');
  const jpn = await openConsole('JPN', 'reader');
  await visible(timelineItem(jpn, text));

  usa.on('dialog', (dialog) => dialog.accept());
  await (await visible(timelineItem(usa, text))).click();
  const panel = usa.getByRole('complementary', { name: 'Report detail' });
  await (await visible(panel.getByRole('button', { name: 'Revoke' }))).click();
  await visible(panel.getByText('REVOKED', { exact: true }));

  // JPN's timeline hides revoked reports until asked to show them.
  await jpn.getByRole('checkbox', { name: 'Show revoked' }).check();
  await visible(timelineItem(jpn, text).filter({ hasText: 'REVOKED' }), 5_000);
  await (await visible(timelineItem(jpn, text))).click();
  const jpnPanel = jpn.getByRole('complementary', { name: 'Report detail' });
  await visible(jpnPanel.getByText('REVOKED', { exact: true }));
  await visible(jpnPanel.getByText(report.id));
  await screenshot(jpn, 'revoked-at-jpn');
  await Promise.all([usa.close(), jpn.close()]);
});

test('the exercise missile appears at JPN and its assessment opens in the detail panel', async () => {
  const page = await openConsole('JPN', 'reader');
  await page.getByRole('radio', { name: 'Exercise' }).check();
  await visible(page.getByText('EXERCISE · EXERCISE · EXERCISE — exercise data only'));
  // The paced demo launches 120 s after the node starts; JPN fuses the
  // partners' detections and publishes its first assessment within a minute
  // (164 s after this page opened in one CI run: the margin is for load).
  const assessment = timelineItem(page, 'Missile assessment');
  await (await visible(assessment, 300_000)).click();
  const panel = page.getByRole('complementary', { name: 'Report detail' });
  await visible(panel.getByRole('heading', { name: 'Missile assessment' }));
  for (const row of ['Class', 'Apogee', 'Range', 'Launch point', 'Impact point', 'Impact ellipse', 'Time to impact']) {
    await visible(panel.getByRole('rowheader', { name: row, exact: true }));
  }
  await visible(panel.getByText('EXERCISE', { exact: true }));
  await screenshot(page, 'missile-jpn');
  await page.close();
});

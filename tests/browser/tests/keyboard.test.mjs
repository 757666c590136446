// Keyboard navigation through the timeline and the detail panel, against a real
// three-node cluster (USA, JPN, KOR of the demo); a screenshot at each end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useCluster } from '../lib/fixture.mjs';
import { visible } from '../lib/page.mjs';

const fixture = useCluster();
const openConsole = (...args) => fixture.openConsole(...args);

test('the keyboard moves through the timeline and opens and closes the detail panel', async () => {
  const page = await openConsole('JPN', 'reader');
  const items = page.getByRole('region', { name: 'Timeline' }).getByRole('listitem').getByRole('button');
  await visible(items);
  assert.ok((await items.count()) >= 2, 'the demo leaves at least two reports at JPN');
  // From the top of the page, Tab reaches the first timeline entry.
  let reached = false;
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await items.first().evaluate((el) => el === document.activeElement);
  }
  assert.ok(reached, 'Tab never reached the first timeline entry');
  await page.keyboard.press('ArrowDown');
  assert.ok(await items.nth(1).evaluate((el) => el === document.activeElement), 'ArrowDown did not move to the second entry');
  const secondKey = await items.nth(1).getAttribute('data-key'); // OWNER/id
  const secondId = secondKey.slice(secondKey.indexOf('/') + 1);
  await page.keyboard.press('Enter');
  const panel = page.getByRole('complementary', { name: 'Report detail' });
  await visible(panel);
  await visible(panel.getByText(secondId, { exact: true })); // the panel shows the entry's report (its id under Provenance)
  assert.ok(
    await panel.getByRole('heading', { name: 'Report detail' }).evaluate((el) => el === document.activeElement),
    'the panel\'s heading does not take the focus',
  );
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  // The list may redraw as the panel closes: focus must land on the same report's entry.
  await page
    .waitForFunction((key) => document.activeElement?.getAttribute('data-key') === key, secondKey, { timeout: 2_000 })
    .catch(async () => {
      const on = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80));
      assert.fail(`focus did not return to the entry (it is on ${on})`);
    });
  await page.close();
});

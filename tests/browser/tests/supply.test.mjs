// Critical minerals as an economic-security analyst at JPN sees them: the
// supply-risk ranking read from the real USGS Mineral Commodity Summaries
// 2024 and WGI files (../shared/data/supply, named in JPN's
// `[engines.supply]`, never copied), the top-ranked commodity's producers as
// bars marked by group, and a "China stops exporting gallium"
// scenario shared as an `econ.scenario` report that reaches USA's node.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { visible } from '../lib/page.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA = path.join(process.env.TRILAT_SHARED_DATA ?? path.resolve(ROOT, '../shared/data'), 'supply');

if (!existsSync(DATA)) {
  test('critical minerals from the real USGS files', (t) => {
    const reason = `${DATA} is absent (the public test data in ../shared/data)`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
  });
} else {
  const fixture = useCluster({
    extraToml: (party) => (party === 'JPN'
      ? `[engines.supply]\ndata = [${JSON.stringify(DATA)}]\n\n[engines.supply.groups]\n`
        + 'allies = ["AUS", "CAN", "GBR", "DEU", "FRA"]\nconcern = ["CHN", "RUS", "PRK"]\n'
      : ''),
  });

  test('ranking, gallium producers with China marked, and a shared scenario that reaches USA', async () => {
    const jpn = fixture.cluster.nodes.JPN;
    // The engine reads the files after the node answers: wait for it.
    const deadline = Date.now() + 60_000;
    let ranked = null;
    while (!ranked) {
      try {
        ranked = await api(jpn, 'reader', 'GET', '/api/v1/supply/ranking');
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    assert.ok(ranked.length >= 20, `${ranked.length} ranked series`);

    const page = await fixture.openConsole('JPN', 'analyst');
    await page.getByRole('button', { name: 'Critical minerals' }).click();
    const rows = page.locator('table.supply-ranking tbody tr');
    await visible(rows.first(), 15_000);
    // The table shows the node's ranking, in its order (at most 30 rows).
    assert.equal(await rows.count(), Math.min(30, ranked.length));
    assert.equal((await rows.first().locator('td').nth(1).innerText()).trim(), ranked[0].name);

    // The top-ranked commodity: its producers as bars, each bar marked
    // with the largest producer's group as the node's configuration says.
    const first = ranked[0];
    const indicators = await api(jpn, 'reader', 'GET', `/api/v1/supply/indicators?commodity=${encodeURIComponent(first.commodity)}`);
    const series = indicators.indicators.find((s) => s.production);
    assert.ok(series, JSON.stringify(indicators).slice(0, 300));
    const top = series.production.shares[0];
    const groups = indicators.groups;
    const group = groups.partners?.includes(top.country) ? 'partner'
      : groups.allies?.includes(top.country) ? 'ally'
        : groups.concern?.includes(top.country) ? 'concern' : 'other';
    await rows.first().getByRole('button').click();
    const chart = page.locator('svg.supply-chart').first();
    await visible(chart);
    const bars = chart.locator('rect.supply-bar');
    assert.equal(await bars.count(), Math.min(15, series.production.shares.length));
    assert.match(await bars.first().getAttribute('class'), new RegExp(`supply-${group}`));
    assert.equal((await chart.locator('text.supply-code').first().textContent()).trim(), top.country);

    // The scenario, shared as a report.
    await page.locator('#supply-stop').fill('CHN');
    await page.locator('#supply-commodities').fill('gallium');
    await page.locator('#supply-publish').check();
    await page.getByRole('button', { name: 'Run' }).click();
    const outcomes = page.locator('table.supply-outcomes tbody tr');
    await visible(outcomes.first(), 15_000);
    const lost = (await outcomes.first().locator('td').nth(2).innerText()).trim();
    assert.ok(Number(lost.replace(',', '.')) >= 90, `China's lost share of gallium: ${lost} %`);
    await visible(page.getByText('Scenario shared as a report.'));
    await screenshot(page, 'console-supply');

    // USA's node holds JPN's econ.scenario report (the demo's engines mark
    // exercise reports, released to the partners).
    const usa = fixture.cluster.nodes.USA;
    const until = Date.now() + 15_000;
    let held = [];
    while (held.length === 0 && Date.now() < until) {
      const listing = await api(usa, 'reader', 'GET', '/api/v1/reports?kind=econ.scenario&exercise=true&limit=100');
      held = listing.reports.filter((r) => r.owner === 'JPN');
      if (held.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(held.length, 1, 'JPN\'s scenario at USA');
    assert.match(JSON.stringify(held[0].payload), /gallium/);
  });
}

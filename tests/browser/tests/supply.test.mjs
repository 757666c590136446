// Critical minerals as an economic-security analyst at JPN sees them: the
// supply-risk ranking read from the real USGS Mineral Commodity Summaries
// 2024 and WGI files (../shared/data/supply, given to the nodes with
// `trilat demo --supply-data`, never copied), the top-ranked commodity's producers as
// bars marked by group, Japan's own import figures shared from the console,
// and a "China stops exporting gallium" scenario with each partner's
// exposure, shared as an `econ.scenario` report that reaches USA's node.
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
  // As `trilat demo --supply-data` configures them: every node reads the
  // files and groups countries by the example trilat-supply ships.
  const fixture = useCluster({ demoArgs: ['--supply-data', DATA] });

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
    // Every bar in its group's colour: with the example grouping, the
    // partners among gallium's producers (Japan, Korea) are highlighted.
    const groupOf = (code) => (groups.partners?.includes(code) ? 'partner'
      : groups.allies?.includes(code) ? 'ally' : groups.concern?.includes(code) ? 'concern' : 'other');
    const codes = await chart.locator('text.supply-code').allTextContents();
    const classes = await bars.evaluateAll((els) => els.map((e) => e.getAttribute('class')));
    assert.deepEqual(classes, codes.map((c) => `supply-bar supply-${groupOf(c.trim())}`));
    if (first.commodity === 'galli') {
      assert.deepEqual(codes.filter((c) => groupOf(c) === 'partner'), ['JPN', 'KOR']);
    }

    // JPN's analyst shares Japan's own gallium import figures (test
    // figures, not statistics) from the console: a bad file is refused
    // naming its line, the good one becomes an econ.figures report.
    const header = 'party,commodity,figure,country,value,unit,year,source\n';
    const upload = async (name, text) => {
      await page.locator('#supply-figures-file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
      await page.getByRole('button', { name: 'Share figures' }).click();
    };
    await upload('bad.csv', `${header}JPN,gallium,import_share_pct,,60,%,2023,test figures\n`);
    await visible(page.getByText('bad.csv, line 2: import_share_pct: needs a country'));
    await upload('jpn.csv', `${header}JPN,gallium,net_import_reliance_pct,,100,%,2023,test figures\n`
      + 'JPN,gallium,import_share_pct,CHN,60,%,2023,test figures\n');
    await visible(page.getByText('Figures shared as a report.'));

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
    // Each partner's exposure: Japan's from its figures (100 % × 60 %),
    // the United States' bound from USGS, Korea's unknown.
    const exposure = (party) => page.locator('table.supply-exposures tbody tr').filter({ has: page.getByRole('rowheader', { name: party }) });
    assert.equal((await exposure('JPN').locator('td').nth(1).innerText()).trim(), '60.0');
    assert.match(await exposure('JPN').locator('td.supply-basis').innerText(), /econ\.figures JPN\/[0-9a-f-]+ \(jpn\.csv\)/);
    assert.equal((await exposure('KOR').locator('td').nth(1).innerText()).trim(), '—');
    assert.match(await exposure('USA').locator('td.supply-basis').innerText(), /USGS MCS 2024/);
    // USGS gives the United States a bound, not a figure: shown as one, and
    // not ranked against Japan's 60 % (no partner is named most exposed).
    assert.equal((await exposure('USA').locator('td').nth(1).innerText()).trim(), '≤ 100.0');
    assert.equal(await page.locator('table.supply-exposures tr.supply-most').count(), 0);
    const named = outcomes.first().locator('td').nth(7);
    assert.equal((await named.innerText()).trim(), '—');
    assert.match(await named.getAttribute('title'), /cannot be ranked against a larger USGS upper bound/);
    await visible(page.getByText(/^Figures used: econ\.figures JPN\//));
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

    // USA's analyst sees it in the view, among the shared scenarios of the
    // exercise picture: from JPN, China stopped, who is most exposed.
    const usaPage = await fixture.openConsole('USA', 'reader');
    await usaPage.getByRole('radio', { name: 'Exercise' }).check();
    await usaPage.getByRole('button', { name: 'Critical minerals' }).click();
    const shared = usaPage.locator('table.supply-shared tbody tr').filter({ has: usaPage.getByRole('rowheader', { name: 'JPN' }) });
    await visible(shared.first(), 15_000);
    assert.equal(await shared.count(), 1);
    assert.equal((await shared.locator('td').nth(1).innerText()).trim(), 'CHN');
    // Japan's 60 % against the United States' bound of 100 %: nobody named.
    assert.equal((await shared.locator('td').nth(2).innerText()).trim(), 'gallium: —');
  });
}

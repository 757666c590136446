// The Exercises view: a `trilat exercise run --publish` against the three
// nodes shows up at USA's console with its progress; USA's admin pauses it
// there (the runner holds: the last note is not played while paused) and
// resumes it; once the run has ended, the after-action report published to
// USA's node opens with its timeline per party and latency distribution
// drawn from the report's figures, and what KOR did not receive, with the
// release rule's reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api, TRILAT_BIN } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { axeViolations, visible } from '../lib/page.mjs';

const fixture = useCluster();

/** Three notes; the second is USA and JPN only (KOR is refused it), the last comes 10 s in. */
function scenario(tag) {
  const note = (at, party, text, relTo) => `
[[inject]]
at_s = ${at}
label = "${text}"
type = "note"
party = "${party}"
text = "EXERCISE ${text} ${tag}"
marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = [${relTo.map((p) => `"${p}"`).join(', ')}] }
`;
  return `name = "browser-drill"\n${note(0, 'USA', 'startex', ['TRILAT'])}${note(1, 'USA', 'bilateral', ['USA', 'JPN'])}${note(10, 'JPN', 'endex', ['TRILAT'])}`;
}

async function exerciseNotes(node, tag) {
  const { reports } = await api(node, 'admin', 'GET', '/api/v1/reports?exercise=true&kind=note&limit=1000');
  return reports.filter((r) => r.payload?.text?.includes(tag));
}

test('an admin pauses and resumes a run from the console and reads its after-action report', async () => {
  const { USA: usa, JPN: jpn, KOR: kor } = fixture.cluster.nodes;
  const tag = randomUUID();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trilat-exercise-'));
  const file = path.join(dir, 'drill.toml');
  writeFileSync(file, scenario(tag));
  const nodes = [usa, jpn, kor];
  const runner = spawn(TRILAT_BIN, ['exercise', 'run', file,
    '--nodes', nodes.map((n) => n.url).join(','), '--tokens', nodes.map((n) => n.tokens.admin).join(','),
    '--engines-exercise', '--publish', '--settle-s', '2', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  runner.stdout.on('data', (c) => { output += c; });
  runner.stderr.on('data', (c) => { output = (output + c).slice(-20_000); });
  const exited = new Promise((resolve) => runner.once('exit', resolve));

  try {
    const page = await fixture.openConsole('USA', 'admin');
    await page.getByRole('button', { name: 'Exercises' }).click();
    const row = page.getByRole('row', { name: /browser-drill/ });
    await visible(row, 30_000);
    await row.getByRole('button', { name: 'Pause' }).click();
    await visible(row.getByText('paused', { exact: true }), 10_000);
    const { runs } = await api(usa, 'admin', 'GET', '/api/v1/exercise/runs');
    const run = runs.find((r) => r.scenario === 'browser-drill');
    assert.equal(run.state, 'paused');
    assert.equal(run.steered_by, 'USA:browser-admin');

    // Well past the last note's 10 s: held, so it is not played.
    await new Promise((r) => setTimeout(r, 13_000));
    const held = await api(usa, 'admin', 'GET', '/api/v1/exercise/runs');
    assert.ok(held.runs.find((r) => r.run_id === run.run_id).injects_done < 3, 'the run went on while paused');
    assert.equal((await exerciseNotes(jpn, tag)).filter((r) => r.owner === 'JPN').length, 0, 'the last note was played while paused');
    await screenshot(page, 'exercise-paused');

    await row.getByRole('button', { name: 'Resume' }).click();
    await visible(page.getByRole('row', { name: /browser-drill/ }).getByText('finished', { exact: true }), 30_000);
    assert.equal(await exited, 0, output);
    assert.equal((await exerciseNotes(jpn, tag)).filter((r) => r.owner === 'JPN').length, 1);

    const open = page.getByRole('button', { name: new RegExp(`browser-drill — ${run.run_id}`) });
    await visible(open, 15_000);
    await open.click();
    await visible(page.getByRole('heading', { name: 'After-action report: browser-drill' }), 15_000);
    const timeline = page.getByRole('img', { name: /Timeline per party/ });
    const latency = page.getByRole('img', { name: /Latency distribution/ });
    await visible(timeline);
    await visible(latency);
    // USA's share: its two notes (every party's delivery) and JPN's, which USA received.
    assert.ok(await timeline.locator('circle').count() >= 5, 'dots for the deliveries USA may see');
    assert.equal(await timeline.locator('line').count(), 3, 'a row per party');
    assert.equal(await timeline.locator('rect.mark-withheld').count(), 1, "KOR's refusal of the bilateral note");
    assert.ok(await latency.locator('rect.bar').count() >= 2, 'bars for USA and JPN at least');
    const refused = page.getByRole('row', { name: /KOR/ }).filter({ hasText: 'Withheld by the release rule' });
    await visible(refused);
    await timeline.scrollIntoViewIfNeeded();
    await screenshot(page, 'exercise-after-action');
    const violations = await axeViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));

    // KOR's share does not name the note KOR was refused.
    const share = await api(kor, 'admin', 'GET', `/api/v1/exercise/reports/${run.run_id}`);
    const korProducts = share.report.injects.flatMap((i) => i.products);
    assert.ok(korProducts.every((p) => p.deliveries.every((d) => d.status !== 'withheld')), JSON.stringify(korProducts));
    assert.equal(share.party, 'KOR');
    await page.close();
  } finally {
    runner.kill('SIGINT');
  }
});

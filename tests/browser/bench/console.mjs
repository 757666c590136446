// Benchmarks of the console in headless Chromium against a real three-node
// cluster (see BENCHMARKS.md, "Console"). Run with scripts/bench-console.
//
//  load      console loaded and the live picture drawn with 1,000 reports in
//            view: from navigation start (performance.now() = 0) to the first
//            animation frame after the map has its report layers filled
//            (#map[data-ready]) and the timeline counts every report; RUNS
//            fresh contexts (no cache), median and max.
//  bytes     everything the console downloads on that load: the Resource
//            Timing entries' encodedBodySize (compressed body) and
//            transferSize (with headers), the page's own assets apart from
//            the API's answers.
//  latency   a note created at USA (POST through the API) → drawn in JPN's
//            console: a MutationObserver on JPN's timeline sees the note's
//            element and the next requestAnimationFrame callback (the frame
//            that paints it) reads Date.now(); minus Date.now() just before
//            the POST. One clock (same machine). SAMPLES notes, one at a time.
//  vessels   see vessels.mjs: 10,000 vessels updating once a second, frame
//            times from requestAnimationFrame deltas.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { launch, signIn } from '../lib/browser.mjs';
import { api, startCluster, TRILAT_BIN } from '../lib/cluster.mjs';
import { benchVessels } from './vessels.mjs';

const REPORTS = Number(process.env.BENCH_REPORTS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
/** Comma-separated subset of load,latency,vessels (all when unset). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'load,latency,vessels').split(','));

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;

/** REPORTS notes at JPN spread over its sea area, each with a point. */
async function seed(jpn) {
  const started = performance.now();
  for (let i = 0; i < REPORTS; i++) {
    await api(jpn, 'analyst', 'POST', '/api/v1/reports', {
      kind: 'note',
      marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['JPN'], further_sharing: 'none' },
      payload: { text: `Bench contact ${i}: surface vessel sighted` },
      geometry: { type: 'Point', coordinates: [125 + (i % 40) * 0.4, 28 + Math.floor(i / 40) * 0.5] },
    });
  }
  console.error(`seeded ${REPORTS} reports at JPN in ${fmt(performance.now() - started)}`);
}

async function loadOnce(browser, jpn, total) {
  const page = await browser.newPage();
  await signIn(page, jpn, 'reader');
  const drawnAt = await page.waitForFunction(
    (total) => {
      const ready = document.querySelector('#map')?.dataset.ready === 'true';
      const count = document.getElementById('timeline-count')?.textContent ?? '';
      const n = Math.max(0, ...(count.replace(/[,\s]/g, '').match(/\d+/g) ?? []).map(Number));
      if (!ready || n < total) return false;
      return new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
    },
    total,
    { polling: 'raf', timeout: 60_000 },
  );
  const ms = await drawnAt.jsonValue();
  const resources = await page.evaluate(() =>
    performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map((e) => ({
      name: e.name,
      encoded: e.encodedBodySize,
      decoded: e.decodedBodySize,
      transfer: e.transferSize,
    })),
  );
  await page.close();
  return { ms, resources };
}

function sizes(resources) {
  const assets = resources.filter((r) => !new URL(r.name).pathname.startsWith('/api/'));
  const sum = (list, key) => list.reduce((s, r) => s + r[key], 0);
  return {
    files: assets.length,
    encoded: sum(assets, 'encoded'),
    decoded: sum(assets, 'decoded'),
    transfer: sum(assets, 'transfer'),
    largest: assets
      .sort((a, b) => b.encoded - a.encoded)
      .slice(0, 5)
      .map((r) => `${new URL(r.name).pathname} ${(r.encoded / 1024).toFixed(0)} KiB`),
  };
}

async function latency(browser, usa, jpn) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`JPN's page: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`JPN's page console: ${m.text()}`));
  await signIn(page, jpn, 'reader');
  await page.waitForFunction(() => document.querySelector('#map')?.dataset.ready === 'true', null, { timeout: 60_000 });
  await page.evaluate(() => {
    window.__drawn = new Map();
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          const match = node.textContent?.match(/latency-probe-(\d+)/);
          if (match && !window.__drawn.has(match[1])) {
            window.__drawn.set(match[1], 0);
            requestAnimationFrame(() => window.__drawn.set(match[1], Date.now()));
          }
        }
      }
    }).observe(document.getElementById('timeline-list'), { childList: true, subtree: true });
  });
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const sent = Date.now();
    await api(usa, 'analyst', 'POST', '/api/v1/reports', {
      kind: 'note',
      marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
      payload: { text: `latency-probe-${i}` },
    });
    const drawn = await page.waitForFunction((id) => window.__drawn.get(id) || false, String(i), { timeout: 30_000 });
    samples.push((await drawn.jsonValue()) - sent);
  }
  await page.close();
  return samples.sort((a, b) => a - b);
}

const started = performance.now();
const cluster = await startCluster();
const browser = await launch();
try {
  const { USA: usa, JPN: jpn } = cluster.nodes;
  console.log(`trilat binary: ${TRILAT_BIN}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the start`);
  if (ONLY.has('load')) {
    await seed(jpn);
    const total = REPORTS; // the seeded notes alone; the demo's few reports come on top
    const loads = [];
    let last;
    for (let run = 0; run < RUNS; run++) {
      last = await loadOnce(browser, jpn, total);
      loads.push(last.ms);
    }
    loads.sort((a, b) => a - b);
    const size = sizes(last.resources);
    console.log(`load, ${REPORTS} reports in view (${RUNS} fresh loads): median ${fmt(quantile(loads, 0.5))}, max ${fmt(loads.at(-1))}  [${loads.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`download: ${size.files} files, ${(size.encoded / 1024).toFixed(0)} KiB compressed bodies (${(size.transfer / 1024).toFixed(0)} KiB with headers), ${(size.decoded / 1024).toFixed(0)} KiB uncompressed`);
    console.log(`  largest: ${size.largest.join('; ')}`);
  }
  if (ONLY.has('latency')) {
    const lat = await latency(browser, usa, jpn);
    console.log(`create at USA → drawn at JPN (N=${lat.length}): p50 ${fmt(quantile(lat, 0.5))}, p95 ${fmt(quantile(lat, 0.95))}, p99 ${fmt(quantile(lat, 0.99))}, max ${fmt(lat.at(-1))}`);
  }
  if (ONLY.has('vessels')) {
    const v = await benchVessels(cluster);
    console.log(`${v.vessels} vessels in JPN's feed, each updated once a second (exercise mode; ${v.frames} frames in ${v.seconds} s): frame median ${v.median.toFixed(1)} ms, p95 ${v.p95.toFixed(1)} ms, max ${v.max.toFixed(0)} ms; ${v.longTasks} long tasks (${v.longTaskMs.toFixed(0)} ms in all, longest ${v.longestTask.toFixed(0)} ms); the console's vessel line: "${v.status}"`);
    if (v.profile) console.log(`main-thread self time by function during the measurement (BENCH_PROFILE): ${v.profile}`);
  }
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`);
  console.log(`bench wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await browser.close();
  await cluster.stop();
}

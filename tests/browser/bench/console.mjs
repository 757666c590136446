// Benchmarks of the console in headless Chromium against a real three-node
// cluster (see BENCHMARKS.md, "Console"). Run with scripts/bench-console.
//
//  load      console loaded and the live picture drawn with 1,000 reports in
//            view: from navigation start (performance.now() = 0) to the first
//            animation frame after the map has its report layers filled
//            (#map[data-ready]) and the timeline counts every report; RUNS
//            fresh contexts (no cache), median and max. Also per load: the
//            map's first `idle` (everything painted), the CPU time of the
//            renderer and GPU processes until drawn, and the renderer main
//            thread's time in tasks. TRILAT_BIN_BASE: a second cluster of
//            that binary, loads alternated, ratio of the medians.
//  bytes     everything the console downloads on that load: the Resource
//            Timing entries' encodedBodySize (compressed body) and
//            transferSize (with headers), the page's own assets apart from
//            the API's answers.
//  latency   a note created at USA (POST through the API) → drawn in JPN's
//            console: a MutationObserver on JPN's timeline sees the note's
//            element and the next requestAnimationFrame callback (the frame
//            that paints it) reads Date.now(); minus Date.now() just before
//            the POST. One clock (same machine). SAMPLES notes, one at a time.
//            The slowest five are split: until the note's item entered the
//            list, until its frame, and the page's Long Tasks meanwhile.
//            With BENCH_SPLIT=1 this process also reads JPN's stream itself
//            (a plain SSE client with the same reader token): the time the
//            event leaves JPN's node splits the figure into the nodes' part
//            (store, push, receive, stream) and the page's (parse, draw).
//            Off by default: a second subscriber is a second audited
//            release per event at JPN, on the page's path.
//  vessels   see vessels.mjs: 10,000 vessels updating once a second, frame
//            times from requestAnimationFrame deltas.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { launch, signIn } from '../lib/browser.mjs';
import { api, startCluster, TRILAT_BIN } from '../lib/cluster.mjs';
import { benchVessels } from './vessels.mjs';

const REPORTS = Number(process.env.BENCH_REPORTS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
/** Comma-separated subset of load,latency,vessels (all when unset). */
/** A second trilat binary to alternate the loads with (main's, say): see the load section. */
const BASE = process.env.TRILAT_BIN_BASE ? path.resolve(process.env.TRILAT_BIN_BASE) : null;
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

/** CPU seconds so far of each Chromium process by id, with its type (renderer, GPU, browser, utility). */
async function processCpu(browser) {
  const cdp = await browser.browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  await cdp.detach();
  return new Map(processInfo.map((p) => [p.id, p]));
}

/** CPU ms each process type used between two `processCpu` readings (a process new since `before` counts from 0). */
function cpuBetween(before, after) {
  const used = {};
  for (const [id, p] of after) used[p.type] = (used[p.type] ?? 0) + 1000 * (p.cpuTime - (before.get(id)?.cpuTime ?? 0));
  return used;
}

async function loadOnce(browser, jpn, total) {
  const cpuBefore = await processCpu(browser);
  const page = await browser.newPage();
  // The renderer's main thread: time spent running tasks (script, style,
  // layout, paint, parse, GC), from CDP's Performance domain.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
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
  const { metrics } = await cdp.send('Performance.getMetrics');
  const cpu = 1000 * metrics.find((m) => m.name === 'TaskDuration').value;
  const used = cpuBetween(cpuBefore, await processCpu(browser));
  // The map's first `idle`: every source (basemap, zones, reports) tiled
  // and painted; seen at the first animation frame after it.
  const idleAt = await page.waitForFunction(() => document.querySelector('#map')?.dataset.idle === 'true' && performance.now(), null, { polling: 'raf', timeout: 60_000 });
  const idle = await idleAt.jsonValue();
  // The page's own milestones (performance.mark 'trilat:…'), for the breakdown.
  const marks = await page.evaluate(() =>
    Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('trilat:')).map((m) => [m.name.slice(7), m.startTime])),
  );
  const resources = await page.evaluate(() =>
    performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map((e) => ({
      name: e.name,
      encoded: e.encodedBodySize,
      decoded: e.decodedBodySize,
      transfer: e.transferSize,
    })),
  );
  await page.close();
  return { ms, cpu, idle, used, resources, marks };
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

/** Whether `node` holds report `id` (`OWNER/uuid`; a missed probe: lost before or after JPN's node?). */
async function holds(node, id) {
  try {
    await api(node, 'reader', 'GET', `/api/v1/reports/${id}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads `node`'s live stream in this process, calling `onReport(report)` at
 * each report event, until `signal` aborts.
 */
async function followStream(node, onReport, signal) {
  const res = await fetch(`${node.url}/api/v1/stream`, { headers: { authorization: `Bearer ${node.tokens.reader}` }, signal });
  if (!res.ok) throw new Error(`GET /api/v1/stream: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!/^event: ?report$/m.test(block)) continue;
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        onReport(JSON.parse(data));
      }
    }
  })().catch(() => {});
}

async function latency(browser, usa, jpn) {
  const streamed = new Map(); // probe number -> Date.now() when JPN's stream sent it here
  const reading = new AbortController();
  if (process.env.BENCH_SPLIT) await followStream(jpn, (report) => {
    const match = String(report.payload?.text ?? '').match(/^latency-probe-(\d+)$/);
    if (match && !streamed.has(match[1])) streamed.set(match[1], Date.now());
  }, reading.signal);
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`JPN's page: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`JPN's page console: ${m.text()}`));
  await signIn(page, jpn, 'reader');
  await page.waitForFunction(() => document.querySelector('#map')?.dataset.ready === 'true', null, { timeout: 60_000 });
  // Probes start once the page follows the live stream (before that a
  // probe would come with the load, not the stream) and the map has painted
  // everything once (#map[data-idle]): its first frames after the load are
  // Long Tasks of 400-600 ms in software rendering, which delayed the first
  // two probes of each run (BENCHMARKS.md, "Console"): part of the load,
  // not of a report's way to a console that is up.
  await page.locator('#stream-state[data-i18n="stream.live"]').waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('#map')?.dataset.idle === 'true', null, { timeout: 60_000 });
  await page.evaluate(() => {
    window.__drawn = new Map();
    window.__inserted = new Map(); // probe -> Date.now() when its item entered the list
    window.__longTasks = []; // [start, end] in Date.now() time: the main thread busy ≥ 50 ms
    const origin = Date.now() - performance.now();
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push([origin + e.startTime, origin + e.startTime + e.duration]);
      if (window.__longTasks.length > 10_000) window.__longTasks.splice(0, 5_000);
    }).observe({ type: 'longtask' });
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          const match = node.textContent?.match(/latency-probe-(\d+)/);
          if (match && !window.__drawn.has(match[1])) {
            window.__drawn.set(match[1], 0);
            window.__inserted.set(match[1], Date.now());
            requestAnimationFrame(() => window.__drawn.set(match[1], Date.now()));
          }
        }
      }
    }).observe(document.getElementById('timeline-list'), { childList: true, subtree: true });
  });
  const samples = [];
  const nodePart = [];
  const lost = [];
  const parts = []; // per probe: { probe, total, node, inserted, sent, drawn }
  for (let i = 0; i < SAMPLES; i++) {
    const sent = Date.now();
    const { report } = await api(usa, 'analyst', 'POST', '/api/v1/reports', {
      kind: 'note',
      marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: ['USA', 'JPN'], further_sharing: 'none' },
      payload: { text: `latency-probe-${i}` },
    });
    try {
      const drawn = await page.waitForFunction((id) => window.__drawn.get(id) || false, String(i), { timeout: 30_000 });
      const drawnAt = await drawn.jsonValue();
      const insertedAt = await page.evaluate((id) => window.__inserted.get(id), String(i));
      samples.push(drawnAt - sent);
      if (streamed.has(String(i))) nodePart.push(streamed.get(String(i)) - sent);
      parts.push({ probe: i, total: drawnAt - sent, node: streamed.has(String(i)) ? streamed.get(String(i)) - sent : null, inserted: insertedAt - sent, sent, drawn: drawnAt });
    } catch {
      // Said, not hidden: a watch officer must never miss a report.
      const at = (await holds(jpn, `${report.owner}/${report.id}`)) ? "held by JPN's node" : "not at JPN's node";
      const state = await page.locator('#stream-state').textContent();
      lost.push(`probe ${i} (${report.id}): not drawn in 30 s; ${at}; stream state "${state}"`);
      console.error(`LOST ${lost.at(-1)}`);
    }
  }
  // Where the slowest probes' time went: until the item entered JPN's list
  // (nodes, stream, the page's parse and render), then until its frame; and
  // the page's Long Tasks (main thread busy ≥ 50 ms) within the probe.
  const longTasks = await page.evaluate(() => window.__longTasks);
  const slowest = parts.sort((a, b) => b.total - a.total).slice(0, 5).map((p) => {
    const busy = longTasks.filter(([from, to]) => to > p.sent && from < p.drawn)
      .map(([from, to]) => `${(to - from).toFixed(0)} ms at +${(from - p.sent).toFixed(0)}`);
    return `#${p.probe} ${p.total.toFixed(0)} ms (${p.node === null ? '' : `stream sent +${p.node.toFixed(0)}, `}in the list +${p.inserted.toFixed(0)}, frame +${(p.total - p.inserted).toFixed(0)}; long tasks: ${busy.join(', ') || 'none'})`;
  });
  await page.close();
  reading.abort();
  return { samples: samples.sort((a, b) => a - b), nodePart: nodePart.sort((a, b) => a - b), lost, slowest };
}

const started = performance.now();
const cluster = await startCluster();
let baseCluster = null;
const browser = await launch();
try {
  const { USA: usa, JPN: jpn } = cluster.nodes;
  console.log(`trilat binary: ${TRILAT_BIN}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the start`);
  if (ONLY.has('load')) {
    // With TRILAT_BIN_BASE, a second cluster runs that binary and the loads
    // alternate between the two (base, this, this, base, ...): on a noisy
    // machine the ratio of the two medians is the figure to trust.
    const targets = [{ name: 'this', bin: TRILAT_BIN, jpn }];
    if (BASE) {
      baseCluster = await startCluster({ bin: BASE });
      targets.unshift({ name: 'base', bin: BASE, jpn: baseCluster.nodes.JPN });
    }
    for (const target of targets) {
      await seed(target.jpn);
      Object.assign(target, { loads: [], cpu: [], idle: [], renderer: [], gpu: [], marks: new Map(), last: null });
    }
    const total = REPORTS; // the seeded notes alone; the demo's few reports come on top
    for (let run = 0; run < RUNS; run++) {
      for (const target of run % 2 ? [...targets].reverse() : targets) {
        const last = await loadOnce(browser, target.jpn, total);
        target.last = last;
        target.loads.push(last.ms);
        target.cpu.push(last.cpu);
        target.idle.push(last.idle);
        target.renderer.push(last.used.renderer ?? 0);
        target.gpu.push(last.used.GPU ?? 0);
        for (const [name, at] of Object.entries(last.marks)) target.marks.set(name, [...(target.marks.get(name) ?? []), at]);
      }
    }
    for (const target of targets) {
      const { name, bin, loads, cpu, idle, renderer, gpu, marks, last } = target;
      const inOrder = loads.map((ms, i) => `${ms.toFixed(0)}/${cpu[i].toFixed(0)}`).join(', ');
      loads.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      idle.sort((a, b) => a - b);
      const size = sizes(last.resources);
      if (BASE) console.log(`${name}: ${bin}`);
      console.log(`load, ${REPORTS} reports in view (${RUNS} fresh loads): median ${fmt(quantile(loads, 0.5))}, max ${fmt(loads.at(-1))}  [${loads.map((x) => x.toFixed(0)).join(', ')}]`);
      console.log(`  map's first idle (basemap, zones and reports painted): median ${fmt(quantile(idle, 0.5))}, max ${fmt(idle.at(-1))}`);
      const median = (list) => quantile([...list].sort((a, b) => a - b), 0.5);
      console.log(`  CPU time until drawn (CDP SystemInfo.getProcessInfo, processes' own clocks): renderer median ${fmt(median(renderer))}, GPU process median ${fmt(median(gpu))}`);
      console.log(`  renderer main thread busy until drawn (CDP Performance TaskDuration): median ${fmt(quantile(cpu, 0.5))}; load/busy ms in run order: ${inOrder}`);
      console.log(`download: ${size.files} files, ${(size.encoded / 1024).toFixed(0)} KiB compressed bodies (${(size.transfer / 1024).toFixed(0)} KiB with headers), ${(size.decoded / 1024).toFixed(0)} KiB uncompressed`);
      console.log(`  largest: ${size.largest.join('; ')}`);
      const milestones = [...marks].map(([n, times]) => [n, quantile(times.sort((a, b) => a - b), 0.5)]).sort((a, b) => a[1] - b[1]);
      if (milestones.length) console.log(`  page milestones, median ms from navigation start: ${milestones.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', ')}`);
      console.log(`  requests on the last load: ${last.resources.length} (${last.resources.filter((r) => new URL(r.name).pathname.startsWith('/api/')).length} to the API)`);
    }
    if (BASE) {
      const [base, self] = targets.map((t) => quantile(t.loads, 0.5));
      const [baseCpu, selfCpu] = targets.map((t) => quantile(t.cpu, 0.5));
      const [baseIdle, selfIdle] = targets.map((t) => quantile(t.idle, 0.5));
      const [baseR, selfR] = targets.map((t) => quantile([...t.renderer].sort((a, b) => a - b), 0.5));
      console.log(`this / base, medians of ${RUNS} alternated loads each: load ${(self / base).toFixed(2)} (${fmt(self)} / ${fmt(base)}); map's first idle ${(selfIdle / baseIdle).toFixed(2)} (${fmt(selfIdle)} / ${fmt(baseIdle)}); renderer main thread busy ${(selfCpu / baseCpu).toFixed(2)} (${fmt(selfCpu)} / ${fmt(baseCpu)}); renderer CPU ${(selfR / baseR).toFixed(2)} (${fmt(selfR)} / ${fmt(baseR)})`);
      await baseCluster.stop();
      baseCluster = null;
    }
  }
  if (ONLY.has('latency')) {
    const { samples: lat, nodePart, lost, slowest } = await latency(browser, usa, jpn);
    console.log(`create at USA → drawn at JPN (N=${lat.length}): p50 ${fmt(quantile(lat, 0.5))}, p95 ${fmt(quantile(lat, 0.95))}, p99 ${fmt(quantile(lat, 0.99))}, max ${fmt(lat.at(-1))}; ${lost.length} of ${SAMPLES} never drawn`);
    if (nodePart.length) console.log(`  of which create at USA \u2192 sent by JPN's stream to a plain client (N=${nodePart.length}): p50 ${fmt(quantile(nodePart, 0.5))}, p95 ${fmt(quantile(nodePart, 0.95))}, p99 ${fmt(quantile(nodePart, 0.99))}, max ${fmt(nodePart.at(-1))}`);
    console.log(`  slowest: ${slowest.join('; ')}`);
    for (const line of lost) console.log(`  LOST ${line}`);
    if (lost.length) process.exitCode = 1;
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
  await baseCluster?.stop();
}

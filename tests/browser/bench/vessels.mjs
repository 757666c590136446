// 10,000 vessels updating once a second in JPN's console (exercise mode: the
// demo's AIS feeds are exercise data). Every second the bench sends each
// vessel's new position as a real AIS message-1 sentence to JPN's
// `POST /api/v1/ais/nmea`; the console polls `GET /api/v1/ais/vessels` for the
// map's view about once a second and redraws. Once the map holds the 10,000,
// the page records requestAnimationFrame deltas for MEASURE_S seconds (the
// time between painted frames; software rendering, SwiftShader) and the
// Long Tasks the main thread ran. Run with scripts/bench-console.
import { performance } from 'node:perf_hooks';
import { positionReport } from '../lib/ais.mjs';
import { launch, signIn } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';

const VESSELS = Number(process.env.BENCH_VESSELS ?? 10_000);
const MEASURE_S = Number(process.env.BENCH_MEASURE_S ?? 10);
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

/** Vessel i's sentence at second s: spread over the sea west of Japan, each on its own course. */
function line(i, s) {
  const cog = (i * 37) % 360;
  const sogKn = 8 + (i % 12);
  const rad = (cog * Math.PI) / 180;
  const dDeg = (sogKn * s) / 3600 / 60; // knots → degrees of latitude per second, times s
  const lat = 28 + (Math.floor(i / 100) % 100) * 0.14 + dDeg * Math.cos(rad);
  const lon = 122 + (i % 100) * 0.2 + dDeg * Math.sin(rad);
  return positionReport({ mmsi: 431000000 + i, lat, lon, sogKn, cogDeg: cog, headingDeg: cog, second: s });
}

async function feed(jpn, s) {
  const lines = [];
  for (let i = 0; i < VESSELS; i++) lines.push(line(i, s));
  // A fresh node answers 503 engines_starting for its first seconds: wait for it.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${jpn.url}/api/v1/ais/nmea`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jpn.tokens.analyst}`, 'content-type': 'text/plain' },
      body: `${lines.join('\n')}\n`,
    });
    if (res.ok) return;
    const text = await res.text();
    if (res.status !== 503 || !text.includes('engines_starting') || Date.now() > deadline) {
      throw new Error(`POST /api/v1/ais/nmea: HTTP ${res.status} ${text}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Resolves once `node`'s engines answer (a fresh node says 503 engines_starting). */
async function enginesReady(node) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await api(node, 'reader', 'GET', '/api/v1/ais/vessels?limit=1');
    } catch (e) {
      if (!String(e.message).includes('engines_starting') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function benchVessels(cluster) {
  const jpn = cluster.nodes.JPN;
  await enginesReady(jpn);
  const browser = await launch();
  let s = 0;
  let feeding = true;
  const feeder = (async () => {
    while (feeding) {
      const started = performance.now();
      await feed(jpn, s++);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))));
    }
  })();
  try {
    const page = await browser.newPage();
    await signIn(page, jpn, 'reader');
    await page.getByRole('radio', { name: 'Exercise' }).check();
    const deadline = Date.now() + 120_000;
    let total = 0;
    while (Date.now() < deadline) {
      total = (await api(jpn, 'reader', 'GET', '/api/v1/ais/vessels?limit=1')).total;
      if (total >= VESSELS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.waitForTimeout(3_000); // the console's next polls draw them
    const profiler = process.env.BENCH_PROFILE ? await startProfile(page) : null;
    const stats = await page.evaluate(async (seconds) => {
      const deltas = [];
      const tasks = [];
      const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
      observer.observe({ type: 'longtask', buffered: false });
      await new Promise((resolve) => {
        let last = performance.now();
        const end = last + seconds * 1000;
        const frame = (now) => {
          deltas.push(now - last);
          last = now;
          if (now < end) requestAnimationFrame(frame);
          else resolve();
        };
        requestAnimationFrame(frame);
      });
      observer.disconnect();
      return { deltas, tasks, status: document.getElementById('vessels-status')?.textContent ?? '' };
    }, MEASURE_S);
    const profile = profiler ? await profiler() : null;
    const deltas = stats.deltas.sort((a, b) => a - b);
    const tasks = stats.tasks.sort((a, b) => a - b);
    await page.close();
    return {
      vessels: total,
      frames: deltas.length,
      median: quantile(deltas, 0.5),
      p95: quantile(deltas, 0.95),
      max: deltas.at(-1),
      longTasks: tasks.length,
      longestTask: tasks.at(-1) ?? 0,
      longTaskMs: tasks.reduce((a, b) => a + b, 0),
      status: stats.status,
      seconds: MEASURE_S,
      profile,
    };
  } finally {
    feeding = false;
    await feeder.catch(() => {});
    await browser.close();
  }
}

/** Chrome's sampling profiler (CDP) on the page; the returned function stops it and sums self time per function, top 12. */
async function startProfile(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < profile.samples.length; i++) {
      const f = byId.get(profile.samples[i]).callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    }
    return [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join('; ');
  };
}

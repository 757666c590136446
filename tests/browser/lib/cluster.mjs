// A real three-node Trilat cluster (USA, JPN, KOR) of the `trilat` binary on
// free loopback ports, for the browser tests and benchmarks.
//
// `trilat demo --dir D` writes each node's trilat.toml (full mesh, keys, the
// demo policy and its exercise engines) and publishes the demo reports; it
// prints only the admin tokens. So the harness lets the demo write its nodes,
// stops it, adds an admin, an analyst and a reader token of its own to each
// node's config (only their SHA-256 is stored, as `trilat init` does) and
// runs the three nodes again with `trilat serve`: the same nodes, data and
// exercise engines, with a token for every role.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const TRILAT_BIN = process.env.TRILAT_BIN ?? path.join(ROOT, 'target/debug/trilat');
export const PARTIES = ['USA', 'JPN', 'KOR'];
const ROLES = ['admin', 'analyst', 'reader'];
const START_TIMEOUT_MS = 60_000;

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A first port P with P, P+1 and P+2 free on loopback (the demo's layout). */
export async function freePortTriple() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await portFree(port)) && (await portFree(port + 1)) && (await portFree(port + 2))) {
      return port;
    }
  }
  throw new Error('no three consecutive free loopback ports found in 50 tries');
}

/** Runs `bin args`, resolving with its stdout once `done(stdout)` holds. */
function spawnUntil(args, done, what, bin = TRILAT_BIN) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: not ready after ${START_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (done(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: cannot run ${bin}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited (${code ?? signal}) before it was ready\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    });
  });
  return { child, ready, stderr: () => stderr };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

async function waitHealthy(url, token) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after ${START_TIMEOUT_MS} ms (${last})`);
}

/** Parses the demo banner's `PARTY  http://…` lines. */
export function parseDemoUrls(stdout) {
  const urls = {};
  for (const match of stdout.matchAll(/^([A-Z]{3})\s+(http:\/\/127\.0\.0\.1:\d+)\s*$/gm)) {
    urls[match[1]] = match[2];
  }
  return urls;
}

function tomlString(text) {
  return JSON.stringify(text); // a TOML basic string is a JSON string for these ASCII values
}

/**
 * Starts the cluster; `demoArgs` are more `trilat demo` flags (for example
 * `['--sanctions-store', DIR]`: they shape the configs the nodes keep). Returns `{ nodes, stop }` where `nodes.JPN` is
 * `{ party, url, tokens: { admin, analyst, reader } }` (tokens of JPN's own
 * party on JPN's node). `extraToml(party)`, when given, returns TOML
 * appended to that party's config (for example an `[engines.supply]` table).
 * `bin` is the trilat binary (TRILAT_BIN by default; the benchmarks compare two).
 */
export async function startCluster({ demoArgs = [], extraToml = null, bin = TRILAT_BIN } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trilat-browser-'));
  const port = await freePortTriple();
  const demo = spawnUntil(
    ['demo', '--port', String(port), '--dir', dir, ...demoArgs],
    (out) => out.includes('Running until Ctrl-C'),
    'trilat demo',
    bin,
  );
  const banner = await demo.ready;
  await stopChild(demo.child);
  const urls = parseDemoUrls(banner);
  for (const party of PARTIES) {
    if (!urls[party]) throw new Error(`trilat demo printed no URL for ${party}:\n${banner}`);
  }

  const nodes = {};
  for (const party of PARTIES) {
    const tokens = {};
    let toml = '\n# Added by tests/browser/lib/cluster.mjs\n';
    for (const role of ROLES) {
      tokens[role] = `trl_${randomBytes(32).toString('hex')}`;
      const sha256 = createHash('sha256').update(tokens[role]).digest('hex');
      const name = role === 'reader' ? 'watch' : `browser-${role}`;
      toml += `[[tokens]]\nsha256 = ${tomlString(sha256)}\nparty = ${tomlString(party)}\nrole = ${tomlString(role)}\nname = ${tomlString(name)}\n`;
    }
    if (extraToml) toml += `\n${extraToml(party)}\n`;
    appendFileSync(path.join(dir, party, 'trilat.toml'), toml);
    nodes[party] = { party, url: urls[party], tokens };
  }

  const servers = PARTIES.map((party) => {
    const server = spawn(bin, ['serve', '--config', path.join(dir, party, 'trilat.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    nodes[party].stderr = () => stderr;
    return server;
  });
  const stop = async () => {
    await Promise.all(servers.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(PARTIES.map((p) => waitHealthy(nodes[p].url, nodes[p].tokens.admin)));
  } catch (e) {
    const logs = PARTIES.map((p) => `--- ${p} stderr:\n${nodes[p].stderr()}`).join('\n');
    await stop();
    throw new Error(`${e.message}\n${logs}`);
  }
  return { nodes, dir, stop };
}

/** A small API client for seeding and checking (the console is the system under test). */
export async function api(node, role, method, route, body) {
  const res = await fetch(`${node.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${node.tokens[role]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    throw new Error(`${method} ${node.url}${route} (${role}): HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  return json;
}

/**
 * POSTs `text` (text/plain) to an engine route as `role`, waiting while the
 * node's engines are still starting (503 `engines_starting`: the missile
 * engine builds its zones first). Returns `{ status, body }` of the answer.
 */
export async function postText(node, role, route, text, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${node.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.tokens[role]}`, 'content-type': 'text/plain' },
      body: text,
    });
    const raw = await res.text();
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    if (res.status === 503 && body?.error?.code === 'engines_starting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    return { status: res.status, body };
  }
}

/**
 * Issue 9 target: `newsletter serve` answers one-click POSTs in under 20 ms median with 200
 * concurrent clients, fsync included. The server is the real CLI in its own process, on the
 * files suppression store; every request unsubscribes a new address (so every one is a durable
 * write), 200 keep-alive clients in this process each send their next POST as soon as the last
 * is answered. Reported per run: median and p99 latency, requests per second; then the medians
 * over the runs. Both processes share this machine's cores.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, quantile } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'bench-secret';

function startServe(dir) {
  const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []), path.join(ROOT, 'bin/newsletter.js'), 'serve', '--port', '0', '--templates', path.join(ROOT, 'templates')], {
    cwd: dir,
    env: { ...process.env, NEWSLETTER_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = / at (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
      if (match) {
        child.stdout.off('data', onData);
        // The request log goes nowhere: a terminal's speed is not the server's.
        child.stdout.resume();
        resolve({ child, port: Number(match[2]) });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

function post(agent, port, pathname) {
  return new Promise((resolve, reject) => {
    const body = 'List-Unsubscribe=One-Click';
    const req = http.request({ agent, port, host: '127.0.0.1', method: 'POST', path: pathname, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(port, paths, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) {
        const pathname = paths[next++];
        const t = performance.now();
        const status = await post(agent, port, pathname);
        latencies.push(performance.now() - t);
        if (status !== 200) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { median: median(latencies), p99: quantile(latencies, 0.99), rps: paths.length / seconds, failures };
}

/** The floor on this machine: Node's http answering the same POSTs with no work at all. */
const BARE_SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end('<p>ok</p>'); }); });
s.listen(0, '127.0.0.1', () => console.log(' at http://127.0.0.1:' + s.address().port + '/'));
`;

function startBare() {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.on('data', (chunk) => {
    const match = /:(\d+)\//.exec(String(chunk));
    if (match) resolve({ child, port: Number(match[1]) });
  }));
}

export async function run({ concurrency = 200, requests = 4000, runs = 3 } = {}) {
  const { loadProject, unsubscribeToken } = await import(path.join(ROOT, 'lib/index.js'));
  const { listIdFor } = await import(path.join(ROOT, 'lib/render/list-id.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-serve-'));
  cpSync(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  writeFileSync(path.join(dir, 'newsletter.config.json'), readFileSync(path.join(ROOT, 'newsletter.config.json')));
  mkdirSync(path.join(dir, 'dist/site'), { recursive: true });
  writeFileSync(path.join(dir, 'dist/site/index.html'), '<!doctype html><title>bench</title>');
  const project = await loadProject({ cwd: dir, templates: path.join(ROOT, 'templates') });
  const listId = listIdFor(project.config);
  const { child, port } = await startServe(dir);
  try {
    // Warm-up: JIT, the store's first read, the file's first blocks.
    await load(port, Array.from({ length: 400 }, (_, i) => `/unsubscribe/${unsubscribeToken(`warm${i}@example.com`, SECRET, listId)}`), concurrency);
    const results = [];
    for (let r = 0; r < runs; r++) {
      const paths = Array.from({ length: requests }, (_, i) => `/unsubscribe/${unsubscribeToken(`run${r}-reader${i}@example.com`, SECRET, listId)}`);
      results.push(await load(port, paths, concurrency));
    }
    const bare = await startBare();
    let floor;
    try {
      await load(bare.port, Array.from({ length: 400 }, () => '/x'), concurrency);
      floor = await load(bare.port, Array.from({ length: requests }, () => '/x'), concurrency);
    } finally {
      bare.child.kill();
    }
    const lines = readFileSync(path.join(dir, 'suppressions.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).length;
    return {
      concurrency,
      requestsPerRun: requests,
      runs: results.map((r) => ({ medianMs: +r.median.toFixed(2), p99Ms: +r.p99.toFixed(2), rps: Math.round(r.rps), failures: r.failures })),
      medianMs: +median(results.map((r) => r.median)).toFixed(2),
      p99Ms: +median(results.map((r) => r.p99)).toFixed(2),
      rps: Math.round(median(results.map((r) => r.rps))),
      bareMedianMs: +floor.median.toFixed(2),
      bareRps: Math.round(floor.rps),
      suppressedLines: lines,
      expectedLines: 400 + requests * runs,
      target: 'median < 20 ms at 200 concurrent clients',
    };
  } finally {
    child.kill('SIGTERM');
  }
}

if (isMain(import.meta.url)) {
  const r = await run();
  for (const [i, x] of r.runs.entries()) console.log(`run ${i + 1}: median ${x.medianMs} ms, p99 ${x.p99Ms} ms, ${x.rps} req/s, ${x.failures} failures`);
  console.log(`serve one-click POST, ${r.concurrency} concurrent clients, fsync per answer: median ${r.medianMs} ms, p99 ${r.p99Ms} ms, ${r.rps} req/s (target ${r.target})`);
  console.log(`floor, bare node:http doing nothing, same clients: median ${r.bareMedianMs} ms, ${r.bareRps} req/s`);
  console.log(`suppression list: ${r.suppressedLines} addresses recorded, ${r.expectedLines} expected`);
}

/**
 * Issue 11 targets, on the example issue (content/issues/weekly-1.md):
 *  - a cold `newsletter build` (a fresh process, as a user runs it) at or under 1.0 s median;
 *  - `newsletter check` as a command at most 1.25x `newsletter build`, measured side by side.
 * Fresh processes, interleaved build/check/build/check… so machine noise hits both alike; the
 * load average is printed with the figures, since a shared machine moves the absolute times.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, quantile } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/newsletter.js');

function time(args) {
  const t = performance.now();
  execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  return performance.now() - t;
}

export async function run({ runs = 11 } = {}) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-commands-'));
  const build = ['build', 'weekly-1', '--out', out];
  const check = ['check', 'weekly-1'];
  // One of each first: the OS file cache, not our code, is what a first-ever run measures.
  time(build);
  time(check);
  const builds = [];
  const checks = [];
  const load = [];
  for (let i = 0; i < runs; i++) {
    load.push(os.loadavg()[0]);
    if (i % 2) {
      checks.push(time(check));
      builds.push(time(build));
    } else {
      builds.push(time(build));
      checks.push(time(check));
    }
  }
  const b = median(builds);
  const c = median(checks);
  return {
    runs,
    buildMedianMs: Math.round(b),
    buildP90Ms: Math.round(quantile(builds, 0.9)),
    checkMedianMs: Math.round(c),
    checkP90Ms: Math.round(quantile(checks, 0.9)),
    checkToBuild: +(c / b).toFixed(3),
    loadAverage: +median(load).toFixed(1),
    cores: os.cpus().length,
  };
}

if (isMain(import.meta.url)) {
  const r = await run({ runs: Number(process.env.BENCH_RUNS ?? 11) });
  console.log(`commands on the example, ${r.runs} fresh processes each, interleaved (load average ${r.loadAverage} on ${r.cores} cores):`);
  console.log(`  newsletter build weekly-1   median ${r.buildMedianMs} ms  (p90 ${r.buildP90Ms} ms)   target <= 1000 ms -> ${r.buildMedianMs <= 1000 ? 'met' : 'NOT met'}`);
  console.log(`  newsletter check weekly-1   median ${r.checkMedianMs} ms  (p90 ${r.checkP90Ms} ms)`);
  console.log(`  check / build               ${r.checkToBuild}   target <= 1.25 -> ${r.checkToBuild <= 1.25 ? 'met' : 'NOT met'}`);
}

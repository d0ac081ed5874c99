/**
 * Issue 5 target: `newsletter check` of the example issue (without --a11y) adds at most 50% to the
 * time of `build` on the same issue, measured side by side in one run.
 *
 * What is compared, all on content/issues/weekly-1.md:
 *  - warm, in one process, interleaved: `buildIssue` (render + compose + write: the build stage)
 *    against `runChecks` on the same render (what checking adds). Target: checks / build <= 0.5.
 *    Also `checkProjectIssue` (render + checks, what `check` does per issue) against build.
 *  - cold, in fresh processes: the first buildIssue of a process against the first runChecks
 *    (which loads caniemail's data) — what one `npx newsletter check` pays once.
 *  - the two commands end to end, `newsletter build` (which now also counts findings) and
 *    `newsletter check`, as fresh processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, ms } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SLUG = 'weekly-1';

async function load() {
  const lib = await import(path.join(ROOT, 'lib/index.js'));
  const out = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-check-'));
  const project = await lib.loadProject({ cwd: ROOT, out });
  return { lib, project };
}

/** One fresh process: the first build and the first check of its life. */
async function coldChild() {
  const { lib, project } = await load();
  let t = performance.now();
  const built = await lib.buildIssue(project, SLUG);
  const build = performance.now() - t;
  t = performance.now();
  await lib.runChecks({ project, issue: built.issue, rendered: built.rendered, message: built.eml });
  const checks = performance.now() - t;
  process.stdout.write(JSON.stringify({ build, checks }));
}

function timeCommand(args) {
  const t = performance.now();
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'bin/newsletter.js'), ...args], { cwd: ROOT, stdio: 'ignore' });
  } catch (error) {
    // `check` exits 1 when an error-level finding remains; the example has none, so this is a failure.
    throw new Error(`newsletter ${args.join(' ')} failed: exit ${error.status}`);
  }
  return performance.now() - t;
}

export async function run({ rounds = 60, coldRuns = 5 } = {}) {
  const { lib, project } = await load();
  const rendered = await lib.renderProjectIssue(project, SLUG);

  for (let i = 0; i < 8; i++) {
    await lib.buildIssue(project, SLUG);
    await lib.runChecks({ project, ...rendered });
    await lib.checkProjectIssue(project, SLUG);
  }
  const build = [];
  const checks = [];
  const check = [];
  const steps = [
    [build, () => lib.buildIssue(project, SLUG)],
    [checks, () => lib.runChecks({ project, ...rendered })],
    [check, () => lib.checkProjectIssue(project, SLUG)],
  ];
  for (let i = 0; i < rounds; i++) {
    // The order rotates, so no step always pays for the garbage of the same other step. No forced
    // GC between steps: after gc() V8 sweeps concurrently, a fixed cost of several ms that would
    // land on whichever step comes next, and weigh most on the shortest.
    for (let k = 0; k < steps.length; k++) {
      const [samples, step] = steps[(i + k) % steps.length];
      const t = performance.now();
      await step();
      samples.push(performance.now() - t);
    }
  }

  const cold = [];
  for (let i = 0; i < coldRuns; i++) {
    const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--cold-child'], { cwd: ROOT, encoding: 'utf8' });
    cold.push(JSON.parse(output));
  }

  const out = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-check-cli-'));
  const cliBuild = [];
  const cliCheck = [];
  for (let i = 0; i < coldRuns; i++) {
    cliBuild.push(timeCommand(['build', SLUG, '--out', out]));
    cliCheck.push(timeCommand(['check', SLUG]));
  }

  const warmBuild = median(build);
  const warmChecks = median(checks);
  const warmCheck = median(check);
  const coldBuild = median(cold.map((c) => c.build));
  const coldChecks = median(cold.map((c) => c.checks));
  return {
    warmBuildMedianMs: +warmBuild.toFixed(2),
    warmChecksMedianMs: +warmChecks.toFixed(2),
    warmCheckCommandMedianMs: +warmCheck.toFixed(2),
    checksAddedToBuild: +(warmChecks / warmBuild).toFixed(3),
    checkToBuildRatio: +(warmCheck / warmBuild).toFixed(3),
    target: 'checksAddedToBuild <= 0.5',
    coldBuildMedianMs: Math.round(coldBuild),
    coldChecksMedianMs: Math.round(coldChecks),
    coldChecksAddedToBuild: +(coldChecks / coldBuild).toFixed(3),
    cliBuildMedianMs: Math.round(median(cliBuild)),
    cliCheckMedianMs: Math.round(median(cliCheck)),
    cliCheckToBuildRatio: +(median(cliCheck) / median(cliBuild)).toFixed(3),
    rounds,
    coldRuns,
  };
}

if (process.argv.includes('--cold-child')) {
  await coldChild();
} else if (isMain(import.meta.url)) {
  const r = await run();
  console.log(`warm, one process, ${r.rounds} interleaved rounds, order rotating (medians):`);
  console.log(`  buildIssue (render + compose + write)   ${ms(r.warmBuildMedianMs)}`);
  console.log(`  runChecks on the same render            ${ms(r.warmChecksMedianMs)}`);
  console.log(`  checkProjectIssue (render + checks)     ${ms(r.warmCheckCommandMedianMs)}`);
  console.log(`  checks added to build                   ${(r.checksAddedToBuild * 100).toFixed(1)}%  (target <= 50%)`);
  console.log(`cold, first call in ${r.coldRuns} fresh processes (medians):`);
  console.log(`  first buildIssue                        ${r.coldBuildMedianMs} ms`);
  console.log(`  first runChecks (loads caniemail)       ${r.coldChecksMedianMs} ms  (${(r.coldChecksAddedToBuild * 100).toFixed(1)}% of the first build)`);
  console.log(`commands, ${r.coldRuns} fresh processes each, interleaved (medians):`);
  console.log(`  newsletter build weekly-1               ${r.cliBuildMedianMs} ms  (prints the finding counts, so it runs the checks too)`);
  console.log(`  newsletter check weekly-1               ${r.cliCheckMedianMs} ms  (ratio ${r.cliCheckToBuildRatio})`);
  console.log(`target: checks add at most 50% to build -> ${r.checksAddedToBuild <= 0.5 ? 'met' : 'NOT met'} (warm ${(r.checksAddedToBuild * 100).toFixed(1)}%)`);
}

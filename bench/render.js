/**
 * Issue 2 targets:
 *  - a warm renderIssue of the example costs at most 1.2x the bare mjml2html call on the same MJML,
 *    measured side by side (interleaved) in one process;
 *  - a cold `newsletter build` of the example stays under 1.5 s (median of fresh processes).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, ms } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function run({ rounds = 60, coldRuns = 7 } = {}) {
  const { loadProject, renderIssue, loadIssue } = await import(path.join(ROOT, 'lib/index.js'));
  const { loadMjml, mjmlOptions } = await import(path.join(ROOT, 'lib/render/mjml.js'));
  const project = await loadProject({ cwd: ROOT });
  const issue = await loadIssue(project.config.paths.content, 'weekly-1', project.config.paths.cwd);
  const mjml2html = await loadMjml();
  const options = { config: project.config, templates: project.templates };
  const first = await renderIssue(issue, options);
  const bareOptions = mjmlOptions(project.templates);

  // Warm-up both paths, then interleave so that machine noise hits both alike.
  for (let i = 0; i < 15; i++) {
    await renderIssue(issue, options);
    await mjml2html(first.mjml, bareOptions);
  }
  const ours = [];
  const bare = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await renderIssue(issue, options);
    ours.push(performance.now() - t);
    t = performance.now();
    await mjml2html(first.mjml, bareOptions);
    bare.push(performance.now() - t);
  }

  const cold = [];
  const out = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-'));
  for (let i = 0; i < coldRuns; i++) {
    const t = performance.now();
    execFileSync(process.execPath, [path.join(ROOT, 'bin/newsletter.js'), 'build', 'weekly-1', '--out', out], { cwd: ROOT, stdio: 'ignore' });
    cold.push(performance.now() - t);
  }

  const renderMedian = median(ours);
  const bareMedian = median(bare);
  return {
    renderIssueMedianMs: +renderMedian.toFixed(2),
    bareMjmlMedianMs: +bareMedian.toFixed(2),
    renderToMjmlRatio: +(renderMedian / bareMedian).toFixed(3),
    renderTarget: '<= 1.2',
    coldBuildMedianMs: Math.round(median(cold)),
    coldBuildRunsMs: cold.map(Math.round),
    coldTarget: '< 1500 ms',
    rounds,
  };
}

if (isMain(import.meta.url)) {
  const r = await run();
  console.log(`warm renderIssue  ${ms(r.renderIssueMedianMs)}  (median of ${r.rounds})`);
  console.log(`bare mjml2html    ${ms(r.bareMjmlMedianMs)}`);
  console.log(`ratio             ${r.renderToMjmlRatio}  (target ${r.renderTarget})`);
  console.log(`cold build        ${r.coldBuildMedianMs} ms median  [${r.coldBuildRunsMs.join(', ')}]  (target ${r.coldTarget})`);
}

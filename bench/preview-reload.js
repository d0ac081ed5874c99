/**
 * Issue 3 target: median under 250 ms from a file write to the updated email in the browser.
 *
 * A preview server on a free loopback port over a temp copy of the example, the page open in the
 * system Chromium; each round appends a token to the seed article and waits until the email frame
 * shows it. Measured in the same run, for the ratio: the bare re-render of the issue (load + render,
 * what any preview must pay), so the ratio is the cost of watching, pushing and reloading on top.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, median, ms, quantile } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FRAME = '#frame-box iframe.email-frame:not(.incoming)';

export async function run({ edits = 20, renders = 20 } = {}) {
  const { startPreviewServer } = await import(path.join(ROOT, 'lib/preview/preview-server.js'));
  const { launchChromium } = await import(path.join(ROOT, 'lib/browser.js'));
  const { loadProject, renderProjectIssue } = await import(path.join(ROOT, 'lib/index.js'));

  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-bench-preview-'));
  for (const entry of ['content', 'templates', 'newsletter.config.json']) await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  const article = path.join(dir, 'content/articles/kim-putin-summit.txt');
  const original = await readFile(article, 'utf8');

  const server = await startPreviewServer({ request: { cwd: dir }, port: 0 });
  const browser = await launchChromium(process.env);
  try {
    await server.ready;
    const serverSide = [];
    server.onUpdate((update) => serverSide.push(update.ms));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}issues/weekly-1/`);
    const shows = (token) =>
      page.waitForFunction(
        ([selector, wanted]) => document.querySelector(selector)?.contentDocument?.body?.innerText.includes(wanted) ?? false,
        [FRAME, token],
        { polling: 'raf', timeout: 10_000 },
      );
    await shows('Oyintari Ben');

    const reloads = [];
    // Two warm-up edits, then the measured ones; a pause between saves as an editor's would have.
    for (let i = -2; i < edits; i++) {
      const token = `Bench-${i}-${Math.random().toString(36).slice(2, 8)}`;
      const lines = original.split('\n');
      lines[1] = `${lines[1]} ${token}.`;
      const started = performance.now();
      await writeFile(article, lines.join('\n'));
      await shows(token);
      if (i >= 0) reloads.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }

    // The same work without the preview around it, in the same process and run.
    const project = await loadProject({ cwd: dir });
    const bare = [];
    for (let i = -3; i < renders; i++) {
      const started = performance.now();
      await renderProjectIssue(project, 'weekly-1');
      if (i >= 0) bare.push(performance.now() - started);
    }

    const reloadMedian = median(reloads);
    const bareMedian = median(bare);
    return {
      reloadMedianMs: +reloadMedian.toFixed(1),
      reloadP90Ms: +quantile(reloads, 0.9).toFixed(1),
      reloadRunsMs: reloads.map((t) => Math.round(t)),
      serverSideMedianMs: +median(serverSide.slice(-edits)).toFixed(1),
      bareRenderMedianMs: +bareMedian.toFixed(1),
      reloadToRenderRatio: +(reloadMedian / bareMedian).toFixed(2),
      reloadTarget: '< 250 ms',
      edits,
    };
  } finally {
    await writeFile(article, original);
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const r = await run();
  console.log(`write → updated email in Chromium  ${ms(r.reloadMedianMs)} median, p90 ${ms(r.reloadP90Ms)} over ${r.edits} edits  (target ${r.reloadTarget})`);
  console.log(`  of which re-rendering in the server ${ms(r.serverSideMedianMs)} median (after the 8 ms debounce)`);
  console.log(`bare load + render of the issue     ${ms(r.bareRenderMedianMs)} median`);
  console.log(`ratio reload / bare render          ${r.reloadToRenderRatio}`);
  console.log(`runs: [${r.reloadRunsMs.join(', ')}] ms`);
}

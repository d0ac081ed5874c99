import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/config/defaults.js';
import { BIN, ROOT } from './helpers/cli.js';

/**
 * Memory on the largest article `build` accepts: table-heavy Markdown (MJML inlines styles into
 * every cell, the worst growth we know), as large as the limits let through. Peak RSS of the
 * whole process (MJML worker included) is read from the child's own resourceUsage at exit.
 */

const LIMIT_MB = 300;
const RSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss="+process.resourceUsage().maxRSS+"\\n"))';

function build(dir: string): Promise<{ code: number | null; stdout: string; stderr: string; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_HOOK, BIN, 'build', '--content', 'content', '--templates', path.join(ROOT, 'templates'), '--out', 'dist'], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const kb = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ code, stdout, stderr, rssMb: kb / 1024 });
    });
  });
}

function tableHeavyMarkdown(bytes: number): string {
  let text = '---\ntitle: A very long report\nauthor: A Reporter\n---\n';
  const block = 'Some *emphasis*, a [link](https://example.com/x), `code` and **bold** words in a paragraph.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n';
  while (text.length < bytes) text += block;
  return text;
}

describe('the largest accepted article', () => {
  it(`builds in under ${LIMIT_MB} MB of memory; a larger one is refused with a clear error`, { timeout: 300_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-large-'));
    await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
    await rm(path.join(dir, 'content/articles/kim-putin-summit.txt'));
    const article = path.join(dir, 'content/articles/kim-putin-summit.md');

    // Too large for one email: refused before MJML, naming the limit.
    await writeFile(article, tableHeavyMarkdown(DEFAULTS.maxMjmlBytes));
    const refused = await build(dir);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/KB of MJML, over the limit of 400 KB/);

    // The largest that passes: shrink until the build accepts it (the template's share varies).
    // Article HTML carries inline styles on every cell and paragraph (phone-safe in any layout), so
    // the MJML is several times the Markdown: start near a third of the limit.
    let size = Math.round(DEFAULTS.maxMjmlBytes * 0.3);
    let accepted = null;
    for (let tries = 0; tries < 10 && !accepted; tries++, size = Math.round(size * 0.85)) {
      await writeFile(article, tableHeavyMarkdown(size));
      const run = await build(dir);
      if (run.code === 0) accepted = run;
      else expect(run.stderr).toMatch(/KB of MJML, over the limit/);
    }
    expect(accepted, 'no size was accepted').not.toBeNull();
    expect(accepted!.stdout).toMatch(/index\.html {2}\d+/);
    expect(accepted!.rssMb).toBeGreaterThan(50);
    expect(accepted!.rssMb).toBeLessThan(LIMIT_MB);
  });
});

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { copyPreviewProject } from './helpers/preview-project.js';

/**
 * `preview --open` on a machine where the browser cannot be opened: the executable says so on
 * stderr, with the URL to open by hand, and goes on serving. The opener is a stand-in `xdg-open`
 * first on PATH that fails as the real one does when no browser is configured (exit 3).
 */

let project: Awaited<ReturnType<typeof copyPreviewProject>>;
let bin: string;

beforeAll(async () => {
  project = await copyPreviewProject();
  bin = await mkdtemp(path.join(os.tmpdir(), 'preview-opener-'));
  await writeFile(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "xdg-open: no method available for opening '$1'" >&2\nexit 3\n`, { mode: 0o755 });
  await writeFile(path.join(bin, 'open'), `#!/bin/sh\necho "open: no browser" >&2\nexit 1\n`, { mode: 0o755 });
});
afterAll(async () => {
  await project?.cleanup();
  await rm(bin, { recursive: true, force: true });
});

describe('preview --open', () => {
  it('says that the browser could not be opened, and why, then goes on serving', async () => {
    const child = spawn(process.execPath, [BIN, 'preview', '--port', '0', '--open', '--no-checks'], {
      cwd: project.dir,
      env: { ...process.env, NO_COLOR: '1', PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const until = Date.now() + 30_000;
      while (!/warning: --open/.test(stderr) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      const url = /Preview: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
      expect(url, stdout + stderr).toBeTruthy();
      const opener = process.platform === 'darwin' ? "open exited with 1: open: no browser" : `xdg-open exited with 3: xdg-open: no method available for opening '${url}'`;
      const warning = stderr.split('\n').find((line) => line.startsWith('warning: --open'));
      expect(warning).toBe(`warning: --open: could not open a browser (${opener}): open ${url} yourself`);
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

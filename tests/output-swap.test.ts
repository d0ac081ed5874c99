import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recoverInterruptedSwap, writeFolderAtomically } from '../src/output/write-issue.js';

/** The output swap leaves either the old or the new folder, whichever step fails. */

describe('output folder swap', () => {
  it('restores the old folder when the second rename (new folder into place) fails', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-swap-'));
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'old' }]);
    let calls = 0;
    const failing = writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'new' }], {
      async rename(from, to) {
        calls++;
        if (calls === 2) throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
        await rename(from, to);
      },
    });
    await expect(failing).rejects.toMatchObject({ code: 'OUTPUT_WRITE' });
    expect(calls).toBe(3);
    expect(await readFile(path.join(out, 'issue/index.html'), 'utf8')).toBe('old');
    expect(await readdir(out)).toEqual(['issue']);
  });

  it('after a crash between the two renames, the next write restores the old folder first', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-swap-'));
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'old' }]);
    // What a kill -9 right after the first rename leaves behind.
    await rename(path.join(out, 'issue'), path.join(out, `.issue.old-12345-${Date.now()}`));
    await mkdir(path.join(out, '.issue.tmp-abc'));
    expect(await recoverInterruptedSwap(out, 'issue')).toBe(true);
    expect(await readFile(path.join(out, 'issue/index.html'), 'utf8')).toBe('old');

    await rename(path.join(out, 'issue'), path.join(out, `.issue.old-12345-${Date.now()}`));
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'new' }]);
    expect(await readFile(path.join(out, 'issue/index.html'), 'utf8')).toBe('new');
    expect((await readdir(out)).filter((e) => e.startsWith('.issue.old-'))).toEqual([]);
  });

  it('a failing first rename leaves the old folder untouched', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-swap-'));
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'old' }]);
    await writeFile(path.join(out, 'issue/extra.txt'), 'kept');
    const failing = writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'new' }], {
      async rename() {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    await expect(failing).rejects.toMatchObject({ code: 'OUTPUT_WRITE' });
    expect(await readdir(path.join(out, 'issue'))).toEqual(['extra.txt', 'index.html']);
    expect(await readdir(out)).toEqual(['issue']);
  });
});

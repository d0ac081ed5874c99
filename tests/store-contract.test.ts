import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFilesStore } from '../src/store/files/index.js';
import { runStoreContract } from './helpers/store-contract.js';

/** The store contract for the files backend (the Redis backend runs the same cases). */

const root = await mkdtemp(path.join(tmpdir(), 'newsletter-store-'));

/** A pid no process has: beyond Linux's pid_max (4194304). */
export const DEAD_PID = 4_194_305;

runStoreContract('files', {
  async open(state) {
    const dir = path.join(root, state);
    return openFilesStore({ journalDir: path.join(dir, 'sends'), suppressions: path.join(dir, 'suppressions.txt') });
  },
  async openProject(state, file) {
    return openFilesStore({ journalDir: path.join(root, state, 'sends'), suppressions: file });
  },
  async dump(state) {
    const texts: string[] = [];
    for (const entry of await readdir(path.join(root, state), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) texts.push(`${entry.name}\n${await readFile(path.join(entry.parentPath, entry.name), 'utf8')}`);
    }
    return texts.join('\n');
  },
  async makeStale(state, key) {
    const dir = path.join(root, state, 'sends');
    await mkdir(dir, { recursive: true });
    const { hostname } = await import('node:os');
    await writeFile(path.join(dir, `${key.issueSlug}.lock`), JSON.stringify({ pid: DEAD_PID, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'crashed' }));
  },
});

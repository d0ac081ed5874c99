import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/send-project.js';

/**
 * The files lock under real races: several processes, started together, take the lock of one
 * issue while a stale lock (its holder is dead) or an empty lock file is in place. Each child
 * loads the compiled module, says `ready`, takes the lock on `go` and reports `held` or the
 * error code, and keeps a held lock until the parent has heard from everyone: so two holders at
 * once would be seen. Runs lib/ (built by `npm test`).
 */

const PROCESSES = 4;
const TRIALS = 12;
const DEAD_PID = 4_194_305;

const CHILD = `
import { acquireFileLock } from ${JSON.stringify(path.join(REPO, 'lib/store/files/lock.js'))};
import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin });
const it = lines[Symbol.asyncIterator]();
console.log('ready');
await it.next();
let lock = null;
try {
  lock = await acquireFileLock(process.argv[1]);
  console.log('held ' + (lock.takenOverFrom ?? '-'));
} catch (error) {
  console.log('refused ' + (error.code ?? error.message));
}
await it.next();
await lock?.release();
`;

interface Child {
  process: ChildProcessWithoutNullStreams;
  next(): Promise<string>;
}

function startChild(lockFile: string): Child {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, lockFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    process: child,
    async next() {
      const line = await lines.next();
      if (line.done) throw new Error(`child ended early: ${stderr}`);
      return line.value;
    },
  };
}

async function trial(dir: string, prepare: (lockFile: string) => Promise<void>): Promise<string[]> {
  const lockFile = path.join(dir, 'weekly-1.lock');
  await prepare(lockFile);
  const children = Array.from({ length: PROCESSES }, () => startChild(lockFile));
  try {
    for (const child of children) expect(await child.next()).toBe('ready');
    for (const child of children) child.process.stdin.write('go\n');
    const answers = await Promise.all(children.map((child) => child.next()));
    for (const child of children) child.process.stdin.end('done\n');
    await Promise.all(children.map((child) => new Promise((resolve) => child.process.once('exit', resolve))));
    return answers;
  } finally {
    for (const child of children) child.process.kill();
  }
}

describe('files lock under races', () => {
  it('lib/ is built', async () => {
    await access(path.join(REPO, 'lib/store/files/lock.js')).catch(() => {
      throw new Error('lib/ is missing: run `npx tsc -p .` (npm test does) before this test');
    });
  });

  for (const [name, prepare] of [
    ['a stale lock (dead pid)', (file: string) => writeFile(file, JSON.stringify({ pid: DEAD_PID, host: hostname(), startedAt: '2026-01-01T00:00:00Z', token: 'crashed' }))],
    ['an empty lock file', (file: string) => writeFile(file, '')],
    ['no lock at all', async () => undefined],
  ] as const) {
    it(`${PROCESSES} processes against ${name}: exactly one holder, ${TRIALS} times in a row`, { timeout: 90_000 }, async () => {
      const root = await mkdtemp(path.join(tmpdir(), 'newsletter-lock-race-'));
      for (let i = 0; i < TRIALS; i++) {
        const dir = path.join(root, String(i));
        await mkdir(dir);
        const answers = await trial(dir, prepare);
        const held = answers.filter((answer) => answer.startsWith('held'));
        expect(held, `trial ${i}: ${answers.join(', ')}`).toHaveLength(1);
        for (const answer of answers) if (!answer.startsWith('held')) expect(answer).toBe('refused SEND_LOCKED');
        if (name !== 'no lock at all') expect(held[0]).not.toBe('held -');
        // Every holder released: nothing is left behind, guards and temp files included.
        expect(await readdir(dir)).toEqual([]);
      }
    });
  }
});

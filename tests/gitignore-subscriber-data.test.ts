import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ROOT } from './helpers/cli.js';
import { CONTENT, FIXTURES, SLOT_TEMPLATES } from './helpers/send-project.js';
import { startSmtpServer } from './helpers/smtp-server.js';

/**
 * The repository's .gitignore keeps subscriber data out of git: in a git repository with that
 * .gitignore, a send to a real smtp-server (one address bounces, so the tool writes
 * suppressions.txt), a send into the outbox and a build leave no file that git would add and that
 * holds an address of the list. Needs git (apt-get install git).
 */

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && !path.relative(dir, e.parentPath).split(path.sep).includes('.git')).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

async function newsletter(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; err: string }> {
  const stdout = new PassThrough().resume();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk) => (err += chunk));
  const code = await main(['node', 'newsletter', ...args, '--content', CONTENT, '--templates', SLOT_TEMPLATES], { stdout, stderr, stdin: new PassThrough(), env, cwd: dir });
  return { code, err };
}

describe('.gitignore', () => {
  it('covers every file the tool writes that holds subscriber data', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-gitignore-'));
    dirs.push(dir);
    await copyFile(path.join(ROOT, '.gitignore'), path.join(dir, '.gitignore'));
    for (const file of ['newsletter.config.json', 'subscribers.csv']) await copyFile(path.join(FIXTURES, file), path.join(dir, file));
    await run('git', ['init', '-q'], { cwd: dir });
    const before = new Set(await filesUnder(dir));
    const list = await readFile(path.join(dir, 'subscribers.csv'), 'utf8');
    const addresses = [...new Set([...list.matchAll(/[\w.+-]+@[\w.-]+\.\w+/g)].map((m) => m[0].toLowerCase()))];
    expect(addresses.length).toBeGreaterThan(3);

    const server = await startSmtpServer({ onRcpt: (address) => (address === 'ann@example.com' ? { code: 550, message: '5.1.1 <ann@example.com>: no such user' } : null) });
    try {
      const env = { NEWSLETTER_SECRET: 'gitignore-secret' };
      const smtp = await newsletter(dir, ['send', 'weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--yes'], env);
      // ann's bounce fails the send (exit 1) and is written to suppressions.txt.
      expect(smtp.code, smtp.err).toBe(1);
      const outbox = await newsletter(dir, ['send', 'weekly-1', '--list', 'subscribers.csv', '--outbox', 'outbox', '--yes', '--restart'], env);
      expect(outbox.code, outbox.err).toBe(0);
    } finally {
      await server.close();
    }
    const written = (await filesUnder(dir)).filter((file) => !before.has(file));
    expect(written).toEqual(expect.arrayContaining(['suppressions.txt']));
    expect(written.some((file) => file.startsWith('outbox/'))).toBe(true);
    expect(written.some((file) => file.startsWith('.newsletter/sends/'))).toBe(true);

    const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir });
    const addable = stdout.split('\n').filter(Boolean).map((line) => line.slice(3));
    const leaking: string[] = [];
    for (const file of addable.filter((f) => written.includes(f))) {
      const text = (await readFile(path.join(dir, file), 'utf8')).toLowerCase();
      const found = addresses.filter((address) => text.includes(address));
      if (found.length) leaking.push(`${file}: ${found.join(', ')}`);
    }
    expect(leaking).toEqual([]);
  }, 90_000);
});

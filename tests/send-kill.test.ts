import { spawn } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT, REPO, SLOT_TEMPLATES, sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * Crash safety: a `newsletter send` child process is killed with SIGKILL in the middle of a run;
 * the rerun must reach every recipient, and the only duplicates allowed are the messages that were
 * in flight at the kill (at most --concurrency). Runs the compiled CLI (bin/ → lib/), as users do.
 */

const CONCURRENCY = 4;
const RECIPIENTS = 400;

let server: TestSmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function spawnSend(dir: string, args: string[]) {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/newsletter.js'), 'send', ...args, '--content', CONTENT, '--templates', SLOT_TEMPLATES], {
    cwd: dir,
    env: { ...process.env, NEWSLETTER_SECRET: 'kill-secret', SMTP_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function bigList(dir: string): Promise<void> {
  const rows = ['email,name,city'];
  for (let i = 0; i < RECIPIENTS; i++) rows.push(`reader${i}@example.com,Reader ${i},Town ${i % 7}`);
  await writeFile(path.join(dir, 'big.csv'), `${rows.join('\n')}\n`);
}

describe('send after kill -9', () => {
  it('resumes from the journal: everyone gets the issue, duplicates only from messages in flight', async () => {
    await access(path.join(REPO, 'lib/cli/main.js')).catch(() => {
      throw new Error('lib/ is missing: run `npx tsc -p .` (npm test does) before this test');
    });
    server = await startSmtpServer({ delayMs: 4, countOnly: true });
    const project = await sendProject();
    await bigList(project.dir);
    const args = ['weekly-1', '--list', 'big.csv', '--smtp', server.url, '--yes', '--concurrency', String(CONCURRENCY), '--retry-delay', '20'];

    const { child, exited, output } = spawnSend(project.dir, args);
    await server.waitForAccepted(120, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nchild output:\n${output()}`);
    });
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    expect(server.accepted).toBeLessThan(RECIPIENTS);
    // The journal may end in half a line (the kill can land mid-write); only whole records count.
    const journaled = (await project.read('.newsletter/sends/weekly-1.jsonl'))
      .split('\n')
      .filter((line) => line.includes('"status":"accepted"') && line.endsWith('}')).length;

    const rerun = await project.run(args, { NEWSLETTER_SECRET: 'kill-secret' });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/took over the lock of an earlier send that is no longer running \(pid \d+\)/);

    let duplicates = 0;
    for (let i = 0; i < RECIPIENTS; i++) {
      const count = server.deliveredTo(`reader${i}@example.com`);
      expect(count, `reader${i}@example.com`).toBeGreaterThanOrEqual(1);
      duplicates += count - 1;
    }
    expect(duplicates).toBeLessThanOrEqual(CONCURRENCY);
    expect(server.accepted).toBe(RECIPIENTS + duplicates);
    // The rerun only sent what the journal did not have as accepted.
    expect(rerun.stdout).toContain(`→ ${RECIPIENTS - journaled} to send`);
    expect(rerun.stdout).toContain(`${journaled} already sent`);

    const accepted = (await project.journal()).filter((r) => r.status === 'accepted').map((r) => r.email);
    expect(new Set(accepted).size).toBe(RECIPIENTS);
  }, 90_000);

  it('stops cleanly on Ctrl-C: in-flight messages finish and are journaled, the rerun sends the rest once', async () => {
    server = await startSmtpServer({ delayMs: 4, countOnly: true });
    const project = await sendProject();
    await bigList(project.dir);
    const args = ['weekly-1', '--list', 'big.csv', '--smtp', server.url, '--yes', '--concurrency', String(CONCURRENCY)];
    const { child, exited, output } = spawnSend(project.dir, args);
    await server.waitForAccepted(60, 30_000);
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code, output()).toBe(1);
    expect(output()).toContain('interrupting: finishing the messages in flight');
    expect(output()).toContain('interrupted: run the same command again to send to the rest');
    const journaled = (await project.journal()).filter((r) => r.status === 'accepted').length;
    // A graceful stop journals everything the server accepted.
    expect(journaled).toBe(server.accepted);
    expect(journaled).toBeLessThan(RECIPIENTS);

    const rerun = await project.run(args, { NEWSLETTER_SECRET: 'kill-secret' });
    expect(rerun.code, rerun.stderr).toBe(0);
    for (let i = 0; i < RECIPIENTS; i++) expect(server.deliveredTo(`reader${i}@example.com`)).toBe(1);
  }, 90_000);
});

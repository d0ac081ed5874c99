import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { queueStatus } from '../src/queue/status.js';
import { startWorker, type RunningWorker } from '../src/queue/worker.js';
import { ROOT, runCli } from './helpers/cli.js';
import { sendKey, startRedis, type TestRedis } from './helpers/redis-server.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The whole deployment of the README's picture, with real peers: `send --queue` (the compiled
 * CLI) and a worker send weekly-1; the one-click unsubscribe from a delivered message is POSTed
 * to `serve --store` (a child process) on the same Redis; `send --queue` of weekly-2 skips the
 * address, and the worker's check before each message would too.
 */

const SECRET = 'queue-loop-secret';
const READERS = ['ann@example.com', 'bob@example.com', 'cleo@example.com'];
let redis: TestRedis | null = null;
let smtp: TestSmtpServer | null = null;
let serve: ServeProcess | null = null;
let worker: RunningWorker | null = null;

afterEach(async () => {
  await serve?.stop();
  await worker?.stop();
  await smtp?.close();
  await redis?.stop();
  serve = smtp = worker = redis = null;
});

describe('distributed send and serve on one Redis', () => {
  it('an unsubscribe answered by serve --store is skipped by the next send --queue', async () => {
    redis = await startRedis();
    smtp = await startSmtpServer();
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-queue-loop-'));
    await mkdir(path.join(dir, 'dist/site'), { recursive: true });
    await writeFile(path.join(dir, 'dist/site/index.html'), '<!doctype html><title>archive</title>');
    await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
    const first = await readFile(path.join(dir, 'content/issues/weekly-1.md'), 'utf8');
    await writeFile(path.join(dir, 'content/issues/weekly-2.md'), first.replace(/^subject: .*$/m, 'subject: "The week after the summit"').replace('date: 2023-09-11', 'date: 2023-09-18'));
    // The example's config, its example domains accepted: a send to SMTP refuses them otherwise.
    await cp(path.join(ROOT, 'tests/fixtures/example-config/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
    await writeFile(path.join(dir, 'subscribers.csv'), `email,name\n${READERS.map((email) => `${email},${email.split('@')[0]}`).join('\n')}\n`);
    const env = { NEWSLETTER_SECRET: SECRET, REDIS_URL: redis.url, SMTP_URL: '' };
    const cliArgs = ['--list', 'subscribers.csv', '--queue', '--yes', '--templates', path.join(ROOT, 'templates')];

    worker = await startWorker({ redisUrl: redis.url, smtpUrl: smtp.url, secret: SECRET, name: 'relay', log: () => undefined, cwd: dir });
    const sent = await runCli(['send', 'weekly-1', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(smtp.deliveries.map((d) => d.to[0]).sort()).toEqual(READERS);

    const bob = await simpleParser(smtp.deliveries.find((d) => d.to[0] === 'bob@example.com')!.raw);
    const https = new URL(/<(https:[^>]+)>/.exec(bob.headerLines.find((h) => h.key === 'list-unsubscribe')!.line)![1]!);
    serve = await startServe(dir, ['--store', '--templates', path.join(ROOT, 'templates')], env);
    expect(serve.output()).toMatch(/suppressions the Redis store at redis:\/\/127\.0\.0\.1:\d+/);
    const response = await fetch(new URL(https.pathname, serve.url), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(200);
    // Nothing written to the file: the address is in the shared list.
    await expect(readFile(path.join(dir, 'suppressions.txt'), 'utf8')).rejects.toThrow(/ENOENT/);

    smtp.deliveries.length = 0;
    const next = await runCli(['send', 'weekly-2', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/1 suppressed/);
    expect(smtp.deliveries.map((d) => d.to[0]).sort()).toEqual(['ann@example.com', 'cleo@example.com']);
    const status = await queueStatus({ queue: redis.url, key: await sendKey(dir, 'weekly-2') });
    expect(status.outcomes).toEqual({ accepted: 2, 'skipped-suppressed': 1 });
  }, 90_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { bullConnection, QUEUE_NAME } from '../src/queue/queue-names.js';
import { startWorker, type RunningWorker } from '../src/queue/worker.js';
import { queueStatus } from '../src/queue/status.js';
import { sendKey, startRedis, type TestRedis } from './helpers/redis-server.js';
import { REPO, sendProject, type CliRun } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The distributed send when things break, each against a real redis-server (AOF on) and a real
 * smtp-server: a worker killed with SIGKILL mid-batch, Redis restarted mid-send, a worker whose
 * SMTP server is down, two coordinators of one issue at once. The killed worker is the compiled
 * CLI (bin/ → lib/) in a child process, as users run it.
 */

const SECRET = 'queue-failure-secret';
let redis: TestRedis;
let server: TestSmtpServer | null = null;
const workers: RunningWorker[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  redis = await startRedis();
}, 20_000);
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await server?.close();
  server = null;
  await redis?.stop();
});

function inProcessWorker(smtpUrl: string, name: string, options: { concurrency?: number; lockMs?: number; log?: string[] } = {}) {
  return startWorker({ redisUrl: redis.url, smtpUrl, secret: SECRET, name, concurrency: options.concurrency ?? 2, lockMs: options.lockMs ?? 1000, log: (line) => options.log?.push(line), cwd: process.cwd() }).then((worker) => {
    workers.push(worker);
    return worker;
  });
}

function childWorker(smtpUrl: string, name: string, concurrency: number) {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/newsletter.js'), 'worker', '--queue', redis.url, '--smtp', smtpUrl, '--name', name, '--concurrency', String(concurrency), '--lock-ms', '1000'], {
    env: { ...process.env, NEWSLETTER_SECRET: SECRET, REDIS_URL: '', SMTP_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start:\n${output}`)), 15_000);
    child.stderr!.on('data', () => {
      if (output.includes('waiting for batches')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, ready, exited, output: () => output };
}

async function writeList(dir: string, n: number): Promise<string[]> {
  const addresses = Array.from({ length: n }, (_, i) => `reader${i}@example.com`);
  await writeFile(path.join(dir, 'big.csv'), `email,name,city\n${addresses.map((a, i) => `${a},Reader ${i},Town ${i % 7}`).join('\n')}\n`);
  return addresses;
}

function queueArgs(extra: string[] = []): string[] {
  return ['weekly-1', '--list', 'big.csv', '--queue', redis.url, '--yes', '--retry-delay', '50', ...extra];
}

const env = () => ({ NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });

function expectEveryoneOnce(addresses: string[], smtp: TestSmtpServer, allowedDuplicates: number): void {
  const missing = addresses.filter((a) => smtp.deliveredTo(a) === 0);
  expect(missing, 'recipients never delivered').toEqual([]);
  const duplicates = addresses.reduce((n, a) => n + smtp.deliveredTo(a) - 1, 0);
  expect(duplicates).toBeLessThanOrEqual(allowedDuplicates);
}

describe('distributed send failures', () => {
  it('kill -9 of a worker mid-batch: another worker takes its batch; nobody lost, duplicates at most its messages in flight', async () => {
    await access(path.join(REPO, 'lib/cli/main.js')).catch(() => {
      throw new Error('lib/ is missing: run `npx tsc -p .` (npm test does) before this test');
    });
    const KILLED_CONCURRENCY = 4;
    server = await startSmtpServer({ delayMs: 5, countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 300);
    const victim = childWorker(server.url, 'victim', KILLED_CONCURRENCY);
    await victim.ready;
    const send = project.run(queueArgs(['--batch-size', '150']), env());
    // The victim alone until it is well into its first batch, then the survivor starts.
    await server.waitForAccepted(60, 20_000);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = server.accepted;
    expect(killedAt).toBeLessThan(150);
    await inProcessWorker(server.url, 'survivor', { concurrency: 3 });
    const result: CliRun = await send;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expectEveryoneOnce(addresses, server, KILLED_CONCURRENCY);
    const status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(status.sentTotal).toBe(300);
    expect(status.run).toMatchObject({ sent: 300, failed: 0, pending: 0 });
    // The survivor sent everything the victim had not recorded. (Per-worker counts are written
    // once a second, so the victim's last second of them died with it; the journal has them all.)
    const byName = new Map(status.workers.map((w) => [w.name, w.sent]));
    expect(byName.get('survivor')).toBeGreaterThanOrEqual(300 - killedAt);
    expect(byName.get('survivor')).toBeLessThan(300);
  }, 60_000);

  it('SIGTERM: the worker finishes its messages in flight, hands the rest back and exits; nobody twice', async () => {
    server = await startSmtpServer({ delayMs: 10, countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 300);
    const leaving = childWorker(server.url, 'leaving', 3);
    await leaving.ready;
    const send = project.run(queueArgs(['--batch-size', '300']), env());
    await server.waitForAccepted(30, 20_000);
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });
    expect(leaving.output()).toMatch(/the rest goes back to the queue/);
    expect(server.accepted).toBeLessThan(300);
    await inProcessWorker(server.url, 'staying', { concurrency: 3 });
    const result = await send;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expectEveryoneOnce(addresses, server, 0);
  }, 60_000);

  it('Redis restarted mid-send (AOF on): workers and the coordinator reconnect and finish; nothing lost', async () => {
    server = await startSmtpServer({ delayMs: 3, countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 400);
    await inProcessWorker(server.url, 'w1', { lockMs: 30_000 });
    await inProcessWorker(server.url, 'w2', { lockMs: 30_000 });
    const send = project.run(queueArgs(['--batch-size', '100']), env());
    await server.waitForAccepted(100, 20_000);
    await redis.restart(300);
    expect(server.accepted, 'the restart came before the end of the send').toBeLessThan(400);
    const result = await send;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(server.accepted).toBeGreaterThan(100);
    // At most the messages in flight at the restart can go twice (a reply lost with the connection).
    expectEveryoneOnce(addresses, server, 4);
    const status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(status.sentTotal).toBe(400);
  }, 60_000);

  it('a worker whose SMTP server is down hands its batches back untouched and backs off; another worker sends them', async () => {
    server = await startSmtpServer({ countOnly: true });
    const down = await startSmtpServer();
    const downUrl = down.url;
    await down.close();
    const project = await sendProject();
    const addresses = await writeList(project.dir, 200);
    const log: string[] = [];
    await inProcessWorker(downUrl, 'cut-off', { log });
    const send = project.run(queueArgs(['--batch-size', '50']), env());
    const deadline = Date.now() + 10_000;
    while (!log.some((line) => /batches go back to the queue/.test(line)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(log.join('\n')).toMatch(/cut-off: weekly-1 batch \d+: 0 sent, 0 failed, 0 skipped of 50 .*the rest goes back to the queue/);
    await new Promise((r) => setTimeout(r, 500));
    // Nothing recorded against any recipient while the server was away.
    const during = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(during.outcomes).toEqual({});
    expect(during.batches.pending).toBe(4);
    // Handing back uses none of a batch's attempts (BullMQ's attemptsMade stays 0).
    const queue = new Queue(QUEUE_NAME, { connection: bullConnection(redis.url), prefix: 'newsletter' });
    try {
      const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
      expect(jobs.length).toBeGreaterThan(0);
      for (const job of jobs) expect(job.attemptsMade, job.id).toBe(0);
    } finally {
      await queue.close();
    }
    await inProcessWorker(server.url, 'connected');
    const result = await send;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expectEveryoneOnce(addresses, server, 0);
    const after = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(after.outcomes).toEqual({ accepted: 200 });
    expect(after.run?.failedBatches).toBe(0);
    expect(after.workers.find((w) => w.name === 'connected')?.sent).toBe(200);
  }, 60_000);

  it('two sends of one issue at once: the second is refused by the lock', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 50);
    const first = project.run(queueArgs(), env());
    // No worker yet: the first send queues and waits.
    const deadline = Date.now() + 10_000;
    let status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    while (status.batches.pending === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    }
    expect(status.state).toBe('running');
    const second = await project.run(queueArgs(), env());
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another send of this issue is running \(pid \d+ on .*\)/);
    await inProcessWorker(server.url, 'w');
    expect((await first).code).toBe(0);
    expectEveryoneOnce(addresses, server, 0);
  }, 30_000);
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatStatus } from '../src/cli/commands/status.js';
import { queueStatus } from '../src/queue/status.js';
import { startWorker, type RunningWorker } from '../src/queue/worker.js';
import { sendKey, startRedis, type TestRedis } from './helpers/redis-server.js';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * A distributed send with nobody working: `send --queue` says so (with the command that starts a
 * worker) once batches have waited DEFAULTS.send.noWorkerNoticeMs, shortened here to 1 s, and
 * `status` shows the count of live workers, 0 included. Real redis-server and smtp-server.
 */

vi.mock('../src/config/defaults.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/config/defaults.js')>();
  return { ...actual, DEFAULTS: { ...actual.DEFAULTS, send: { ...actual.DEFAULTS.send, noWorkerNoticeMs: 1000 } } };
});

const SECRET = 'queue-secret';
let redis: TestRedis;
let server: TestSmtpServer | null = null;
const workers: RunningWorker[] = [];

beforeEach(async () => {
  redis = await startRedis();
}, 20_000);
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await server?.close();
  server = null;
  await redis?.stop();
});

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('send --queue with no worker', () => {
  it('says that no worker is running, with the command to start one; status counts live workers from 0', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const stderr: string[] = [];
    const sending = project.run(['weekly-1', '--list', 'subscribers.csv', '--queue', redis.url, '--yes', '--batch-size', '3'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' }, undefined, (text) => stderr.push(text));
    await until(() => /no worker is running/.test(stderr.join('')), 'the no-worker notice');
    const notice = stderr.join('').split('\n').find((line) => line.includes('no worker is running'))!;
    expect(notice).toMatch(/^notice: no worker is running: \d+ batches have waited \d+ s and no worker is connected to redis:\/\/127\.0\.0\.1:\d+/);
    expect(notice.endsWith(`npx newsletter worker --queue ${redis.url}`), notice).toBe(true);

    const key = await sendKey(project.dir, 'weekly-1');
    const idle = await queueStatus({ queue: redis.url, key });
    expect(idle.state).toBe('running');
    expect(idle.liveWorkers).toBe(0);
    expect(formatStatus(idle, redis.url)).toContain(`  workers:   0 live: nothing is sending; start one with \`npx newsletter worker --queue ${redis.url}\``);

    workers.push(await startWorker({ redisUrl: redis.url, smtpUrl: server.url, secret: SECRET, name: 'w1', concurrency: 2, log: () => undefined, cwd: process.cwd() }));
    const live = await queueStatus({ queue: redis.url, key });
    expect(live.liveWorkers).toBe(1);
    expect(live.workers.map((w) => [w.name, w.live])).toEqual([['w1', true]]);

    const done = await sending;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stderr).toMatch(/notice: a worker is connected now \(w1\)/);
    expect(done.stdout).toMatch(/sent 7, failed 0/);

    await workers.splice(0)[0]!.stop();
    const after = await queueStatus({ queue: redis.url, key });
    expect(after.liveWorkers).toBe(0);
    expect(after.workers.map((w) => [w.name, w.live, w.batches > 0])).toEqual([['w1', false, true]]);
    expect(formatStatus(after, redis.url)).toContain('  workers:   0 live');
  }, 60_000);
});

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { main } from '../src/cli/main.js';
import { startWorker, type RunningWorker } from '../src/queue/worker.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import { queueStatus } from '../src/queue/status.js';
import { sendKey, startRedis, type TestRedis } from './helpers/redis-server.js';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The distributed send against a real redis-server and a real smtp-server: `send --queue` (the
 * CLI, in-process) queues the list, workers in this process send it. Each test has its own Redis.
 */

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

function worker(smtpUrl: string, name: string, extra: { concurrency?: number; lockMs?: number; log?: string[]; secret?: string } = {}) {
  return startWorker({ redisUrl: redis.url, smtpUrl, secret: extra.secret ?? SECRET, name, concurrency: extra.concurrency ?? 3, lockMs: extra.lockMs, log: (line) => (extra.log?.push(line), process.env.DEBUG_QUEUE && console.error(line)), cwd: process.cwd() }).then((w) => {
    workers.push(w);
    return w;
  });
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function writeList(dir: string, n: number): Promise<string[]> {
  const addresses = Array.from({ length: n }, (_, i) => `reader${i}@example.com`);
  await writeFile(path.join(dir, 'big.csv'), `email,name,city\n${addresses.map((a, i) => `${a},Reader ${i},Town ${i % 7}`).join('\n')}\n`);
  return addresses;
}

describe('send --queue', () => {
  it('delivers every recipient exactly once across two workers, the same message as a local send', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    await worker(server.url, 'w1');
    await worker(server.url, 'w2');
    const queued = await project.run(['weekly-1', '--list', 'subscribers.csv', '--queue', redis.url, '--yes', '--batch-size', '3'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(queued.stderr).not.toMatch(/unexpected/);
    // The fixture list has invalid rows, a duplicate, and an address of suppressions.txt, which is
    // merged into the shared suppression list. frank's name holds a line break, which slots
    // cannot carry: the coordinator renders his copy and the batch carries it.
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    const expected = ['ann@example.com', 'bob@example.com', 'carl@example.com', 'dora@example.com', 'frank@example.com', 'gina@example.com', 'ivy@example.com'];
    expect([...server.counts.keys()].sort()).toEqual(expected.sort());
    for (const address of expected) expect(server.deliveredTo(address), address).toBe(1);
    expect(queued.stdout).toMatch(/sent 7, failed 0/);
    expect(queued.stderr).toMatch(/merged 1 address of suppressions\.txt into the shared suppression list in Redis/);

    // The same recipients sent locally: the same parts and the headers that matter.
    const local = await startSmtpServer();
    try {
      const localProject = await sendProject();
      const run = await localProject.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', local.url, '--yes'], { NEWSLETTER_SECRET: SECRET });
      expect(run.code, run.stderr).toBe(0);
      for (const address of ['dora@example.com', 'frank@example.com', 'bob@example.com']) {
        const raw = (deliveries: typeof local.deliveries) => deliveries.find((d) => d.to[0] === address)!.raw;
        const [mine, theirs] = await Promise.all([simpleParser(raw(server.deliveries)), simpleParser(raw(local.deliveries))]);
        expect(mine.html, address).toBe(theirs.html);
        expect(mine.text, address).toBe(theirs.text);
        expect(mine.subject).toBe(theirs.subject);
        expect(mine.messageId).toBe(theirs.messageId);
        expect(mine.to).toEqual(theirs.to);
        const unsubscribe = (parsed: typeof mine) => parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
        expect(unsubscribe(mine)).toBe(unsubscribe(theirs));
      }
    } finally {
      await local.close();
    }

    const status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(status.state).toBe('done');
    expect(status.sentTotal).toBe(7);
    expect(status.run).toMatchObject({ total: 7, sent: 7, failed: 0, pending: 0 });
    expect(status.workers.map((w) => w.name)).toEqual(['w1', 'w2']);
    expect(status.workers.reduce((n, w) => n + w.sent, 0)).toBe(7);

    // A rerun finds everyone accepted in the shared journal.
    const again = await project.run(['weekly-1', '--list', 'subscribers.csv', '--queue', redis.url, '--yes'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout, again.stdout + again.stderr).toMatch(/nothing to do: every recipient is already sent/);
    expect(server.accepted).toBe(7);
  }, 30_000);

  it('status prints the counts of the run and of each worker', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    await writeList(project.dir, 30);
    await worker(server.url, 'alpha');
    const sent = await project.run(['weekly-1', '--list', 'big.csv', '--queue', redis.url, '--yes', '--batch-size', '10'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(sent.code, sent.stderr).toBe(0);
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await main(['node', 'newsletter', 'status', 'weekly-1'], { stdout, stderr, stdin: process.stdin, env: { REDIS_URL: redis.url }, cwd: project.dir });
    expect(code, stderr.text).toBe(0);
    const lines = stdout.text.trim().split('\n');
    expect(lines[0]).toBe('weekly-1: done');
    expect(lines[1]).toMatch(/^ {2}this run: {2}30 of 30 sent, 0 failed, 0 pending \(started .*, finished .*\)$/);
    expect(lines[2]).toBe('  all runs:  30 accepted');
    expect(lines[3]).toBe('  batches:   0 pending (0 active, 0 waiting, 0 handed back)');
    expect(lines[4]).toBe('  workers:   1 live');
    expect(lines[5]).toMatch(/^ {4}alpha {2}live +30 sent +0 failed +3 batches {2}last seen \d{4}-/);
    // An issue neither sent in this Redis nor written in the content: a typo, said with what there is.
    const noneErr = new Sink();
    const none = await main(['node', 'newsletter', 'status', 'weekly-2', '--queue', redis.url], { stdout: new Sink(), stderr: noneErr, stdin: process.stdin, env: {}, cwd: project.dir });
    expect(none).toBe(2);
    expect(noneErr.text).toMatch(/no send of `weekly-2` and no such issue in the content \(did you mean `weekly-1`\?\)/);
  }, 30_000);

  it('--rate limits all workers together', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    const n = 40;
    await writeList(project.dir, n);
    await worker(server.url, 'one', { concurrency: 4 });
    await worker(server.url, 'two', { concurrency: 4 });
    const started = performance.now();
    const sent = await project.run(['weekly-1', '--list', 'big.csv', '--queue', redis.url, '--yes', '--batch-size', '5', '--rate', '40'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(sent.code, sent.stderr).toBe(0);
    expect(server.accepted).toBe(n);
    // 40 messages at 40/s: the last starts 975 ms after the first, whichever worker sends it.
    expect(performance.now() - started).toBeGreaterThan(900);
  }, 30_000);

  it('a worker with another NEWSLETTER_SECRET sends nothing and hands its batches back', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 20);
    const log: string[] = [];
    await worker(server.url, 'stranger', { secret: 'not-the-secret', log });
    const send = project.run(['weekly-1', '--list', 'big.csv', '--queue', redis.url, '--yes', '--batch-size', '10'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    const deadline = Date.now() + 10_000;
    while (!log.some((line) => /differs/.test(line)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(log.join('\n')).toMatch(/stranger: cannot send weekly-1: NEWSLETTER_SECRET of this worker differs from the one `send` used/);
    expect(server.accepted).toBe(0);
    await worker(server.url, 'friend');
    expect((await send).code).toBe(0);
    for (const address of addresses) expect(server.deliveredTo(address)).toBe(1);
  }, 30_000);

  it('send --store: a local send with its journal, suppressions and lock in Redis', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 12);
    const first = await project.run(['weekly-1', '--list', 'big.csv', '--smtp', server.url, '--yes', '--store', redis.url], { NEWSLETTER_SECRET: SECRET });
    expect(first.code, first.stderr).toBe(0);
    for (const address of addresses) expect(server.deliveredTo(address)).toBe(1);
    // Nothing in the files journal; the Redis one has every acceptance, seen by `status` too.
    await expect(project.read('.newsletter/sends/weekly-1.jsonl')).rejects.toThrow(/ENOENT/);
    const status = await queueStatus({ queue: redis.url, key: await sendKey(project.dir) });
    expect(status.sentTotal).toBe(12);
    // REDIS_URL alone selects the same store: the rerun finds everyone sent.
    const again = await project.run(['weekly-1', '--list', 'big.csv', '--smtp', server.url, '--yes'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: redis.url });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout, again.stdout + again.stderr).toMatch(/nothing to do: every recipient is already sent/);
    expect(server.accepted).toBe(12);
  }, 30_000);

  it('an unsubscribe that lands while the batches wait is honoured by the worker, right before the message', async () => {
    server = await startSmtpServer({ countOnly: true });
    const project = await sendProject();
    const addresses = await writeList(project.dir, 20);
    const send = project.run(['weekly-1', '--list', 'big.csv', '--queue', redis.url, '--yes'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    const key = await sendKey(project.dir);
    const deadline = Date.now() + 10_000;
    while ((await queueStatus({ queue: redis.url, key })).batches.pending === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // serve records an unsubscribe in the shared list after the list was queued.
    const store = await RedisStore.open({ url: redis.url });
    await store.suppressions.add('Reader7@example.com', { reason: 'unsubscribed', source: 'serve' });
    await store.close();
    await worker(server.url, 'late');
    const done = await send;
    expect(done.code).toBe(0);
    // The summary adds up to the journal: the worker's skip is in it (issue 19.11).
    expect(done.stdout).toMatch(/^sent 19, failed 0, skipped 1 of 20 rows \(.*, 1 suppressed during the send\)/m);
    expect(server.deliveredTo('reader7@example.com')).toBe(0);
    for (const address of addresses.filter((a) => a !== 'reader7@example.com')) expect(server.deliveredTo(address)).toBe(1);
    const status = await queueStatus({ queue: redis.url, key });
    expect(status.outcomes).toEqual({ accepted: 19, 'skipped-suppressed': 1 });
    expect(status.run).toMatchObject({ total: 20, sent: 19, failed: 0, pending: 0 });
  }, 30_000);

  it('without --list, queues the subscribers of that Redis store; with --list and --subscribers, both (one message per address)', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    // The fixture's footer prints recipient.city: the subscribers carry it as a sign-up field.
    const configFile = path.join(project.dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, signup: { fields: ['city'] } }));
    const store = await RedisStore.open({ url: redis.url });
    try {
      for (const [email, name] of [['sub1@example.com', 'Sub One'], ['sub2@example.com', 'Sub Two'], ['ann@example.com', 'Ann Again'], ['gone@example.com', 'Gone']]) {
        await store.subscribers.put({ email: email!, fields: { name: name!, city: 'Leeds' }, signedUpAt: null, confirmedAt: '2026-11-01T00:00:00.000Z', page: null, consentText: null, ip: null, source: 'cli' });
      }
      await store.suppressions.add('gone@example.com', { reason: 'unsubscribed', source: 'serve' });
    } finally {
      await store.close();
    }
    await worker(server.url, 'subs');
    const queued = await project.run(['weekly-1', '--queue', redis.url, '--yes'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    expect([...server.counts.keys()].sort()).toEqual(['ann@example.com', 'sub1@example.com', 'sub2@example.com']);
    const mail = await simpleParser(server.deliveries.find((d) => d.to[0] === 'sub1@example.com')!.raw);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]!.name : null).toBe('Sub One');
    expect(queued.stdout).toMatch(/sent 3, failed 0, skipped 1 of 4 rows/);

    // The file and the subscribers of the store: ann is in both and already sent; the file's other rows are new.
    const again = await project.run(['weekly-1', '--list', 'subscribers.csv', '--subscribers', '--queue', redis.url, '--yes'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    for (const address of server.counts.keys()) expect(server.deliveredTo(address), address).toBe(1);
    expect(server.deliveredTo('bob@example.com')).toBe(1);
    expect(server.deliveredTo('gone@example.com')).toBe(0);
  }, 30_000);
});

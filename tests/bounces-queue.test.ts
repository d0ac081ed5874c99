import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findVerpTags, verpAddress, VerpResolver } from '../src/bounces/verp.js';
import { startWorker, type RunningWorker } from '../src/queue/worker.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * VERP on the distributed send: the workers (BullMQ, a real redis-server) give each message the
 * same envelope sender a local send would, and the tags resolve against the Redis store's
 * journal, as `bounces --store` reads it.
 */

const SECRET = 'queue-verp-secret';
let redis: TestRedis;
let smtp: TestSmtpServer;
let worker: RunningWorker;

beforeAll(async () => {
  [redis, smtp] = await Promise.all([startRedis(), startSmtpServer()]);
  worker = await startWorker({ redisUrl: redis.url, smtpUrl: smtp.url, secret: SECRET, name: 'w1', concurrency: 2, log: () => undefined, cwd: process.cwd() });
}, 20_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
  await redis?.stop();
});

describe('VERP on send --queue', () => {
  it('gives every queued message its recipient VERP sender, resolvable from the Redis journal', async () => {
    const project = await sendProject();
    const configFile = path.join(project.dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, bounces: { address: 'bounces@news.example.com' } }));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--queue', redis.url, '--yes', '--batch-size', '3'], { NEWSLETTER_SECRET: SECRET, REDIS_URL: '' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(smtp.deliveries.length).toBe(7);

    const listId = 'The Northern Dispatch <the-northern-dispatch.news.example.com>';
    const store = await RedisStore.open({ url: redis.url });
    try {
      const resolver = new VerpResolver(SECRET, listId, { issues: async () => (await store.bounces.sentIssues(listId)).map((issue) => issue.slug), recipients: (slug) => store.bounces.sentTo({ listId, issueSlug: slug }) });
      for (const delivery of smtp.deliveries) {
        const to = delivery.to[0]!;
        expect(delivery.from).toBe(verpAddress('bounces@news.example.com', SECRET, listId, 'weekly-1', to));
        const [tag] = findVerpTags(delivery.from, 'bounces@news.example.com');
        expect(await resolver.resolve(tag!)).toEqual({ issue: 'weekly-1', email: to });
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});

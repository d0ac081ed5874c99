import { cp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBounceEvent } from '../src/bounces/rules.js';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config/load-config.js';
import { listIdFor } from '../src/render/list-id.js';
import { openFilesStore } from '../src/store/files/index.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import type { Store } from '../src/store/types.js';
import { memoryIo } from './helpers/memory-io.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { CONTENT, sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/** `status ISSUE`: delivered, bounces and complaints with their rates, for local and queued sends alike. */

let smtp: TestSmtpServer;
let redis: TestRedis;
beforeAll(async () => {
  [smtp, redis] = await Promise.all([startSmtpServer(), startRedis()]);
}, 20_000);
afterAll(async () => {
  await Promise.all([smtp?.close(), redis?.stop()]);
});

const event = (kind: 'hard' | 'soft' | 'complaint', email: string) => ({ kind, email, issue: 'weekly-1', status: null, diagnostic: null, source: 'imap', matchedBy: 'verp' });

async function record(store: Store, listId: string): Promise<void> {
  for (const e of [event('hard', 'ann@example.com'), event('hard', 'ann@example.com'), event('soft', 'bob@example.com'), event('complaint', 'carl@example.com')]) await applyBounceEvent(store, listId, e, { softBounceLimit: 3 });
}

describe('status ISSUE', () => {
  it('shows a local send\'s delivered, bounces and complaints with rates, and warns past 0.1% complaints and 2% hard bounces', async () => {
    const project = await sendProject();
    const sent = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', smtp.url, '--yes', '--retry-delay', '20']);
    expect(sent.code, sent.stderr).toBe(0);
    const listId = listIdFor(await loadConfig({ cwd: project.dir }));
    const store = openFilesStore({ journalDir: path.join(project.dir, '.newsletter/sends'), suppressions: path.join(project.dir, 'suppressions.txt') });
    try {
      await record(store, listId);
    } finally {
      await store.close();
    }

    const io = memoryIo(project.dir, {});
    expect(await main(['node', 'newsletter', 'status', 'weekly-1', '--json'], io), io.err()).toBe(0);
    const json = JSON.parse(io.out()) as { state: string; delivery: Record<string, unknown> & { warnings: string[] } };
    expect(json.state).toBe('local');
    expect(json.delivery).toMatchObject({ delivered: 7, hardBounces: 1, softBounces: 1, complaints: 1, rates: { hardBounces: 1 / 7, softBounces: 1 / 7, complaints: 1 / 7 } });
    expect(json.delivery.warnings).toHaveLength(2);
    expect(json.delivery.warnings[0]).toMatch(/^complaints are 14\.3% of delivered, past 0\.10%: Gmail and Yahoo .*0\.3%/);
    expect(json.delivery.warnings[1]).toMatch(/^hard bounces are 14\.3% of delivered, past 2\.0%/);

    const text = memoryIo(project.dir, {});
    expect(await main(['node', 'newsletter', 'status', 'weekly-1'], text)).toBe(0);
    expect(text.out().split('\n').slice(0, 2)).toEqual(['weekly-1: local send', '  delivered: 7 (accepted by the relay); hard bounces 1 (14.3%), soft bounces 1 (14.3%), complaints 1 (14.3%)']);
  }, 30_000);

  it('an issue never sent is said so; a name that is neither sent nor written is an error that suggests one', async () => {
    const project = await sendProject();
    const sent = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', smtp.url, '--yes', '--retry-delay', '20']);
    expect(sent.code, sent.stderr).toBe(0);
    // The project's own content, with a second issue written and not sent.
    await cp(CONTENT, path.join(project.dir, 'content'), { recursive: true });
    await cp(path.join(project.dir, 'content', 'issues', 'weekly-1.md'), path.join(project.dir, 'content', 'issues', 'weekly-2.md'));
    const later = memoryIo(project.dir, {});
    expect(await main(['node', 'newsletter', 'status', 'weekly-2'], later), later.err()).toBe(0);
    expect(later.out()).toBe('weekly-2: not sent yet\n');
    const typo = memoryIo(project.dir, {});
    expect(await main(['node', 'newsletter', 'status', 'weekly-9'], typo)).toBe(2);
    expect(typo.err()).toMatch(/no send of `weekly-9` and no such issue in the content \(did you mean `weekly-1`\?\)/);
    expect(typo.err()).toMatch(/hint: issues sent: weekly-1/);
    expect(typo.out()).toBe('');
  }, 30_000);

  it('reads a queued send\'s numbers from Redis', async () => {
    const project = await sendProject();
    const listId = listIdFor(await loadConfig({ cwd: project.dir }));
    const store = await RedisStore.open({ url: redis.url });
    try {
      const journal = await store.journal({ listId, issueSlug: 'weekly-1' });
      for (let i = 0; i < 2000; i++) await journal.append({ status: 'accepted', email: `r${i}@example.com`, line: i + 1, at: new Date().toISOString(), destination: 'smtp' });
      await record(store, listId);
    } finally {
      await store.close();
    }
    const io = memoryIo(project.dir, {});
    expect(await main(['node', 'newsletter', 'status', 'weekly-1', '--queue', redis.url, '--json'], io), io.err()).toBe(0);
    const json = JSON.parse(io.out()) as { state: string; delivery: Record<string, unknown> & { warnings: string[] } };
    expect(json.delivery).toMatchObject({ delivered: 2000, hardBounces: 1, softBounces: 1, complaints: 1, rates: { complaints: 0.0005 } });
    // 0.05% complaints and 0.05% hard bounces: under both thresholds.
    expect(json.delivery.warnings).toEqual([]);
  }, 30_000);
});

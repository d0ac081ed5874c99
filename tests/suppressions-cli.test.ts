import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { loadConfig } from '../src/config/load-config.js';
import { ROOT, runCli } from './helpers/cli.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

/** `newsletter suppressions` (issue 21.5): list with --reason, --since, --json; `remove` lifts one, saying what it was. */

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
});

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-suppressions-cli-'));
  await cp(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await writeFile(
    path.join(dir, 'suppressions.txt'),
    [
      '# kept by hand',
      'Ann Adams <ann@example.com> # asked by phone',
      `#: ${JSON.stringify({ reason: 'bounced', source: 'imap', issue: 'weekly-1', status: '5.1.1', diagnostic: '550 5.1.1 user unknown', at: '2026-11-02T10:00:00.000Z' })}`,
      'bob@example.com',
      `#: ${JSON.stringify({ reason: 'complained', source: 'ses', issue: 'weekly-2', at: '2026-12-01T10:00:00.000Z' })}`,
      'cleo@example.com',
      '',
    ].join('\n'),
  );
  return dir;
}

type Record = { email: string; reason: string; source: string; issue?: string; status?: string; diagnostic?: string; note?: string; at?: string };

for (const backend of ['files', 'redis'] as const) {
  describe(`newsletter suppressions (${backend})`, () => {
    const env = () => (backend === 'redis' ? { REDIS_URL: redis.url } : { REDIS_URL: '' });
    // One Redis for both tests of a backend: each project has its own list id, not its own keys, so start clean.
    const clean = async () => {
      if (backend !== 'redis') return;
      const { Redis } = await import('ioredis');
      const client = new Redis(redis.url);
      await client.flushall();
      client.disconnect();
    };

    it('lists every suppression with its reason, source and time; filters by reason and time; prints JSON', async () => {
      await clean();
      const dir = await project();
      const all = await runCli(['suppressions', '--json'], { cwd: dir, env: env() });
      expect(all.code, all.stderr).toBe(0);
      const records = JSON.parse(all.stdout) as Record[];
      expect(records.map((r) => [r.email, r.reason, r.source])).toEqual([
        ['cleo@example.com', 'complained', 'ses'],
        ['bob@example.com', 'bounced', 'imap'],
        ['ann@example.com', 'manual', 'suppressions.txt'],
      ]);
      expect(records[1]).toMatchObject({ issue: 'weekly-1', status: '5.1.1', diagnostic: '550 5.1.1 user unknown', at: '2026-11-02T10:00:00.000Z' });
      expect(records[2]).toMatchObject({ note: 'asked by phone' });
      const bounced = JSON.parse((await runCli(['suppressions', '--json', '--reason', 'bounced'], { cwd: dir, env: env() })).stdout) as Record[];
      expect(bounced.map((r) => r.email)).toEqual(['bob@example.com']);
      const recent = JSON.parse((await runCli(['suppressions', '--json', '--since', '2026-11-15'], { cwd: dir, env: env() })).stdout) as Record[];
      expect(recent.map((r) => r.email)).toEqual(['cleo@example.com']);
      const text = await runCli(['suppressions'], { cwd: dir, env: env() });
      expect(text.stdout.split('\n')[0]).toBe('cleo@example.com  complained (ses, weekly-2) since 2026-12-01T10:00:00.000Z');
      expect(text.stderr).toContain('3 suppressed');
      const bad = await runCli(['suppressions', '--since', 'last week'], { cwd: dir, env: env() });
      expect(bad.code).toBe(2);
      // A reason that is not one: refused with the words there are, not "0 suppressed".
      const typo = await runCli(['suppressions', '--reason', 'bounce'], { cwd: dir, env: env() });
      expect(typo.code).toBe(2);
      expect(typo.stderr).toMatch(/--reason: expected unsubscribed, bounced, complained, manual, erased, got `bounce` \(did you mean `bounced`\?\)/);
      expect(typo.stdout).toBe('');
    }, 60_000);

    it('remove lifts one address, saying what it was; the next send is not stopped by the old line', async () => {
      await clean();
      const dir = await project();
      const removed = await runCli(['suppressions', 'remove', 'BOB@example.com'], { cwd: dir, env: env() });
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout.trim()).toBe('removed bob@example.com: it was bounced (imap, weekly-1, 5.1.1: 550 5.1.1 user unknown) since 2026-11-02T10:00:00.000Z');
      const again = await runCli(['suppressions', 'remove', 'bob@example.com'], { cwd: dir, env: env() });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^bob@example\.com is not suppressed in .*: nothing to remove$/m);
      // The store a send opens (Redis imports suppressions.txt again) does not suppress bob.
      const config = await loadConfig({ cwd: dir });
      const store = await openStore(config, { cwd: dir, url: backend === 'redis' ? redis.url : null });
      try {
        expect(await store.suppressions.has('bob@example.com')).toBe(false);
        expect(await store.suppressions.has('cleo@example.com')).toBe(true);
      } finally {
        await store.close();
      }
      if (backend === 'files') expect(await readFile(path.join(dir, 'suppressions.txt'), 'utf8')).toMatch(/\n-bob@example\.com\n$/);
    }, 60_000);
  });
}

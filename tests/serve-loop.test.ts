import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { ROOT, runCli } from './helpers/cli.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { startRedis } from './helpers/redis-server.js';
import { openStore } from '../src/store/index.js';

/**
 * The loop closed with real peers: `newsletter send` to a real SMTP server, the one-click
 * unsubscribe POSTed to a running `newsletter serve` child process as Gmail does, then the next
 * send skips the address. Also: 100 concurrent POSTs, and kill -9 right after answers.
 */

const SECRET = 'loop-secret';
const READERS = ['ann@example.com', 'bob@example.com', 'cleo@example.com'];

let smtp: TestSmtpServer | null = null;
let serve: ServeProcess | null = null;
afterEach(async () => {
  await serve?.stop();
  serve = null;
  await smtp?.close();
  smtp = null;
});

/** `published`: a site is already there, so serve starts without publishing one first. */
async function loopProject(published = true): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-loop-'));
  if (published) {
    await mkdir(path.join(dir, 'dist/site'), { recursive: true });
    await writeFile(path.join(dir, 'dist/site/index.html'), '<!doctype html><title>archive</title>');
  }
  await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  const first = await readFile(path.join(dir, 'content/issues/weekly-1.md'), 'utf8');
  await writeFile(path.join(dir, 'content/issues/weekly-2.md'), first.replace(/^subject: .*$/m, 'subject: "The week after the summit"').replace('date: 2023-09-11', 'date: 2023-09-18'));
  // The example's config, its example domains accepted: a send to SMTP refuses them otherwise.
  await cp(path.join(ROOT, 'tests/fixtures/example-config/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await writeFile(path.join(dir, 'subscribers.csv'), `email,name\n${READERS.map((email) => `${email},${email.split('@')[0]}`).join('\n')}\n`);
  return dir;
}

const cliArgs = ['--templates', path.join(ROOT, 'templates')];

function suppressedIn(text: string): string[] {
  const state = new Map<string, boolean>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('-')) state.set(line.slice(1), false);
    else state.set(line.replace(/^\+/, ''), true);
  }
  return [...state].filter(([, on]) => on).map(([email]) => email);
}

async function readSuppressions(dir: string): Promise<{ lines: string[]; present: string[] }> {
  const text = await readFile(path.join(dir, 'suppressions.txt'), 'utf8').catch(() => '');
  return { lines: text.split('\n').filter((line) => line && !line.startsWith('#')), present: suppressedIn(text) };
}

function oneClick(url: string): Promise<Response> {
  return fetch(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

describe('the unsubscribe loop, with real servers', () => {
  it('send → List-Unsubscribe one-click POST to serve → the next send skips the address', async () => {
    const dir = await loopProject(false);
    smtp = await startSmtpServer();
    const env = { NEWSLETTER_SECRET: SECRET, SMTP_URL: smtp.url };
    const first = await runCli(['send', 'weekly-1', '--list', 'subscribers.csv', '--yes', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(smtp.deliveries.map((d) => d.to[0])).toEqual(expect.arrayContaining(READERS));

    // Bob clicks "Unsubscribe" in Gmail: Gmail POSTs to the https URL of List-Unsubscribe.
    const bob = smtp.deliveries.find((d) => d.to[0] === 'bob@example.com')!;
    const mail = await simpleParser(bob.raw);
    const header = mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')!.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const https = new URL(/<(https:[^>]+)>/.exec(header)![1]!);
    expect(https.origin).toBe('https://news.example.com');
    expect(https.pathname).toMatch(/^\/unsubscribe\/[\w-]+$/);
    expect(https.href).not.toMatch(/bob|%40/);

    serve = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    expect(serve.output()).toContain('publishing it first');
    expect((await fetch(new URL('issues/weekly-1/', serve.url))).status).toBe(200);
    // Only the origin is rewritten, to this test's port: the path is the message's own.
    const target = new URL(https.pathname + https.search, serve.url).href;
    const response = await oneClick(target);
    expect(response.status).toBe(200);
    expect(response.redirected).toBe(false);
    expect((await readSuppressions(dir)).present).toEqual(['bob@example.com']);

    smtp.deliveries.length = 0;
    const second = await runCli(['send', 'weekly-2', '--list', 'subscribers.csv', '--yes', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(smtp.deliveries.map((d) => d.to[0]).sort()).toEqual(['ann@example.com', 'cleo@example.com']);
    const journal = (await readFile(path.join(dir, '.newsletter/sends/weekly-2.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { status: string; email?: string });
    expect(journal.find((record) => record.email === 'bob@example.com')?.status).toBe('skipped-suppressed');
    // The serve log names neither the token nor the address.
    expect(serve.output()).toContain('POST /unsubscribe/[token] 200');
    expect(serve.output()).not.toContain('bob@');
    expect(serve.output()).not.toContain(https.pathname.split('/').pop()!);
  }, 120_000);

  it('a GET (a link scanner, a prefetch) changes nothing', async () => {
    const dir = await loopProject();
    serve = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    const config = await loadConfig({ cwd: dir });
    const url = new URL(`unsubscribe/${unsubscribeToken('ann@example.com', SECRET, listIdFor(config))}`, serve.url).href;
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await readSuppressions(dir)).lines).toEqual([]);
  }, 60_000);

  it('100 concurrent POSTs for 100 addresses all land, each exactly once, also when repeated', async () => {
    const dir = await loopProject();
    serve = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    const config = await loadConfig({ cwd: dir });
    const addresses = Array.from({ length: 100 }, (_, i) => `reader${i}@example.com`);
    const urls = addresses.map((email) => new URL(`unsubscribe/${unsubscribeToken(email, SECRET, listIdFor(config))}`, serve!.url).href);
    for (let round = 0; round < 2; round++) {
      const statuses = await Promise.all(urls.map(async (url) => (await oneClick(url)).status));
      expect(statuses.every((status) => status === 200)).toBe(true);
      const { lines, present } = await readSuppressions(dir);
      expect(lines.sort()).toEqual([...addresses].sort());
      expect(present.sort()).toEqual([...addresses].sort());
    }
  }, 60_000);

  it('two serve processes on one suppression list: every POST to either lands, none torn or lost', async () => {
    const dir = await loopProject();
    serve = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    const other = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    try {
      const config = await loadConfig({ cwd: dir });
      const addresses = Array.from({ length: 120 }, (_, i) => `both${i}@example.com`);
      const statuses = await Promise.all(
        addresses.map(async (email, i) => (await oneClick(new URL(`unsubscribe/${unsubscribeToken(email, SECRET, listIdFor(config))}`, i % 2 ? other.url : serve!.url).href)).status),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
      const { lines, present } = await readSuppressions(dir);
      expect(lines.sort()).toEqual([...addresses].sort());
      expect(present.sort()).toEqual([...addresses].sort());
    } finally {
      await other.stop();
    }
  }, 60_000);

  it('kill -9 right after it answered loses no acknowledged unsubscribe', async () => {
    const dir = await loopProject();
    serve = await startServe(dir, cliArgs, { NEWSLETTER_SECRET: SECRET });
    const config = await loadConfig({ cwd: dir });
    const server = serve;
    const acknowledged: string[] = [];
    let killed = false;
    const addresses = Array.from({ length: 400 }, (_, i) => `victim${i}@example.com`);
    let next = 0;
    const worker = async () => {
      while (!killed && next < addresses.length) {
        const email = addresses[next++]!;
        try {
          const response = await oneClick(new URL(`unsubscribe/${unsubscribeToken(email, SECRET, listIdFor(config))}`, server.url).href);
          if (response.status === 200 && !killed) {
            acknowledged.push(email);
            // Killed the moment the 60th answer arrives, with other requests in flight.
            if (acknowledged.length === 60) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        } catch {
          // In flight at the kill: never acknowledged, so nothing is owed.
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const exit = await server.exited;
    expect(exit.signal).toBe('SIGKILL');
    serve = null;
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);
    const { present } = await readSuppressions(dir);
    for (const email of acknowledged) expect(present, email).toContain(email);
  }, 60_000);

  it('with --store, records unsubscribes in the Redis store that sends on other machines read', async () => {
    const redis = await startRedis();
    try {
      const dir = await loopProject();
      serve = await startServe(dir, [...cliArgs, '--store', redis.url], { NEWSLETTER_SECRET: SECRET });
      expect(serve.output()).toContain('suppressions the Redis store at');
      const config = await loadConfig({ cwd: dir });
      const response = await oneClick(new URL(`unsubscribe/${unsubscribeToken('ann@example.com', SECRET, listIdFor(config))}`, serve.url).href);
      expect(response.status).toBe(200);
      const store = await openStore(config, { url: redis.url, cwd: dir });
      try {
        expect(await store.suppressions.has('ann@example.com')).toBe(true);
      } finally {
        await store.close();
      }
      expect((await readSuppressions(dir)).lines).toEqual([]);
    } finally {
      await serve?.stop();
      serve = null;
      await redis.stop();
    }
  }, 60_000);

  it('refuses to start without NEWSLETTER_SECRET', async () => {
    const dir = await loopProject();
    const run = await runCli(['serve', '--port', '0', ...cliArgs], { cwd: dir, env: { NEWSLETTER_SECRET: '' }, timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/NEWSLETTER_SECRET is not set/);
  }, 60_000);
});

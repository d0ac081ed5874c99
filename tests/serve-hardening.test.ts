import { connect } from 'node:net';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { ROOT } from './helpers/cli.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

/**
 * `newsletter serve` (the real CLI, compiled lib/) against what an attack run tried (issue 19):
 * Redis going away under `--store` (19.8), a resubscribe posted from another site (19.10), and
 * request targets that are not a path (19.13).
 */

const SECRET = 'hardening-secret';

let serve: ServeProcess | null = null;
let redis: TestRedis | null = null;
afterEach(async () => {
  await serve?.stop();
  serve = null;
});
afterAll(async () => {
  await redis?.stop();
});

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-hardening-'));
  await mkdir(path.join(dir, 'dist/site'), { recursive: true });
  await writeFile(path.join(dir, 'dist/site/index.html'), '<!doctype html><title>archive</title>');
  await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  return dir;
}

async function tokenFor(dir: string, email: string): Promise<string> {
  return unsubscribeToken(email, SECRET, listIdFor(await loadConfig({ cwd: dir })));
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A POST that gives up after 10 s: a server that holds it open fails the test rather than hanging it. */
function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { ...FORM, ...headers }, signal: AbortSignal.timeout(10_000) });
}

/** Bytes written as they are on the socket, and the raw answer (node's http client would not send these targets). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
}

describe('serve --store redis while Redis is down (19.8)', () => {
  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);

  it('answers 503 with Retry-After at once, says /healthz not ok, and keeps what it answered 200', async () => {
    const dir = await project();
    serve = await startServe(dir, ['--store', redis!.url, '--templates', path.join(ROOT, 'templates')], { NEWSLETTER_SECRET: SECRET });
    const kept = await post(`${serve.url}unsubscribe/${await tokenFor(dir, 'kept@example.com')}`, 'List-Unsubscribe=One-Click');
    expect(kept.status).toBe(200);
    expect((await fetch(`${serve.url}healthz`)).status).toBe(200);

    // Killed outright: what the answered unsubscribe has left is the AOF.
    const client = new Redis(redis!.url);
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
    client.disconnect();
    process.kill(pid, 'SIGKILL');

    const refused = await post(`${serve.url}unsubscribe/${await tokenFor(dir, 'later@example.com')}`, 'List-Unsubscribe=One-Click');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const health = await fetch(`${serve.url}healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(503);
    // A burst: every one answered (none held in a queue until Redis is back).
    const burst = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await post(`${serve!.url}unsubscribe/${await tokenFor(dir, `burst${i}@example.com`)}`, 'List-Unsubscribe=One-Click')).status));
    expect(new Set(burst)).toEqual(new Set([503]));

    await redis!.restart();
    let refusedMore = 0;
    // Back: the answered one is there, the refused ones are not, and new ones are recorded again.
    const check = new Redis(redis!.url);
    try {
      expect(await check.sismember('newsletter:suppressions', 'kept@example.com')).toBe(1);
      expect(await check.sismember('newsletter:suppressions', 'later@example.com')).toBe(0);
      expect(await check.scard('newsletter:suppressions')).toBe(1);
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await post(`${serve.url}unsubscribe/${await tokenFor(dir, 'later@example.com')}`, 'List-Unsubscribe=One-Click')).status;
        if (status !== 200) {
          refusedMore++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(status).toBe(200);
      expect(await check.sismember('newsletter:suppressions', 'later@example.com')).toBe(1);
      expect((await fetch(`${serve.url}healthz`)).status).toBe(200);
    } finally {
      check.disconnect();
    }
    // Each of them logged as every request is (the log is written in batches: waited for).
    const refusedLines = () => serve!.output().split('\n').filter((line) => / POST \/unsubscribe\/\[token\] 503 failed /.test(line)).length;
    for (let i = 0; i < 50 && refusedLines() < 201 + refusedMore; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(refusedLines()).toBe(201 + refusedMore);
    expect(serve.output()).toMatch(/ GET \/healthz 503 unhealthy /);
  }, 60_000);
});

describe('the unsubscribe page from another site (19.10)', () => {
  it('refuses a resubscribe or an unsubscribe posted from another site; the page itself and RFC 8058 work as before', async () => {
    const dir = await project();
    serve = await startServe(dir, ['--templates', path.join(ROOT, 'templates')], { NEWSLETTER_SECRET: SECRET });
    const url = `${serve.url}unsubscribe/${await tokenFor(dir, 'ann@example.com')}`;
    const siteOrigin = new URL((await loadConfig({ cwd: dir })).siteUrl).origin;
    const suppressed = async () => (await readFile(path.join(dir, 'suppressions.txt'), 'utf8').catch(() => '')).split('\n').filter((l) => l && !l.startsWith('#'));

    // A mail provider's one-click POST: no Origin, no form token.
    expect((await post(url, 'List-Unsubscribe=One-Click')).status).toBe(200);
    expect(await suppressed()).toEqual(['ann@example.com']);

    // Another site's form, with only the token from an old email.
    const foreign: Record<string, string>[] = [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'null' }, {}];
    for (const headers of foreign) {
      const response = await post(url, 'action=resubscribe', headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
    }
    expect((await post(url, 'List-Unsubscribe=One-Click', { Origin: 'https://evil.example', Accept: 'text/html' })).status).toBe(403);
    expect(await suppressed()).toEqual(['ann@example.com']);

    // The page's own form: same origin (what a browser sends), or its form token without Origin.
    expect((await post(url, 'action=resubscribe', { Origin: siteOrigin, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await post(url, 'List-Unsubscribe=One-Click', { Origin: siteOrigin, Accept: 'text/html' })).status).toBe(200);
    const page = cheerio.load(await (await fetch(url)).text());
    const formToken = page('form input[name=form-token]').attr('value');
    expect(formToken).toMatch(/^\d+\.[\w-]{22}$/);
    expect((await post(url, `action=resubscribe&form-token=${formToken}`)).status).toBe(200);
    // A form token is bound to its reader's token.
    const other = `${serve.url}unsubscribe/${await tokenFor(dir, 'bob@example.com')}`;
    await post(other, 'List-Unsubscribe=One-Click');
    expect((await post(other, `action=resubscribe&form-token=${formToken}`)).status).toBe(403);
  }, 30_000);
});

describe('request targets that are not a path (19.13)', () => {
  it('answers the absolute form for its path, OPTIONS * with 400, logs both and prints no error', async () => {
    const dir = await project();
    serve = await startServe(dir, ['--templates', path.join(ROOT, 'templates')], { NEWSLETTER_SECRET: SECRET });
    const port = Number(new URL(serve.url).port);
    const token = await tokenFor(dir, 'ann@example.com');
    const absolute = await raw(port, `GET http://evil.example/unsubscribe/${token} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    expect(statusOf(absolute)).toBe(200);
    // The page's URLs come from siteUrl, never from the request's host.
    expect(absolute).not.toContain('evil.example');
    expect(statusOf(await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const output = serve.output();
    expect(output).not.toMatch(/Invalid URL|error:/);
    const lines = output.split('\n').filter((line) => / (GET|OPTIONS) /.test(line));
    expect(lines.map((line) => line.split(' ').slice(1, 5).join(' '))).toEqual([
      'GET /unsubscribe/[token] 200 shown',
      'OPTIONS /.unreadable-request-target 400 bad-request',
    ]);
  }, 30_000);
});

describe('serve with a hand-edited suppressions.txt (19.6)', () => {
  it('reports each line that suppresses nothing with its place, and honours the rest', async () => {
    const dir = await project();
    await writeFile(path.join(dir, 'suppressions.txt'), 'Ann <ann@example.com>\nthe Smiths, by phone\n');
    serve = await startServe(dir, ['--templates', path.join(ROOT, 'templates')], { NEWSLETTER_SECRET: SECRET });
    expect(serve.output()).toMatch(/^warning: suppressions\.txt:2: `the Smiths, by phone`: .*suppresses nothing$/m);
    // Ann's line counts: her one-click finds her already unsubscribed.
    await post(`${serve.url}unsubscribe/${await tokenFor(dir, 'ann@example.com')}`, 'List-Unsubscribe=One-Click');
    for (let i = 0; i < 50 && !/already-unsubscribed/.test(serve.output()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(serve.output()).toMatch(/ POST \/unsubscribe\/\[token\] 200 already-unsubscribed /);
  }, 30_000);
});

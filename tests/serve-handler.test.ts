import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeEach, describe, expect, it } from 'vitest';
import { createUnsubscribeHandler, type FetchHandler, type RequestLog } from '../src/serve/index.js';
import { loadProject, type Project } from '../src/pipeline.js';
import { PREVIEW_SECRET, unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { openFilesStore } from '../src/store/index.js';
import type { SuppressionStore } from '../src/store/types.js';
import { isNewsletterError } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';

/** The Fetch handler of `serve`, in-process, over the real files suppression store. */

const SECRET = 'handler-test-secret';
const ORIGIN = 'http://127.0.0.1:9';

let dir: string;
let project: Project;
let store: SuppressionStore;
let handler: FetchHandler;
let logs: RequestLog[];
let token: (email: string) => string;

async function suppressedLines(): Promise<string[]> {
  try {
    return (await readFile(path.join(dir, 'suppressions.txt'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
  } catch {
    return [];
  }
}

function post(pathname: string, body: BodyInit | null, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }): Promise<Response> {
  return handler(new Request(`${ORIGIN}${pathname}`, { method: 'POST', body, headers }));
}

/** What a browser sends when the page's button is pressed (Chrome's Accept for a navigation). */
const BROWSER = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsletter-serve-'));
  await writeFile(path.join(dir, 'newsletter.config.json'), await readFile(path.join(ROOT, 'newsletter.config.json')));
  project = await loadProject({ cwd: dir, content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), out: path.join(dir, 'dist') });
  store = openFilesStore({ journalDir: path.join(dir, '.newsletter/sends'), suppressions: path.join(dir, 'suppressions.txt') }).suppressions;
  logs = [];
  const site = path.join(dir, 'dist/site');
  await mkdir(path.join(site, 'issues/one'), { recursive: true });
  await writeFile(path.join(site, 'index.html'), '<!doctype html><title>archive</title>');
  await writeFile(path.join(site, 'issues/one/index.html'), '<!doctype html><title>one</title>');
  await writeFile(path.join(dir, 'secret.txt'), 'not for the web');
  handler = await createUnsubscribeHandler({ project, secret: SECRET, suppressions: store, siteDir: site, onRequest: (log) => logs.push(log) });
  token = (email) => unsubscribeToken(email, SECRET, listIdFor(project.config));
});

describe('serve handler: GET', () => {
  it('shows which address and newsletter, with one button that POSTs, and changes nothing', async () => {
    const response = await handler(new Request(`${ORIGIN}/unsubscribe/${token('Ann@Example.com')}`));
    expect(response.status).toBe(200);
    const $ = cheerio.load(await response.text());
    expect($('main').text()).toContain('ann@example.com');
    expect($('main').text()).toContain('The Northern Dispatch');
    const form = $('form');
    expect(form.length).toBe(1);
    expect(form.attr('method')).toBe('post');
    expect(form.attr('action')).toBe(`https://news.example.com/unsubscribe/${token('ann@example.com')}`);
    expect(form.find('input[name="List-Unsubscribe"]').attr('value')).toBe('One-Click');
    await expect(stat(path.join(dir, 'suppressions.txt'))).rejects.toThrow();
    expect(await store.has('ann@example.com')).toBe(false);
  });

  it('writes every URL from siteUrl, never the Host header, and forbids framing', async () => {
    const response = await handler(new Request(`${ORIGIN}/unsubscribe/${token('ann@example.com')}`, { headers: { host: 'evil.example' } }));
    const html = await response.text();
    expect(html).not.toContain('evil.example');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('form-action https://news.example.com');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('serve handler: one-click POST', () => {
  it('records the address durably, answers 200 (no redirect) and is idempotent', async () => {
    // As a mail provider posts it (RFC 8058): no Accept, nobody reads the answer.
    const first = await post(`/unsubscribe/${token('ann@example.com')}`, 'List-Unsubscribe=One-Click');
    expect(first.status).toBe(200);
    expect(first.headers.get('location')).toBeNull();
    expect(first.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await first.text()).toBe('unsubscribed from The Northern Dispatch; no more issues go to this address\n');
    expect(await suppressedLines()).toEqual(['ann@example.com']);
    // As the page's button posts it, from a browser that asks for HTML: the themed page.
    const again = await post(`/unsubscribe/${token('ANN@example.com')}`, 'List-Unsubscribe=One-Click', BROWSER);
    expect(again.status).toBe(200);
    expect(again.headers.get('location')).toBeNull();
    expect(cheerio.load(await again.text())('main').text()).toMatch(/ann@example\.com will get no more issues/);
    expect(await suppressedLines()).toEqual(['ann@example.com']);
    expect(logs.map((log) => log.outcome)).toEqual(['unsubscribed', 'already-unsubscribed']);
  });

  it('shows an address with markup characters as text, on the GET and after the POST', async () => {
    const email = '"a<b&c"@example.com';
    for (const response of [await handler(new Request(`${ORIGIN}/unsubscribe/${token(email)}`)), await post(`/unsubscribe/${token(email)}`, 'List-Unsubscribe=One-Click', BROWSER)]) {
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).not.toContain(email);
      expect(html).toContain('&quot;a&lt;b&amp;c&quot;@example.com');
      const $ = cheerio.load(html);
      expect($('main strong').map((_, el) => $(el).text()).get()).toContain(email);
    }
    expect(await suppressedLines()).toEqual([email]);
  });

  it('accepts multipart/form-data as RFC 8058 allows', async () => {
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const response = await handler(new Request(`${ORIGIN}/unsubscribe/${token('bob@example.com')}`, { method: 'POST', body: form }));
    expect(response.status).toBe(200);
    expect(await store.has('bob@example.com')).toBe(true);
  });

  it('refuses tampered, truncated, foreign and preview tokens with a 4xx and records nothing', async () => {
    const good = token('ann@example.com');
    const bytes = Buffer.from(good, 'base64url');
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x20;
    const foreign = unsubscribeToken('ann@example.com', SECRET, 'Another Letter <another.example.org>');
    const preview = unsubscribeToken('ann@example.com', PREVIEW_SECRET, listIdFor(project.config));
    const otherKey = unsubscribeToken('ann@example.com', 'another secret', listIdFor(project.config));
    for (const bad of [bytes.toString('base64url'), good.slice(0, 24), good.slice(0, -2), foreign, preview, otherKey, 'not%20a%20token', 'a'.repeat(3000)]) {
      const response = await post(`/unsubscribe/${bad}`, 'List-Unsubscribe=One-Click');
      expect(response.status, bad).toBeGreaterThanOrEqual(400);
      expect(response.status, bad).toBeLessThan(500);
      const shown = await handler(new Request(`${ORIGIN}/unsubscribe/${bad}`));
      expect(shown.status, bad).toBeGreaterThanOrEqual(400);
    }
    expect(await suppressedLines()).toEqual([]);
  });

  it('refuses a body over 10 KB (413), a JSON body (415) and a body without the one-click field (400)', async () => {
    const path_ = `/unsubscribe/${token('ann@example.com')}`;
    expect((await post(path_, `List-Unsubscribe=One-Click&pad=${'x'.repeat(11 * 1024)}`)).status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    expect((await handler(new Request(`${ORIGIN}${path_}`, { method: 'POST', body: stream, headers: { 'content-type': 'application/x-www-form-urlencoded' }, duplex: 'half' } as RequestInit))).status).toBe(413);
    expect((await post(path_, '{"List-Unsubscribe":"One-Click"}', { 'content-type': 'application/json' })).status).toBe(415);
    expect((await post(path_, 'List-Unsubscribe=Two-Clicks')).status).toBe(400);
    expect(await suppressedLines()).toEqual([]);
  });

  it('resubscribes with a POST of the same token from the confirmation page', async () => {
    await post(`/unsubscribe/${token('ann@example.com')}`, 'List-Unsubscribe=One-Click');
    const page = cheerio.load(await (await post(`/unsubscribe/${token('ann@example.com')}`, 'List-Unsubscribe=One-Click', BROWSER)).text());
    expect(page('form input[name=action]').attr('value')).toBe('resubscribe');
    // The page's own form: its form token stands in for the Origin header this request lacks.
    const formToken = page('form input[name=form-token]').attr('value');
    const response = await post(`/unsubscribe/${token('ann@example.com')}`, `action=resubscribe&form-token=${formToken}`);
    expect(response.status).toBe(200);
    expect(await store.has('ann@example.com')).toBe(false);
    expect((await store.load()).has('ann@example.com')).toBe(false);
  });

  it('answers 503 (which providers retry) when the store cannot record it, never "done"', async () => {
    const failing: SuppressionStore = {
      ...store,
      add: async () => Promise.reject(new Error('disk full')),
      remove: store.remove.bind(store),
      has: store.has.bind(store),
      get: store.get.bind(store),
      load: store.load.bind(store),
      iterate: store.iterate.bind(store),
      entries: store.entries.bind(store),
      problems: store.problems.bind(store),
    };
    const errors: unknown[] = [];
    const broken = await createUnsubscribeHandler({ project, secret: SECRET, suppressions: failing, onError: (error) => errors.push(error) });
    const response = await broken(new Request(`${ORIGIN}/unsubscribe/${token('ann@example.com')}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(response.status).toBe(503);
    expect(errors).toHaveLength(1);
  });
});

describe('serve handler: the rest', () => {
  it('logs one line per request with no token and no address', async () => {
    const t = token('ann@example.com');
    await handler(new Request(`${ORIGIN}/unsubscribe/${t}`));
    await post(`/unsubscribe/${t}`, 'List-Unsubscribe=One-Click');
    await handler(new Request(`${ORIGIN}/healthz`));
    expect(logs.map((log) => `${log.method} ${log.path} ${log.status}`)).toEqual(['GET /unsubscribe/[token] 200', 'POST /unsubscribe/[token] 200', 'GET /healthz 200']);
    expect(JSON.stringify(logs)).not.toContain(t);
    expect(JSON.stringify(logs)).not.toContain('ann@');
  });

  it('serves the published site and nothing outside it', async () => {
    expect(await (await handler(new Request(`${ORIGIN}/`))).text()).toContain('archive');
    expect(await (await handler(new Request(`${ORIGIN}/issues/one/`))).text()).toContain('one');
    for (const escape of ['/../secret.txt', '/%2e%2e/secret.txt', '/issues/..%2f..%2fsecret.txt', '/.newsletter-site.json']) {
      expect((await handler(new Request(`${ORIGIN}${escape}`))).status, escape).toBe(404);
    }
    expect((await handler(new Request(`${ORIGIN}/`, { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it('will not start without NEWSLETTER_SECRET, or with the preview key', async () => {
    for (const secret of ['', PREVIEW_SECRET]) {
      const error = await createUnsubscribeHandler({ project, secret, suppressions: store }).catch((e: unknown) => e);
      expect(isNewsletterError(error) && error.code).toBe('SERVE_CONFIG');
    }
  });
});

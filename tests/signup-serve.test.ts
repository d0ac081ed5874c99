import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject, type Project } from '../src/pipeline.js';
import { listIdFor } from '../src/render/list-id.js';
import { createUnsubscribeHandler, type FetchHandler, type RequestLog } from '../src/serve/index.js';
import { openSignup, signupToken, type SignupRefusal } from '../src/signup/index.js';
import type { SignupMailerOptions } from '../src/signup/mailer.js';
import { openFilesStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { ROOT } from './helpers/cli.js';
import { startSmtpServer, type ServerBehaviour, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * Sign-up with double opt-in through `serve`'s handler, over the real files store, with a real
 * smtp-server receiving the confirmation and welcome emails (parsed with mailparser).
 */

const SECRET = 'signup-test-secret';
const ORIGIN = 'http://127.0.0.1:9';
const FIXTURE = path.join(ROOT, 'tests/fixtures/signup');

let dir: string;
let project: Project;
let store: Store;
let smtp: TestSmtpServer;
let handler: FetchHandler;
let signup: Awaited<ReturnType<typeof openSignup>>;
let logs: RequestLog[];
let refusals: SignupRefusal[];
let clock: number;

let mailErrors: { kind: string; message: string }[];
let mailRetries: { kind: string; message: string; inMs: number }[];

interface SetUpExtra {
  smtp?: ServerBehaviour;
  mailer?: SignupMailerOptions;
}

async function setUp(config: object = {}, env: { captchaSecret?: string } = {}, extra: SetUpExtra = {}): Promise<void> {
  dir = await mkdtemp(path.join(tmpdir(), 'newsletter-signup-'));
  const base = JSON.parse(await readFile(path.join(FIXTURE, 'newsletter.config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify({ ...base, ...config }));
  project = await loadProject({ cwd: dir, content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), out: path.join(dir, 'dist') });
  store = openFilesStore({ journalDir: path.join(dir, '.newsletter/sends'), suppressions: path.join(dir, 'suppressions.txt') });
  smtp = await startSmtpServer(extra.smtp);
  mailErrors = [];
  mailRetries = [];
  logs = [];
  refusals = [];
  clock = Date.parse('2026-03-01T10:00:00.000Z');
  signup = await openSignup({
    project,
    store,
    secret: SECRET,
    smtpUrl: smtp.url,
    captchaSecret: env.captchaSecret,
    onRefusal: (r) => refusals.push(r),
    onMailError: (kind, error) => mailErrors.push({ kind, message: (error as Error).message }),
    onMailRetry: (kind, error, inMs) => mailRetries.push({ kind, message: error.message, inMs }),
    mailerOptions: extra.mailer,
    now: () => clock,
  });
  handler = await createUnsubscribeHandler({ project, secret: SECRET, suppressions: store.suppressions, signup: signup.service, onRequest: (log) => logs.push(log) });
}

afterEach(async () => {
  await signup?.close();
  await store?.close();
  await smtp?.close();
});

function form(fields: Record<string, string>, ip = '203.0.113.77', headers: Record<string, string> = {}): Promise<Response> {
  return handler(new Request(`${ORIGIN}/subscribe`, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, ...headers } }));
}

async function mails(): Promise<ParsedMail[]> {
  await signup.idle();
  return Promise.all(smtp.deliveries.map((delivery) => simpleParser(delivery.raw)));
}

function confirmLink(mail: ParsedMail): string {
  const $ = cheerio.load(mail.html || '');
  const href = $('a').filter((_, a) => $(a).text().trim() === 'Confirm my subscription').attr('href');
  expect(href).toMatch(/^https:\/\/news\.example\.com\/confirm\/[A-Za-z0-9_-]+$/);
  return href!;
}

/** The header as written (mailparser folds List-* headers into one structured `list` value). */
function headerLine(mail: ParsedMail, name: string): string | null {
  return mail.headerLines.find((line) => line.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? null;
}

const local = (url: string) => `${ORIGIN}${new URL(url).pathname}`;

describe('sign-up: the whole double opt-in', () => {
  beforeEach(() => setUp());

  it('form → confirmation mail (HTML and text) → GET changes nothing → POST confirms with the proof of consent → welcome with a working one-click unsubscribe', async () => {
    const answer = await form({ email: 'Ann@Example.com', name: 'Ann Example', page: 'https://news.example.com/issues/weekly-1/', website: '' });
    expect(answer.status).toBe(200);
    expect(cheerio.load(await answer.text())('h1').text()).toBe('Check your inbox');
    const [confirmation] = await mails();
    expect(smtp.deliveries).toHaveLength(1);
    expect(smtp.deliveries[0]!.to).toEqual(['ann@example.com']);
    expect(confirmation!.subject).toBe('Please confirm your subscription to The Northern Dispatch');
    const link = confirmLink(confirmation!);
    expect(confirmation!.text).toContain(link);
    // A confirmation is not a list message: nothing to unsubscribe from.
    expect(headerLine(confirmation!, 'list-unsubscribe')).toBeNull();
    // Nothing stored before the confirmation.
    expect(await store.subscribers.get('ann@example.com')).toBeNull();

    // A mail scanner opens the link: a page with one button, nothing recorded.
    for (let i = 0; i < 3; i++) {
      const shown = await handler(new Request(local(link)));
      expect(shown.status).toBe(200);
      const $ = cheerio.load(await shown.text());
      expect($('form').attr('method')).toBe('post');
      expect($('form').attr('action')).toBe(link);
      expect($('form button').text()).toBe('Confirm my subscription');
      expect($('main strong').map((_, el) => $(el).text()).get()).toContain('ann@example.com');
    }
    expect(await store.subscribers.get('ann@example.com')).toBeNull();

    const confirmed = await handler(new Request(local(link), { method: 'POST', body: new URLSearchParams({ action: 'confirm' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(confirmed.status).toBe(200);
    expect(cheerio.load(await confirmed.text())('h1').text()).toBe('Subscribed');
    expect(await store.subscribers.get('ann@example.com')).toEqual({
      email: 'ann@example.com',
      fields: { name: 'Ann Example' },
      signedUpAt: '2026-03-01T10:00:00.000Z',
      confirmedAt: '2026-03-01T10:00:00.000Z',
      page: 'https://news.example.com/issues/weekly-1/',
      consentText: 'I agree to receive The Northern Dispatch by email and can unsubscribe at any time.',
      ip: '203.0.113.0/24',
      source: 'form',
      history: [],
    });

    const [, welcome] = await mails();
    expect(smtp.deliveries).toHaveLength(2);
    expect(welcome!.subject).toBe('Welcome to The Northern Dispatch');
    expect(cheerio.load(welcome!.html || '')('body').text()).toContain('Welcome, Ann Example');
    expect(headerLine(welcome!, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const unsubscribe = /<(https:\/\/[^>]+)>/.exec(headerLine(welcome!, 'list-unsubscribe') ?? '')?.[1];
    expect(unsubscribe).toMatch(/^https:\/\/news\.example\.com\/unsubscribe\//);

    // A second POST of the confirmation changes nothing and sends nothing more.
    const again = await handler(new Request(local(link), { method: 'POST', body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(again.status).toBe(200);
    await mails();
    expect(smtp.deliveries).toHaveLength(2);
    expect((await store.subscribers.get('ann@example.com'))?.history).toEqual([]);

    const oneClick = await handler(new Request(local(unsubscribe!), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(oneClick.status).toBe(200);
    expect(await store.suppressions.reason!('ann@example.com')).toBe('unsubscribed');
    expect(logs.map((log) => log.path)).not.toContain(new URL(link).pathname);
    expect(logs.map((log) => log.outcome)).toEqual(['signup-mailed', 'confirm-shown', 'confirm-shown', 'confirm-shown', 'confirmed', 'already-confirmed', 'unsubscribed']);
  });

  it('the same answer whatever the address: new, subscribed, bounced; the bounced one gets no mail', async () => {
    await store.subscribers.put({ email: 'sub@example.com', fields: {}, signedUpAt: null, confirmedAt: '2026-01-01T00:00:00.000Z', page: null, consentText: null, ip: null, source: 'cli' });
    await store.suppressions.add('gone@example.com', { reason: 'bounced: 550 5.1.1 no such user', source: 'weekly-1' });
    await store.suppressions.add('angry@example.com', { reason: 'complained', source: 'ses' });
    const bodies = new Set<string>();
    for (const [i, email] of ['new@example.com', 'sub@example.com', 'gone@example.com', 'angry@example.com'].entries()) {
      const answer = await form({ email }, `198.51.100.${i}`);
      expect(answer.status).toBe(200);
      bodies.add(await answer.text());
      const json = await handler(new Request(`${ORIGIN}/subscribe`, { method: 'POST', body: JSON.stringify({ email }), headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${i}` } }));
      expect(json.status).toBe(200);
      bodies.add(await json.text());
    }
    expect(bodies.size).toBe(2);
    await mails();
    expect([...smtp.counts.keys()].sort()).toEqual(['new@example.com', 'sub@example.com']);
    expect(refusals.filter((r) => r.outcome === 'signup-suppressed')).toHaveLength(4);
    expect(JSON.stringify(refusals)).not.toMatch(/@example\.com/);
  });

  it('100 sign-ups of one address from 100 clients: one confirmation mail', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => form({ email: i % 2 ? 'bob@example.com' : 'BOB@example.com ' }, `10.0.${i}.1`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(await Promise.all(answers.map((a) => a.text()))).size).toBe(1);
    await mails();
    expect(smtp.deliveredTo('bob@example.com')).toBe(1);
    expect(smtp.accepted).toBe(1);
  });

  it('50 sign-ups from one client: the 11th and later are refused (429), other clients are not', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await form({ email: `n${i}@example.com` }, '203.0.113.9')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses.slice(10)).toEqual(Array(40).fill(429));
    expect((await form({ email: 'other@example.com' }, '203.0.113.10')).status).toBe(200);
    await mails();
    expect(smtp.accepted).toBe(11);
    const refused = refusals.filter((r) => r.outcome === 'signup-ip-limit');
    expect(refused).toHaveLength(40);
    expect(refused[0]).toEqual({ outcome: 'signup-ip-limit', address: expect.stringMatching(/^#[0-9a-f]{12}$/), ip: '203.0.113.0/24' });
  });

  it('expired, tampered and other-list tokens are refused, GET and POST, and record nothing', async () => {
    const claims = { email: 'eve@example.com', fields: {}, page: null, consentText: 'x', ip: null, signedUpAt: new Date(clock).toISOString(), expiresAt: clock + 1000 };
    const listId = listIdFor(project.config);
    const good = signupToken(claims, SECRET, listId);
    const expired = signupToken({ ...claims, expiresAt: clock - 1 }, SECRET, listId);
    const otherList = signupToken(claims, SECRET, 'another.list.example.com');
    const otherKey = signupToken(claims, 'another-secret', listId);
    const bytes = Buffer.from(good, 'base64url');
    bytes[bytes.length - 20]! ^= 1;
    const tampered = bytes.toString('base64url');
    const cases: [string, number, string][] = [
      [expired, 410, 'This link has expired'],
      [otherList, 403, 'This link is not valid'],
      [otherKey, 403, 'This link is not valid'],
      [tampered, 403, 'This link is not valid'],
      ['not*a*token', 400, 'This link is not valid'],
    ];
    for (const [token, status, title] of cases) {
      for (const method of ['GET', 'POST']) {
        const answer = await handler(new Request(`${ORIGIN}/confirm/${token}`, { method, ...(method === 'POST' ? { body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) }));
        expect([token.slice(0, 8), method, answer.status]).toEqual([token.slice(0, 8), method, status]);
        expect(cheerio.load(await answer.text())('h1').text()).toBe(title);
      }
    }
    expect(await store.subscribers.get('eve@example.com')).toBeNull();
    // The good one works, until it expires.
    clock += 2000;
    expect((await handler(new Request(`${ORIGIN}/confirm/${good}`, { method: 'POST', body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))).status).toBe(410);
    clock -= 2000;
    expect((await handler(new Request(`${ORIGIN}/confirm/${good}`, { method: 'POST', body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))).status).toBe(200);
    expect(await store.subscribers.get('eve@example.com')).not.toBeNull();
  });

  it('a filled honeypot is answered like any sign-up and dropped', async () => {
    const trapped = await form({ email: 'bot@example.com', website: 'https://spam.example' });
    const real = await form({ email: 'person@example.com', website: '' }, '203.0.113.78');
    expect(trapped.status).toBe(200);
    expect(await trapped.text()).toBe(await real.text());
    await mails();
    expect(smtp.deliveredTo('bot@example.com')).toBe(0);
    expect(smtp.deliveredTo('person@example.com')).toBe(1);
    expect(refusals.map((r) => r.outcome)).toEqual(['signup-honeypot']);
  });

  it('bodies are capped, other types refused, and a non-address is a 400 that says so', async () => {
    const big = await form({ email: 'a@example.com', name: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    const xml = await handler(new Request(`${ORIGIN}/subscribe`, { method: 'POST', body: '<email/>', headers: { 'content-type': 'text/xml' } }));
    expect(xml.status).toBe(415);
    const invalid = await form({ email: 'not an address' });
    expect(invalid.status).toBe(400);
    expect(cheerio.load(await invalid.text())('main p').first().text()).toMatch(/^This is not a valid email address/);
    const get = await handler(new Request(`${ORIGIN}/subscribe`));
    expect(get.status).toBe(405);
    await mails();
    expect(smtp.accepted).toBe(0);
  });

  it('re-subscribing is consent, not a reset: the unsubscribe is lifted on confirmation only, the history kept, no one else changed', async () => {
    await store.subscribers.put({ email: 'cy@example.com', fields: { name: 'Cy' }, signedUpAt: '2025-01-01T00:00:00.000Z', confirmedAt: '2025-01-01T00:05:00.000Z', page: null, consentText: 'old text', ip: null, source: 'import:mailchimp' });
    await store.suppressions.add('cy@example.com', { reason: 'unsubscribed', source: 'serve' });
    await store.suppressions.add('dee@example.com', { reason: 'unsubscribed', source: 'serve' });
    expect((await form({ email: 'cy@example.com', name: 'Cy Again' })).status).toBe(200);
    // Signing up alone lifts nothing.
    expect(await store.suppressions.has('cy@example.com')).toBe(true);
    const [mail] = await mails();
    const link = confirmLink(mail!);
    const confirmed = await handler(new Request(local(link), { method: 'POST', body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(confirmed.status).toBe(200);
    expect(await store.suppressions.has('cy@example.com')).toBe(false);
    expect(await store.suppressions.has('dee@example.com')).toBe(true);
    const cy = await store.subscribers.get('cy@example.com');
    expect(cy?.fields).toEqual({ name: 'Cy Again' });
    expect(cy?.history).toHaveLength(1);
    expect(cy?.history[0]).toMatchObject({ consentText: 'old text', source: 'import:mailchimp', confirmedAt: '2025-01-01T00:05:00.000Z' });
    expect(logs.at(-1)?.outcome).toBe('resubscribed');
  });
});

describe('sign-up: off', () => {
  it('without SMTP_URL, POST /subscribe is a 404 that says sign-ups are off (docs/signup.md), not the static site\'s 405', async () => {
    await setUp();
    const off = await createUnsubscribeHandler({ project, secret: SECRET, suppressions: store.suppressions, onRequest: (log) => logs.push(log) });
    const answer = await off(new Request(`${ORIGIN}/subscribe`, { method: 'POST', body: new URLSearchParams({ email: 'ann@example.com' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(answer.status).toBe(404);
    expect(await answer.text()).toMatch(/sign-ups are off on this server/);
  });
});

describe('sign-up: when the SMTP server cannot take the mail', () => {
  it('a confirmation refused for now (451) is tried again and arrives once; nothing is reported', async () => {
    await setUp({}, {}, { smtp: { onData: (index) => (index < 2 ? { code: 451, message: '4.3.0 try again later' } : null) }, mailer: { retryDelaysMs: [30, 30, 30] } });
    expect((await form({ email: 'dee@example.com' })).status).toBe(200);
    const [mail] = await mails();
    expect(smtp.dataStarted).toBe(3);
    expect(smtp.deliveredTo('dee@example.com')).toBe(1);
    expect(confirmLink(mail!)).toBeTruthy();
    expect(mailErrors).toEqual([]);
    // Each refusal for now is said as it happens (serve logs it), not only when the retries give up.
    expect(mailRetries.map((r) => [r.kind, r.inMs])).toEqual([['confirm', 30], ['confirm', 30]]);
    expect(mailRetries[0]!.message).toMatch(/451 4\.3\.0 try again later/);
  });

  it('a confirmation refused for good (550) is reported without the address, and the next sign-up of that address mails again the same day', async () => {
    // The reply names the recipient, as real ones do: the log must not.
    await setUp({}, {}, { smtp: { onData: (index) => (index === 0 ? { code: 550, message: '5.7.1 <eli@example.com>: relaying denied' } : null) }, mailer: { retryDelaysMs: [30] } });
    expect((await form({ email: 'eli@example.com' })).status).toBe(200);
    await mails();
    expect(smtp.accepted).toBe(0);
    expect(mailErrors).toHaveLength(1);
    expect(mailErrors[0]).toMatchObject({ kind: 'confirm', message: 'Message failed: 550 5.7.1 <<address>>: relaying denied' });
    expect(JSON.stringify(mailErrors)).not.toContain('eli@');
    // The log says which sign-up it was, by the address's tag, as a refusal line does.
    expect(refusals.filter((r) => r.outcome === 'confirm-not-sent')).toEqual([{ outcome: 'confirm-not-sent', address: expect.stringMatching(/^#[0-9a-f]{12}$/), ip: '203.0.113.0/24' }]);
    // Without the allowance given back, this would be 'signup-already-mailed' and send nothing for 24 h.
    expect((await form({ email: 'eli@example.com' }, '198.51.100.200')).status).toBe(200);
    await mails();
    expect(smtp.deliveredTo('eli@example.com')).toBe(1);
    expect(refusals.filter((r) => r.outcome === 'signup-already-mailed')).toEqual([]);
  });

  it('past the mail queue, sign-ups are answered 503 busy with Retry-After before anything is counted; every 200 gets its mail', async () => {
    await setUp({}, {}, { smtp: { delayMs: 300 }, mailer: { maxInFlight: 2 } });
    const addresses = ['f1@example.com', 'f2@example.com', 'f3@example.com', 'f4@example.com', 'f5@example.com'];
    // All at once: each request is checked before any of them is mailed, so the places are reserved at the check.
    const answers = await Promise.all(addresses.map((email, i) => form({ email }, `198.51.100.${10 + i}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    const busy = answers.find((a) => a.status === 503)!;
    expect(busy.headers.get('retry-after')).toBe('60');
    const $ = cheerio.load(await busy.text());
    expect($('h1').text()).toBe('Not subscribed yet');
    expect($('main p').first().text()).toMatch(/try again in a minute/);
    const json = await handler(new Request(`${ORIGIN}/subscribe`, { method: 'POST', body: JSON.stringify({ email: 'f6@example.com' }), headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.60' } }));
    expect(json.status).toBe(503);
    expect(await json.json()).toEqual({ ok: false, message: expect.stringMatching(/try again in a minute/) });
    await mails();
    const mailed = addresses.filter((_, i) => statuses[i] === 200);
    expect([...smtp.counts.keys()].sort()).toEqual(mailed.sort());
    expect(refusals.filter((r) => r.outcome === 'signup-busy')).toHaveLength(4);
    // Nothing was counted for the readers told to come back: they are mailed when they do, from the same client.
    const again = addresses.filter((_, i) => statuses[i] === 503);
    for (const email of again) {
      expect((await form({ email }, `198.51.100.${10 + addresses.indexOf(email)}`)).status).toBe(200);
      await signup.idle();
    }
    await mails();
    expect([...smtp.counts.keys()].sort()).toEqual([...addresses].sort());
  });
});

describe('sign-up: CAPTCHA', () => {
  let stub: Server;
  let verdict: boolean;
  let seen: URLSearchParams[];

  beforeEach(async () => {
    verdict = false;
    seen = [];
    stub = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push(new URLSearchParams(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: verdict }));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', () => resolve()));
    const port = (stub.address() as { port: number }).port;
    await setUp({ signup: { fields: ['name'], captcha: { provider: 'turnstile', siteKey: '1x00000000000000000000AA', verifyUrl: `http://127.0.0.1:${port}/siteverify` } } }, { captchaSecret: 'captcha-secret' });
  });
  afterEach(() => new Promise<void>((resolve) => stub.close(() => resolve())));

  it('a stub that says no: 403 and no mail; one that says yes: the mail goes; the secret and answer are posted', async () => {
    const refused = await form({ email: 'ann@example.com', 'cf-turnstile-response': 'token-1' });
    expect(refused.status).toBe(403);
    expect(cheerio.load(await refused.text())('main p').text()).toMatch(/did not pass/);
    const missing = await form({ email: 'ann@example.com' });
    expect(missing.status).toBe(403);
    verdict = true;
    expect((await form({ email: 'ann@example.com', 'cf-turnstile-response': 'token-2' })).status).toBe(200);
    await mails();
    expect(smtp.accepted).toBe(1);
    expect(seen.map((p) => [p.get('secret'), p.get('response'), p.get('remoteip')])).toEqual([
      ['captcha-secret', 'token-1', '203.0.113.77'],
      ['captcha-secret', 'token-2', '203.0.113.77'],
    ]);
  });
});

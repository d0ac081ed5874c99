import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { openStore } from '../src/store/index.js';
import { launchTestBrowser } from './helpers/browser.js';
import { ROOT, runCli } from './helpers/cli.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The sign-up loop with real peers: Chromium fills the form of the archive a running `newsletter
 * serve` published, the confirmation arrives at a real smtp-server, its link's GET changes
 * nothing and the page's button confirms, the welcome arrives, and the next `send` without
 * --list reaches the address, whose one-click unsubscribe then removes it. Also the Redis store
 * shared by two `serve` processes. (Chromium: apt-get install chromium; Redis: apt-get install
 * redis-server.)
 */

const SECRET = 'signup-loop-secret';
const SITE = 'https://news.example.com/';
const cliArgs = ['--templates', path.join(ROOT, 'templates')];

let browser: Browser;
let smtp: TestSmtpServer | null = null;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  browser = await launchTestBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await serve?.stop();
  serve = null;
  await smtp?.close();
  smtp = null;
});

async function signupProject(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-signup-loop-'));
  await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  const first = await readFile(path.join(dir, 'content/issues/weekly-1.md'), 'utf8');
  await writeFile(path.join(dir, 'content/issues/weekly-2.md'), first.replace(/^subject: .*$/m, 'subject: "The week after the summit"').replace('date: 2023-09-11', 'date: 2023-09-18'));
  await cp(path.join(ROOT, 'tests/fixtures/signup/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  return dir;
}

async function parsed(index: number): Promise<ParsedMail> {
  await smtp!.waitForAccepted(index + 1);
  return simpleParser(smtp!.deliveries[index]!.raw);
}

function headerLine(mail: ParsedMail, name: string): string | null {
  return mail.headerLines.find((line) => line.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? null;
}

describe('sign-up loop, with real servers and Chromium', () => {
  it('archive form → confirmation → GET shows a button, POST confirms → welcome → send without --list reaches the address → its one-click unsubscribe removes it', async () => {
    const dir = await signupProject();
    smtp = await startSmtpServer();
    const env = { NEWSLETTER_SECRET: SECRET, SMTP_URL: smtp.url };
    // No site yet: serve publishes it first, with the form on the archive and every web edition.
    serve = await startServe(dir, cliArgs, env);
    const local = serve.url;
    const context = await browser.newContext();
    // The pages are written for siteUrl (https://news.example.com/): its requests go to this serve.
    await context.route(`${SITE}**`, async (route) => {
      const url = route.request().url().replace(SITE, local);
      route.fulfill({ response: await route.fetch({ url }) });
    });
    const page = await context.newPage();
    try {
      await page.goto(`${SITE}issues/weekly-1/`);
      expect(await page.locator('.nl-subscribe form').count()).toBe(1);
      await page.goto(SITE);
      const form = page.locator('.nl-subscribe form');
      expect(await form.getAttribute('action')).toBe(`${SITE}subscribe`);
      expect(await form.locator('.nl-subscribe-consent').innerText()).toContain('I agree to receive The Northern Dispatch by email');
      // The honeypot is there for bots and out of sight for people.
      expect(await form.locator('input[name="website"]').isVisible()).toBe(true);
      const box = await form.locator('input[name="website"]').boundingBox();
      expect(box!.x + box!.width).toBeLessThan(0);
      await form.locator('input[name="email"]').fill('Reader@Example.com');
      await form.locator('input[name="name"]').fill('Rea Der');
      await Promise.all([page.waitForURL(`${SITE}subscribe`), form.locator('button[type="submit"]').click()]);
      expect(await page.locator('h1').innerText()).toBe('Check your inbox');

      const confirmation = await parsed(0);
      expect(smtp.deliveries[0]!.to).toEqual(['reader@example.com']);
      expect(confirmation.text).toMatch(/https:\/\/news\.example\.com\/confirm\/[A-Za-z0-9_-]+/);
      const link = /https:\/\/news\.example\.com\/confirm\/[A-Za-z0-9_-]+/.exec(confirmation.text!)![0];
      const store = async () => {
        const config = await loadConfig({ cwd: dir });
        const opened = await openStore(config, { cwd: dir });
        try {
          return { subscriber: await opened.subscribers.get('reader@example.com'), suppressed: await opened.suppressions.has('reader@example.com') };
        } finally {
          await opened.close();
        }
      };

      // A scanner's (or the reader's) GET: one button, nothing recorded.
      await page.goto(link);
      expect(await page.locator('h1').innerText()).toBe('Confirm your subscription');
      expect((await store()).subscriber).toBeNull();
      await Promise.all([page.waitForURL(link), page.locator('form button[type="submit"]').click()]);
      expect(await page.locator('h1').innerText()).toBe('Subscribed');
      expect((await store()).subscriber).toMatchObject({ email: 'reader@example.com', fields: { name: 'Rea Der' }, page: SITE, source: 'form', ip: '127.0.0.0/24' });

      const welcome = await parsed(1);
      expect(welcome.subject).toBe('Welcome to The Northern Dispatch');
      expect(headerLine(welcome, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

      // The next send without --list goes to the confirmed subscribers.
      const sent = await runCli(['send', 'weekly-1', '--yes', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
      expect(sent.code, sent.stdout + sent.stderr).toBe(0);
      const issue = await parsed(2);
      expect(smtp.deliveries[2]!.to).toEqual(['reader@example.com']);
      expect(issue.subject).not.toBe(welcome.subject);
      const unsubscribe = /<(https:\/\/[^>]+)>/.exec(headerLine(issue, 'list-unsubscribe') ?? '')![1]!;
      const oneClick = await fetch(unsubscribe.replace(SITE, local), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(oneClick.status).toBe(200);
      expect((await store()).suppressed).toBe(true);

      const next = await runCli(['send', 'weekly-2', '--yes', ...cliArgs], { cwd: dir, env, timeoutMs: 60_000 });
      expect(next.code, next.stdout + next.stderr).toBe(0);
      expect(smtp.accepted).toBe(3);
      expect(next.stdout).toMatch(/1 suppressed/);
    } finally {
      await context.close();
    }
  }, 180_000);
});

describe('sign-up on the Redis store, two serve processes', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('limits and subscribers are shared: one mail for 40 sign-ups of an address, the 11th sign-up of a client refused, a confirmation on either process lands', async () => {
    const dir = await signupProject();
    smtp = await startSmtpServer();
    serve = await startServe(dir, [...cliArgs, '--store', redis.url, '--processes', '2'], { NEWSLETTER_SECRET: SECRET, SMTP_URL: smtp.url });
    const post = (email: string, client: string) =>
      fetch(`${serve!.url}subscribe`, { method: 'POST', body: JSON.stringify({ email }), headers: { 'content-type': 'application/json', 'x-forwarded-for': client } });
    // Both processes answer (the kernel spreads connections); the answer is one for all.
    const same = await Promise.all(Array.from({ length: 40 }, (_, i) => post('twice@example.com', `10.1.${i}.1`)));
    expect(same.map((r) => r.status)).toEqual(Array(40).fill(200));
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await post(`c${i}@example.com`, '198.51.100.7')).status);
    expect(statuses).toEqual([...Array(10).fill(200), ...Array(5).fill(429)]);
    await smtp.waitForAccepted(11);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.deliveredTo('twice@example.com')).toBe(1);
    expect(smtp.accepted).toBe(11);

    const mail = await simpleParser(smtp.deliveries.find((d) => d.to[0] === 'twice@example.com')!.raw);
    const link = /https:\/\/news\.example\.com\/confirm\/[A-Za-z0-9_-]+/.exec(mail.text!)![0];
    const confirmed = await fetch(link.replace(SITE, serve.url), { method: 'POST', body: 'action=confirm', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(confirmed.status).toBe(200);
    const config = await loadConfig({ cwd: dir });
    const store = await openStore(config, { url: redis.url, cwd: dir });
    try {
      expect((await store.subscribers.get('twice@example.com'))?.source).toBe('form');
    } finally {
      await store.close();
    }
    expect(serve.output()).not.toMatch(/twice@example\.com|c\d+@example\.com/);
  }, 120_000);
});

import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isReservedDomain } from '../src/config/example-domains.js';
import { runCli } from './helpers/cli.js';
import { journeyProject } from './helpers/journey-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * No real send without a real address for the links (issue 18, item 2): without `siteUrl`, or
 * with a domain reserved for examples in `siteUrl`, `from` or the unsubscribe URL, `check` reports
 * an error at the config key, and a send of a list to SMTP is refused before anything is sent;
 * build, a dry run and the outbox still work, with a notice.
 */

const ENV = { NEWSLETTER_SECRET: 'domain-secret', SMTP_URL: '' };
let smtp: TestSmtpServer | null = null;
afterEach(async () => {
  await smtp?.close();
  smtp = null;
});

async function project(edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = await journeyProject();
  const file = path.join(dir, 'newsletter.config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(path.join(dir, 'subscribers.csv'), 'email,name\nann@harbour-readers.co.uk,Ann\nbob@harbour-readers.co.uk,Bob\n');
  return dir;
}

describe('reserved example domains', () => {
  it('knows the reserved names, and only those', () => {
    for (const host of ['example.com', 'news.example.com', 'harbour.example.org', 'example.net', 'letters.test', 'x.invalid', 'box.localhost', 'site.example', 'EXAMPLE.COM.']) expect(isReservedDomain(host), host).toBe(true);
    for (const host of ['harbour-letter.co.uk', 'example.co.uk', 'notexample.com', 'example.com.au', 'testing.org', 'invalid.org']) expect(isReservedDomain(host), host).toBe(false);
  });

  it('check: an error at the config key for a missing siteUrl, naming the placeholder', async () => {
    const dir = await project((config) => delete config.siteUrl);
    const check = await runCli(['check', '--json'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(check.code).toBe(1);
    // Said once for the project (the config is every issue's), under `shared`.
    const findings = (JSON.parse(check.stdout) as { shared: { rule: string; severity: string; file?: string; message: string }[] }).shared;
    expect(findings.filter((f) => f.rule === 'links/example-domain')).toEqual([
      expect.objectContaining({ severity: 'error', file: 'newsletter.config.json', message: expect.stringMatching(/^`siteUrl` is not set \(the placeholder `https:\/\/newsletter\.example\.com\/` stands in\)/) }),
    ]);
  }, 60_000);

  it('check: one error per key on a reserved domain, at its line; the example project builds (npm start) with the errors shown', async () => {
    const dir = await project((config) => {
      config.siteUrl = 'https://letters.example.org/';
      config.from = 'The Harbour Letter <letters@harbour.test>';
    });
    const check = await runCli(['check', '--json'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    const findings = (JSON.parse(check.stdout) as { shared: { rule: string; file?: string; line?: number }[] }).shared;
    expect(findings.filter((f) => f.rule === 'links/example-domain').map((f) => `${f.file}:${f.line}`)).toEqual(['newsletter.config.json:6', 'newsletter.config.json:3']);
    // The example itself: `npm start` is `newsletter build`, which still writes the issue and exits 0.
    const start = await runCli(['build', '--out', path.join(dir, 'example-out')], { env: ENV, timeoutMs: 60_000 });
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/^ {2}error links\/example-domain: newsletter\.config\.json:6: `siteUrl` \(`https:\/\/news\.example\.com\/`\) is on a domain reserved for examples/m);
  }, 90_000);

  it('send to SMTP: refused before anything is sent, naming the key and the config file', async () => {
    const dir = await project((config) => delete config.siteUrl);
    smtp = await startSmtpServer();
    const send = await runCli(['send', 'harbour-1', '--list', 'subscribers.csv', '--yes'], { cwd: dir, env: { ...ENV, SMTP_URL: smtp.url }, timeoutMs: 60_000 });
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/^newsletter\.config\.json: refusing to send to SMTP: `siteUrl` is not set/m);
    expect(send.stderr).toMatch(/hint: set `siteUrl` in newsletter\.config\.json to addresses of your own/);
    expect(smtp.rcptAttempts.size).toBe(0);
    expect(smtp.deliveries).toEqual([]);
    // No journal either: nothing was started.
    await expect(readFile(path.join(dir, '.newsletter/sends/harbour-1.jsonl'))).rejects.toThrow();

    // From on a reserved domain: refused too, at its line.
    const fromDir = await project((config) => (config.from = 'The Harbour Letter <letters@harbour-letter.example>'));
    const fromSend = await runCli(['send', 'harbour-1', '--list', 'subscribers.csv', '--yes'], { cwd: fromDir, env: { ...ENV, SMTP_URL: smtp.url }, timeoutMs: 60_000 });
    expect(fromSend.code).toBe(1);
    expect(fromSend.stderr).toMatch(/^newsletter\.config\.json:3: refusing to send to SMTP: `from` \(`The Harbour Letter <letters@harbour-letter\.example>`\) is on a domain reserved for examples/m);
    expect(smtp.deliveries).toEqual([]);
  }, 90_000);

  it('a dry run and the outbox still work, with a notice', async () => {
    const dir = await project((config) => delete config.siteUrl);
    const dry = await runCli(['send', 'harbour-1', '--list', 'subscribers.csv', '--dry-run', '--smtp', 'smtp://127.0.0.1:9'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(dry.code, dry.stderr).toBe(0);
    const outbox = await runCli(['send', 'harbour-1', '--list', 'subscribers.csv', '--yes'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(outbox.code, outbox.stderr).toBe(0);
    expect(outbox.stderr).toMatch(/^notice: newsletter\.config\.json: `siteUrl` is not set .*refused until they are your own$/m);
    expect((await readdir(path.join(dir, 'outbox/harbour-1'))).filter((name) => name.endsWith('.eml'))).toHaveLength(2);
  }, 180_000);
});

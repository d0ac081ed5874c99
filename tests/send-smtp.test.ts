import { access, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { messageIdFor } from '../src/render/message.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/** `newsletter send` end to end against a real SMTP server on 127.0.0.1. */

const VALID = ['ann@example.com', 'bob@example.com', 'carl@example.com', 'dora@example.com', 'frank@example.com', 'gina@example.com', 'ivy@example.com'];
const NAMES: Record<string, string> = {
  'ann@example.com': 'Ann Adams',
  'bob@example.com': 'Bob "B" <b>&amp;',
  'carl@example.com': 'Carl',
  'dora@example.com': 'Zoë Ünïcødé',
  'frank@example.com': 'Frank\r\nBcc: victim@example.com',
  'gina@example.com': '',
  'ivy@example.com': "=?utf-8?Q?x?= 'quoted' `tick` ÿ",
};
const FAST = ['--retry-delay', '20', '--yes'];

let server: TestSmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function envelopeCount(s: TestSmtpServer, address: string): number {
  return s.deliveredTo(address);
}

async function parsedDeliveries(s: TestSmtpServer): Promise<Map<string, ParsedMail>> {
  const byRecipient = new Map<string, ParsedMail>();
  for (const delivery of s.deliveries) byRecipient.set(delivery.to[0]!, await simpleParser(delivery.raw));
  return byRecipient;
}

describe('send to a list over SMTP', () => {
  it('delivers one personalized message to every valid recipient, once, with the list headers', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);

    expect([...server.counts.keys()].sort()).toEqual([...VALID].sort());
    for (const address of VALID) expect(envelopeCount(server, address)).toBe(1);
    expect(server.deliveries.every((d) => d.to.length === 1 && d.from === 'dispatch@news.example.com')).toBe(true);

    const config = await loadConfig({ configFile: path.join(project.dir, 'newsletter.config.json'), cwd: project.dir });
    const messages = await parsedDeliveries(server);
    for (const address of VALID) {
      const mail = messages.get(address)!;
      const name = NAMES[address]!.replace(/\r\n/g, '\n');
      // Personalization: the recipient's own values, in text, attributes and the unsubscribe link.
      const $ = cheerio.load(mail.html as string);
      expect($('div[data-who]').attr('data-who')).toBe(address === 'carl@example.com' ? 'CARL@Example.com' : address);
      expect($('span[title]').length ? ($('span[title]').attr('title') ?? '') : '').toBe(name);
      const token = unsubscribeToken(address, 'test-secret', listIdFor(config));
      const unsubscribe = `https://news.example.com/unsubscribe?email=${encodeURIComponent(address === 'carl@example.com' ? 'CARL@Example.com' : address)}&token=${token}`;
      expect($('a').filter((_, a) => $(a).attr('href') === unsubscribe).length).toBeGreaterThanOrEqual(2);
      expect(mail.text).toContain(`Unsubscribe: ${unsubscribe}`);
      // Headers.
      const headers = Object.fromEntries(mail.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()]));
      expect(headers['list-unsubscribe']).toBe(`<${unsubscribe}>, <mailto:unsubscribe@news.example.com?subject=unsubscribe%20weekly-1>`);
      expect(headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      expect(headers['list-id']).toBe('The Northern Dispatch <the-northern-dispatch.news.example.com>');
      expect(mail.messageId).toBe(messageIdFor(config, 'weekly-1', address));
      expect(mail.from?.value[0]?.address).toBe('dispatch@news.example.com');
      expect((mail.replyTo?.value[0]?.address)).toBe('editors@news.example.com');
      expect(Math.abs(Date.now() - mail.date!.getTime())).toBeLessThan(120_000);
      expect(mail.headers.has('bcc')).toBe(false);
      expect((mail.to as { value: unknown[] }).value).toHaveLength(1);
    }
    expect(server.rcptAttempts.has('victim@example.com')).toBe(false);
    expect(server.rcptAttempts.has('suppressed@example.com')).toBe(false);

    // The summary names each skipped row by its line.
    expect(run.stdout).toMatch(/subscribers\.csv: 12 rows → 7 to send \(3 invalid, 1 duplicate, 1 suppressed, 0 already sent\)/);
    expect(run.stdout).toContain('subscribers.csv:5  carl@example.com  duplicate');
    expect(run.stdout).toContain('subscribers.csv:6  not-an-address  `not-an-address` is not a valid email address');
    expect(run.stdout).toContain('subscribers.csv:8  "eve@example.com\\nBcc: victim@example.com"  the address contains a line break');
    expect(run.stdout).toContain('subscribers.csv:13  suppressed@example.com  on the suppression list');
    expect(run.stdout).toContain('subscribers.csv:14  hal@example.com  expected 3 fields, found 4');
    expect(run.stdout).toMatch(/^sent 7, failed 0, skipped 5/m);

    const journal = await project.journal();
    expect(journal.filter((r) => r.status === 'accepted').map((r) => String(r.email).toLowerCase()).sort()).toEqual([...VALID].sort());

    // A rerun resumes: nothing is sent twice.
    const again = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('7 already sent');
    expect(server.accepted).toBe(7);
  });

  it('retries 451 until delivered, records 550 as permanent and suppresses it, without retrying it', async () => {
    server = await startSmtpServer({
      onRcpt: (address, attempt) => {
        if (address === 'dora@example.com') return { code: 550, message: '5.1.1 no such user' };
        if ((address === 'ann@example.com' || address === 'ivy@example.com') && attempt === 1) return { code: 451, message: '4.7.1 try again later' };
        return null;
      },
    });
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('1 recipient failed');
    expect(run.stderr).toMatch(/retry 1 in 0\.0s: line 2 ann@example\.com: .*451/);
    expect(run.stdout).toMatch(/subscribers\.csv:7 {2}dora@example\.com {2}.*5\.1\.1 no such user \(permanent\)/);

    expect(server.deliveredTo('ann@example.com')).toBe(1);
    expect(server.deliveredTo('ivy@example.com')).toBe(1);
    expect(server.rcptAttempts.get('ann@example.com')).toBe(2);
    expect(server.deliveredTo('dora@example.com')).toBe(0);
    expect(server.rcptAttempts.get('dora@example.com')).toBe(1);
    expect(server.accepted).toBe(6);

    const suppressions = (await project.read('suppressions.txt')).split('\n');
    expect(suppressions).toContain('dora@example.com');
    const journal = await project.journal();
    expect(journal.find((r) => r.email === 'dora@example.com')).toMatchObject({ status: 'failed-permanent', line: 7, attempts: 1 });

    // The rerun skips the bounced address (now suppressed) and sends nothing again.
    const again = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 suppressed, 6 already sent');
    expect(server.rcptAttempts.get('dora@example.com')).toBe(1);
  });

  it('recovers from a connection dropped in the middle of a message', async () => {
    server = await startSmtpServer({ onData: (index) => (index === 2 ? 'drop' : null) });
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--concurrency', '2', ...FAST]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retry 1 in/);
    for (const address of VALID) expect(server.deliveredTo(address)).toBe(1);
    expect(server.dataStarted).toBe(8);
  });

  it('stops at once when the server refuses the login', async () => {
    server = await startSmtpServer({ rejectAuth: true });
    const project = await sendProject();
    // The test server has no STARTTLS: the password may go in clear only when the URL says so.
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', `smtp://u:wrong@127.0.0.1:${server.port}?allowInsecureAuth=true`, ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the server refused the send: authentication failed: .*535/);
    expect(run.stderr + run.stdout).not.toContain('wrong');
    expect(server.dataStarted).toBe(0);
    expect((await project.journal()).filter((r) => r.status === 'accepted' || String(r.status).startsWith('failed'))).toEqual([]);
  });

  it('gives up after a run of recipients fail for lack of a server, leaving the rest for the rerun', async () => {
    const gone = await startSmtpServer();
    const url = gone.url;
    await gone.close();
    const project = await sendProject();
    const rows = ['email,name,city', ...Array.from({ length: 30 }, (_, i) => `r${i}@example.com,R ${i},C`)];
    await writeFile(path.join(project.dir, 'many.csv'), `${rows.join('\n')}\n`);
    const run = await project.run(['weekly-1', '--list', 'many.csv', '--smtp', url, '--concurrency', '1', '--retries', '1', ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stopped after 10 recipients in a row failed: .*ECONNREFUSED/);
    const outcomes = (await project.journal()).filter((r) => r.status !== 'run');
    expect(outcomes).toHaveLength(10);
    expect(outcomes.every((r) => r.status === 'failed-temporary' && r.attempts === 2)).toBe(true);
    expect(run.stdout).toMatch(/^sent 0, failed 10/m);
  });

  it('refuses a second send of the same issue while the first holds the lock, and takes over a dead one', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const lock = path.join(project.dir, '.newsletter/sends/weekly-1.lock');
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), startedAt: 'now' }));
    const refused = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`another send of this issue is running (pid ${process.pid}`);
    expect(server.accepted).toBe(0);

    // A pid that no longer exists: the lock of a crashed send.
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(lock, JSON.stringify({ pid: Number(dead), host: (await import('node:os')).hostname(), startedAt: 'then' }));
    const taken = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(taken.code).toBe(0);
    expect(taken.stderr).toContain(`took over the lock of an earlier send that is no longer running (pid ${dead})`);
    expect(server.accepted).toBe(7);
    await expect(access(lock)).rejects.toThrow();
  });

  it('refuses a real send without --yes when there is no terminal, and without NEWSLETTER_SECRET', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const noYes = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url]);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toContain('refusing to send without confirmation');
    const noSecret = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--yes'], {});
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('NEWSLETTER_SECRET is not set');
    expect(server.dataStarted).toBe(0);
  });

  it('asks on a terminal before a real send: "no" sends nothing, "yes" sends, with a progress bar', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const declined = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url], undefined, { answer: 'no' });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(`Send "Kim heads to Russia: what a Putin summit could mean" to 7 recipients via ${server.url}? Type "yes" to send:`);
    expect(declined.stderr).toContain('not confirmed: nothing was sent');
    expect(server.dataStarted).toBe(0);
    const accepted = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url], undefined, { answer: 'yes' });
    expect(accepted.code).toBe(0);
    expect(server.accepted).toBe(7);
    // The bar is redrawn in place (carriage return, erase line) and ends full.
    expect(accepted.stderr).toMatch(/\r\x1b\[2K\[#{24}\] 100% {2}7\/7 {2}sent 7 {2}failed 0 {2}\d+\/s {2}ETA 0s\n/);
  });

  it('keeps to --rate messages per second', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--rate', '10', '--concurrency', '1', ...FAST]);
    expect(run.code).toBe(0);
    expect(server.accepted).toBe(7);
    // At 10/s messages start 100 ms apart: five intervals from the 2nd to the 7th (the 1st also
    // waits for the connection). Unlimited, one connection delivers them a few ms apart.
    const times = (await project.journal()).filter((r) => r.status === 'accepted').map((r) => Date.parse(String(r.at)));
    expect(times[6]! - times[1]!).toBeGreaterThanOrEqual(450);
  });

  it('reads SMTP_URL and NEWSLETTER_SECRET from .env and never prints the password', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    await writeFile(path.join(project.dir, '.env'), `SMTP_URL=smtp://mailer:s3cret-pw@127.0.0.1:${server.port}?allowInsecureAuth=true\nNEWSLETTER_SECRET=from-dotenv\n`);
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--yes'], {});
    expect(run.code).toBe(0);
    expect(server.logins).toContain('mailer:s3cret-pw');
    expect(run.stdout).toContain(`transport:  smtp://mailer:****@127.0.0.1:${server.port}`);
    expect(run.stdout + run.stderr + (await project.read('.newsletter/sends/weekly-1.jsonl'))).not.toContain('s3cret-pw');
    const mail = await simpleParser(server.deliveries[0]!.raw);
    const config = await loadConfig({ configFile: path.join(project.dir, 'newsletter.config.json'), cwd: project.dir });
    expect(mail.text).toContain(`token=${unsubscribeToken(server.deliveries[0]!.to[0]!, 'from-dotenv', listIdFor(config))}`);
  });

  it('sends one test message with --test-to, without touching the journal', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--test-to', 'me@example.com', '--smtp', server.url]);
    expect(run.code).toBe(0);
    expect([...server.counts.entries()]).toEqual([['me@example.com', 1]]);
    const mail = await simpleParser(server.deliveries[0]!.raw);
    expect(cheerio.load(mail.html as string)('span[title]').attr('title')).toBe('Sample Reader');
    await expect(access(path.join(project.dir, '.newsletter'))).rejects.toThrow();
  });
});

describe('send without a server', () => {
  it('writes one .eml per recipient to outbox/<issue>/ when no SMTP is configured, and says so', async () => {
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('no SMTP server set (--smtp or SMTP_URL): writing each message as an .eml file to outbox/weekly-1/');
    const folder = path.join(project.dir, 'outbox/weekly-1');
    const files = (await readdir(folder)).sort();
    expect(files).toHaveLength(7);
    const recipients = [];
    for (const file of files) {
      const mail = await simpleParser(await readFile(path.join(folder, file)));
      recipients.push(((mail.to as { value: { address: string }[] }).value[0]!.address).toLowerCase());
      expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    }
    expect(recipients.sort()).toEqual([...VALID].sort());
    expect(files[0]).toBe('0000002-ann@example.com.eml');
  });

  it('--dry-run reads the whole list, reports it, and sends or writes nothing', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('7 to send (3 invalid, 1 duplicate, 1 suppressed, 0 already sent)');
    expect(run.stdout).toContain('dry run: nothing was sent');
    expect(server.dataStarted).toBe(0);
    expect(server.rcptAttempts.size).toBe(0);
    await expect(access(path.join(project.dir, '.newsletter'))).rejects.toThrow();
    await expect(access(path.join(project.dir, 'outbox'))).rejects.toThrow();
  });

  it('reads JSON lists (array or JSON lines) with line numbers', async () => {
    const project = await sendProject();
    await writeFile(
      path.join(project.dir, 'list.json'),
      '[\n  {"email": "ann@example.com", "name": "Ann", "city": "Bath"},\n  {"email": "nope", "name": "X", "city": "Y"},\n  {"email": "ANN@example.com", "name": "Ann", "city": "Bath"},\n  {"email": "bo@example.com", "name": 7, "city": null}\n]\n',
    );
    const run = await project.run(['weekly-1', '--list', 'list.json', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('list.json: 4 rows → 2 to send (1 invalid, 1 duplicate, 0 suppressed, 0 already sent)');
    expect(run.stdout).toContain('list.json:3  nope  `nope` is not a valid email address');
    expect(run.stdout).toContain('list.json:4  ANN@example.com  duplicate');
    await writeFile(path.join(project.dir, 'list.jsonl'), '{"email": "ann@example.com", "name": "Ann", "city": "Bath"}\n{"email": "cy@example.com", "name": "Cy"}\n');
    const missing = await project.run(['weekly-1', '--list', 'list.jsonl', '--dry-run']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('list.jsonl:2: this entry has no `city`, which the templates use');
  });
});

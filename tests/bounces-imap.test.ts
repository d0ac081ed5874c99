import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBounceMailbox, type MailboxSummary } from '../src/bounces/mailbox.js';
import { verpAddress } from '../src/bounces/verp.js';
import { main } from '../src/cli/main.js';
import { openFilesStore } from '../src/store/files/index.js';
import { startDovecot, type TestDovecot } from './helpers/dovecot.js';
import { memoryIo } from './helpers/memory-io.js';
import { CONTENT, FIXTURES, SLOT_TEMPLATES } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The whole loop, on real peers: a send through a real SMTP server with VERP envelope senders,
 * then bounce reports (RFC 3464 and plain-text), an ARF complaint, an out-of-office, a delay
 * notice, a reader's reply and a bounce for a stranger delivered into a real Dovecot's Maildir;
 * `newsletter bounces --imap …`; the next send skips exactly the hard-bounced and complained
 * addresses; a rerun counts nothing twice; the mailbox still holds every message.
 * Needs Debian's dovecot-imapd (apt-get install dovecot-imapd).
 */

const SECRET = 'bounce-loop-secret';
const CORPUS = path.join(import.meta.dirname, 'fixtures', 'bounces');
const FIXTURE_VERP = 'bounces+ab3dbhegm2kqfrbdx7jn5s4wyq@news.example.com';
const FIXTURE_ID = '<6f1c2a9b0d3e4f5a6b7c8d9e0f1a2b3c.weekly-1@example.com>';
const LIST = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'].map((name) => `${name}@example.org`);

let dovecot: TestDovecot;
let smtp: TestSmtpServer;
let dir: string;

beforeAll(async () => {
  [dovecot, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
  dir = await mkdtemp(path.join(tmpdir(), 'newsletter-bounces-'));
  const config = JSON.parse(await readFile(path.join(FIXTURES, 'newsletter.config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify({ ...config, bounces: { address: 'bounces@news.example.com' } }));
  await writeFile(path.join(dir, 'list.csv'), `email,name,city\n${LIST.map((email) => `${email},${email.split('@')[0]},York`).join('\n')}\n`);
  // A second issue for the next send: the repository's content with weekly-1 copied as weekly-2.
  await cp(CONTENT, path.join(dir, 'content'), { recursive: true });
  await cp(path.join(dir, 'content', 'issues', 'weekly-1.md'), path.join(dir, 'content', 'issues', 'weekly-2.md'));
}, 30_000);

afterAll(async () => {
  await Promise.all([dovecot?.stop(), smtp?.close()]);
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo(dir, { NEWSLETTER_SECRET: SECRET });
  const code = await main(['node', 'newsletter', ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

function send(issue: string) {
  return cli(['send', issue, '--list', 'list.csv', '--smtp', smtp.url, '--yes', '--retry-delay', '20', '--content', path.join(dir, 'content'), '--templates', SLOT_TEMPLATES]);
}

/** A corpus message rewritten for one recipient of the send: its address, envelope sender and Message-ID. */
async function reportFor(fixture: string, from: string, email: string, envelope: { from: string; messageId: string } | null): Promise<string> {
  let text = await readFile(path.join(CORPUS, fixture), 'utf8');
  text = text.replaceAll(from, email);
  if (envelope) text = text.replaceAll(FIXTURE_VERP, envelope.from).replaceAll(FIXTURE_ID, envelope.messageId);
  return text;
}

async function flagsByUid(): Promise<Map<number, Set<string>>> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
  await client.connect();
  const flags = new Map<number, Set<string>>();
  const lock = await client.getMailboxLock('INBOX');
  try {
    for await (const message of client.fetch('1:*', { uid: true, flags: true })) flags.set(message.uid, message.flags ?? new Set());
  } finally {
    lock.release();
    await client.logout();
  }
  return flags;
}

describe('newsletter bounces over IMAP', () => {
  it('suppresses the hard-bounced and complained, counts the soft, ignores auto-replies, and counts nothing twice', async () => {
    const first = await send('weekly-1');
    expect(first.code, first.stderr).toBe(0);
    expect(smtp.deliveries).toHaveLength(LIST.length);

    // VERP: one envelope sender per recipient, signed, never the address in clear.
    const sent = new Map<string, { from: string; messageId: string }>();
    for (const delivery of smtp.deliveries) {
      const parsed = await simpleParser(delivery.raw);
      expect(delivery.from).toMatch(/^bounces\+[a-z2-7]{24}@news\.example\.com$/);
      expect(delivery.from.split('@')[0]!.length).toBeLessThanOrEqual(64);
      expect(delivery.from).not.toContain(delivery.to[0]!.split('@')[0]);
      sent.set(delivery.to[0]!, { from: delivery.from, messageId: parsed.messageId! });
    }
    expect(new Set([...sent.values()].map((s) => s.from)).size).toBe(LIST.length);

    const [ann, bob, cy, dee, eve, fay, gus] = LIST as [string, string, string, string, string, string, string];
    // ann: an RFC 3464 report; bob: Exim's plain text; cy: an ARF complaint; dee: a full
    // mailbox (soft); eve: an out-of-office; fay: a delay notice; a reader's reply; a stranger's bounce.
    await dovecot.deliver(await reportFor('postfix-dsn-user-unknown.eml', 'ana@example.org', ann, sent.get(ann)!));
    await dovecot.deliver(await reportFor('exim-plain-permanent.eml', 'kim@example.de', bob, sent.get(bob)!));
    await dovecot.deliver(await reportFor('arf-yahoo-abuse.eml', 'wen@yahoo.com', cy, sent.get(cy)!));
    await dovecot.deliver(await reportFor('postfix-dsn-mailbox-full.eml', 'bo@example.net', dee, sent.get(dee)!));
    await dovecot.deliver(await reportFor('auto-reply-outlook.eml', 'yann@example.com', eve, sent.get(eve)!));
    await dovecot.deliver(await reportFor('postfix-dsn-delayed.eml', 'cy@example.net', fay, sent.get(fay)!));
    await dovecot.deliver(await reportFor('human-reply.eml', 'ben@example.com', 'ben@example.com', null));
    // gus: Apple Mail's request to the List-Unsubscribe mailto; and one in eve's name that the
    // receiving server found forged (DMARC fail), to be left for a person.
    await dovecot.deliver(await reportFor('unsubscribe-apple-mail.eml', 'ana@example.org', gus, null));
    await dovecot.deliver(await reportFor('unsubscribe-forged-from.eml', 'ana@example.org', eve, null));
    // Sent to the From address, quoting nothing of ours, for an address we never mailed.
    await dovecot.deliver((await reportFor('qmail-permanent.eml', 'olga@qmail.example.net', 'stranger@example.net', null)).replaceAll(FIXTURE_VERP, 'dispatch@news.example.com').replaceAll(FIXTURE_ID, '<elsewhere@example.net>'));

    const run = await cli(['bounces', '--imap', dovecot.url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { summary, events } = JSON.parse(run.stdout) as { summary: Record<string, number>; events: { kind?: string; email?: string; issue?: string; outcome?: string; left?: string }[] };
    // What was done to whom, for scripts: each event with its outcome, and what was left.
    expect(events.filter((e) => e.kind).map((e) => [e.kind, e.email, e.outcome]).sort()).toEqual(
      [
        ['complaint', cy, 'suppressed'],
        ['hard', ann, 'suppressed'],
        ['hard', bob, 'suppressed'],
        ['soft', dee, 'counted'],
        ['unsubscribe', gus, 'suppressed'],
      ].sort(),
    );
    expect(events.filter((e) => e.left).map((e) => e.left).sort()).toEqual(['unknown', 'unmatched', 'unverified']);
    // The request left unverified says whose it is and why, so a person can act on it.
    expect(events.find((e) => e.left === 'unverified')).toMatchObject({ email: eve, detail: 'DMARC failed for the From' });
    expect(summary).toEqual({ read: 10, hard: 2, soft: 1, complaints: 1, deliveries: 0, unsubscribes: 1, ignored: 2, unknown: 1, unverified: 1, unmatched: 1, alreadyHandled: 0, suppressed: 4, verpTags: { seen: 4, resolved: 4 } });
    expect(run.stderr).toBe('');

    const store = openFilesStore({ journalDir: path.join(dir, '.newsletter', 'sends'), suppressions: path.join(dir, 'suppressions.txt') });
    for (const email of [ann, bob, cy, gus]) expect(await store.suppressions.has(email)).toBe(true);
    for (const email of [dee, eve, fay]) expect(await store.suppressions.has(email)).toBe(false);
    const records = JSON.parse((await cli(['suppressions', '--json'])).stdout) as { email: string; reason: string; source: string }[];
    expect(records.find((r) => r.email === gus)).toMatchObject({ reason: 'unsubscribed', source: 'mailto' });
    const listId = 'The Northern Dispatch <the-northern-dispatch.news.example.com>';
    expect(await store.bounces.tallies({ listId, issueSlug: 'weekly-1' })).toEqual({ hard: 2, soft: 1, complaint: 1 });

    // Handled messages carry the keyword; the reply, the forged request and the stranger's bounce are left for a person.
    const flags = await flagsByUid();
    expect([...flags.values()].filter((f) => f.has('$NewsletterHandled'))).toHaveLength(7);

    // The next send skips exactly the hard-bounced, the complained and the unsubscribed.
    const before = smtp.deliveries.length;
    const second = await send('weekly-2');
    expect(second.code, second.stderr).toBe(0);
    const reached = smtp.deliveries.slice(before).map((d) => d.to[0]).sort();
    expect(reached).toEqual(LIST.filter((email) => ![ann, bob, cy, gus].includes(email)).sort());

    // A rerun: only the three messages left unmarked are read again, and nothing is counted.
    const again = await cli(['bounces', '--imap', dovecot.url, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { summary: Record<string, number> }).summary).toEqual({ read: 3, hard: 0, soft: 0, complaints: 0, deliveries: 0, unsubscribes: 0, ignored: 0, unknown: 1, unverified: 1, unmatched: 1, alreadyHandled: 0, suppressed: 0, verpTags: { seen: 0, resolved: 0 } });
    expect(await store.bounces.tallies({ listId, issueSlug: 'weekly-1' })).toEqual({ hard: 2, soft: 1, complaint: 1 });

    // Nothing deleted: every message is still in the Maildir.
    expect(await dovecot.messageFiles()).toHaveLength(10);
  }, 60_000);

  it('refuses an IMAP login that fails with BOUNCES_MAILBOX, the password not shown', async () => {
    const wrong = dovecot.url.replace(`:${dovecot.password}@`, ':not-the-password@');
    const run = await cli(['bounces', '--imap', wrong]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot log in to imap:\/\/bounces:\*\*\*\*@127\.0\.0\.1/);
    // What the server said, not imapflow's bare "Command failed".
    expect(run.stderr).toMatch(/the server refused the user `bounces` or its password \(Authentication failed\.\)/);
    expect(run.stderr).not.toContain('not-the-password');
  }, 30_000);

  it('names the mailboxes there when the URL names one that is not, and says when imaps:// meets a plain port', async () => {
    const missing = await cli(['bounces', '--imap', dovecot.url.replace(/\/INBOX$/, '/Bounces')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot open the mailbox `Bounces` on .*: Mailbox doesn't exist: Bounces/);
    expect(missing.stderr).toMatch(/hint: the mailboxes there: .*\bINBOX\b/);
    const tls = await cli(['bounces', '--imap', dovecot.url.replace(/^imap:/, 'imaps:')]);
    expect(tls.code).toBe(1);
    expect(tls.stderr).toMatch(new RegExp(`port ${dovecot.port} does not speak TLS`));
    expect(tls.stderr).toMatch(/hint: .*write imap:\/\/127\.0\.0\.1/);
    expect(tls.stderr).not.toMatch(/ssl3_get_record|deps\/openssl/);
  }, 30_000);
});

/**
 * `bounces --watch` in this process until its second pass: `between` runs once the first pass is
 * done (deliver a message, drop the connection…). The event types seen, bar the per-message ones.
 */
async function watchTwoPasses(between: () => Promise<void>): Promise<{ summary: MailboxSummary; first: MailboxSummary; events: string[] }> {
  const store = openFilesStore({ journalDir: path.join(dir, '.newsletter', 'sends'), suppressions: path.join(dir, 'suppressions.txt') });
  const abort = new AbortController();
  const events: string[] = [];
  const passes: MailboxSummary[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  try {
    const running = readBounceMailbox(
      { url: dovecot.url, processed: 'flag', folder: 'Processed', keyword: '$NewsletterHandled', claimTtlMs: 60_000 },
      { store, listId: 'The Northern Dispatch <the-northern-dispatch.news.example.com>', secret: SECRET, verpBase: 'bounces@news.example.com', rules: { softBounceLimit: 3 } },
      {
        watch: true,
        signal: abort.signal,
        onEvent: (event) => {
          // The messages left for a person earlier are 'left' again in each first pass: not the point here.
          if (event.type !== 'left' && event.type !== 'event') events.push(event.type);
          if (event.type === 'pass') {
            passes.push({ ...event.summary });
            if (passes.length === 1) connected();
            if (passes.length === 2) abort.abort();
          }
        },
      },
    );
    await ready;
    await between();
    const summary = await running;
    return { summary, first: passes[0]!, events };
  } finally {
    await store.close();
  }
}

const vacationReply = async (id: string) => (await readFile(path.join(CORPUS, 'auto-reply-sieve-vacation.eml'), 'utf8')).replace('dovecot-sieve-1765098031-1', id);

describe('newsletter bounces --watch', () => {
  it('handles a report that arrives while it waits (IMAP IDLE), and stops when asked', async () => {
    const { summary, first, events } = await watchTwoPasses(async () => dovecot.deliver(await vacationReply('watch-1')));
    expect(events).toEqual(['connected', 'pass', 'pass']);
    // The second pass read only the new message: an out-of-office, handled and ignored.
    expect(summary.ignored - first.ignored).toBe(1);
    expect(summary.read - first.read).toBe(1);
  }, 30_000);

  it('opens the connection again when the server drops it, says so, and reads what arrived meanwhile', async () => {
    const { summary, first, events } = await watchTwoPasses(async () => {
      await dovecot.kick();
      await dovecot.deliver(await vacationReply('after-kick-1'));
    });
    expect(events).toEqual(['connected', 'pass', 'reconnecting', 'connected', 'pass']);
    expect(summary.ignored - first.ignored).toBe(1);
    // What was read before the drop is not read again.
    expect(summary.read - first.read).toBe(1);
  }, 30_000);
});

describe('bounces.processed: "move"', () => {
  it('moves what it handled to the folder (made when missing), leaves the rest in INBOX, deletes nothing', async () => {
    const store = openFilesStore({ journalDir: path.join(dir, '.newsletter', 'sends'), suppressions: path.join(dir, 'suppressions.txt') });
    const before = (await dovecot.messageFiles()).length;
    await dovecot.deliver((await readFile(path.join(CORPUS, 'auto-reply-outlook.eml'), 'utf8')).replace('AM6PR01MB-auto-1', 'move-1'));
    const summary = await readBounceMailbox(
      { url: dovecot.url, processed: 'move', folder: 'Newsletter Processed', keyword: '$NewsletterHandled', claimTtlMs: 60_000 },
      { store, listId: 'The Northern Dispatch <the-northern-dispatch.news.example.com>', secret: SECRET, verpBase: 'bounces@news.example.com', rules: { softBounceLimit: 3 } },
    );
    // Nothing counted again: the reports handled before are claimed; the reply, the forged request and the stranger's bounce stay.
    expect(summary).toMatchObject({ hard: 0, soft: 0, complaints: 0, unsubscribes: 0, suppressed: 0, unknown: 1, unverified: 1, unmatched: 1 });
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await client.connect();
    try {
      const inbox = await client.status('INBOX', { messages: true });
      const moved = await client.status('Newsletter Processed', { messages: true });
      expect(inbox && inbox.messages).toBe(3);
      expect(moved && moved.messages).toBe(before + 1 - 3);
    } finally {
      await client.logout();
    }
    expect(await dovecot.messageFiles()).toHaveLength(before + 1);
  }, 30_000);
});

describe('the key that reads the VERP tags', () => {
  it('warns when NEWSLETTER_SECRET is not set, and when tags are found but none verifies; the right key then matches', async () => {
    const listId = 'The Northern Dispatch <the-northern-dispatch.news.example.com>';
    const dee = 'dee@example.org';
    // A bounce that quotes nothing and names someone else: only its VERP tag says it is dee's.
    const raw = (await readFile(path.join(CORPUS, 'qmail-permanent.eml'), 'utf8'))
      .replaceAll('olga@qmail.example.net', 'someone-else@example.com')
      .replace(/--- Below this line[\s\S]*$/, '')
      .replaceAll(FIXTURE_VERP, verpAddress('bounces@news.example.com', SECRET, listId, 'weekly-2', dee));
    await dovecot.deliver(raw);
    const run = async (env: Record<string, string>) => {
      const io = memoryIo(dir, env);
      const code = await main(['node', 'newsletter', 'bounces', '--imap', dovecot.url, '--json'], io);
      return { code, stderr: io.err(), summary: (JSON.parse(io.out()) as { summary: MailboxSummary }).summary };
    };
    const other = await run({ NEWSLETTER_SECRET: 'another-key' });
    expect(other.code, other.stderr).toBe(0);
    expect(other.summary.verpTags).toEqual({ seen: 1, resolved: 0 });
    expect(other.stderr).toMatch(/^warning: 1 report carried a VERP tag of `bounces@news\.example\.com` and none verified: is NEWSLETTER_SECRET the key `send` used\?$/m);
    const none = await run({});
    expect(none.stderr).toMatch(/^warning: NEWSLETTER_SECRET is not set: the VERP tags of `bounces\.address` cannot be read/m);
    // Both runs left it in the mailbox: the right key finds dee, with the issue.
    const right = await run({ NEWSLETTER_SECRET: SECRET });
    expect(right.stderr).toBe('');
    expect(right.summary).toMatchObject({ hard: 1, suppressed: 1, verpTags: { seen: 1, resolved: 1 } });
    const records = JSON.parse((await cli(['suppressions', '--json'])).stdout) as { email: string; reason: string; issue?: string }[];
    expect(records.find((r) => r.email === dee)).toMatchObject({ reason: 'bounced', issue: 'weekly-2' });
  }, 30_000);
});

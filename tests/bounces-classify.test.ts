import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../src/bounces/classify.js';
import { maskImapUrl } from '../src/bounces/mailbox.js';
import { verdictOf } from '../src/bounces/severity.js';

/**
 * The corpus under tests/fixtures/bounces/: bounces in the shapes real MTAs and providers send
 * (RFC 3464 reports from Postfix, Exim, Gmail, SES; the plain-text forms of Exim, Postfix,
 * qmail, Exchange, sendmail, Yahoo), ARF complaints, auto-replies and a human reply, each with
 * the classification expected.json gives it.
 */

const dir = path.join(import.meta.dirname, 'fixtures', 'bounces');

interface Expected {
  kind: string;
  form: string;
  recipients: { email: string | null; severity: string | null; status: string | null }[];
  originalMessageId?: boolean;
}

const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
const messages = (await readdir(dir)).filter((name) => name.endsWith('.eml')).sort();

describe('the bounce corpus', () => {
  it('has at least 20 messages, each with an expected classification', () => {
    expect(messages.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(expected).sort()).toEqual(messages);
    const kinds = new Set(Object.values(expected).map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['bounce', 'complaint', 'delivered', 'ignored', 'unknown', 'unsubscribe']);
  });

  it.each(messages)('%s', async (name) => {
    const result = await classifyMessage(await readFile(path.join(dir, name)));
    const want = expected[name]!;
    expect({ kind: result.kind, form: result.form }).toEqual({ kind: want.kind, form: want.form });
    expect(result.recipients.map((r) => ({ email: r.email, severity: r.severity, status: r.status }))).toEqual(want.recipients);
    if (want.originalMessageId) expect(result.original?.messageId).toBe('<6f1c2a9b0d3e4f5a6b7c8d9e0f1a2b3c.weekly-1@example.com>');
    // Every report was sent to the VERP address, or quotes it as the original's envelope sender
    // (an unsubscribe request goes to the mailto address instead).
    if (want.kind !== 'unknown' && want.kind !== 'unsubscribe' && name !== 'arf-redacted-inline.eml') expect(result.verpCandidates.join(' ')).toContain('bounces+ab3dbhegm2kqfrbdx7jn5s4wyq@news.example.com');
  });
});

describe('a report past the parser\'s limits', () => {
  it('is unknown (left in the mailbox for a person), with its subject, not an exception that stops the pass', async () => {
    // 80 nested multiparts: past the nesting limit (50), the way a hostile report would try to
    // make the reader recurse; the report itself is a daemon's bounce in every other respect.
    let body = 'Content-Type: text/plain\r\n\r\n550 5.1.1 <gone@example.org>: user unknown\r\n';
    for (let depth = 80; depth > 0; depth--) body = `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${body}--b${depth}--\r\n`;
    const raw = `From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@news.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n${body}`;
    const result = await classifyMessage(raw);
    expect(result).toMatchObject({ kind: 'unknown', form: 'unparseable', recipients: [], subject: 'Undelivered Mail Returned to Sender' });
  });

  it('reads the same report at a depth within the limit', async () => {
    let body = 'Content-Type: text/plain\r\n\r\n<gone@example.org>: host mx.example.org said: 550 5.1.1 user unknown\r\n';
    for (let depth = 3; depth > 0; depth--) body = `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${body}--b${depth}--\r\n`;
    const raw = `From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@news.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n${body}`;
    const result = await classifyMessage(raw);
    expect(result.kind).toBe('bounce');
    expect(result.recipients.map((r) => [r.email, r.severity])).toEqual([['gone@example.org', 'hard']]);
  });
});

describe('unsubscribe requests by mail', () => {
  it('reads the issue from the subject our mailto link sets, and none from a bare "unsubscribe"', async () => {
    const gmail = await classifyMessage(await readFile(path.join(dir, 'unsubscribe-mailto-subject.eml')));
    expect(gmail.requestedIssue).toBe('weekly-1');
    const apple = await classifyMessage(await readFile(path.join(dir, 'unsubscribe-apple-mail.eml')));
    expect(apple.requestedIssue).toBeNull();
  });

  it('is not an unsubscribe when a daemon sends it or the subject only mentions the word', async () => {
    const daemon = 'From: MAILER-DAEMON@mx.example.org\r\nTo: unsubscribe@news.example.com\r\nSubject: unsubscribe\r\n\r\nUndelivered.\r\n';
    expect((await classifyMessage(daemon)).kind).not.toBe('unsubscribe');
    const chat = 'From: ana@example.org\r\nTo: news@example.com\r\nSubject: how do I unsubscribe my colleague?\r\n\r\nHi.\r\n';
    expect((await classifyMessage(chat)).kind).toBe('unknown');
  });

  it('trusts the From only when the receiving server\'s topmost Authentication-Results vouch for its domain', async () => {
    const request = (results: string[]) => `${results.map((r) => `Authentication-Results: mx.news.example.com; ${r}\r\n`).join('')}From: ana@news.example.org\r\nTo: unsubscribe@news.example.com\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n`;
    const kind = async (results: string[]) => (await classifyMessage(request(results))).kind;
    expect(await kind(['dmarc=pass header.from=news.example.org'])).toBe('unsubscribe');
    expect(await kind(['dkim=pass header.d=example.org; dmarc=none'])).toBe('unsubscribe');
    expect(await kind(['spf=pass smtp.mailfrom=bounce@news.example.org'])).toBe('unsubscribe');
    expect(await kind(['dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=attacker.example; dmarc=none'])).toBe('unknown');
    expect(await kind(['dmarc=pass header.from=attacker.example'])).toBe('unknown');
    // A pass lower down came with the message: only the topmost counts.
    expect(await kind(['dmarc=fail header.from=news.example.org', 'dmarc=pass header.from=news.example.org'])).toBe('unknown');
    expect(await kind([])).toBe('unknown');
  });
});

describe('hard or soft', () => {
  it.each([
    ['5.1.1', null, 'hard'],
    ['5.2.2', '552 Mailbox full', 'soft'],
    ['5.7.1', '550 5.7.1 blocked by policy', 'soft'],
    ['5.0.0', '550 5.0.0 no such user', 'hard'],
    ['5.0.0', '550 5.0.0 message rejected as spam', 'soft'],
    ['4.4.1', 'connection timed out', 'soft'],
    [null, '550 Requested action not taken: mailbox unavailable', 'hard'],
    [null, '452 Insufficient system storage', 'soft'],
    [null, '554 delivery error: dd This user doesn\'t have a yahoo.com account', 'hard'],
    [null, '421 Try again later', 'soft'],
    [null, 'Host or domain name not found. Name service error', 'hard'],
    // Hard needs evidence that the address or its domain is dead; the rest is soft.
    ['5.1.8', '553 5.1.8 <news@example.com>: Sender address rejected: Domain not found', 'soft'],
    ['5.7.26', '550 5.7.26 <a@example.org>: Recipient address rejected: Multiple authentication checks failed', 'soft'],
    ['5.4.1', '550 5.4.1 <a@example.org>: Recipient address rejected: Access denied [BL2NAM02FT061.eop-nam02.prod.protection.outlook.com]', 'hard'],
    ['5.2.3', '552 5.2.3 <a@example.org>: Recipient address rejected: Message length exceeds administrative limit', 'soft'],
    ['5.6.0', '550 5.6.0 <a@example.org>: Recipient address rejected: Media error', 'soft'],
    ['5.2.0', '550 5.2.0 mailbox state unusual', 'soft'],
    ['5.1.1', '550 5.1.1 Message rejected: listed on a DNSBL', 'soft'],
    [null, 'Name service error for name=example.org type=MX: Malformed or unexpected name server reply', 'soft'],
    [null, '<a@example.com>: Name service error for domain example.com: Host not found, try again', 'soft'],
    [null, 'DNS lookup failure: host gone.example.net not found', 'hard'],
    [null, 'Connected to 192.0.2.112 but my name was rejected. Remote host said: 501 5.0.0 Invalid domain name', 'soft'],
    [null, 'This message could not be delivered.', 'soft'],
    [null, '550 Host does not accept mail', 'hard'],
    // Policy words count in the reply's words, not inside host names, and lose to words that the recipient is unknown.
    ['5.1.1', 'host mx1.spamexperts.example.net [192.0.2.1]: 550 5.1.1 <bob@example.org>: Recipient address rejected: No such mailbox', 'hard'],
    [null, 'host marblehead.example said: 550 no such mailbox here', 'hard'],
    ['5.1.1', '550 5.1.1 <bob@example.org>: User unknown; mail from=<news@example.com>', 'hard'],
    ['5.1.1', '550 5.1.1 <news@example.com>: Sender address rejected: User unknown in local recipient table', 'soft'],
    ['5.1.1', '550 5.1.1 Message rejected by the spam filter', 'soft'],
  ] as const)('%s %s → %s', (status, diagnostic, severity) => {
    expect(verdictOf(status, diagnostic).severity).toBe(severity);
  });
});

describe('the bounce mailbox URL as shown', () => {
  it.each([
    ['imaps://bounces:pa/ss@imap.example.com/INBOX', 'pa/ss', 'imaps://bounces:****@imap.example.com/INBOX'],
    ['imaps://bounces:p@ss@imap.example.com/INBOX', 'p@ss', 'imaps://bounces:****@imap.example.com/INBOX'],
    ['imap://bounces%40news.example.com:s3cret#x@127.0.0.1:1143/INBOX', 's3cret#x', 'imap://bounces%40news.example.com:****@127.0.0.1:1143/INBOX'],
  ])('%s never shows the password', (url, password, shown) => {
    // Typed unencoded, these are exactly the URLs that fail to parse and get shown in the error.
    expect(maskImapUrl(url)).toBe(shown);
    expect(maskImapUrl(url)).not.toContain(password);
  });
});

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMessage } from '../src/bounces/classify.js';
import { ReportMatcher } from '../src/bounces/match.js';
import { readAgainAfter } from '../src/bounces/read-again.js';
import { applyBounceEvent, IssueOrder } from '../src/bounces/rules.js';
import { findVerpTags, parseVerpTag, verpAddress, verpTag, VerpResolver } from '../src/bounces/verp.js';
import { VERP_TAG_LENGTH } from '../src/bounces/verp-tag-length.js';
import { loadConfig } from '../src/config/load-config.js';
import { messageIdFor } from '../src/render/message.js';
import { listIdFor } from '../src/render/list-id.js';
import { openFilesStore } from '../src/store/files/index.js';
import type { Store } from '../src/store/types.js';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

const SECRET = 'verp-test-secret';
const LIST_ID = 'The Weekly <the-weekly.example.com>';
const CORPUS = path.join(import.meta.dirname, 'fixtures', 'bounces');

describe('VERP tags', () => {
  it('are 24 lower-case base32 characters, deterministic, unique per recipient and issue, never the address', () => {
    const tag = verpTag(SECRET, LIST_ID, 'weekly-1', 'Ann@Example.org');
    expect(tag).toMatch(/^[a-z2-7]{24}$/);
    expect(tag).toHaveLength(VERP_TAG_LENGTH);
    expect(verpTag(SECRET, LIST_ID, 'weekly-1', 'ann@example.org')).toBe(tag);
    const others = [
      verpTag(SECRET, LIST_ID, 'weekly-2', 'ann@example.org'),
      verpTag(SECRET, LIST_ID, 'weekly-1', 'bob@example.org'),
      verpTag('another-secret', LIST_ID, 'weekly-1', 'ann@example.org'),
      verpTag(SECRET, 'Other <other.example.com>', 'weekly-1', 'ann@example.org'),
    ];
    expect(new Set([tag, ...others]).size).toBe(5);
    expect(tag).not.toContain('ann');
  });

  it('fit a 64-octet local part with the longest base the config allows', async () => {
    const base = `${'b'.repeat(64 - 1 - VERP_TAG_LENGTH)}@news.example.com`;
    const address = verpAddress(base, SECRET, LIST_ID, 'weekly-1', 'a-very-long-address.with.many.parts@subdomain.example.co.uk');
    expect(address.split('@')[0]).toHaveLength(64);
    expect(findVerpTags(`To: <${address}>`, base).map((t) => t.tag)).toEqual([address.split('+')[1]!.split('@')[0]]);
  });

  it('the issues sent are read again after a while (a long --watch sees new sends), and a failed read is not kept', async () => {
    let reads = 0;
    let fail = true;
    const issues = readAgainAfter(async () => {
      reads++;
      if (fail) throw new Error('journal unreadable');
      return [`weekly-${reads}`];
    }, 40);
    await expect(issues()).rejects.toThrow('journal unreadable');
    fail = false;
    const first = await issues();
    expect(await issues()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await issues()).toEqual(['weekly-3']);
    expect(reads).toBe(3);
  });

  it('resolve all at once on a fresh resolver: the first report does not leave the others an empty map of issues', async () => {
    const resolver = new VerpResolver(SECRET, LIST_ID, {
      // The journals take a moment to read, as they do on disk or in Redis.
      issues: () => new Promise((resolve) => setTimeout(() => resolve(['weekly-1']), 20)),
      recipients: async function* () {
        yield* ['ann@example.org', 'bob@example.org', 'cy@example.org'];
      },
    });
    const emails = ['ann@example.org', 'bob@example.org', 'cy@example.org'];
    const found = await Promise.all(emails.map((email) => resolver.resolve(parseVerpTag(verpTag(SECRET, LIST_ID, 'weekly-1', email))!)));
    expect(found).toEqual(emails.map((email) => ({ issue: 'weekly-1', email })));
  });

  it('resolve to their recipient and issue from what was sent; a changed or unknown tag resolves to nothing', async () => {
    const sent = { weekly1: ['ann@example.org', 'bob@example.org'], weekly2: ['ann@example.org'] };
    const resolver = new VerpResolver(SECRET, LIST_ID, {
      issues: async () => ['weekly-1', 'weekly-2'],
      recipients: async function* (slug) {
        yield* slug === 'weekly-1' ? sent.weekly1 : sent.weekly2;
      },
    });
    const tag = (issue: string, email: string) => parseVerpTag(verpTag(SECRET, LIST_ID, issue, email))!;
    expect(await resolver.resolve(tag('weekly-1', 'bob@example.org'))).toEqual({ issue: 'weekly-1', email: 'bob@example.org' });
    expect(await resolver.resolve(tag('weekly-2', 'ann@example.org'))).toEqual({ issue: 'weekly-2', email: 'ann@example.org' });
    // Bob was not sent weekly-2; nobody was sent weekly-3.
    expect(await resolver.resolve(tag('weekly-2', 'bob@example.org'))).toBeNull();
    expect(await resolver.resolve(tag('weekly-3', 'ann@example.org'))).toBeNull();
    const good = verpTag(SECRET, LIST_ID, 'weekly-1', 'ann@example.org');
    const flipped = good.slice(0, 20) + (good[20] === 'a' ? 'b' : 'a') + good.slice(21);
    expect(await resolver.resolve(parseVerpTag(flipped)!)).toBeNull();
    expect(parseVerpTag('not-a-tag')).toBeNull();
    expect(parseVerpTag('a'.repeat(24))).toBeNull();
  });
});

describe('matching reports and applying the rules', () => {
  let root: string;
  let store: Store;
  const key = { listId: LIST_ID, issueSlug: 'weekly-1' };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'newsletter-verp-'));
    store = openFilesStore({ journalDir: path.join(root, 'sends'), suppressions: path.join(root, 'suppressions.txt') });
    for (const [n, slug] of ['weekly-1', 'weekly-2', 'weekly-3', 'weekly-4', 'weekly-5'].entries()) {
      const journal = await store.journal({ ...key, issueSlug: slug });
      await journal.append({ status: 'run', at: `2026-0${n + 1}-01T09:00:00.000Z`, pid: 1, transport: 'smtp', list: 'list.csv', destination: { kind: 'smtp', id: 'smtp://relay' } });
      for (const [line, email] of ['ann@example.org', 'wen@yahoo.com', 'dee@example.net'].entries()) {
        await journal.append({ status: 'accepted', email, line: line + 1, at: new Date().toISOString(), destination: 'smtp' });
      }
      await journal.close();
    }
  });

  const matcher = (verp: boolean) => new ReportMatcher({ secret: SECRET, listId: LIST_ID, verpBase: verp ? 'bounces@news.example.com' : null, bounces: store.bounces });

  it('a report that quotes nothing is matched by its VERP tag alone', async () => {
    const raw = (await readFile(path.join(CORPUS, 'qmail-permanent.eml'), 'utf8'))
      .replaceAll('olga@qmail.example.net', 'someone-else@example.com')
      .replace(/--- Below this line[\s\S]*$/, '')
      .replaceAll('bounces+ab3dbhegm2kqfrbdx7jn5s4wyq@news.example.com', verpAddress('bounces@news.example.com', SECRET, LIST_ID, 'weekly-2', 'ann@example.org'));
    const report = await classifyMessage(raw);
    expect(report.original).toBeNull();
    expect(await matcher(true).match(report)).toEqual([
      { kind: 'hard', email: 'ann@example.org', issue: 'weekly-2', status: '5.1.1', diagnostic: 'Sorry, no mailbox here by that name. (#5.1.1)', source: 'imap', matchedBy: 'verp' },
    ]);
    // Without VERP the same report names an address never sent to: nobody.
    expect(await matcher(false).match(report)).toEqual([]);
  });

  it('a daemon\'s notice that names nobody at all ("550 5.1.1 User unknown") is a bounce its VERP tag gives a recipient; without a tag, nobody', async () => {
    const to = verpAddress('bounces@news.example.com', SECRET, LIST_ID, 'weekly-4', 'dee@example.net');
    const raw = `From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: ${to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <unnamed.1@mx.example.org>\r\n\r\n550 5.1.1 User unknown\r\n`;
    const report = await classifyMessage(raw);
    expect(report).toMatchObject({ kind: 'bounce', form: 'generic-unnamed' });
    expect(await matcher(true).match(report)).toEqual([
      { kind: 'hard', email: 'dee@example.net', issue: 'weekly-4', status: '5.1.1', diagnostic: '550 5.1.1 User unknown', source: 'imap', matchedBy: 'verp' },
    ]);
    expect(await matcher(false).match(report)).toEqual([]);
  });

  it('an unsubscribe request is matched by its From when we sent that address an issue, and by the issue its subject names only when we sent it', async () => {
    const request = (subject: string, from = 'ann@example.org') =>
      classifyMessage(`Authentication-Results: mx.news.example.com; dmarc=pass header.from=example.org\r\nFrom: ${from}\r\nTo: unsubscribe@news.example.com\r\nSubject: ${subject}\r\n\r\nunsubscribe\r\n`);
    expect(await matcher(false).match(await request('unsubscribe weekly-2'))).toEqual([
      { kind: 'unsubscribe', email: 'ann@example.org', issue: 'weekly-2', status: null, diagnostic: 'asked by mail: unsubscribe weekly-2', source: 'mailto', matchedBy: 'from' },
    ]);
    expect((await matcher(false).match(await request('unsubscribe'))).map((e) => [e.email, e.issue])).toEqual([['ann@example.org', null]]);
    // A list manager's notice, and a stranger: nobody's request.
    expect(await matcher(false).match(await request('Unsubscribe confirmation'))).toEqual([]);
    expect(await matcher(false).match(await request('unsubscribe', 'stranger@example.org'))).toEqual([]);
  });

  it('with VERP on, a report without a tag of ours may be forged: its hard bounce counts as soft, its complaint is left for a person', async () => {
    // Names ann (sent every issue) and carries the fixture's tag, which this secret never signed.
    const bounce = (await readFile(path.join(CORPUS, 'qmail-permanent.eml'), 'utf8')).replaceAll('olga@qmail.example.net', 'ann@example.org');
    expect(await matcher(true).match(await classifyMessage(bounce))).toEqual([
      { kind: 'soft', email: 'ann@example.org', issue: 'weekly-1', status: '5.1.1', diagnostic: 'no VERP tag, so counted as soft: Sorry, no mailbox here by that name. (#5.1.1)', source: 'imap', matchedBy: 'list-id' },
    ]);
    // Without VERP the same report is all there is to go by: hard.
    expect((await matcher(false).match(await classifyMessage(bounce))).map((e) => e.kind)).toEqual(['hard']);
    const id = messageIdFor({ listId: LIST_ID, from: 'news@example.com', name: 'x' } as never, 'weekly-3', 'wen@yahoo.com');
    const complaint = (await readFile(path.join(CORPUS, 'arf-redacted-inline.eml'), 'utf8')).replaceAll('<6f1c2a9b0d3e4f5a6b7c8d9e0f1a2b3c.weekly-1@example.com>', id);
    expect(await matcher(true).match(await classifyMessage(complaint))).toEqual([]);
  });

  it('a complaint that names no recipient is matched by the quoted Message-ID, recomputed over the issue', async () => {
    const id = messageIdFor({ listId: LIST_ID, from: 'news@example.com', name: 'x' } as never, 'weekly-3', 'wen@yahoo.com');
    const raw = (await readFile(path.join(CORPUS, 'arf-redacted-inline.eml'), 'utf8')).replaceAll('<6f1c2a9b0d3e4f5a6b7c8d9e0f1a2b3c.weekly-1@example.com>', id);
    const events = await matcher(false).match(await classifyMessage(raw));
    expect(events.map((e) => [e.kind, e.email, e.issue, e.matchedBy])).toEqual([['complaint', 'wen@yahoo.com', 'weekly-3', 'message-id']]);
  });

  it('three consecutive issues that soft-bounced suppress; a delivery or an issue sent in between without a bounce starts over; hard and complaint suppress at once', async () => {
    const soft = (issue: string) => ({ kind: 'soft' as const, email: 'dee@example.net', issue, status: '4.2.2', diagnostic: 'mailbox full', source: 'imap', matchedBy: 'verp' });
    const rules = { softBounceLimit: 3 };
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-1'), rules)).toBe('counted');
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-2'), rules)).toBe('counted');
    expect(await applyBounceEvent(store, LIST_ID, { ...soft('weekly-2'), kind: 'delivered' }, rules)).toBe('reset');
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-3'), rules)).toBe('counted');
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-1'), rules)).toBe('counted');
    // The same issue reported twice is one issue.
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-1'), rules)).toBe('counted');
    expect(await store.suppressions.has('dee@example.net')).toBe(false);
    expect(await applyBounceEvent(store, LIST_ID, soft('weekly-2'), rules)).toBe('suppressed');
    expect(await store.suppressions.has('dee@example.net')).toBe(true);

    expect(await applyBounceEvent(store, LIST_ID, { ...soft('weekly-1'), kind: 'hard', email: 'ann@example.org', status: '5.1.1' }, rules)).toBe('suppressed');
    expect(await applyBounceEvent(store, LIST_ID, { ...soft('weekly-1'), kind: 'hard', email: 'ann@example.org', status: '5.1.1' }, rules)).toBe('already-suppressed');
    expect(await applyBounceEvent(store, LIST_ID, { ...soft('weekly-1'), kind: 'complaint', email: 'wen@yahoo.com', status: null }, rules)).toBe('suppressed');
    expect(await store.bounces.tallies(key)).toEqual({ hard: 1, soft: 1, complaint: 1 });

    // In the order the issues were sent: weekly-2 went out between and did not bounce.
    const ordered = { softBounceLimit: 3, order: new IssueOrder(() => store.bounces.sentIssues(LIST_ID)) };
    const other = (issue: string) => ({ ...soft(issue), email: 'fay@example.net' });
    for (const issue of ['weekly-1', 'weekly-3', 'weekly-4']) expect(await applyBounceEvent(store, LIST_ID, other(issue), ordered)).toBe('counted');
    expect(await store.suppressions.has('fay@example.net')).toBe(false);
    expect(await applyBounceEvent(store, LIST_ID, other('weekly-5'), ordered)).toBe('suppressed');
    // A bounce reported late closes the gap: weekly-1 to weekly-3 in a row.
    for (const issue of ['weekly-1', 'weekly-3']) expect(await applyBounceEvent(store, LIST_ID, { ...other(issue), email: 'gil@example.net' }, ordered)).toBe('counted');
    expect(await applyBounceEvent(store, LIST_ID, { ...other('weekly-2'), email: 'gil@example.net' }, ordered)).toBe('suppressed');
    const file = await readFile(path.join(root, 'suppressions.txt'), 'utf8');
    // Each suppression keeps its record on the line before the address (docs/suppressions.md).
    expect(file).toMatch(/^#: \{"reason":"bounced","source":"imap","issue":"weekly-1","status":"5\.1\.1"[^\n]*\}\nann@example\.org$/m);
    expect(file).toMatch(/^#: \{"reason":"complained","source":"imap"[^\n]*\}\nwen@yahoo\.com$/m);
  });
});

describe('the envelope sender of a send', () => {
  let server: TestSmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('is the From address when bounces.address is not set', async () => {
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--yes', '--retry-delay', '20']);
    expect(run.code, run.stderr).toBe(0);
    expect(server.deliveries.length).toBeGreaterThan(3);
    expect(new Set(server.deliveries.map((d) => d.from))).toEqual(new Set(['dispatch@news.example.com']));
    const config = await loadConfig({ cwd: project.dir });
    expect(config.bounces.address).toBeNull();
    expect(listIdFor(config)).toContain('news.example.com');
  });
});

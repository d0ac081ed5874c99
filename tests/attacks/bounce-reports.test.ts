import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../src/bounces/classify.js';
import { verdictOf } from '../../src/bounces/severity.js';

/**
 * Bounce reports are written by whoever sends mail to the bounce address: their text must not be
 * able to stall `bounces` (a pass, or `--watch` for good) with patterns that backtrack. Each of
 * these took seconds to minutes before the patterns were bounded; the test's time limit is the
 * bound (the bench of bench/bounces.js measures the ordinary speed).
 */

const daemon = (body: string) => `From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@news.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n${body}\r\n`;

describe('hostile bounce reports', () => {
  it('a line of 4,000 @, a line of 100,000 dashes, 50,000 a@ and a 1 MB diagnostic are read in bounded time', async () => {
    for (const body of ['@'.repeat(4000), '-'.repeat(100_000), 'a@'.repeat(50_000), `${'x'.repeat(60_000)}@${'y'.repeat(60_000)}.zz`]) {
      const report = await classifyMessage(daemon(body));
      // Nothing in these names a recipient: at most a failure naming nobody, never an invented address.
      expect(report.recipients.every((r) => r.email === null || r.email.length <= 330)).toBe(true);
    }
    const dsn = [
      'From: MAILER-DAEMON@mx.example.org',
      'To: bounces@news.example.com',
      'Subject: Delivery Status Notification (Failure)',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      'Final-Recipient: rfc822; ann@example.org',
      'Action: failed',
      'Status: 5.0.0',
      `Diagnostic-Code: smtp; 550 ${'a.'.repeat(500_000)}`,
      '',
      '--b--',
      '',
    ].join('\r\n');
    const report = await classifyMessage(dsn);
    expect(report.kind).toBe('bounce');
    expect(report.recipients.map((r) => [r.email, r.severity])).toEqual([['ann@example.org', 'soft']]);
    expect(verdictOf(null, `${'spam'.repeat(250_000)} user unknown`).severity).toBe('soft');
    expect(verdictOf(null, `[${'['.repeat(500_000)}`).severity).toBe('soft');
  }, 10_000);
});

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * `send`'s summary adds up to the list, every time (issues 18.12, 19.11): sent + failed + skipped
 * = rows, whether the send ran to the end or stopped; suppressed rows are counted by reason in
 * the plan and the summary (issue 21.4).
 */

let server: TestSmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

interface Summary {
  sent: number;
  failed: number;
  skipped: number;
  rows: number;
}

/** The summary line, read into its numbers. */
function summaryOf(stdout: string): Summary {
  const match = /^(?:interrupted: )?(?:sent|written to outbox) (\d+), failed (\d+), skipped (\d+) of (\d+) rows/m.exec(stdout);
  if (!match) throw new Error(`no summary line in:\n${stdout}`);
  const [sent, failed, skipped, rows] = match.slice(1).map(Number) as [number, number, number, number];
  return { sent, failed, skipped, rows };
}

/** Data rows of a CSV without quoted line breaks. */
const rowsOf = (csv: string) => csv.trim().split('\n').length - 1;

describe('the send summary', () => {
  it('adds up to the list when a wrong password stops the send before anything is sent', async () => {
    server = await startSmtpServer({ rejectAuth: true });
    const project = await sendProject();
    const csv = 'email,name,city\nann@example.com,Ann,Bristol\nbob@example.com,Bob,Leeds\nsuppressed@example.com,Sue,York\n';
    await writeFile(path.join(project.dir, 'three.csv'), csv);
    const run = await project.run(['weekly-1', '--list', 'three.csv', '--smtp', `smtp://u:wrong@127.0.0.1:${server.port}?allowInsecureAuth=true`, '--yes', '--retry-delay', '20']);
    expect(run.code).toBe(1);
    const summary = summaryOf(run.stdout);
    expect(summary).toEqual({ sent: 0, failed: 0, skipped: 3, rows: rowsOf(csv) });
    expect(run.stdout).toMatch(/2 not tried \(the send stopped before them; the same command sends them\)/);
  });

  it('adds up to the list on a full run, and counts the suppressed rows by reason in the plan and the summary', async () => {
    server = await startSmtpServer({ onRcpt: (address) => (address === 'gone@example.com' ? { code: 550, message: '5.1.1 no such user' } : null) });
    const project = await sendProject();
    const csv = [
      'email,name,city',
      'ann@example.com,Ann,Bristol',
      'bob@example.com,Bob,Leeds',
      'gone@example.com,Gone,Hull',
      'unsub@example.com,Un,York',
      'bounced@example.com,Bo,Kent',
      'byhand@example.com,By,Bath',
      'complained@example.com,Co,Ely',
      'not-an-address,No,Where',
      'ann@example.com,Ann again,Bristol',
    ].join('\n');
    await writeFile(path.join(project.dir, 'list.csv'), `${csv}\n`);
    await writeFile(
      path.join(project.dir, 'suppressions.txt'),
      [
        `#: ${JSON.stringify({ reason: 'unsubscribed', source: 'serve', at: '2026-12-01T00:00:00.000Z' })}`,
        'unsub@example.com',
        `#: ${JSON.stringify({ reason: 'bounced', source: 'imap', issue: 'weekly-0', status: '5.1.1', at: '2026-12-01T00:00:00.000Z' })}`,
        'bounced@example.com',
        'Byhand <byhand@example.com>',
        `#: ${JSON.stringify({ reason: 'complained', source: 'ses', at: '2026-12-01T00:00:00.000Z' })}`,
        'complained@example.com',
        '',
      ].join('\n'),
    );
    const run = await project.run(['weekly-1', '--list', 'list.csv', '--smtp', server.url, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^suppressed: 1 bounced, 1 complained, 1 manual, 1 unsubscribed$/m);
    expect(summaryOf(run.stdout)).toEqual({ sent: 2, failed: 1, skipped: 6, rows: rowsOf(csv) });
    // The rerun: everyone is sent or skipped, and gone@ (suppressed by its 550) is now a bounce.
    const again = await project.run(['weekly-1', '--list', 'list.csv', '--smtp', server.url, '--yes']);
    expect(again.stdout).toMatch(/^suppressed: 2 bounced, 1 complained, 1 manual, 1 unsubscribed$/m);
  });
});

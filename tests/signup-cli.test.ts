import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

/**
 * `newsletter subscribers`: the three export formats imported with their consent dates and
 * sources, the export (CSV and JSON) read back, add/list/remove, and the GDPR erasure that
 * leaves no trace of the address in the store's files while `send` still skips it.
 */

const FIXTURE = path.join(ROOT, 'tests/fixtures/signup');
const TIMEOUT = { timeoutMs: 60_000 };

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-subscribers-'));
  await cp(path.join(FIXTURE, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  for (const name of ['mailchimp-subscribed.csv', 'mailchimp-unsubscribed.csv', 'substack.csv', 'buttondown.csv']) await cp(path.join(FIXTURE, name), path.join(dir, name));
  return dir;
}

const run = (dir: string, args: string[]) => runCli(['subscribers', ...args], { cwd: dir, ...TIMEOUT });

interface Exported {
  email: string;
  fields: Record<string, string>;
  signedUpAt: string | null;
  confirmedAt: string | null;
  page: string | null;
  ip: string | null;
  source: string;
  status: string;
  history: unknown[];
}

describe('subscribers import', () => {
  it('reads Mailchimp, Substack and Buttondown exports, keeping consent dates and marking the source', async () => {
    const dir = await project();
    const mailchimp = await run(dir, ['import', 'mailchimp-subscribed.csv']);
    expect(mailchimp.code, mailchimp.stderr).toBe(0);
    expect(mailchimp.stdout.trim()).toBe('mailchimp export, 3 rows: 2 added, 0 already subscribed (unchanged), 0 suppressed (unsubscribed or bounced there), 1 skipped');
    expect(mailchimp.stderr).toContain('mailchimp-subscribed.csv:4: skipped: `not-an-address` is not a valid email address');
    const unsubscribed = await run(dir, ['import', 'mailchimp-unsubscribed.csv']);
    expect(unsubscribed.stdout.trim()).toBe('mailchimp export, 1 rows: 0 added, 0 already subscribed (unchanged), 1 suppressed (unsubscribed or bounced there), 0 skipped');
    const substack = await run(dir, ['import', 'substack.csv']);
    expect(substack.stdout.trim()).toBe('substack export, 4 rows: 2 added, 1 already subscribed (unchanged), 0 suppressed (unsubscribed or bounced there), 1 skipped');
    expect(substack.stderr).toContain('substack.csv:5: skipped: email_disabled is true');
    const buttondown = await run(dir, ['import', 'buttondown.csv']);
    expect(buttondown.stdout.trim()).toBe('buttondown export, 3 rows: 1 added, 0 already subscribed (unchanged), 1 suppressed (unsubscribed or bounced there), 1 skipped');

    const exported = await run(dir, ['export', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const all = new Map((JSON.parse(exported.stdout) as Exported[]).map((s) => [s.email, s]));
    expect([...all.keys()].sort()).toEqual(['ann@example.com', 'bob@example.com', 'cleo@example.com', 'dan@example.com', 'erin@example.com']);
    expect(all.get('ann@example.com')).toMatchObject({ fields: { name: 'Ann Example' }, signedUpAt: '2024-03-01T10:00:00.000Z', confirmedAt: '2024-03-01T10:05:12.000Z', ip: '203.0.113.0/24', source: 'import:mailchimp', status: 'subscribed', history: [] });
    expect(all.get('bob@example.com')).toMatchObject({ fields: { name: 'Bob' }, confirmedAt: '2024-03-02T08:31:00.000Z', ip: '2001:db8:1::/48', source: 'import:mailchimp' });
    expect(all.get('cleo@example.com')).toMatchObject({ signedUpAt: '2023-11-05T19:48:34.514Z', confirmedAt: null, source: 'import:substack' });
    expect(all.get('erin@example.com')).toMatchObject({ signedUpAt: '2024-05-06T07:08:09.123Z', ip: '198.51.100.0/24', page: 'https://blog.example.org/post', source: 'import:buttondown' });
    const suppressions = await readFile(path.join(dir, 'suppressions.txt'), 'utf8');
    expect(suppressions.split('\n').filter((line) => line && !line.startsWith('#')).sort()).toEqual(['gil@example.com', 'gone@example.com']);

    // CSV: one row per subscriber, the same values.
    const csv = await run(dir, ['export']);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.email).sort()).toEqual([...all.keys()].sort());
    expect(rows.find((row) => row.email === 'ann@example.com')).toMatchObject({ name: 'Ann Example', status: 'subscribed', signed_up_at: '2024-03-01T10:00:00.000Z', source: 'import:mailchimp', earlier_consents: '0' });
    expect(csv.stderr.trim()).toBe('5 subscribers exported');
  });

  it('a CSV without an address column is refused, naming the file and line', async () => {
    const dir = await project();
    await writeFile(path.join(dir, 'odd.csv'), 'mail,who\nann@example.com,Ann\n');
    const result = await run(dir, ['import', 'odd.csv']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe('odd.csv:1: no `email` or `Email Address` column in the header row');
  });
});

describe('subscribers add, list, remove, export', () => {
  it('adds by hand (source cli), lists with status, removes, and writes formulas as text in CSV', async () => {
    const dir = await project();
    expect((await run(dir, ['add', 'Hal@Example.com', '--field', 'name==HYPERLINK("https://evil.example")'])).stdout.trim()).toBe('added hal@example.com');
    expect((await run(dir, ['add', 'ivy@example.com'])).code).toBe(0);
    const bad = await run(dir, ['add', 'ivy@example.com', '--field', 'age=3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toMatch(/^--field `age`: not one of the fields the config names/);
    const listed = await run(dir, ['list']);
    expect(listed.stdout.trim().split('\n').map((line) => line.split(/\s+/).filter((_, i) => i !== 2).join(' ')).sort()).toEqual(['hal@example.com subscribed cli', 'ivy@example.com subscribed cli']);
    const csv = parse((await run(dir, ['export'])).stdout, { columns: true }) as Record<string, string>[];
    expect(csv.find((row) => row.email === 'hal@example.com')!.name).toBe(`'=HYPERLINK("https://evil.example")`);
    expect((await run(dir, ['remove', 'IVY@example.com'])).code).toBe(0);
    const again = await run(dir, ['remove', 'ivy@example.com']);
    expect(again.code).toBe(2);
    expect((await run(dir, ['list'])).stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('subscribers remove --erase', () => {
  it('leaves no trace of the address in the store\'s files, keeps it suppressed for every send, and leaves others alone', async () => {
    const dir = await project();
    await run(dir, ['import', 'mailchimp-subscribed.csv']);
    await run(dir, ['import', 'substack.csv']);
    await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
    // A send to the outbox journals both addresses; Ann then unsubscribes (a line in suppressions.txt).
    const sent = await runCli(['send', 'weekly-1', '--yes', '--templates', path.join(ROOT, 'templates')], { cwd: dir, env: { NEWSLETTER_SECRET: 'erase-secret', SMTP_URL: '' }, ...TIMEOUT });
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    await writeFile(path.join(dir, 'suppressions.txt'), '# unsubscribed 2026-01-01T00:00:00.000Z (serve)\nann@example.com\n', { flag: 'a' });
    const storeFiles = async () => {
      const texts: string[] = [];
      for (const name of ['subscribers.jsonl', 'suppressions.txt']) texts.push(await readFile(path.join(dir, name), 'utf8'));
      for (const name of await readdir(path.join(dir, '.newsletter/sends'))) texts.push(await readFile(path.join(dir, '.newsletter/sends', name), 'utf8'));
      return texts.join('\n').toLowerCase();
    };
    expect(await storeFiles()).toContain('ann@example.com');

    const erased = await run(dir, ['remove', '--erase', 'Ann@Example.com']);
    expect(erased.code, erased.stderr).toBe(0);
    expect(erased.stdout.trim()).toBe('erased the subscriber and every record of the address; it stays suppressed by its hash');
    const after = await storeFiles();
    expect(after).not.toContain('ann@example.com');
    expect(after).toContain('bob@example.com');
    expect(after).toMatch(/^sha256:[0-9a-f]{64}$/m);

    // Still suppressed: a list file that names her skips her.
    await writeFile(path.join(dir, 'list.csv'), 'email\nann@example.com\nnew@example.com\n');
    const dry = await runCli(['send', 'weekly-1', '--list', 'list.csv', '--dry-run', '--templates', path.join(ROOT, 'templates')], { cwd: dir, env: { NEWSLETTER_SECRET: 'erase-secret', SMTP_URL: '' }, ...TIMEOUT });
    expect(dry.stdout).toMatch(/1 suppressed/);
    const listed = (await run(dir, ['list'])).stdout;
    expect(listed).not.toContain('ann@example.com');
    expect(listed).toContain('bob@example.com');
  });
});

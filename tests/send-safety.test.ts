import { spawn } from 'node:child_process';
import { access, appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { messageIdFor } from '../src/render/message.js';
import { maskSmtpUrl, smtpChoice } from '../src/send/transport.js';
import { CONTENT, REPO, SLOT_TEMPLATES, sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * A send that goes wrong: an outbox run before the real one, a journal that cannot be written
 * (a file-size limit: the kernel answers EFBIG as it answers ENOSPC on a full disk), a corrupt
 * journal, passwords in odd URLs, two newsletters on one domain.
 */

const FAST = ['--retry-delay', '20', '--yes'];
const VALID = ['ann@example.com', 'bob@example.com', 'carl@example.com', 'dora@example.com', 'frank@example.com', 'gina@example.com', 'ivy@example.com'];

let server: TestSmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('outbox runs and real sends', () => {
  it('an outbox run never makes a real send skip anyone; the plan counts the outbox copies', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const outbox = await project.run(['weekly-1', '--list', 'subscribers.csv']);
    expect(outbox.code, outbox.stderr).toBe(0);
    expect(outbox.stdout).toMatch(/^written to outbox 7, failed 0/m);
    expect(outbox.stdout).not.toMatch(/^sent /m);
    const records = await project.journal();
    expect(records[0]).toMatchObject({ status: 'run', destination: { kind: 'outbox' } });
    expect(records.filter((r) => r.status === 'accepted').every((r) => r.destination === 'outbox')).toBe(true);

    // Outbox again: already written, nothing to do.
    const again = await project.run(['weekly-1', '--list', 'subscribers.csv']);
    expect(again.stdout).toContain('nothing to do: every recipient is already written to outbox');

    const real = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/→ 7 to send/);
    expect(real.stdout).toMatch(/^outbox: +7 earlier copies written to the outbox \(not counted as sent/m);
    expect(real.stdout).toMatch(/^sent 7, failed 0/m);
    for (const address of VALID) expect(server.deliveredTo(address)).toBe(1);
    const run = (await project.journal()).filter((r) => r.status === 'run').at(-1);
    // Where it went, never the password.
    expect(run?.destination).toEqual({ kind: 'smtp', id: `smtp://127.0.0.1:${server.port}` });
  }, 60_000);

  it('a journal from before destinations were recorded: outbox records do not count for SMTP', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const at = new Date().toISOString();
    const legacy = [
      { status: 'run', at, pid: 1, transport: 'outbox (outbox/weekly-1/)', list: 'subscribers.csv' },
      ...VALID.map((email, i) => ({ status: 'accepted', email, line: i + 2, at, messageId: '<x@y>', response: 'saved outbox/…', attempts: 1 })),
      { status: 'run', at, pid: 2, transport: 'smtp://mail.example.com:587', list: 'subscribers.csv' },
      { status: 'accepted', email: 'ann@example.com', line: 2, at, messageId: '<x@y>', response: '250 ok', attempts: 1 },
    ];
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(project.dir, '.newsletter/sends'), { recursive: true });
    await writeFile(path.join(project.dir, '.newsletter/sends/weekly-1.jsonl'), legacy.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const real = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/→ 6 to send .*1 already sent/);
    expect(server.deliveredTo('ann@example.com')).toBe(0);
    for (const address of VALID.slice(1)) expect(server.deliveredTo(address)).toBe(1);
  }, 60_000);

  it('--restart starts over after asking, keeping the old journal as a backup', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const first = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(first.code, first.stderr).toBe(0);
    const refused = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--restart']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to send without confirmation');
    const declined = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--restart'], { NEWSLETTER_SECRET: 'test-secret' }, { answer: 'no' });
    expect(declined.stderr).toContain('START OVER');
    expect(server.accepted).toBe(7);
    const restarted = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--restart'], { NEWSLETTER_SECRET: 'test-secret' }, { answer: 'yes' });
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stdout).toContain('starting over: kept as a backup');
    expect(server.accepted).toBe(14);
    const files = await readdir(path.join(project.dir, '.newsletter/sends'));
    const backup = files.find((f) => f.endsWith('.bak'));
    expect(backup).toBeTruthy();
    const old = (await readFile(path.join(project.dir, '.newsletter/sends', backup!), 'utf8')).split('\n').filter(Boolean);
    expect(old.filter((l) => JSON.parse(l).status === 'accepted')).toHaveLength(7);
  }, 60_000);
});

describe('journal validation', () => {
  async function journaledProject() {
    server = await startSmtpServer();
    const project = await sendProject();
    const first = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, ...FAST]);
    expect(first.code, first.stderr).toBe(0);
    return { project, journal: path.join(project.dir, '.newsletter/sends/weekly-1.jsonl') };
  }

  it('a record of the wrong shape stops the resume with its line number and the repair hint', async () => {
    const { project, journal } = await journaledProject();
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines.splice(3, 0, JSON.stringify({ status: 'accepted', email: ['x@example.com'], line: 'three' }));
    await writeFile(journal, lines.join('\n'));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server!.url, ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\.newsletter\/sends\/weekly-1\.jsonl:4: the send journal has a record of the wrong shape: `email`/);
    expect(run.stderr).toContain('--repair-journal');
    expect(server!.accepted).toBe(7);
  }, 60_000);

  it('a non-JSON line in the middle stops it too; --repair-journal moves it aside and the send resumes', async () => {
    const { project, journal } = await journaledProject();
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines.splice(2, 0, '{"status":"accepted","email":"half');
    await writeFile(journal, lines.join('\n'));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server!.url, ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/weekly-1\.jsonl:3: the send journal has a line that is not JSON/);

    const repair = await project.run(['weekly-1', '--repair-journal']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/^moved 1 bad line to .*weekly-1\.jsonl\..*\.bad; kept \d+ records$/m);
    const aside = (await readdir(path.dirname(journal))).find((f) => f.endsWith('.bad'))!;
    expect(await readFile(path.join(path.dirname(journal), aside), 'utf8')).toBe('3\t{"status":"accepted","email":"half\n');
    const resumed = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server!.url, ...FAST]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('nothing to do: every recipient is already sent');
    expect(server!.accepted).toBe(7);
  }, 60_000);

  it('half a record at the very end (a crash mid-write) is ignored with a notice, and cut off before appending', async () => {
    const { project, journal } = await journaledProject();
    await appendFile(journal, '{"status":"accepted","email":"ann@exa');
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server!.url, ...FAST, '--restart']);
    expect(run.stderr).toContain('the journal ends in half a record');
    const tail = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server!.url, ...FAST]);
    expect(tail.code, tail.stderr).toBe(0);
  }, 60_000);
});

describe('a journal that cannot be written (full disk)', () => {
  const RECIPIENTS = 60;
  const CONCURRENCY = 4;

  it('stops at once with OUTPUT_WRITE, never re-sends an accepted message, and says how many were not recorded', async () => {
    await access(path.join(REPO, 'lib/cli/main.js')).catch(() => {
      throw new Error('lib/ is missing: run `npx tsc -p .` (npm test does) before this test');
    });
    server = await startSmtpServer({ delayMs: 2, countOnly: true });
    const project = await sendProject();
    const rows = ['email,name,city'];
    for (let i = 0; i < RECIPIENTS; i++) rows.push(`reader${i}@example.com,Reader ${i},Town`);
    await writeFile(path.join(project.dir, 'big.csv'), `${rows.join('\n')}\n`);
    const args = ['weekly-1', '--list', 'big.csv', '--smtp', server.url, '--yes', '--concurrency', String(CONCURRENCY), '--retry-delay', '20'];
    // ulimit -f 6: no file may grow past 6 KiB; the journal hits it after a few dozen records.
    const cli = [process.execPath, path.join(REPO, 'bin/newsletter.js'), 'send', ...args, '--content', CONTENT, '--templates', SLOT_TEMPLATES].map((a) => `'${a}'`).join(' ');
    const child = spawn('bash', ['-c', `ulimit -f 6 && exec ${cli}`], { cwd: project.dir, env: { ...process.env, NEWSLETTER_SECRET: 'disk-secret', SMTP_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/weekly-1\.jsonl: cannot write the send journal: .*(EFBIG|short write)/);
    expect(server.accepted).toBeLessThan(RECIPIENTS);
    // No address got the message twice: the server's 250 was never taken for a failure.
    for (let i = 0; i < RECIPIENTS; i++) expect(server.deliveredTo(`reader${i}@example.com`)).toBeLessThanOrEqual(1);
    // The failed write may have left half a record at the end: only whole records count.
    const journaled = (await project.read('.newsletter/sends/weekly-1.jsonl')).split('\n').filter((l) => l.endsWith('}') && JSON.parse(l).status === 'accepted').length;
    const unrecorded = server.accepted - journaled;
    expect(unrecorded).toBeGreaterThanOrEqual(1);
    expect(unrecorded).toBeLessThanOrEqual(CONCURRENCY);
    expect(stdout).toMatch(new RegExp(`^sent ${server.accepted}, failed 0`, 'm'));
    expect(stdout).toContain(`not recorded: ${unrecorded} of those ${server.accepted} were delivered but the journal could not record them`);
    expect(stdout).not.toMatch(/failed-temporary/);

    // With room again, the rerun reaches everyone; the only duplicates are the unrecorded ones.
    const rerun = await project.run(args, { NEWSLETTER_SECRET: 'disk-secret' });
    expect(rerun.code, rerun.stderr).toBe(0);
    let duplicates = 0;
    for (let i = 0; i < RECIPIENTS; i++) {
      const n = server.deliveredTo(`reader${i}@example.com`);
      expect(n).toBeGreaterThanOrEqual(1);
      duplicates += n - 1;
    }
    expect(duplicates).toBe(unrecorded);
  }, 90_000);
});

describe('messages and wording', () => {
  it('Message-IDs differ between two newsletters on one domain with the same issue slug', async () => {
    const project = await sendProject();
    const one = await loadConfig({ configFile: path.join(project.dir, 'newsletter.config.json'), cwd: project.dir });
    const other = { ...one, name: 'The Southern Dispatch' };
    const listed = { ...one, listId: 'weekly.news.example.com' };
    expect(messageIdFor(one, 'weekly-1', 'a@example.com')).not.toBe(messageIdFor(other, 'weekly-1', 'a@example.com'));
    expect(messageIdFor(one, 'weekly-1', 'a@example.com')).not.toBe(messageIdFor(listed, 'weekly-1', 'a@example.com'));
    expect(messageIdFor(one, 'weekly-1', 'a@example.com')).toBe(messageIdFor({ ...one }, 'weekly-1', 'A@example.com'));
  });

  it.each([
    ['smtp://user:p@ss@word@mail.example.com:587', 'p@ss@word', 'smtp://user:****@mail.example.com:587'],
    ['smtp://user:1234#5678@mail.example.com', '1234#5678', 'smtp://user:****@mail.example.com'],
    ['smtp://user:se/cr?et@mail.example.com:25', 'se/cr?et', 'smtp://user:****@mail.example.com:25'],
    ['smtp://user:s3cr3t-pass@', 's3cr3t-pass', 'smtp://user:****@'],
    ['smtp://:only-a-secret@host', 'only-a-secret', 'smtp://:****@host'],
    ['smtp://user:topsecret', 'topsecret', 'smtp://user:****'],
    ['user:hunter2@mail.example.com', 'hunter2', '(unreadable SMTP setting, not shown)'],
  ])('never prints the password of `%s`', (url, password, shown) => {
    expect(maskSmtpUrl(url)).toBe(shown);
    expect(maskSmtpUrl(url)).not.toContain(password);
    let message = '';
    try {
      smtpChoice(url);
    } catch (error) {
      message = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
    }
    expect(message).not.toContain(password);
  });

  it('a bad SMTP URL with @ in the password: the CLI prints no part of the password', async () => {
    const project = await sendProject();
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', 'smtp://me:pa@ss w0rd@:99999', '--yes']);
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/ss w0rd|pa@ss/);
  });

  it('a dry run says what it did: nothing journaled', async () => {
    const project = await sendProject();
    const rows = ['email,name,city'];
    for (let i = 0; i < 30; i++) rows.push(`not-an-address-${i},X,Y`);
    await writeFile(path.join(project.dir, 'bad.csv'), `${rows.join('\n')}\n`);
    const run = await project.run(['weekly-1', '--list', 'bad.csv', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('… and 10 more (a real run records each in the journal)');
    expect(run.stdout).not.toContain('each is in the journal');
    expect(run.stdout).toContain('dry run: nothing was sent, nothing was written');
    await expect(access(path.join(project.dir, '.newsletter'))).rejects.toThrow();
  });
});

describe('library options', () => {
  it('sendIssue validates its options at the edge: USAGE naming the option and the value', async () => {
    const { loadProject } = await import('../src/project.js');
    const { sendIssue } = await import('../src/send/send-issue.js');
    const { outboxChoice } = await import('../src/send/transport.js');
    const project = await sendProject();
    const loaded = await loadProject({ cwd: project.dir, content: CONTENT, templates: SLOT_TEMPLATES });
    const base = { project: loaded, issueSlug: 'weekly-1', list: 'subscribers.csv', transport: outboxChoice(path.join(project.dir, 'outbox'), 'weekly-1', project.dir), secret: 's', cwd: project.dir };
    for (const [bad, key, shown] of [
      [{ concurrency: 0 }, 'concurrency', '0'],
      [{ retries: -1 }, 'retries', '-1'],
      [{ rate: 'fast' }, 'rate', '"fast"'],
      [{ transport: { kind: 'carrier-pigeon' } }, 'transport.kind', '"carrier-pigeon"'],
    ] as const) {
      const error = await sendIssue({ ...base, ...(bad as object) } as never).then(() => null, (e: unknown) => e as { code: string; message: string });
      expect(error?.code, key).toBe('USAGE');
      expect(error?.message).toContain(`\`${key}\``);
      expect(error?.message).toContain(shown);
    }
    await expect(access(path.join(project.dir, '.newsletter'))).rejects.toThrow();
  });
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { article, hostileProject, issueFile, strictXmlError } from './project.js';

/**
 * Control characters as agency systems and pastes deliver them: vertical tab, form feed, ESC,
 * record and unit separators, NUL. They must leave with a warning that names file and line, and
 * every output must stay valid for its format.
 */

const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const WIRE = 'By Agency Desk\nFirst\u000bparagraph, a page\u000cbreak.\nSecond with ESC\u001b[1m, \u001erecord, \u001funit and a NUL\u0000 byte.\nThird, clean.\n';
const MARKDOWN = 'A clean line.\n\nA line with a vertical\u000btab.\n';

let dir: string;

beforeAll(async () => {
  dir = await hostileProject({
    'content/articles/wire.txt': WIRE,
    'content/articles/story.md': article('A story', MARKDOWN),
    'content/issues/weekly-1.md': issueFile('Controls', ['wire', 'story']),
    'list.csv': 'email,name\nreader@example.com,Reader\n',
  });
}, 60_000);

describe('attacks: control characters', () => {
  it('are reported by check with the file and the lines they were on', async () => {
    const r = await runCli(['check', 'weekly-1', '--json'], { cwd: dir, timeoutMs: 90_000 });
    const report = JSON.parse(r.stdout) as { issues: { findings: { rule: string; file?: string; line?: number; message: string }[] }[] };
    const removed = report.issues[0]!.findings.filter((f) => f.rule === 'content/removed');
    expect(removed.map((f) => [f.file, f.line, f.message])).toEqual([
      [path.join('content', 'articles', 'wire.txt'), 2, 'control characters (U+000B, U+000C, U+001B, U+001E, U+001F, U+0000) removed from lines 2, 3: no email or feed can carry them'],
      [path.join('content', 'articles', 'story.md'), 6, 'control characters (U+000B) removed from line 6: no email or feed can carry them'],
    ]);
  });

  it('leave no trace in the web edition and the feeds, which a strict XML parser accepts', async () => {
    const r = await runCli(['publish'], { cwd: dir, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const site = path.join(dir, 'dist/site');
    for (const file of ['feed.xml', 'atom.xml']) expect(strictXmlError(await readFile(path.join(site, file), 'utf8')), file).toBeNull();
    for (const file of ['feed.xml', 'atom.xml', 'feed.json', 'issues/weekly-1/index.html']) {
      expect(CONTROLS.test(await readFile(path.join(site, file), 'utf8')), file).toBe(false);
    }
  });

  it('leave no trace in the message: no NUL, no =00, the words still apart', async () => {
    const r = await runCli(['send', 'weekly-1', '--list', 'list.csv', '--yes'], { cwd: dir, env: { NEWSLETTER_SECRET: 'x'.repeat(32), SMTP_URL: '' }, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const outbox = path.join(dir, 'outbox/weekly-1');
    const [eml] = (await readdir(outbox)).filter((name) => name.endsWith('.eml'));
    const raw = await readFile(path.join(outbox, eml!), 'latin1');
    expect(raw).not.toMatch(/=00|=0B|=0C|=1B|=1E|=1F/);
    const mail = await simpleParser(raw);
    expect(CONTROLS.test(`${mail.html} ${mail.text}`)).toBe(false);
    expect(mail.text).toContain('First paragraph, a page break.');
  });
});

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { Recipient } from '../src/config/defaults.js';
import { loadConfig } from '../src/config/load-config.js';
import { loadIssue } from '../src/content/load-issue.js';
import { composeMessage } from '../src/render/message.js';
import { compileIssue } from '../src/render/personalize.js';
import { loadTemplates } from '../src/render/templates.js';
import { compileMessageTemplate } from '../src/send/message-template.js';
import { CONTENT, FIXTURES, REPO, SLOT_TEMPLATES, sendProject } from './helpers/send-project.js';
import { runCli } from './helpers/cli.js';

/**
 * RFC 5322 line rules on every message file we write: each line at most 998 octets (headers
 * folded, encoded words at most 75 characters), CRLF throughout, never a bare LF or CR.
 */

function lineProblems(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  const problems: string[] = [];
  if (/(^|[^\r])\n/.test(text)) problems.push('bare LF');
  if (/\r(?!\n)/.test(text)) problems.push('bare CR');
  text.split('\r\n').forEach((line, i) => {
    if (line.length > 998) problems.push(`line ${i + 1} is ${line.length} octets`);
  });
  for (const word of text.match(/=\?[^?\s]+\?[QB]\?[^?\s]*\?=/gi) ?? []) if (word.length > 75) problems.push(`encoded word of ${word.length}: ${word.slice(0, 30)}…`);
  return problems;
}

const LONG_SUBJECTS = ['x'.repeat(3000), `${'Wörd '.repeat(400)}end`, `Breaking: ${'a'.repeat(990)} and more`, 'Short and sweet'];

describe('message lines', () => {
  it.each(LONG_SUBJECTS.map((s) => [s.slice(0, 20), s]))('subject `%s…` folds within the limits and decodes back', async (_label, subject) => {
    const config = await loadConfig({ configFile: `${FIXTURES}/newsletter.config.json`, content: CONTENT, cwd: REPO });
    const raw = await composeMessage({ config, issueSlug: 'weekly-1', subject, html: '<p>one</p>\n<p>two</p>', text: 'one\ntwo\r\nthree\n', recipient: { email: 'a@example.com', name: 'n'.repeat(3000) }, unsubscribeUrl: `https://news.example.com/u?email=${'x'.repeat(900)}` });
    expect(lineProblems(raw)).toEqual([]);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(subject);
    expect(parsed.text?.replace(/\r\n/g, '\n').trim()).toBe('one\ntwo\nthree');
    expect(parsed.to && 'value' in parsed.to ? parsed.to.value[0]?.address : null).toBe('a@example.com');
  });

  it('the per-recipient messages of a send (slots and from scratch) follow the rules too', async () => {
    const config = await loadConfig({ configFile: `${FIXTURES}/newsletter.config.json`, content: CONTENT, cwd: REPO });
    const templates = await loadTemplates(SLOT_TEMPLATES, config.paths.cwd, config.themeOverrides);
    const issue = { ...(await loadIssue(CONTENT, 'weekly-1', config.paths.cwd)), subject: 'y'.repeat(2000) };
    const compiled = await compileIssue(issue, { config, templates, secret: 'k', fields: ['email', 'name', 'city'] });
    const template = await compileMessageTemplate(compiled, config);
    const recipients: Recipient[] = [
      { email: 'a@example.com', name: 'Ann', city: 'Bristol' },
      { email: 'b@example.com', name: 'z'.repeat(2500), city: 'line\nbreak' },
      { email: 'c@example.com', name: 'Zoë '.repeat(300), city: '' },
    ];
    for (const recipient of recipients) {
      const message = await template.build(recipient);
      expect(lineProblems(message.raw), recipient.email).toEqual([]);
      expect((await simpleParser(message.raw)).subject).toBe(issue.subject);
    }
  });

  it('build writes message.eml and an outbox run writes .eml files with CRLF throughout', async () => {
    const project = await sendProject();
    const out = path.join(project.dir, 'dist');
    const build = await runCli(['build', 'weekly-1', '--content', CONTENT, '--templates', path.join(REPO, 'templates'), '--out', out], { cwd: project.dir });
    expect(build.code, build.stderr).toBe(0);
    expect(lineProblems(await readFile(path.join(out, 'weekly-1/message.eml')))).toEqual([]);
    const outbox = await project.run(['weekly-1', '--list', 'subscribers.csv']);
    expect(outbox.code, outbox.stderr).toBe(0);
    const dir = path.join(project.dir, 'outbox/weekly-1');
    const files = await readdir(dir);
    expect(files.length).toBe(7);
    for (const file of files) expect(lineProblems(await readFile(path.join(dir, file))), file).toEqual([]);
  });
});

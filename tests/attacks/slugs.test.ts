import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertIssueSlug, issueSlugProblem } from '../../src/content/slug.js';
import { isNewsletterError } from '../../src/errors.js';
import { loadProject } from '../../src/pipeline.js';
import { sendIssue } from '../../src/send/send-issue.js';
import { runCli } from '../helpers/cli.js';
import { hostileProject, issueFile, tree } from './project.js';

/**
 * Issue slugs become paths (`outbox/<slug>/`, `dist/<slug>/`, the journal): `send
 * ../issues/weekly-1 --yes` wrote its .eml files outside outbox/. Every command refuses a slug
 * that is not a plain name, before reading or writing anything.
 */

const HOSTILE = ['../issues/weekly-1', '..', '.hidden', 'a/b', 'a\\b', '/etc/passwd', '', 'x'.repeat(201), 'weekly-1\u0000'];

async function project(): Promise<string> {
  // The hostile slug names a real issue file: what the attack needs to get anywhere.
  return hostileProject({
    'content/issues/weekly-1.md': issueFile('Hello', []),
    'issues/weekly-1.md': issueFile('Outside', []),
    'list.csv': 'email\nreader@example.com\n',
  });
}

describe('attacks: issue slugs', () => {
  it('one function says what an issue slug is', () => {
    for (const slug of ['weekly-1', '2024-06.summer', 'ausgabe_ä', 'Issue42']) expect(issueSlugProblem(slug), slug).toBeNull();
    for (const slug of HOSTILE) expect(issueSlugProblem(slug), slug).not.toBeNull();
  });

  it.each([
    ['send', '../issues/weekly-1', '--list', 'list.csv', '--yes'],
    ['send', '../issues/weekly-1', '--test-to', 'me@example.com', '--yes'],
    ['build', 'weekly-1', '../issues/weekly-1'],
    ['check', '../issues/weekly-1'],
    ['publish', '../issues/weekly-1'],
    ['screenshot', '../issues/weekly-1'],
    ['status', '../issues/weekly-1'],
  ])('`%s %s` is refused before anything is read or written', async (...args) => {
    const dir = await project();
    const before = await tree(dir);
    // A config that cannot be read shows that the slug was refused before the config was.
    const r = await runCli([...args, '--config', 'missing.json'], { cwd: dir, env: { NEWSLETTER_SECRET: 'x'.repeat(32), SMTP_URL: '' }, timeoutMs: 60_000 });
    expect(r.stderr.split('\n')[0]).toBe('`../issues/weekly-1` is not an issue slug: it holds a path separator');
    expect(r.code).toBe(2);
    expect(await tree(dir)).toEqual(before);
  });

  it('the library refuses it too: sendIssue, and the loader', async () => {
    const dir = await project();
    const loaded = await loadProject({ cwd: dir, content: path.join(dir, 'content'), templates: path.join(dir, 'templates'), out: path.join(dir, 'dist') });
    const before = await tree(dir);
    const error = await sendIssue({
      project: loaded,
      issueSlug: '../issues/weekly-1',
      list: 'list.csv',
      transport: { kind: 'outbox', dir: path.join(dir, 'outbox'), display: 'outbox' },
      secret: 'x'.repeat(32),
      cwd: dir,
    }).catch((e: unknown) => e);
    expect(isNewsletterError(error) && error.code).toBe('USAGE');
    expect((error as Error).message).toMatch(/issueSlug/);
    expect(() => assertIssueSlug('../issues/weekly-1')).toThrow(/not an issue slug/);
    expect(await tree(dir)).toEqual(before);
  });
});

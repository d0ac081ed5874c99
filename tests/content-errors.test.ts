import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrontMatter } from '../src/content/front-matter.js';
import { yamlHint } from '../src/content/yaml-hint.js';
import type { NewsletterError } from '../src/errors.js';
import { ROOT, runCli } from './helpers/cli.js';

/** Errors an editor causes in content files, as `newsletter build` prints them: what, where, what to do. */

const TIMEOUT = { timeoutMs: 60_000 };

/** A copy of the example whose issue file is `issue` (front matter and body). */
async function exampleWithIssue(edit: (issue: string) => string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-content-err-'));
  for (const name of ['content', 'templates']) await cp(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  const file = path.join(dir, 'content/issues/weekly-1.md');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  return dir;
}

function failure(fn: () => unknown): NewsletterError {
  try {
    fn();
  } catch (error) {
    return error as NewsletterError;
  }
  throw new Error('expected an error');
}

describe('content errors', () => {
  it('a misspelt `artciles:` is an unknown key with the key it was meant to be, at its line', async () => {
    const dir = await exampleWithIssue((s) => s.replace('\narticles:', '\nartciles:'));
    const r = await runCli(['build', 'weekly-1'], { cwd: dir, ...TIMEOUT });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`${path.join('content', 'issues', 'weekly-1.md')}:6: unknown key \`artciles\` (did you mean \`articles\`?)`);
  });

  it('an article entry without a slug says which entry lacks it, at that entry', async () => {
    const dir = await exampleWithIssue((s) => s.replace('    date: 2023-09-11\n---', '    date: 2023-09-11\n  - title: "No slug here"\n---'));
    const r = await runCli(['build', 'weekly-1'], { cwd: dir, ...TIMEOUT });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`${path.join('content', 'issues', 'weekly-1.md')}:10: \`articles.1\` (entry 2 of \`articles\`) has no \`slug\`, which is required`);
  });

  it('an unknown template names the issue file and line of `template:`, the closest layout and all of them', async () => {
    const dir = await exampleWithIssue((s) => s.replace('template: digest', 'template: digets'));
    const r = await runCli(['build', 'weekly-1'], { cwd: dir, ...TIMEOUT });
    expect(r.code).toBe(1);
    const [first, hint] = r.stderr.split('\n');
    expect(first).toBe(`${path.join('content', 'issues', 'weekly-1.md')}:5: \`template: digets\`: no layout \`digets\` (did you mean \`digest\`?) (looked for ${path.join('templates', 'layouts', 'digets.mjml')})`);
    expect(hint).toBe(`  hint: layouts in ${path.join('templates', 'layouts')}: article, digest`);
    expect(r.stdout).toBe('');
  });

  it('a YAML value with an unquoted ": " gets a hint to quote it, with the line rewritten', () => {
    const error = failure(() => parseFrontMatter('---\ntitle: Kim: the summit\nauthor: A\n---\nBody', 'a.md'));
    expect(error.format()).toBe(
      'a.md:2: invalid YAML front matter: incomplete explicit mapping pair; a key node is missed; or followed by a non-tabulated empty line\n' +
        '  hint: a value containing ": " must be quoted, or YAML reads a second key: write `title: "Kim: the summit"`',
    );
    expect(yamlHint('subject: "Re: quoted"', 1)).toBeUndefined();
    expect(yamlHint('url: https://example.com/a', 1)).toBeUndefined();
    expect(yamlHint('  - title: Q: "why"', 1)).toBe('a value containing ": " must be quoted, or YAML reads a second key: write `title: "Q: \\"why\\""`');
  });
});

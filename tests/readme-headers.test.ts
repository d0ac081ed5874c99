import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

/**
 * The message headers the README (and the docs/ pages) show, such as
 * `List-Unsubscribe: <https://…/unsubscribe/…>, <mailto:…>`, are the real ones: each is compared
 * with the same header of a `message.eml` built from the repository's example project. `…` and
 * `{placeholder}` stand for any text; everything else must be as written.
 */

const MESSAGE_HEADERS = /^(?:List-[A-Za-z-]+|From|To|Reply-To|Subject|Date|Message-ID|MIME-Version|Precedence|Auto-Submitted|Feedback-ID|DKIM-Signature)$/i;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function documentation(): Promise<{ file: string; text: string }[]> {
  const pages = [{ file: 'README.md', text: await readFile(path.join(ROOT, 'README.md'), 'utf8') }];
  for (const name of (await readdir(path.join(ROOT, 'docs'))).filter((n) => n.endsWith('.md'))) {
    pages.push({ file: `docs/${name}`, text: await readFile(path.join(ROOT, 'docs', name), 'utf8') });
  }
  return pages;
}

function shapeOf(example: string): RegExp {
  const parts = example.split(/…|\{[a-zA-Z]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+?')}$`);
}

describe('header examples in the documentation', () => {
  it('match the headers of a built message.eml', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-headers-'));
    dirs.push(out);
    const built = await runCli(['build', 'weekly-1', '--out', out], { env: { NEWSLETTER_SECRET: 'docs-secret' }, timeoutMs: 60_000 });
    expect(built.code, built.stderr).toBe(0);
    const mail = await simpleParser(await readFile(path.join(out, 'weekly-1/message.eml')), { skipImageLinks: true });
    const headers = new Map(mail.headerLines.map((h) => [h.key, h.line.replace(/^[^:]+:\s*/, '').replace(/\r?\n[ \t]+/g, ' ')]));

    const examples = (await documentation()).flatMap(({ file, text }) =>
      [...text.matchAll(/`([A-Za-z]+(?:-[A-Za-z]+)*): ([^`]+)`/g)]
        .filter((m) => MESSAGE_HEADERS.test(m[1]!))
        .map((m) => ({ where: `${file}:${text.slice(0, m.index).split('\n').length}`, name: m[1]!, value: m[2]! })),
    );
    expect(examples.map((e) => e.name)).toEqual(expect.arrayContaining(['List-Unsubscribe', 'List-Unsubscribe-Post']));
    const wrong = examples
      .filter(({ name, value }) => !shapeOf(value).test(headers.get(name.toLowerCase()) ?? ''))
      .map(({ where, name, value }) => `${where}: \`${name}: ${value}\` but message.eml has \`${name}: ${headers.get(name.toLowerCase()) ?? '(none)'}\``);
    expect(wrong).toEqual([]);
  }, 60_000);
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';

/** docs/errors.md repeats the error table; this keeps the two from drifting apart. */
describe('README', () => {
  it('links every page of docs/, each of which exists', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const linked = new Set([...readme.matchAll(/\]\((docs\/[\w-]+\.md)\)/g)].map((m) => m[1]!));
    const pages = (await readdir(path.join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
    expect([...linked].sort()).toEqual(pages.sort());
  });

  it('keeps the manual in docs/: the README is the first ten minutes', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(150);
  });

  it('lists every error code with its exit status and meaning (docs/errors.md)', async () => {
    const readme = await readFile(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
    const rows = new Map(
      [...readme.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (.+) \|$/gm)].map((m) => [m[1]!, { exit: Number(m[2]), description: m[3]!.replace(/\\\|/g, '|') }]),
    );
    for (const [code, { exit, description }] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), `README row for ${code}`).toEqual({ exit, description });
    }
  });

  it('opens with the two set-up commands', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock.split('\n').filter(Boolean).map((l) => l.split('#')[0]!.trim())).toEqual(['npm install && npm start', 'npm test']);
  });
});

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject, renderProjectIssue } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

/**
 * package.json `overrides` pins js-beautify's `nopt` to a version whose `engines` accept Node 20
 * (nopt 10 and abbrev 5 want Node 22, and npm printed EBADENGINE on every install). nopt is the
 * option parser of js-beautify's command line only (js/src/cli.js); MJML loads js-beautify's library,
 * and calls it only with `beautify` on, which the render keeps off. This proves the pinned packages
 * take no part in a render, so the email is byte for byte what it was (the render tests check it).
 */
describe('dependency overrides', () => {
  it('keep every installed package within engines ">=20.19"', async () => {
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    for (const name of ['node_modules/js-beautify/node_modules/nopt', 'node_modules/js-beautify/node_modules/abbrev']) {
      const engines = lock.packages[name]?.engines?.node;
      expect(engines, name).toBeDefined();
      // Node 20.19 must satisfy the range: its first alternative starts at 20.x or lower.
      expect(engines!.split('||')[0]!.trim(), name).toMatch(/^(\^|>=)(1\d|20)\./);
    }
  });

  it('a render of the example never loads nopt or abbrev (js-beautify\'s library is loaded, its CLI is not)', async () => {
    const { rendered } = await renderProjectIssue(await loadProject({ cwd: ROOT }), 'weekly-1');
    expect(rendered.html).toContain('<!doctype html>');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((file) => file.includes(`${path.sep}mjml-core${path.sep}`))).toBe(true);
    expect(loaded.some((file) => /[/\\]js-beautify[/\\]/.test(file))).toBe(true);
    expect(loaded.filter((file) => /[/\\](nopt|abbrev)[/\\]|js-beautify[/\\]js[/\\](src|lib)[/\\]cli\.js$/.test(file))).toEqual([]);
  });
});

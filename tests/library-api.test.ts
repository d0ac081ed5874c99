import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIssue, loadProject, renderIssue } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

/**
 * The Library API snippet of the docs (docs/library-api.md), run as written (`import … from '<the package's name>'`) in a
 * copy of the repository as a fresh clone has it after `npm install`: Node resolves a package's
 * own name from inside it only through `exports`, so this fails without that field.
 */

const run = promisify(execFile);
const CLONE = ['package.json', 'lib', 'content', 'templates', 'newsletter.config.json', 'subscribers.csv'];
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The Library API snippet: the first code block under a "Library API" heading of the README or of docs/. */
async function librarySnippet(): Promise<string> {
  const pages = [path.join(ROOT, 'README.md'), ...(await readdir(path.join(ROOT, 'docs'))).filter((n) => n.endsWith('.md')).map((n) => path.join(ROOT, 'docs', n))];
  for (const page of pages) {
    const section = (await readFile(page, 'utf8')).split(/^#{1,3} Library API$/m)[1];
    const block = section && /^```(?:ts|js|typescript|javascript)\n([\s\S]*?)^```$/m.exec(section);
    if (block) return block[1]!;
  }
  throw new Error('no "Library API" section with a code block in README.md or docs/');
}

describe('the library API', () => {
  it("package.json exports the package's name, and keeps main and types", async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.main).toBe('lib/index.js');
    expect(pkg.types).toBe('lib/index.d.ts');
    expect(pkg.exports).toMatchObject({ '.': { types: './lib/index.d.ts', default: './lib/index.js' } });
  });

  it("runs the docs' snippet as written, importing the package by its name", async () => {
    const snippet = await librarySnippet();
    const { name } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { name: string };
    expect(snippet).toContain(`from '${name}'`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-library-'));
    dirs.push(dir);
    for (const entry of CLONE) await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    // The snippet as written, then what it computed, for the comparison below.
    const report = '\nconsole.log(JSON.stringify({ subject, preheader, html, text, warnings: warnings.length }));\n';
    await writeFile(path.join(dir, 'library-api.mjs'), snippet + report);
    const { stdout } = await run(process.execPath, ['library-api.mjs'], { cwd: dir, timeout: 60_000 });
    const fromSnippet = JSON.parse(stdout.trim().split('\n').pop()!) as { subject: string; preheader: string; html: string; text: string; warnings: number };

    const project = await loadProject({ cwd: dir });
    const issue = await loadIssue(project.config.paths.content, 'weekly-1', project.config.paths.cwd);
    const direct = await renderIssue(issue, project);
    expect(fromSnippet.subject).toBe(direct.subject);
    expect(fromSnippet.preheader).toBe(direct.preheader);
    expect(fromSnippet.text).toBe(direct.text);
    expect(fromSnippet.html.startsWith('<!doctype html>')).toBe(true);
  }, 90_000);
});

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * Every dependency with an install script has a reviewed `allowScripts` entry in package.json
 * (npm 11.16+ reads it: without one, each install ends with "install scripts not yet covered by
 * allowScripts", and npm 12 skips the script). Why each is allowed is in docs/cli-notes.md.
 */

const run = promisify(execFile);

interface Lock {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
}

function covers(allow: Record<string, boolean>, name: string, version: string | undefined): boolean {
  return allow[name] === true || (version !== undefined && allow[`${name}@${version}`] === true);
}

describe('install scripts', () => {
  it('every package of the lockfile with an install script is allowed by name in allowScripts', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([where, entry]) => ({ name: where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version }));
    expect(withScripts.map((p) => p.name)).toEqual(expect.arrayContaining(['esbuild', 'msgpackr-extract']));
    const allow = pkg.allowScripts ?? {};
    expect(withScripts.filter((p) => !covers(allow, p.name, p.version)).map((p) => `${p.name}@${p.version}`)).toEqual([]);
    // No entry for a package that is no longer installed.
    const names = new Set(withScripts.map((p) => p.name));
    expect(Object.keys(allow).filter((key) => !names.has(key.replace(/(?<=.)@.*$/, '')))).toEqual([]);
  });

  it("npm's own check finds no unreviewed install script (npm 11.16 or later)", async () => {
    const { stdout: version } = await run('npm', ['--version'], { cwd: ROOT });
    const [major, minor] = version.trim().split('.').map(Number) as [number, number];
    if (major < 11 || (major === 11 && minor < 16)) throw new Error(`npm ${version.trim()} does not read allowScripts: install npm 11.16 or later (npm install -g npm@11)`);
    const { stdout, stderr } = await run('npm', ['approve-scripts', '--allow-scripts-pending'], { cwd: ROOT, timeout: 60_000 });
    expect(`${stdout}${stderr}`).not.toMatch(/not yet covered by allowScripts/);
    expect(stdout).toMatch(/No packages with unreviewed install scripts/);
  }, 90_000);
});

import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/message.js';
import { loadConfig } from '../src/config/load-config.js';
import { environmentWithDotEnv } from '../src/cli/env.js';
import { ROOT, runCli } from './helpers/cli.js';
import { EXAMPLE_CONFIG_ARGS, fixtureArgs } from './check-helpers.js';

/** What a user expects of any CLI: a version, usage errors before output, flags that mean something, one .env. */

const TIMEOUT = { timeoutMs: 60_000 };

async function copyOfExample(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-conv-'));
  for (const name of ['content', 'templates']) await cp(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  return dir;
}

async function tokenOf(eml: string): Promise<string> {
  const parsed = await simpleParser(eml);
  const line = parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
  return /unsubscribe\/([\w-]+)/.exec(line)![1]!;
}

describe('newsletter --version', () => {
  it('prints the version of package.json for --version and -V', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
    }
  });
});

describe('usage errors', () => {
  // Without --list, send goes to the store's confirmed subscribers (issue 22): --subscribers
  // and --test-to together is the usage error now.
  it('send --subscribers with --test-to: the usage error and nothing else, exit 2', async () => {
    const r = await runCli(['send', 'weekly-1', '--subscribers', '--test-to', 'a@example.com'], TIMEOUT);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('use either --subscribers or --test-to, not both');
    expect(r.stderr).not.toMatch(/notice/);
  });

  it('send rejects --out, which it would ignore, and points at --outbox', async () => {
    const r = await runCli(['send', 'weekly-1', '--list', 'subscribers.csv', '--out', 'x'], TIMEOUT);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: unknown option '--out'\n\(Did you mean --outbox\?\)/);
  });
});

describe('newsletter build and check findings', () => {
  it('prints each error-level finding under its issue line; --strict makes it exit 1', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-strict-'));
    const plain = await runCli(['build', 'clipped', ...fixtureArgs('size'), '--out', out], TIMEOUT);
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/clipped[/\\]index\.html {2}\d+\.\d KB {2}1 error, .*\(npx newsletter check clipped\)$/);
    expect(lines[1]).toMatch(/^ {2}error size\/gmail-clip: \S+clipped\.md:1: Gmail clips this message: \d+\.\d KB > 102\.0 KB /);
    expect(lines).toHaveLength(2);
    const strict = await runCli(['build', 'clipped', ...fixtureArgs('size'), '--out', out, '--strict'], TIMEOUT);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe(plain.stdout);
    expect(strict.stderr.split('\n')[0]).toBe('--strict: 1 error-level finding in clipped');
  });

  it('--strict passes the clean example: exit 0, and its line says ok', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-strict-'));
    const r = await runCli(['build', 'weekly-1', '--strict', '--out', out, ...EXAMPLE_CONFIG_ARGS], TIMEOUT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/index\.html {2}\d+\.\d KB {2}ok( \(\d+ notes: npx newsletter check weekly-1\))?\n$/);
  });
});

describe('.env', () => {
  it('is read the same way by build as by send: the .eml is signed with its NEWSLETTER_SECRET; the environment wins', async () => {
    const dir = await copyOfExample();
    await writeFile(path.join(dir, '.env'), 'NEWSLETTER_SECRET=from-dotenv\n# a comment\nOTHER="x y"\n');
    const listId = listIdFor(await loadConfig({ cwd: dir }));
    const fromFile = await runCli(['build', 'weekly-1'], { cwd: dir, ...TIMEOUT, env: { NEWSLETTER_SECRET: undefined } });
    expect(fromFile.code).toBe(0);
    const eml = await readFile(path.join(dir, 'dist/weekly-1/message.eml'), 'utf8');
    expect(await tokenOf(eml)).toBe(unsubscribeToken('reader@example.com', 'from-dotenv', listId));
    const fromEnv = await runCli(['build', 'weekly-1'], { cwd: dir, ...TIMEOUT, env: { NEWSLETTER_SECRET: 'from-environment' } });
    expect(fromEnv.code).toBe(0);
    expect(await tokenOf(await readFile(path.join(dir, 'dist/weekly-1/message.eml'), 'utf8'))).toBe(unsubscribeToken('reader@example.com', 'from-environment', listId));
  });

  it('environmentWithDotEnv: file under the environment, no file is no change, a folder named .env is an error naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-env-'));
    expect(environmentWithDotEnv({ A: '1' }, dir)).toEqual({ A: '1' });
    await writeFile(path.join(dir, '.env'), 'A=file\nB=file\n');
    expect(environmentWithDotEnv({ A: 'env' }, dir)).toEqual({ A: 'env', B: 'file' });
    const other = await mkdtemp(path.join(os.tmpdir(), 'nl-env-'));
    await cp(dir, path.join(other, '.env', 'inside'), { recursive: true });
    expect(() => environmentWithDotEnv({}, other)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: '.env' }));
  });
});

import { access, mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './helpers/cli.js';

/** Every error a user can cause: one line `file:line: message` on stderr, the right exit code, no stack. */
async function build(args: string[]) {
  const out = await mkdtemp(path.join(os.tmpdir(), 'nl-err-'));
  const result = await runCli(['build', ...args, '--out', out]);
  return { ...result, out };
}

function expectNoStack(stderr: string) {
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr).not.toMatch(/node:internal|node_modules/);
}

async function expectNothingWritten(out: string, issue: string) {
  await expect(access(path.join(out, issue))).rejects.toThrow();
}

describe('error paths of newsletter build', () => {
  it('bad YAML front matter: names the issue file and the line, exit 1', async () => {
    const r = await build(['broken', '--content', path.join(FIXTURES, 'bad-yaml/content')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tests[/\\]fixtures[/\\]bad-yaml[/\\]content[/\\]issues[/\\]broken\.md:5: invalid YAML front matter: /);
    expectNoStack(r.stderr);
    await expectNothingWritten(r.out, 'broken');
  });

  it('an article without a title: names the article file, exit 1', async () => {
    const r = await build(['issue', '--content', path.join(FIXTURES, 'missing-title/content')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^tests[/\\]fixtures[/\\]missing-title[/\\]content[/\\]articles[/\\]untitled\.md:1: `title` is required/);
    expectNoStack(r.stderr);
    await expectNothingWritten(r.out, 'issue');
  });

  it('an unknown template variable: names the partial file, its line and the whole expression', async () => {
    const r = await build(['weekly-1', '--templates', path.join(FIXTURES, 'unknown-variable/templates')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      'tests/fixtures/unknown-variable/templates/partials/card.mjml:3: unknown variable `articel.title` (not in the template data, checked in every branch)',
    );
    expectNoStack(r.stderr);
    await expectNothingWritten(r.out, 'weekly-1');
  });

  it('invalid MJML: names the template file and line that produced the bad tag', async () => {
    const r = await build(['weekly-1', '--templates', path.join(FIXTURES, 'invalid-mjml/templates')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('tests/fixtures/invalid-mjml/templates/partials/card.mjml:4: MJML: <mj-button> Attribute colour is illegal');
    expectNoStack(r.stderr);
  });

  it('an unknown config key: names the key and its line in the config, exit 1', async () => {
    const r = await build(['--config', path.join(FIXTURES, 'unknown-config-key/newsletter.config.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('tests/fixtures/unknown-config-key/newsletter.config.json:8: unknown key `theme.colors.backgorund` (did you mean `background`?)');
    expectNoStack(r.stderr);
  });

  it('a missing config file given with --config: exit 1 with a hint', async () => {
    const r = await build(['--config', 'nope.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nope\.json: config file `nope\.json` does not exist/);
  });

  it('an issue that does not exist: lists the issues that do', async () => {
    const r = await build(['no-such-issue']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no issue `no-such-issue`/);
    expect(r.stderr).toMatch(/issues here: weekly-1/);
  });

  it('an empty issues folder is an error for build, check and screenshot alike', async () => {
    const content = await mkdtemp(path.join(os.tmpdir(), 'nl-empty-'));
    await mkdir(path.join(content, 'issues'));
    for (const command of ['build', 'check', 'screenshot']) {
      const r = await runCli([command, '--content', content, '--out', path.join(content, 'out')]);
      expect(r.code, command).toBe(1);
      expect(r.stderr, command).toMatch(/^no issues in `.+issues`\n  hint: add an issue file/);
    }
  });

  it('wrong usage exits 2 and points to --help', async () => {
    const r = await runCli(['build', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
  });

  it('--debug adds the stack trace', async () => {
    const r = await runCli(['build', '--templates', path.join(FIXTURES, 'unknown-variable/templates'), '--out', os.tmpdir(), '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});

describe('help', () => {
  it('documents the shared flags with examples, for the program and for build', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: newsletter/m);
    expect(top.stdout).toMatch(/^\s+build \[options\] \[issues\.\.\.\]/m);
    const help = await runCli(['build', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--content <dir>', '--templates <dir>', '--config <file>', '--out <dir>']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/^Examples:$/m);
  });
});

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkReportSchema, RULE_IDS } from '../src/index.js';
import { ROOT, runCli } from './helpers/cli.js';
import { EXAMPLE_CONFIG_ARGS, fixtureArgs, fixtureDir, shown } from './check-helpers.js';

/** `newsletter check` as a user and CI run it: the real executable, its exit code, stdout and stderr. */

const TIMEOUT = { timeoutMs: 60_000 };

function parseReport(stdout: string) {
  return checkReportSchema.parse(JSON.parse(stdout));
}

describe('newsletter check', () => {
  it('the example issue passes: exit 0, a table headed by the issue and its counts', async () => {
    const r = await runCli(['check', 'weekly-1', ...EXAMPLE_CONFIG_ARGS], TIMEOUT);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [issue, file, status, counts] = r.stdout.split('\n')[0]!.split(/\s{2,}/);
    expect([issue, file, status]).toEqual(['weekly-1', path.join('content', 'issues', 'weekly-1.md'), 'ok']);
    expect(counts).toMatch(/^\(0 errors, 0 warnings, \d+ notes?; all from the templates, below\)$/);
  });

  it('--json prints one document that validates against the schema', async () => {
    const r = await runCli(['check', 'weekly-1', '--json', ...EXAMPLE_CONFIG_ARGS], TIMEOUT);
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.issues.map((i) => i.issue)).toEqual(['weekly-1']);
    expect(report.counts.error).toBe(0);
  });

  it('an error-level finding: exit 1, the JSON still complete on stdout, one line on stderr', async () => {
    const r = await runCli(['check', 'clipped', '--json', ...fixtureArgs('size')], TIMEOUT);
    expect(r.code).toBe(1);
    const report = parseReport(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.issues[0]!.findings.filter((f) => f.severity === 'error').map((f) => f.rule)).toEqual(['size/gmail-clip']);
    expect(r.stderr.split('\n')[0]).toBe('1 error-level finding in clipped');
  });

  it('without issue names, every issue of the content folder, in order', async () => {
    const r = await runCli(['check', '--json', ...fixtureArgs('links')], TIMEOUT);
    const report = parseReport(r.stdout);
    expect(report.issues.map((i) => i.issue)).toEqual(['click-here', 'empty-link', 'http-link', 'relative-link']);
    expect(report.issues.map((i) => i.ok)).toEqual([true, false, true, false]);
    expect(r.code).toBe(1);
  });

  it('--list-rules --json lists every rule with its severity', async () => {
    const r = await runCli(['check', '--list-rules', '--json'], TIMEOUT);
    expect(r.code).toBe(0);
    const rules = JSON.parse(r.stdout) as { id: string; severity: string; defaultSeverity: string }[];
    expect(rules.map((rule) => rule.id)).toEqual([...RULE_IDS]);
    expect(rules.find((rule) => rule.id === 'compat/partial')).toMatchObject({ severity: 'off', defaultSeverity: 'off' });
  });

  it('an unknown rule in the config: file:line on stderr with a suggestion, exit 1', async () => {
    const r = await runCli(['check', ...fixtureArgs('unknown-rule')], TIMEOUT);
    expect(r.code).toBe(1);
    const [first, hint] = r.stderr.split('\n');
    expect(first).toBe(`${shown(ROOT, fixtureDir('unknown-rule'), 'newsletter.config.json')}:20: \`checks.rules\`: unknown rule \`links/htpp\``);
    expect(hint).toMatch(/^ {2}hint: did you mean `links\/http`\?/);
  });

  it('--help lists the flags and examples', async () => {
    const r = await runCli(['check', '--help'], TIMEOUT);
    expect(r.code).toBe(0);
    for (const flag of ['--json', '--a11y', '--list-rules', '--content <dir>', '--templates <dir>', '--config <file>']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/^Examples:$/m);
  });
});

describe('newsletter build', () => {
  it('prints the count of findings per issue, the counts `check` reports', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-check-build-'));
    const build = await runCli(['build', 'weekly-1', '--out', out, ...EXAMPLE_CONFIG_ARGS], TIMEOUT);
    expect(build.code).toBe(0);
    const lines = build.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const [, size, status] = lines[0]!.split(/\s{2,}/);
    expect(size).toMatch(/^\d+\.\d KB$/);
    const check = parseReport((await runCli(['check', 'weekly-1', '--json', ...EXAMPLE_CONFIG_ARGS], TIMEOUT)).stdout).counts;
    // The example is clean: ok, with the notes counted and the command that lists them.
    expect([check.error, check.warn]).toEqual([0, 0]);
    expect(status).toBe(check.info ? `ok (${check.info} note${check.info > 1 ? 's' : ''}: npx newsletter check weekly-1)` : 'ok');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, checkProjectIssue, loadProject, renderProjectIssue, type Finding } from '../src/index.js';
import { runAxeAudit } from '../src/checks/axe-audit.js';
import { prepareContext } from '../src/checks/context.js';
import { ROOT, runCli } from './helpers/cli.js';
import { checkFixture, EXAMPLE_CONFIG_ARGS, ofRule, shown, fixtureDir } from './check-helpers.js';

/**
 * `--a11y`: axe-core in the system Chromium (CHROMIUM_PATH or /usr/bin/chromium; CI installs it
 * with `apt-get install chromium`). Without a browser these tests fail with that instruction.
 */

let browser: Browser;

beforeAll(async () => {
  try {
    findChromium(process.env);
  } catch (error) {
    throw new Error(`the --a11y tests need Chromium: ${(error as Error).message}. Install it with \`apt-get install chromium\` or set CHROMIUM_PATH.`);
  }
  browser = await launchChromium(process.env);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const axe = (findings: Finding[]) => findings.filter((f) => f.rule === 'a11y/axe' || f.rule === 'a11y/axe-minor');

describe('newsletter check --a11y', () => {
  it('the example issue has no axe violation', async () => {
    const { findings } = await checkProjectIssue(await loadProject({ cwd: ROOT }), 'weekly-1', { a11y: true, browser });
    expect(axe(findings)).toEqual([]);
  });

  it('a11y/axe: low-contrast footer text is a serious violation, reported as an error with its element count', async () => {
    const { findings } = await checkFixture('low-contrast', 'issue', { a11y: true, browser });
    const found = ofRule(findings, 'a11y/axe');
    expect(found.map((f) => /^axe `([\w-]+)`/.exec(f.message)?.[1])).toEqual(['color-contrast']);
    expect(found[0]).toMatchObject({ severity: 'error' });
    expect(found[0]!.count).toBeGreaterThan(0);
  });

  it('a11y/axe-minor: a viewport that forbids zooming is a moderate violation, a warning at its template line', async () => {
    const { findings } = await checkFixture('viewport', 'issue', { a11y: true, browser });
    const found = ofRule(findings, 'a11y/axe-minor');
    expect(found.map((f) => /^axe `([\w-]+)`/.exec(f.message)?.[1])).toEqual(['meta-viewport']);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('viewport'), 'templates/layouts/digest.mjml'), line: 8 });
    expect(ofRule(findings, 'a11y/axe')).toEqual([]);
  });

  it('the audit page makes no network request (images and fonts stay unloaded)', async () => {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const project = await loadProject({ cwd: ROOT });
      const { issue, rendered } = await renderProjectIssue(project, 'weekly-1');
      const html = rendered.html.replace('</body>', `<img src="http://127.0.0.1:${port}/pixel.png" alt="pixel" width="1" height="1"><link rel="stylesheet" href="http://127.0.0.1:${port}/font.css"></body>`);
      expect(html).toContain(`127.0.0.1:${port}`);
      const context = await prepareContext({ project, issue, rendered }, { caniemail: null });
      await runAxeAudit(html, context.locate, process.env, browser);
      expect(requests).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('from the CLI, Chromium found on its own: exit 0 on the example', async () => {
    const r = await runCli(['check', 'weekly-1', '--a11y', '--json', ...EXAMPLE_CONFIG_ARGS], { timeoutMs: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(axe(JSON.parse(r.stdout).issues[0].findings)).toEqual([]);
  }, 90_000);

  it('a CHROMIUM_PATH that is not a browser fails with the install instruction, exit 1', async () => {
    const r = await runCli(['check', 'weekly-1', '--a11y'], { env: { CHROMIUM_PATH: '/nonexistent/chromium' }, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('CHROMIUM_PATH is `/nonexistent/chromium`, which is not an executable file');
    expect(r.stderr).toContain('apt-get install chromium');
  });
});

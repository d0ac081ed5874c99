import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

/**
 * Every shell example of the README, of docs/ and of `--help`, pasted as a new user would after the README's
 * install command, one after another in a copy of the repository. `npx newsletter` is the package's
 * own bin, which npx finds in the project: that is run for real once, in the repository; each
 * example then runs the same `bin/newsletter.js` directly (npx costs seconds a call on a loaded
 * machine, and would first install a copy of the package into its cache). Examples that need the
 * network (an SMTP server at example.com) or run until Ctrl-C (the preview server) are left out,
 * by rule below.
 */

const run = promisify(execFile);

/** The top-level entries a fresh clone has after `npm install` (lib/ is built by `prepare`). */
const CLONE = ['package.json', 'bin', 'lib', 'content', 'templates', 'newsletter.config.json', 'subscribers.csv', 'README.md'];

function commandOf(line: string): string | null {
  const match = /^\s*(?:\$ )?((?:[A-Z_]+=\S+ )*npx newsletter\b.*)$/.exec(line);
  if (!match) return null;
  // README comments start with `#`; --help puts its comments after a run of spaces.
  return match[1]!.replace(/\s+#.*$/, '').split(/\s{2,}/)[0]!.trim();
}

/** Why an example is not run here, or null to run it. */
function notRunBecause(command: string): string | null {
  if (/smtp:\/\/|SMTP_URL=/.test(command)) return 'needs an SMTP server on the network';
  if (/redis:\/\/|npx newsletter worker\b/.test(command)) return 'needs a Redis server on the network (tests/queue-send.test.ts)';
  if (/npx newsletter (preview|serve)\b/.test(command)) return 'a server that runs until Ctrl-C (tests/preview-cli.test.ts, tests/serve-*.test.ts)';
  if (/redis:\/\/|REDIS_URL=/.test(command)) return 'needs a Redis on the network (tests/queue-*.test.ts start their own)';
  if (/imaps?:\/\/|BOUNCES_IMAP_URL=/.test(command)) return 'needs an IMAP server on the network (tests/bounces-imap.test.ts starts its own Dovecot)';
  if (/<\w+>/.test(command)) return 'a placeholder';
  return null;
}

/** The README's examples, then every page of docs/ in name order. */
async function readmeCommands(): Promise<string[]> {
  const pages = (await readdir(path.join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).sort().map((f) => path.join('docs', f));
  const readme = (await Promise.all(['README.md', ...pages].map((p) => readFile(path.join(ROOT, p), 'utf8')))).join('\n');
  const blocks = [...readme.matchAll(/^```(?:sh|bash|shell)?\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) => block.split('\n').map(commandOf)).filter((c): c is string => c !== null);
}

/** Runs the commands one after another in a fresh copy of the repository; returns the failures. */
async function runLane(commands: readonly string[]): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-readme-'));
  for (const entry of CLONE) await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  // The example's domains are example.com on purpose, and `check` says so (an error); the
  // commands are run as by a user who has set their own, with that rule off.
  await cp(path.join(ROOT, 'tests/fixtures/example-config/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const failures: string[] = [];
  for (const command of commands) {
    try {
      const direct = command.replace(/\bnpx newsletter\b/, `"${process.execPath}" bin/newsletter.js`);
      await run('sh', ['-c', direct], { cwd: dir, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } });
    } catch (error) {
      const e = error as { code?: number; stderr?: string; stdout?: string };
      failures.push(`${command}\n  exit ${e.code}: ${(e.stderr || e.stdout || '').trim().split('\n').slice(0, 3).join('\n  ')}`);
    }
  }
  return failures;
}

async function helpCommands(): Promise<string[]> {
  const all: string[] = [];
  for (const command of ['', 'build', 'check', 'preview', 'screenshot', 'send', 'publish', 'serve', 'worker', 'status']) {
    const help = await runCli([...(command ? [command] : []), '--help']);
    expect(help.code).toBe(0);
    all.push(...help.stdout.split('\n').map(commandOf).filter((c): c is string => c !== null));
  }
  return all;
}

describe('the README and --help examples', () => {
  it('find the files they name: the example list and the content tree', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const tree = /^```\ncontent\/\n([\s\S]*?)^```$/m.exec(readme)![1]!;
    let folder = '';
    const files: string[] = [];
    for (const line of tree.split('\n')) {
      const sub = /^ {2}(\S+)\/\s*$/.exec(line);
      if (sub) folder = sub[1]!;
      const file = /^ {4}(\S+)/.exec(line);
      if (file) files.push(path.join(folder, file[1]!));
    }
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) await expect(readFile(path.join(ROOT, 'content', file), 'utf8'), file).resolves.toBeTruthy();
    const list = await readFile(path.join(ROOT, 'subscribers.csv'), 'utf8');
    expect(list.split('\n')[0]).toBe('email,name');
    for (const row of list.trim().split('\n').slice(1)) expect(row).toMatch(/^[\w.+-]+@example\.com,/);
  });

  it('`npx newsletter` finds the project\'s own executable, offline', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // offline: if npx did not find the project's own bin it must fail, not download a stranger.
    const { stdout } = await run('npx', ['newsletter', '--version'], { cwd: ROOT, timeout: 120_000, env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' } });
    expect(stdout.trim()).toBe(version);
  }, 180_000);

  it('run as pasted in a fresh copy and exit 0', async () => {
    const commands = [...new Set([...(await readmeCommands()), ...(await helpCommands())])];
    const runnable = commands.filter((c) => notRunBecause(c) === null);
    // A README that lost its examples would pass trivially.
    expect(runnable.length).toBeGreaterThanOrEqual(15);
    // Two lanes, each in its own copy and in the README's order (a send then resumes): the
    // browser and send examples beside the build, check and publish ones.
    const lanes = [runnable.filter((c) => !/ (screenshot|send)\b/.test(c)), runnable.filter((c) => / (screenshot|send)\b/.test(c))];
    const failures = (await Promise.all(lanes.map(runLane))).flat();
    expect(failures).toEqual([]);
  }, 600_000);
});

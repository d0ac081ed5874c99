import { createServer } from 'node:net';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { ROOT, runCli } from './helpers/cli.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

/**
 * `newsletter serve --processes N`, the real CLI as a child process: N processes on one port,
 * one suppression list, a process killed and replaced, a clean stop, a start-up error reported
 * once.
 */

const SECRET = 'processes-secret';
const cliArgs = ['--templates', path.join(ROOT, 'templates')];

let serve: ServeProcess | null = null;
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-processes-'));
  await mkdir(path.join(dir, 'dist/site'), { recursive: true });
  await writeFile(path.join(dir, 'dist/site/index.html'), '<!doctype html><title>archive</title>');
  await cp(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  return dir;
}

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Request log lines: `<time> <method> <path> <status> <outcome> <ms> p<n>`, whole, one per request. */
function logLines(output: string): string[][] {
  return output
    .split('\n')
    .filter((line) => / (GET|POST) \//.test(line))
    .map((line) => line.split(' '));
}

async function unsubscribeAll(url: string, dir: string, addresses: string[]): Promise<number[]> {
  const listId = listIdFor(await loadConfig({ cwd: dir }));
  return Promise.all(
    addresses.map(async (email) => {
      const response = await fetch(new URL(`unsubscribe/${unsubscribeToken(email, SECRET, listId)}`, url), {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
}

const suppressed = async (dir: string) => (await readFile(path.join(dir, 'suppressions.txt'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  for (const started = Date.now(); !what();) {
    if (Date.now() - started > ms) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('serve --processes', () => {
  it('answers on one port from every process, each POST recorded once and logged on a whole line', async () => {
    const dir = await project();
    serve = await startServe(dir, [...cliArgs, '--processes', '2'], { NEWSLETTER_SECRET: SECRET });
    expect(serve.output()).toMatch(/, 2 processes\); Ctrl-C to stop/);
    expect(childrenOf(serve.child.pid!)).toHaveLength(2);
    const addresses = Array.from({ length: 150 }, (_, i) => `many${i}@example.com`);
    expect(new Set(await unsubscribeAll(serve.url, dir, addresses))).toEqual(new Set([200]));
    expect((await suppressed(dir)).sort()).toEqual([...addresses].sort());
    await until(() => logLines(serve!.output()).length === 150);
    const lines = logLines(serve.output());
    for (const fields of lines) expect(fields.slice(1, 5)).toEqual(['POST', '/unsubscribe/[token]', '200', 'unsubscribed']);
    // Both processes answered some of them.
    expect(new Set(lines.map((fields) => fields[6]))).toEqual(new Set(['p1', 'p2']));
  }, 60_000);

  it('starts another process in place of one killed, and stops them all on SIGTERM', async () => {
    const dir = await project();
    serve = await startServe(dir, [...cliArgs, '--processes', '2'], { NEWSLETTER_SECRET: SECRET });
    const [victim, survivor] = childrenOf(serve.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(() => /serve process \d \(pid \d+\) was killed \(SIGKILL\); starting another/.test(serve!.output()));
    await until(() => (serve!.output().match(/serve process \d is answering again/g) ?? []).length === 1);
    // One stopped on its own (SIGTERM to it alone) is replaced as well.
    process.kill(survivor!, 'SIGTERM');
    await until(() => new RegExp(`serve process \\d \\(pid ${survivor}\\) exited with code 0; starting another`).test(serve!.output()));
    await until(() => (serve!.output().match(/serve process \d is answering again/g) ?? []).length === 2);
    expect(childrenOf(serve.child.pid!).filter((pid) => pid === victim || pid === survivor)).toEqual([]);
    expect(childrenOf(serve.child.pid!)).toHaveLength(2);
    const addresses = Array.from({ length: 40 }, (_, i) => `after${i}@example.com`);
    expect(new Set(await unsubscribeAll(serve.url, dir, addresses))).toEqual(new Set([200]));
    expect((await suppressed(dir)).sort()).toEqual([...addresses].sort());
    const children = childrenOf(serve.child.pid!);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.output()).toMatch(/SIGTERM: stopping/);
    for (const pid of children) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it('keeps serving on the others when a replacement cannot start (the config changed meanwhile)', async () => {
    const dir = await project();
    serve = await startServe(dir, [...cliArgs, '--processes', '2'], { NEWSLETTER_SECRET: SECRET });
    const configFile = path.join(dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { name: string };
    // Addresses tokened for the config serve started with.
    const addresses = Array.from({ length: 20 }, (_, i) => `kept${i}@example.com`);
    const listId = listIdFor(await loadConfig({ cwd: dir }));
    await writeFile(configFile, JSON.stringify({ ...config, name: 'Another Newsletter' }));
    const [victim] = childrenOf(serve.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(() => /serve process \d could not start again: .*newsletter\.config\.json: the configuration changed since serve started/.test(serve!.output()));
    expect(childrenOf(serve.child.pid!)).toHaveLength(1);
    const statuses = await Promise.all(
      addresses.map(async (email) => {
        const response = await fetch(new URL(`unsubscribe/${unsubscribeToken(email, SECRET, listId)}`, serve!.url), {
          method: 'POST',
          body: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect((await suppressed(dir)).sort()).toEqual([...addresses].sort());
  }, 60_000);

  it('reports a start-up error once, as its own, and exits with its code', async () => {
    const dir = await project();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--port', String(port), '--processes', '3', ...cliArgs], { cwd: dir, env: { NEWSLETTER_SECRET: SECRET } });
      expect(result.code).toBe(1);
      expect(result.stderr.match(/already in use/g)).toHaveLength(1);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain('hint: stop the other server or pick another port with --port');
    } finally {
      busy.close();
    }
  }, 60_000);

  it('refuses a number of processes that is not one', async () => {
    const result = await runCli(['serve', '--processes', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a number of processes from 1 to 64, or auto');
  });
});

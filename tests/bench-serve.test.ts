import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * bench/serve.js sizes each run's list of addresses from the rate seen before. When the machine
 * is faster during a run than that rate, wrk uses up the list: it must stop taking addresses
 * (never POST one twice, which would measure the already-unsubscribed path) and say so, so that
 * the bench runs it again with a longer list, rather than end with an error. Here wrk (a real
 * one: apt-get install wrk, or brew install wrk) gets 40 addresses for a whole second against a
 * local server that counts the POSTs of each path.
 */

interface WrkResult {
  answered: number;
  exhausted: boolean;
}
interface BenchServe {
  writeWrkScript(dir: string): void;
  wrk(options: { port: number; pathsFile: string; connections: number; threads: number; seconds: number; repeats?: boolean }): Promise<WrkResult>;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('bench/serve.js', () => {
  it('a run that uses up its addresses stops and says so, and never POSTs an address twice', async () => {
    if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk (Debian/Ubuntu) or brew install wrk');
    const bench = (await import(pathToFileURL(path.join(ROOT, 'bench/serve.js')).href)) as BenchServe;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-bench-wrk-'));
    dirs.push(dir);
    bench.writeWrkScript(dir);
    const paths = Array.from({ length: 40 }, (_, i) => `/unsubscribe/reader-${i}`);
    const pathsFile = path.join(dir, 'set.paths');
    await writeFile(pathsFile, paths.map((p) => `${p}\n`).join(''));

    const posts = new Map<string, number>();
    const server = http.createServer((request, response) => {
      if (request.method === 'POST') posts.set(request.url!, (posts.get(request.url!) ?? 0) + 1);
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const result = await bench.wrk({ port, pathsFile, connections: 4, threads: 2, seconds: 1 });
      expect(result.exhausted).toBe(true);
      const repeated = [...posts].filter(([, n]) => n > 1);
      expect(repeated).toEqual([]);
      expect([...posts.keys()].every((p) => paths.includes(p))).toBe(true);
      expect(posts.size).toBeGreaterThan(30);

      // The floors answer every request alike: there, a list may be reused.
      posts.clear();
      const floor = await bench.wrk({ port, pathsFile, connections: 4, threads: 1, seconds: 1, repeats: true });
      expect(floor.exhausted).toBe(false);
      expect(Math.max(...posts.values())).toBeGreaterThan(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 30_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { listIdFor } from '../../src/render/list-id.js';
import type { JournalKey } from '../../src/store/types.js';
import { freePort } from './free-port.js';

/**
 * A real redis-server for the tests, on a free port, with AOF on (as the README asks of a
 * production Redis) in a temp folder; stop() removes it. restart() stops it (SHUTDOWN writes
 * the AOF) and starts it again on the same port and folder, as an operator's restart would.
 */

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'redis-server is not installed: apt-get install redis-server (Debian/Ubuntu) or brew install redis';

function launch(port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--maxmemory-policy', 'noeviction'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output}`)), 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(INSTALL_HINT) : error);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-redis-'));
  const port = await freePort();
  let child = await launch(port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async restart(downMs = 0) {
      await stopChild(child);
      if (downMs) await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch(port, dir);
    },
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The journal key of `weekly-1` sent from the project in `dir` (the list id comes from its config). */
export async function sendKey(dir: string, issueSlug = 'weekly-1'): Promise<JournalKey> {
  return { listId: listIdFor(await loadConfig({ cwd: dir })), issueSlug };
}

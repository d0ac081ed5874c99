import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { BIN } from './helpers/cli.js';
import { copyPreviewProject } from './helpers/preview-project.js';
import { memoryIo } from './helpers/memory-io.js';

// The preview as a user runs it: the real executable in a child process, stopped with Ctrl-C.

let project: Awaited<ReturnType<typeof copyPreviewProject>>;

beforeAll(async () => {
  project = await copyPreviewProject();
});

afterAll(async () => {
  await project?.cleanup();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startPreview(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, 'preview', ...args], { cwd: project.dir, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor<T>(probe: () => T | null | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}


describe('newsletter preview (the executable)', () => {
  it('prints its URL, serves on loopback, and stops cleanly on Ctrl-C with an event stream open', async () => {
    const running = startPreview(['--port', '0']);
    try {
      const url = await waitFor(() => /Preview: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(running.stdout()), 'the URL line');
      const port = Number(url[2]);
      const index = await get(url[1]!);
      expect(index.status).toBe(200);
      expect(index.body).toContain('data-slug="weekly-1"');
      // An open SSE stream must not keep the server (or the process) alive after Ctrl-C.
      const stream = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${url[1]}events`, resolve).on('error', reject));
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      stream.resume();

      running.child.kill('SIGINT');
      const exit = await Promise.race([running.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit after SIGINT\n${running.stdout()}\n${running.stderr()}`)), 10_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(running.stdout()).toContain('stopping the preview');
      expect(await portIsFree(port)).toBe(true);
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  it('fails with PREVIEW_FAILED and a hint when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const running = startPreview(['--port', String(port)]);
      const exit = await running.exited;
      expect(exit.code).toBe(1);
      expect(running.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(running.stderr()).toMatch(/hint: .*--port 0/);
    } finally {
      blocker.close();
    }
  });

  it('warns when --host exposes the preview beyond this machine', async () => {
    const running = startPreview(['--port', '0', '--host', '0.0.0.0']);
    try {
      await waitFor(() => /Preview: http:\/\//.exec(running.stdout()), 'the URL line');
      expect(running.stderr()).toMatch(/^warning: listening on 0\.0\.0\.0: /m);
      running.child.kill('SIGTERM');
      expect(await running.exited).toEqual({ code: 0, signal: null });
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  it('rejects a bad --port as a usage error and a missing --list as LIST_INVALID, before listening', async () => {
    const badPort = memoryIo(project.dir);
    expect(await main(['node', 'newsletter', 'preview', '--port', 'http'], badPort)).toBe(2);
    expect(badPort.err()).toContain('expected a port number from 0 to 65535');

    const missingList = memoryIo(project.dir);
    expect(await main(['node', 'newsletter', 'preview', '--port', '0', '--list', 'nobody.csv'], missingList)).toBe(1);
    expect(missingList.err()).toMatch(/^nobody\.csv: subscriber list `nobody\.csv` does not exist$/m);
  });
});

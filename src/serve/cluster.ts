import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, NewsletterError, type ErrorCode } from '../errors.js';

/**
 * `newsletter serve --processes N`: N processes answer on one port (node:cluster; the primary
 * accepts the connections and hands them round). One process is bound by one core, about 5,000
 * one-click POSTs a second on a small machine; a process per core serves more and keeps the
 * median low under a burst. They share the suppression store, which is made for several writers
 * (appends of whole lines, each fdatasync'ed; store/files/suppressions.ts, or Redis).
 *
 * Each process runs the CLI itself (`bin/newsletter.js serve`), told by NEWSLETTER_SERVE_PROCESS
 * that it is one of the processes, with the primary's parsed flags in NEWSLETTER_SERVE_FLAGS. The primary publishes first when
 * needed, starts them, reports the first one that cannot start (with that process's own error),
 * starts another in place of one that dies, and stops them all on Ctrl-C or SIGTERM: each
 * finishes its requests in flight. Their request log lines go straight to the shared stdout,
 * whole lines per write (cli/io.ts); their stderr passes through the primary.
 */

const PROCESS_ENV = 'NEWSLETTER_SERVE_PROCESS';
const FLAGS_ENV = 'NEWSLETTER_SERVE_FLAGS';
/** Both lib/serve/cluster.js and the bundle (lib/bundle/cli.cjs) are two levels below the package. */
const BIN = new URL('../../bin/newsletter.js', import.meta.url);
const STOP_TIMEOUT_MS = 15_000;
/** More restarts than this within the window: something kills every process; stop. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

type Message = { type: 'listening'; url: string } | { type: 'failed'; error: SerializedError } | { type: 'stop' };

interface SerializedError {
  code: ErrorCode;
  message: string;
  hint?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

export interface ServeClusterOptions {
  processes: number;
  /** The flags of `serve` as the primary parsed them: every process uses the same. */
  flags: object;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A line for stderr: what the processes write there once started, and restarts. */
  log: (line: string) => void;
}

export interface ServeCluster {
  url: string;
  processes: number;
  /** Rejects when the processes cannot be kept running (each new one dies at once). */
  failed: Promise<never>;
  /** Every process finishes its requests in flight and exits. */
  close(): Promise<void>;
}

/** In a process the primary started: its number (1…N); null in any other process. */
export function serveProcessNumber(env: NodeJS.ProcessEnv): number | null {
  const value = env[PROCESS_ENV];
  return cluster.isWorker && value ? Number(value) : null;
}

/** In a process: the flags the primary was given. */
export function flagsOfPrimary<T>(env: NodeJS.ProcessEnv): T {
  return JSON.parse(env[FLAGS_ENV] ?? '{}') as T;
}

/** In a process: tells the primary it is answering at `url`. */
export function reportListening(url: string): void {
  process.send?.({ type: 'listening', url } satisfies Message);
}

/**
 * In a process: tells the primary why it could not start, for the primary to report as its own
 * error, then lets go of the channel, which would keep this process from exiting.
 */
export async function reportStartFailure(error: unknown): Promise<void> {
  const serialized: SerializedError =
    error instanceof NewsletterError
      ? { code: error.code, message: error.message, hint: error.hint, file: error.file, line: error.line, column: error.column }
      : { code: 'INTERNAL', message: `unexpected error: ${(error as Error)?.message ?? String(error)}` };
  await new Promise<void>((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send({ type: 'failed', error: serialized } satisfies Message, undefined, {}, () => resolve());
  });
  if (process.connected) process.disconnect();
}

/** In a process: resolves when the primary says stop, on Ctrl-C or SIGTERM, or when the primary is gone. */
export function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('message', onMessage);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('disconnect', onDisconnect);
      resolve(why);
    };
    const onMessage = (message: Message) => message?.type === 'stop' && done('stop');
    const onSigint = () => done('SIGINT');
    const onSigterm = () => done('SIGTERM');
    const onDisconnect = () => done('disconnect');
    process.on('message', onMessage);
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    process.on('disconnect', onDisconnect);
  });
}

function errorOf(error: SerializedError | null, exit: string, stderr: string): NewsletterError {
  if (error && error.code in ERROR_CODES) {
    return new NewsletterError(error.code, error.message, { hint: error.hint, file: error.file, line: error.line, column: error.column });
  }
  const said = stderr.trim().split('\n').slice(-5).join('\n  ');
  return new NewsletterError('SERVE_CONFIG', `a serve process ${exit} before it was listening${said ? `:\n  ${said}` : ''}`, {
    hint: 'run with --processes 1 to see its error directly',
  });
}

function exitOf(code: number | null, signal: string | null): string {
  return signal ? `was killed (${signal})` : `exited with code ${code}`;
}

export async function startServeCluster(options: ServeClusterOptions): Promise<ServeCluster> {
  if (!cluster.isPrimary) throw new NewsletterError('INTERNAL', 'a serve process cannot start processes of its own');
  cluster.setupPrimary({ exec: fileURLToPath(BIN), args: ['serve'], cwd: options.cwd, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  const live = new Set<Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let fail: (error: NewsletterError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  const start = (n: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ ...options.env, [PROCESS_ENV]: String(n), [FLAGS_ENV]: JSON.stringify(options.flags) });
      live.add(worker);
      let listening = false;
      let failure: SerializedError | null = null;
      let early = '';
      let partial = '';
      const stderr = worker.process.stderr!;
      stderr.setEncoding('utf8');
      stderr.on('data', (chunk: string) => {
        // Before it listens, a process's stderr is its start-up error: kept, and reported once.
        if (!listening) return void (early += chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) options.log(line);
      });
      worker.on('message', (message: Message) => {
        if (message?.type === 'listening') {
          listening = true;
          resolve(message.url);
        } else if (message?.type === 'failed') {
          failure = message.error;
        }
      });
      worker.on('error', () => undefined);
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        if (partial) options.log(partial);
        if (!listening) return reject(errorOf(failure, exitOf(code, signal), early));
        // Exit code 0: it was told to stop (Ctrl-C reaches every process of the terminal at once).
        if (stopping || code === 0) return;
        const now = Date.now();
        restarts.push(now);
        while (restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
        if (restarts.length > MAX_RESTARTS) {
          return fail(new NewsletterError('SERVE_CONFIG', `serve processes keep dying (${restarts.length} in ${RESTART_WINDOW_MS / 1000} s; the last ${exitOf(code, signal)})`, { hint: 'run with --processes 1 to see why' }));
        }
        options.log(`serve process ${n} (pid ${worker.process.pid}) ${exitOf(code, signal)}; starting another`);
        start(n).catch((error: NewsletterError) => fail(error));
      });
    });

  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      [...live].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (worker.isConnected()) worker.send({ type: 'stop' } satisfies Message);
            else worker.process.kill('SIGTERM');
          }),
      ),
    );
  };

  // The first alone: when it cannot start (port in use, a broken template), the error is its
  // own, once, not N times over.
  let url: string;
  try {
    url = await start(1);
    await Promise.all(Array.from({ length: options.processes - 1 }, (_, i) => start(i + 2)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { url, processes: options.processes, failed, close: stopAll };
}

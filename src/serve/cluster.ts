import cluster, { type Worker } from 'node:cluster';
import { createHash } from 'node:crypto';
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
const CONFIG_ENV = 'NEWSLETTER_SERVE_CONFIG';
/** Both lib/serve/cluster.js and the bundle (lib/bundle/cli.cjs) are two levels below the package. */
const BIN = new URL('../../bin/newsletter.js', import.meta.url);
const STOP_TIMEOUT_MS = 15_000;
/** More restarts of one process than this within the window: it is not started again. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/**
 * A process that exits is replaced this long after, unless serve is stopping by then: Ctrl-C
 * reaches every process of the terminal at once, and the primary's own handler may run last.
 */
const REPLACE_AFTER_MS = 250;

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
  /** The primary's resolved config: a process started later refuses to run with another. */
  config: object;
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

function configPrint(config: object): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('base64url');
}

/**
 * In a process: refuses to serve with another config than the primary's. A process started in
 * place of one that died reads the files again; after an edit its List-Id (so every token's
 * check) or its URLs could differ from the others'.
 */
export function checkSameConfig(env: NodeJS.ProcessEnv, config: object, shownFile: string | undefined): void {
  if (env[CONFIG_ENV] && env[CONFIG_ENV] !== configPrint(config)) {
    throw new NewsletterError('SERVE_CONFIG', `the configuration changed since serve started: this process would answer otherwise than the others`, {
      file: shownFile,
      hint: 'restart serve to use the new configuration',
    });
  }
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
  return new NewsletterError('SERVE_CONFIG', `a serve process ${exit} before it was listening${said ? `:\n  ${said}` : ''}`, { hint: 'run with --processes 1 to see its error directly' });
}

function exitOf(code: number | null, signal: string | null): string {
  return signal ? `was killed (${signal})` : `exited with code ${code}`;
}

export async function startServeCluster(options: ServeClusterOptions): Promise<ServeCluster> {
  if (!cluster.isPrimary) throw new NewsletterError('INTERNAL', 'a serve process cannot start processes of its own');
  cluster.setupPrimary({ exec: fileURLToPath(BIN), args: ['serve'], cwd: options.cwd, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  const live = new Set<Worker>();
  /** The processes that have said they listen; the others are still starting. */
  const answering = new WeakSet<Worker>();
  const print = configPrint(options.config);
  let stopping = false;
  let fail: (error: NewsletterError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  const start = (n: number): Promise<string> =>
    new Promise((resolve, reject) => {
      // The same flags, port included: the primary holds one socket per address and port as given,
      // so with `--port 0` they share one free port (a new one only if every process is gone).
      const worker = cluster.fork({ ...options.env, [PROCESS_ENV]: String(n), [FLAGS_ENV]: JSON.stringify(options.flags), [CONFIG_ENV]: print });
      live.add(worker);
      let failure: SerializedError | null = null;
      let early = '';
      let partial = '';
      const stderr = worker.process.stderr!;
      stderr.setEncoding('utf8');
      stderr.on('data', (chunk: string) => {
        // Before it listens, a process's stderr is its start-up error: kept, and reported once.
        if (!answering.has(worker)) return void (early += chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) options.log(line);
      });
      worker.on('message', (message: Message) => {
        if (message?.type === 'listening') {
          answering.add(worker);
          // What it wrote while starting (warnings) was kept in case it failed: it did not.
          for (const line of early.split('\n')) if (line) options.log(line);
          resolve(message.url);
        } else if (message?.type === 'failed') {
          failure = message.error;
        }
      });
      worker.on('error', () => undefined);
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        if (partial) options.log(partial);
        if (!answering.has(worker)) return reject(errorOf(failure, exitOf(code, signal), early));
        later(REPLACE_AFTER_MS, () => replace(n, worker.process.pid, exitOf(code, signal)));
      });
    });

  const pendingReplacements = new Set<NodeJS.Timeout>();
  /** Unless serve is stopping by then. The timer holds the primary up while no process is left. */
  const later = (ms: number, what: () => void) => {
    const timer = setTimeout(() => {
      pendingReplacements.delete(timer);
      if (!stopping) what();
    }, ms);
    pendingReplacements.add(timer);
  };
  const restarts = new Map<number, number[]>();
  /** Another process in place of process `n`; the others go on serving whatever happens to it. */
  const replace = (n: number, pid: number | undefined, why: string): void => {
    const now = Date.now();
    const recent = (restarts.get(n) ?? []).filter((at) => at > now - RESTART_WINDOW_MS);
    recent.push(now);
    restarts.set(n, recent);
    if (recent.length > MAX_RESTARTS) {
      options.log(`serve process ${n} ${why}; it was started ${MAX_RESTARTS} times in ${RESTART_WINDOW_MS / 1000} s: not again (${live.size} of ${options.processes} processes serving)`);
      if (live.size === 0)
        fail(new NewsletterError('SERVE_CONFIG', `every serve process has stopped, and none could be started again (the last ${why})`, { hint: 'run with --processes 1 to see why' }));
      return;
    }
    options.log(`serve process ${n}${pid ? ` (pid ${pid})` : ''} ${why}; starting another`);
    start(n).then(
      () => options.log(`serve process ${n} is answering again`),
      (error: unknown) => {
        const reason = error instanceof NewsletterError ? error.format() : String(error);
        options.log(`serve process ${n} could not start again: ${reason}`);
        // Tried again later (the cause may pass: a file mid-edit); the others serve meanwhile.
        later(Math.min(1000 * 2 ** (recent.length - 1), 15_000), () => replace(n, undefined, 'could not start'));
      },
    );
  };

  const stopAll = async () => {
    stopping = true;
    for (const timer of pendingReplacements) clearTimeout(timer);
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
            // One still starting may not listen for messages yet: SIGTERM stops it either way.
            if (answering.has(worker) && worker.isConnected()) worker.send({ type: 'stop' } satisfies Message);
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

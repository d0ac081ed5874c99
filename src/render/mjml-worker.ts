/**
 * MJML on a worker thread. Loading mjml costs ~0.7 s of a cold `newsletter build` (juice, cheerio,
 * undici, lodash, postcss...), all on one thread; on a worker that load overlaps with the main
 * thread loading everything else and reading the content, so a cold build pays for the slower of
 * the two instead of their sum. Warm callers (preview, send, the library) compile in-process.
 */
import { Worker } from 'node:worker_threads';
import type { Mjml2Html, MjmlResult } from './mjml.js';

export interface Request {
  id: number;
  mjml: string;
  options: Record<string, unknown>;
}

export type Reply = { id: number; result: MjmlResult } | { id: number; error: { message: string; errors?: unknown } };

export interface MjmlWorker {
  compile: Mjml2Html;
  close(): Promise<void>;
}

export function startMjmlWorker(): MjmlWorker {
  // A file of its own (not this one): in the bundled CLI this module is part of one large file.
  const worker = new Worker(new URL('./mjml-worker-thread.js', import.meta.url));
  const pending = new Map<number, { resolve: (r: MjmlResult) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failure: Error | null = null;

  const failAll = (error: Error) => {
    failure = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if ('result' in reply) {
      waiting.resolve(reply.result);
    } else {
      // Keep the shape compileMjml reads: a message and, for validation errors, the error list.
      waiting.reject(Object.assign(new Error(reply.error.message), { errors: reply.error.errors }));
    }
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the MJML worker stopped (exit code ${code})`)));

  return {
    compile(mjml, options) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<MjmlResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, mjml, options } satisfies Request);
      });
    },
    async close() {
      // Terminating takes ~50 ms of a cold build; an unreferenced worker ends with the process.
      worker.removeAllListeners('exit');
      worker.unref();
    },
  };
}

/**
 * Several workers, each compile going to the one with the fewest waiting: `publish` renders a
 * whole archive, and MJML is most of its time.
 */
export function startMjmlPool(size: number): MjmlWorker {
  // Started on the first compile: a publish whose pages all come from its cache needs no MJML.
  let workers: { worker: MjmlWorker; waiting: number }[] | null = null;
  return {
    async compile(mjml, options) {
      workers ??= Array.from({ length: Math.max(1, size) }, () => ({ worker: startMjmlWorker(), waiting: 0 }));
      const slot = workers.reduce((best, w) => (w.waiting < best.waiting ? w : best));
      slot.waiting++;
      try {
        return await slot.worker.compile(mjml, options);
      } finally {
        slot.waiting--;
      }
    },
    async close() {
      await Promise.all((workers ?? []).map((w) => w.worker.close()));
    },
  };
}

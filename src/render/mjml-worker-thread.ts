/**
 * The MJML worker thread (started by startMjmlWorker in mjml-worker.ts): compiles what the main
 * thread posts, with mjml from the bundle when there is one (mjml-bundle.ts).
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { loadMjml } from './mjml.js';
import { loadBundledMjml } from './mjml-bundle.js';
import type { Reply, Request } from './mjml-worker.js';

if (!isMainThread && parentPort) {
  const port = parentPort;
  const bundled = loadBundledMjml();
  const compiler = bundled ? Promise.resolve(bundled) : loadMjml();
  port.on('message', async ({ id, mjml, options }: Request) => {
    try {
      const result = await (await compiler)(mjml, options);
      port.postMessage({ id, result: { html: result.html, errors: result.errors } } satisfies Reply);
    } catch (error) {
      const { message, errors } = error as Error & { errors?: unknown };
      port.postMessage({ id, error: { message, errors: structuredClone(errors) } } satisfies Reply);
    }
  });
}

/**
 * Bundles the compiled CLI (lib/cli/main.js and what it imports) into lib/bundle/, run after tsc
 * by `npm run build:ts` (so by `npm install`'s prepare and by `npm test`).
 *
 * Why: a cold `newsletter build` has a budget (≤ 1.0 s), and about a third of it went to Node
 * resolving, reading and linking some 600 small ES and CommonJS modules one by one. One file per
 * command (esbuild's splitting keeps each command's code loaded only when it runs) cuts ~0.3 s of
 * CPU. bin/newsletter.js falls back to lib/cli/ when the bundle is missing or older than tsc's
 * output, so a stale bundle never runs.
 *
 * Left out of the bundle: native or very large packages that are loaded only by the commands that
 * need them (sharp, playwright-core, bullmq, ioredis), and mjml, which loads on its own worker
 * thread (src/render/mjml-worker.ts).
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'lib/bundle');

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: [path.join(ROOT, 'lib/cli/main.js')],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Several dependencies ship a UMD `main` that requires its own files by computed names, which a
  // bundler cannot follow; their ES builds (`module`) import them statically.
  mainFields: ['module', 'main'],
  external: ['mjml', 'sharp', 'playwright-core', 'bullmq', 'ioredis', 'typescript'],
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});

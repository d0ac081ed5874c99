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
 * thread (src/render/mjml-worker.ts) from a bundle of its own, lib/bundle/mjml.cjs, with V8's
 * code cache for it (mjml.cjs.cache): made here after compiling one email of every MJML component,
 * so the cache holds the compiled functions too, not only the top level. Loading mjml took ~0.5 s
 * of the worker's CPU from node_modules, ~0.2 s so.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'lib/bundle');

/**
 * esbuild inlines a JSON file as an object literal; V8 parses a large one several times slower
 * than the same text given to JSON.parse (caniemail's 640 KB of client data: ~60 ms).
 */
const jsonAsJsonParse = {
  name: 'json-as-json-parse',
  setup(build) {
    build.onLoad({ filter: /\.json$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (text.length < 10_000) return undefined;
      JSON.parse(text); // a broken file fails the bundle here, not a user's run
      return { contents: `module.exports = JSON.parse(${JSON.stringify(text)});`, loader: 'js' };
    });
  },
};

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
  plugins: [jsonAsJsonParse],
});

// mjml as one CommonJS file. typescript is only reached by cosmiconfig for `.mjmlconfig.ts`
// files, which are never read (includes and mjml config files are off, src/render/mjml.ts).
const MJML_BUNDLE = path.join(OUT, 'mjml.cjs');
await build({
  entryPoints: [createRequire(import.meta.url).resolve('mjml')],
  outfile: MJML_BUNDLE,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['typescript'],
  logLevel: 'warning',
});
const { mjmlVersion, runBundledMjml } = await import(path.join(ROOT, 'lib/render/mjml-bundle.js'));
const { compile, cachedData } = runBundledMjml(MJML_BUNDLE, undefined);
const { SAMPLE_MJML } = await import(path.join(ROOT, 'lib/render/mjml-sample.js'));
const sample = await compile(SAMPLE_MJML, { validationLevel: 'strict', minify: false, beautify: false, ignoreIncludes: true });
if (sample.errors.length) throw new Error(`the MJML sample does not validate: ${JSON.stringify(sample.errors[0])}`);
writeFileSync(`${MJML_BUNDLE}.cache`, cachedData());
writeFileSync(path.join(OUT, 'mjml.json'), `${JSON.stringify({ version: mjmlVersion() })}\n`);

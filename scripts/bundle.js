/**
 * Bundles the compiled CLI (lib/, from tsc) into lib/bundle/, run after tsc by `npm run build:ts`
 * (so by `npm install`'s prepare and by `npm test`). A cold `newsletter build` has a budget
 * (≤ 1.0 s); from lib/ it spent most of it loading code, not running it:
 *
 *  - cli.cjs: the CLI and its dependencies in one CommonJS file. Node resolved, read and linked
 *    some 600 small ES and CommonJS modules one by one (~0.4 s of CPU).
 *  - cli.cjs.cache: V8's code cache of cli.cjs, made here after running `build` and `check` of the
 *    example issue, so it holds the compiled functions of a real run; Node 20 keeps no compiled
 *    code between runs, and parsing and compiling were a fifth of a cold start.
 *  - mjml.cjs and its cache: mjml for the MJML worker thread (src/render/mjml-bundle.ts), which
 *    loaded it in ~0.5 s from node_modules, ~0.2 s so; mjml.json names the mjml it was made from.
 *  - mjml-worker-thread.js: that worker's own entry.
 *
 * bin/newsletter.js runs lib/cli/ instead when the bundle is missing or older than tsc's output.
 * Left out: native or very large packages loaded only by the commands that need them (sharp,
 * playwright-core, bullmq, ioredis), and mjml (loaded on the worker thread).
 */
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'lib/bundle');
const EXTERNAL = ['mjml', 'sharp', 'playwright-core', 'bullmq', 'ioredis', 'typescript'];

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

/**
 * cli.cjs runs under vm.Script (for its code cache, src/run-bundled.ts), where Node 20 supports
 * `import()` only through an experimental option that prints a warning. The packages left out of
 * the bundle are CommonJS, so their `import()` becomes a require() wrapped as import() would wrap it.
 */
const dynamicImportAsRequire = {
  name: 'dynamic-import-as-require',
  setup(build) {
    const names = new RegExp(`^(${EXTERNAL.map((name) => name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter: names }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'require-external' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'require-external' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js', resolveDir: ROOT }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Several dependencies ship a UMD `main` that requires its own files by computed names, which a
  // bundler cannot follow; their ES builds (`module`) import them statically.
  mainFields: ['module', 'main'],
  external: EXTERNAL,
  plugins: [jsonAsJsonParse],
  logLevel: 'warning',
};

const CLI_BUNDLE = path.join(OUT, 'cli.cjs');
rmSync(OUT, { recursive: true, force: true });

await build({
  ...common,
  entryPoints: [path.join(ROOT, 'lib/cli/main.js')],
  outfile: CLI_BUNDLE,
  format: 'cjs',
  // Every module finds its files (package.json, templates/site/, the preview's assets, the worker)
  // relative to its own URL; in the bundle that is lib/bundle/cli.cjs, two levels down as before.
  define: { 'import.meta.url': '__bundleUrl' },
  plugins: [jsonAsJsonParse, dynamicImportAsRequire],
  banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await build({
  ...common,
  entryPoints: [path.join(ROOT, 'lib/render/mjml-worker-thread.js')],
  outfile: path.join(OUT, 'mjml-worker-thread.js'),
  format: 'esm',
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});

// typescript is only reached by cosmiconfig for `.mjmlconfig.ts` files, which are never read
// (includes and mjml config files are off, src/render/mjml.ts).
const MJML_BUNDLE = path.join(OUT, 'mjml.cjs');
await build({ ...common, plugins: [], entryPoints: [createRequire(import.meta.url).resolve('mjml')], outfile: MJML_BUNDLE, format: 'cjs', external: ['typescript'] });

const { runBundledFile } = await import(path.join(ROOT, 'lib/run-bundled.js'));
const { mjmlVersion } = await import(path.join(ROOT, 'lib/render/mjml-bundle.js'));
const { SAMPLE_MJML } = await import(path.join(ROOT, 'lib/render/mjml-sample.js'));

// The caches are made from runs of the bundles themselves, so they hold what those runs compiled.
const mjml = runBundledFile(MJML_BUNDLE, null);
const sample = await mjml.exports(SAMPLE_MJML, { validationLevel: 'strict', minify: false, beautify: false, ignoreIncludes: true });
if (sample.errors.length) throw new Error(`the MJML sample does not validate: ${JSON.stringify(sample.errors[0])}`);
writeFileSync(`${MJML_BUNDLE}.cache`, mjml.cachedData());
writeFileSync(path.join(OUT, 'mjml.json'), `${JSON.stringify({ version: mjmlVersion() })}\n`);

const cli = runBundledFile(CLI_BUNDLE, null);
const out = mkdtempSync(path.join(os.tmpdir(), 'nl-bundle-'));
const silent = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const io = { stdout: silent(), stderr: silent(), stdin: process.stdin, env: { NO_COLOR: '1' }, cwd: ROOT };
try {
  // The example issue as shipped, with the shipped templates: what a user's first runs do. An
  // error (a user's edited content) still leaves a cache of everything compiled up to it.
  const content = ['--content', path.join(ROOT, 'content'), '--templates', path.join(ROOT, 'templates'), '--config', path.join(ROOT, 'newsletter.config.json')];
  for (const args of [['build', ...content, '--out', out], ['check', ...content]]) {
    const code = await cli.exports.main(['node', 'newsletter', ...args], io);
    // `check` exits 1 when it finds an error-level finding (the example's example.com domains):
    // the run still went through every rule, so the cache holds all of it.
    if (code !== 0 && !(args[0] === 'check' && code === 1)) console.warn(`scripts/bundle.js: \`newsletter ${args[0]}\` of the example exited ${code}; the code cache holds what ran before that`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
writeFileSync(`${CLI_BUNDLE}.cache`, cli.cachedData());

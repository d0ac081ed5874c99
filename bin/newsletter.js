#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into lib/ by `npm install` (the `prepare` script),
// then bundled into lib/bundle/cli.cjs with V8's code cache (scripts/bundle.js: a faster cold
// start). The bundle runs only when it was made from the lib/ beside it: a `tsc` alone leaves it
// older, and lib/cli/ runs. So does --debug, whose stack traces then name the files of src/.
import { statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const BUNDLE = new URL('../lib/bundle/cli.cjs', import.meta.url);

function bundleIsFresh() {
  try {
    return statSync(BUNDLE).mtimeMs >= statSync(new URL('../lib/cli/main.js', import.meta.url)).mtimeMs;
  } catch {
    return false;
  }
}

// `newsletter --help | head` closes the pipe early; that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

let main;
if (!process.argv.includes('--debug') && bundleIsFresh()) {
  const { runBundledFile } = await import('../lib/run-bundled.js');
  ({ main } = runBundledFile(fileURLToPath(BUNDLE)).exports);
} else {
  if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
  // Node 22.1 and later keep V8's compiled code in the OS temp folder between runs; Node 20 has no such cache.
  module.enableCompileCache?.();
  ({ main } = await import('../lib/cli/main.js'));
}
process.exitCode = await main(process.argv);

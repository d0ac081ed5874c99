#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into lib/ by `npm install` (the `prepare` script),
// then bundled into lib/bundle/ (scripts/bundle.js: a faster cold start). The bundle runs only
// when it was made from the lib/ beside it: a `tsc` alone leaves it older, and lib/cli/ runs.
import { statSync } from 'node:fs';
import module from 'node:module';

function bundleIsFresh() {
  try {
    return statSync(new URL('../lib/bundle/main.js', import.meta.url)).mtimeMs >= statSync(new URL('../lib/cli/main.js', import.meta.url)).mtimeMs;
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

// Node 22.1 and later keep V8's compiled code of the bundle in the OS temp folder between runs
// (a cold start's parse and compile); Node 20 has no such cache, and runs the same without it.
module.enableCompileCache?.();

// Stack traces of --debug name the files under src/, not the bundle's lines.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main } = await import(bundleIsFresh() ? '../lib/bundle/main.js' : '../lib/cli/main.js');
process.exitCode = await main(process.argv);

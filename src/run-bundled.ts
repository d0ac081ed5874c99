import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Runs one CommonJS file of lib/bundle/ (scripts/bundle.js) with V8's code cache. Node 20 keeps
 * no compiled code between runs, and a cold start spent a fifth of its CPU parsing and compiling
 * JavaScript it had compiled the run before; a cache made after a representative run (the
 * bundle script's) holds the functions that run compiled too, not only each file's top level.
 * A cache made by another V8 or with other flags is refused by V8 and the file compiles as usual.
 */

export interface BundledFile {
  exports: unknown;
  /** V8's code cache of the file with every function compiled so far: call it after a representative run. */
  cachedData(): Buffer;
  /** A cache was given and V8 refused it. */
  cacheRejected: boolean;
}

/** `cacheFile` null: compile without a cache (to make one). */
export function runBundledFile(file: string, cacheFile: string | null = `${file}.cache`): BundledFile {
  let cache: Buffer | undefined;
  try {
    cache = cacheFile === null ? undefined : readFileSync(cacheFile);
  } catch {
    cache = undefined;
  }
  // The wrapper Node gives a CommonJS file, so the bundle sees require, module and __dirname.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(source, {
    filename: file,
    ...(cache ? { cachedData: cache } : {}),
    // import() of the packages left out of the bundle (sharp, playwright-core, mjml) goes to Node's own loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return { exports: module.exports, cachedData: () => script.createCachedData(), cacheRejected: cache !== undefined && script.cachedDataRejected === true };
}

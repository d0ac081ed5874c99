import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { Mjml2Html } from './mjml.js';

/**
 * mjml from the single file scripts/bundle.js makes (lib/bundle/mjml.cjs), run with V8's code
 * cache made at install time: the MJML worker of a cold `build` loads it in ~0.2 s instead of
 * ~0.5 s from node_modules. Anything missing or made from another mjml than the installed one
 * gives null, and mjml loads from node_modules as before: slower, never different.
 */

export function mjmlVersion(): string {
  return (createRequire(import.meta.url)('mjml/package.json') as { version: string }).version;
}

export interface BundledMjml {
  compile: Mjml2Html;
  /** V8's code cache of the bundle, with every function compiled so far (so: call it after a compile). */
  cachedData(): Buffer;
  /** The cache given was made by another V8 or with other flags, and was not used. */
  cacheRejected: boolean;
}

export function runBundledMjml(file: string, cache: Buffer | undefined): BundledMjml {
  // The same wrapper Node gives a CommonJS file, so the bundle sees require, module and __dirname.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: file, ...(cache ? { cachedData: cache } : {}) });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return { compile: module.exports as Mjml2Html, cachedData: () => script.createCachedData(), cacheRejected: script.cachedDataRejected === true };
}

/** The bundle beside this module (lib/bundle/, when this is bundled too) or in ../bundle/ (lib/render/). */
export function loadBundledMjml(): Mjml2Html | null {
  for (const dir of [new URL('./', import.meta.url), new URL('../bundle/', import.meta.url)]) {
    let stamp: { version?: string };
    try {
      stamp = JSON.parse(readFileSync(new URL('mjml.json', dir), 'utf8')) as { version?: string };
    } catch {
      continue;
    }
    if (stamp.version !== mjmlVersion()) return null;
    const file = fileURLToPath(new URL('mjml.cjs', dir));
    let cache: Buffer | undefined;
    try {
      cache = readFileSync(`${file}.cache`);
    } catch {
      cache = undefined;
    }
    try {
      return runBundledMjml(file, cache).compile;
    } catch {
      return null;
    }
  }
  return null;
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runBundledFile } from '../run-bundled.js';
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

/** The bundle beside this module (lib/bundle/, when this is bundled too) or in ../bundle/ (lib/render/); null when absent or stale. */
export function loadBundledMjml(): Mjml2Html | null {
  for (const dir of [new URL('./', import.meta.url), new URL('../bundle/', import.meta.url)]) {
    let stamp: { version?: string };
    try {
      stamp = JSON.parse(readFileSync(new URL('mjml.json', dir), 'utf8')) as { version?: string };
    } catch {
      continue;
    }
    if (stamp.version !== mjmlVersion()) return null;
    try {
      return runBundledFile(fileURLToPath(new URL('mjml.cjs', dir))).exports as Mjml2Html;
    } catch {
      return null;
    }
  }
  return null;
}

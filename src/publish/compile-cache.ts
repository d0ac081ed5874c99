import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadMjml, type Mjml2Html } from '../render/mjml.js';

/**
 * MJML is most of a publish; a web edition whose MJML did not change compiles to the same HTML.
 * The HTML is kept under `<out>/.newsletter-cache/web/<sha256>.html`, keyed by the MJML, the
 * options and MJML's version, so a rerun with one issue changed compiles one issue. Entries not
 * used by a run are removed at its end (`prune`).
 */

const MJML_VERSION = (createRequire(import.meta.url)('mjml/package.json') as { version: string }).version;

export interface CompileCache {
  compile: Mjml2Html;
  prune(): Promise<void>;
}

export function compileCache(dir: string, compiler: Mjml2Html | undefined): CompileCache {
  const used = new Set<string>();
  const compile: Mjml2Html = async (mjml, options) => {
    const key = createHash('sha256').update(MJML_VERSION).update('\0').update(JSON.stringify(options)).update('\0').update(mjml).digest('hex');
    used.add(key);
    const file = path.join(dir, `${key}.html`);
    try {
      return { html: await readFile(file, 'utf8'), errors: [] };
    } catch {
      // Not cached yet (or unreadable): compile.
    }
    const result = await (compiler ?? (await loadMjml()))(mjml, options);
    // Only clean results: a compile with validation problems throws or reports them again.
    if (!result.errors?.length) {
      try {
        await mkdir(dir, { recursive: true });
        const temporary = `${file}.tmp-${process.pid}`;
        await writeFile(temporary, result.html);
        await rename(temporary, file);
      } catch {
        // A cache that cannot be written only costs the next run its speed.
      }
    }
    return result;
  };
  return {
    compile,
    async prune() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      await Promise.all(names.filter((name) => !used.has(name.replace(/\.html$/, ''))).map((name) => rm(path.join(dir, name), { force: true })));
    },
  };
}

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from '../fs/display-path.js';
import { NewsletterError } from '../errors.js';

/**
 * Writes the site so that a sync (rsync, `aws s3 sync`, a CDN upload) sends only what changed:
 * a file whose bytes are already there is not touched (same mtime), every other file is written
 * to a temporary sibling and renamed into place, so a reader never sees half of one. Files are
 * written in the order given: the caller puts pages before the archive and feeds that link to
 * them. Files this writer wrote before and no longer produces (an issue turned back into a
 * draft) are removed; anything else in the folder (your own files) is left alone.
 */

export interface SiteFile {
  /** Path inside the site, `/`-separated: `issues/weekly-1/index.html`. */
  path: string;
  content: string | Buffer;
}

export interface SiteWriteResult {
  written: string[];
  unchanged: number;
  removed: string[];
}

const MANIFEST = '.newsletter-site.json';

function checkedPath(siteDir: string, relative: string): string {
  const absolute = path.resolve(siteDir, ...relative.split('/'));
  if (!relative || relative.startsWith('/') || relative.split('/').includes('..') || !absolute.startsWith(siteDir + path.sep)) {
    throw new NewsletterError('INTERNAL', `site path \`${relative}\` leaves the site folder`);
  }
  return absolute;
}

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
    throw error;
  }
}

async function writeAtomically(file: string, bytes: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function previousFiles(siteDir: string): Promise<string[]> {
  const text = await readIfExists(path.join(siteDir, MANIFEST));
  if (!text) return [];
  try {
    const parsed = JSON.parse(text.toString('utf8')) as { files?: unknown };
    return Array.isArray(parsed.files) ? parsed.files.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    // A manifest we cannot read only costs the clean-up of stale files; the site is rewritten.
    return [];
  }
}

export async function writeSite(siteDir: string, files: readonly SiteFile[], cwd: string): Promise<SiteWriteResult> {
  const root = path.resolve(siteDir);
  const result: SiteWriteResult = { written: [], unchanged: 0, removed: [] };
  let current = root;
  try {
    await mkdir(root, { recursive: true });
    const before = await previousFiles(root);
    for (const file of files) {
      current = checkedPath(root, file.path);
      const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
      const existing = await readIfExists(current);
      if (existing && existing.equals(bytes)) {
        result.unchanged++;
        continue;
      }
      await writeAtomically(current, bytes);
      result.written.push(file.path);
    }
    const now = new Set(files.map((file) => file.path));
    for (const stale of before) {
      if (now.has(stale)) continue;
      current = checkedPath(root, stale);
      await rm(current, { force: true });
      result.removed.push(stale);
      // Empty folders left behind (issues/<slug>/) go too; a folder with other files stays.
      for (let dir = path.dirname(current); dir !== root && dir.startsWith(root); dir = path.dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    }
    current = path.join(root, MANIFEST);
    const manifest = Buffer.from(`${JSON.stringify({ note: 'files written by `newsletter publish`; it removes them when they are no longer published', files: [...now].sort() }, null, 1)}\n`);
    const existing = await readIfExists(current);
    if (!existing || !existing.equals(manifest)) await writeAtomically(current, manifest);
    return result;
  } catch (error) {
    if (error instanceof NewsletterError) throw error;
    const shown = displayPath(current, cwd);
    throw new NewsletterError('OUTPUT_WRITE', `cannot write ${shown}: ${(error as Error).message}`, { file: shown, cause: error });
  }
}

import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../errors.js';

export interface OutputFile {
  name: string;
  content: string | Buffer;
}

/** The file-system calls of the swap; tests replace one to fail a given step. */
export interface SwapOps {
  rename: (from: string, to: string) => Promise<void>;
}

const DEFAULT_OPS: SwapOps = { rename };

/**
 * Writes `<outDir>/<name>/` so that it is either the old folder or the complete new one, never a
 * half-written mix: files go into a hidden staging sibling, the old folder is renamed aside
 * (`.<name>.old-…`), the staging folder renamed into place, and the old one removed.
 *
 * Node has no atomic exchange of two folders (renameat2 RENAME_EXCHANGE), so between the two
 * renames the name is briefly absent. Both ends of that window are covered: if the second rename
 * fails, the old folder is renamed back before the error is reported; if the process dies in
 * between, the next write (or `recoverInterruptedSwap`) renames the old folder back first.
 */
export async function writeFolderAtomically(outDir: string, name: string, files: readonly OutputFile[], ops: SwapOps = DEFAULT_OPS): Promise<string> {
  const target = path.join(outDir, name);
  let staging: string | null = null;
  try {
    await mkdir(outDir, { recursive: true });
    await recoverInterruptedSwap(outDir, name);
    staging = await mkdtemp(path.join(outDir, `.${name}.tmp-`));
    for (const file of files) await writeFile(path.join(staging, file.name), file.content);
    const previous = path.join(outDir, `.${name}.old-${process.pid}-${Date.now()}`);
    let hadPrevious = true;
    try {
      await ops.rename(target, previous);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      hadPrevious = false;
    }
    try {
      await ops.rename(staging, target);
    } catch (error) {
      if (hadPrevious) {
        await ops.rename(previous, target).catch((restoreError: Error) => {
          throw new NewsletterError('OUTPUT_WRITE', `cannot write ${target}: ${(error as Error).message}; the previous folder is kept as ${previous} (${restoreError.message})`, { file: target, cause: error });
        });
      }
      throw error;
    }
    staging = null;
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
    return target;
  } catch (error) {
    if (error instanceof NewsletterError) throw error;
    throw new NewsletterError('OUTPUT_WRITE', `cannot write ${target}: ${(error as Error).message}`, { file: target, cause: error });
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * A swap cut short by a crash leaves no `<name>/` but a `.<name>.old-…` folder: rename the newest
 * back. Returns whether one was restored. Leftover old folders beside a present one are removed.
 */
export async function recoverInterruptedSwap(outDir: string, name: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const prefix = `.${name}.old-`;
  const old = entries
    .filter((entry) => entry.startsWith(prefix))
    .sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
  if (!old.length) return false;
  let restored = false;
  if (!entries.includes(name)) {
    await rename(path.join(outDir, old.pop()!), path.join(outDir, name));
    restored = true;
  }
  for (const entry of old) await rm(path.join(outDir, entry), { recursive: true, force: true });
  return restored;
}

/**
 * Copies processed images to `<out>/assets/<name>`. Names carry a content hash, so a file that is
 * already there is the same image and is left alone; a new one is copied under a temporary name
 * and renamed, so a reader (or `publish`) never sees half an image.
 */
export async function writeAssets(outDir: string, assets: readonly { file: string; name: string }[]): Promise<void> {
  if (!assets.length) return;
  const dir = path.join(outDir, 'assets');
  try {
    await mkdir(dir, { recursive: true });
    for (const asset of assets) {
      const target = path.join(dir, asset.name);
      const exists = await stat(target).then(() => true, (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      });
      if (exists) continue;
      const temporary = `${target}.tmp-${process.pid}`;
      await copyFile(asset.file, temporary);
      await rename(temporary, target);
    }
  } catch (error) {
    throw new NewsletterError('OUTPUT_WRITE', `cannot write images to ${dir}: ${(error as Error).message}`, { file: dir, cause: error });
  }
}

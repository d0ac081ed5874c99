import { copyFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../errors.js';

export interface OutputFile {
  name: string;
  content: string | Buffer;
}

/**
 * Writes `<outDir>/<name>/` so that it is either the old folder or the complete new one, never a
 * half-written mix: files go into a temporary sibling folder that is renamed into place.
 */
export async function writeFolderAtomically(outDir: string, name: string, files: readonly OutputFile[]): Promise<string> {
  const target = path.join(outDir, name);
  let staging: string | null = null;
  try {
    await mkdir(outDir, { recursive: true });
    staging = await mkdtemp(path.join(outDir, `.${name}.tmp-`));
    for (const file of files) await writeFile(path.join(staging, file.name), file.content);
    const previous = `${target}.old-${process.pid}-${Date.now()}`;
    let hadPrevious = true;
    try {
      await rename(target, previous);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      hadPrevious = false;
    }
    await rename(staging, target);
    staging = null;
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
    return target;
  } catch (error) {
    throw new NewsletterError('OUTPUT_WRITE', `cannot write ${target}: ${(error as Error).message}`, { file: target, cause: error });
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
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

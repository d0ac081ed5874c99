import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
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

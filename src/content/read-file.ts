import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileError, readRegularFile, resolveRegularFile } from '../fs/read-regular-file.js';
import { NewsletterError } from '../errors.js';

/**
 * Every file the content stage reads goes through these two functions, on top of the shared
 * safe reader (fs/read-regular-file.ts: regular files inside `root` only). A missing file is
 * `null` for the caller to explain in its own words.
 */

/** The text of a content file, or null when it does not exist. */
export function readContentText(absolute: string, display: string, root: string): Promise<string | null> {
  return readRegularFile(absolute, { root, display });
}

/** Source images may be camera originals: larger than text files may be. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** The bytes of a content file (an image), or null when it does not exist. */
export async function readContentBytes(absolute: string, display: string, root: string): Promise<Buffer | null> {
  const real = await resolveRegularFile(absolute, { root, display });
  if (real === null) return null;
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(error, display);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NewsletterError('FILE_UNREADABLE', `\`${display}\` is not a regular file`, { file: display });
    if (info.size > MAX_IMAGE_BYTES) {
      throw new NewsletterError('FILE_UNREADABLE', `\`${display}\` is ${(info.size / 1024 / 1024).toFixed(1)} MB, over the ${MAX_IMAGE_BYTES / 1024 / 1024} MB limit for an image`, { file: display });
    }
    return await handle.readFile();
  } catch (error) {
    throw fileError(error, display);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

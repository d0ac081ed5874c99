import { readFile } from 'node:fs/promises';
import { NewsletterError } from '../errors.js';

/**
 * Every file the content stage reads goes through these two functions, so that what may be read
 * (and how a failure is reported) is decided in one place. A missing file is `null` for the caller
 * to explain in its own words; any other failure names the file.
 */

function readError(error: unknown, display: string): NewsletterError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
  return new NewsletterError('CONTENT_INVALID', `cannot read \`${display}\`: ${why}`, { file: display, cause: error });
}

/** The text of a content file, or null when it does not exist. */
export async function readContentText(absolute: string, display: string): Promise<string | null> {
  try {
    return await readFile(absolute, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw readError(error, display);
  }
}

/** The bytes of a content file (an image), or null when it does not exist. */
export async function readContentBytes(absolute: string, display: string): Promise<Buffer | null> {
  try {
    return await readFile(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw readError(error, display);
  }
}

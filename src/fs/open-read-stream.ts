import { createReadStream, type ReadStream } from 'node:fs';

/**
 * A UTF-8 read stream of `file` once it is open, or null when the file does not exist (a store
 * that has recorded nothing yet). Any other error is thrown for the caller to name its file.
 */
export async function openReadStream(file: string, options: { end?: number } = {}): Promise<ReadStream | null> {
  const stream = createReadStream(file, { encoding: 'utf8', ...options });
  try {
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return stream;
  } catch (error) {
    stream.destroy();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

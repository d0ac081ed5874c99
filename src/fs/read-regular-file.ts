import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';

/**
 * How every loader reads what the user gave it (articles, issues, templates, theme, lists): only
 * regular files inside their own folder. A symlink is followed only when its target stays inside
 * that folder (`ln -s ../../.env content/articles/notes.txt` must never put a secret into an
 * email); a FIFO or device is refused without blocking on it (opened O_NONBLOCK, checked with
 * fstat on the descriptor that is then read, so no swap in between); a folder where a file
 * belongs, a file over the size limit and every other file-system error become FILE_UNREADABLE
 * naming the file, never an "unexpected error".
 */

export interface RegularFileOptions {
  /** The folder the file (after resolving symlinks) must be inside. */
  root: string;
  /** The file as shown in errors (relative to the request's cwd). */
  display: string;
  /** Larger files are refused; default DEFAULTS.maxInputBytes. Infinity for streamed lists. */
  maxBytes?: number | undefined;
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'a symlink loop',
  ENAMETOOLONG: 'the path is too long',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder, not a file',
  EIO: 'an input/output error (the disk?)',
  EMFILE: 'too many open files',
};

/** A file-system error as a NewsletterError naming the file. */
export function fileError(error: unknown, display: string, action = 'read'): NewsletterError {
  if (error instanceof NewsletterError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = REASONS[code] ?? (error as Error).message;
  return new NewsletterError('FILE_UNREADABLE', `cannot ${action} \`${display}\`: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`, { file: display, cause: error });
}

function refuse(display: string, message: string, hint?: string): NewsletterError {
  return new NewsletterError('FILE_UNREADABLE', `\`${display}\` ${message}`, { file: display, hint });
}

/**
 * The real path of `file` once it is known to be a regular file inside `root`, or null when it
 * does not exist (the caller says what was missing, with its own code).
 */
export async function resolveRegularFile(file: string, options: RegularFileOptions): Promise<string | null> {
  let link;
  try {
    link = await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(error, options.display);
  }
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(file), realpath(options.root)]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && link.isSymbolicLink()) throw refuse(options.display, 'is a symlink to a file that does not exist');
    if (code === 'ELOOP') throw refuse(options.display, 'is a symlink loop');
    throw fileError(error, options.display);
  }
  if (!isInside(realRoot, real)) {
    throw refuse(options.display, `is a symlink to \`${real}\`, outside its folder \`${options.root}\``, 'copy the file into the folder instead of linking to it');
  }
  return real;
}

/** Reads `file` as UTF-8 text under the rules above; null when it does not exist. */
export async function readRegularFile(file: string, options: RegularFileOptions): Promise<string | null> {
  const real = await resolveRegularFile(file, options);
  if (real === null) return null;
  const maxBytes = options.maxBytes ?? DEFAULTS.maxInputBytes;
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw refuse(options.display, 'is a socket or device, not a file');
    throw fileError(error, options.display);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refuse(options.display, `is ${kindOf(info)}, not a file`);
    if (info.size > maxBytes) {
      throw refuse(options.display, `is ${(info.size / 1024 / 1024).toFixed(1)} MB, over the limit of ${(maxBytes / 1024 / 1024).toFixed(0)} MB`, 'split it, or move large data out of the newsletter');
    }
    const bytes = await handle.readFile();
    // The file may have grown between fstat and the read.
    if (bytes.length > maxBytes) throw refuse(options.display, `is over the limit of ${(maxBytes / 1024 / 1024).toFixed(0)} MB`);
    return bytes.toString('utf8');
  } catch (error) {
    throw fileError(error, options.display);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** For files that are streamed (lists): the real path, checked to be a regular file inside root. */
export async function checkRegularFile(file: string, options: RegularFileOptions): Promise<string | null> {
  const real = await resolveRegularFile(file, options);
  if (real === null) return null;
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw refuse(options.display, 'is a socket or device, not a file');
    throw fileError(error, options.display);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refuse(options.display, `is ${kindOf(info)}, not a file`);
    return real;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

import { closeSync, fdatasync as fdatasyncCallback, fstatSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * An append-only file shared by several processes (`serve --processes`, a `send`, the CLI): each
 * group of lines is one write(2) on a descriptor opened with O_APPEND, so lines of different
 * processes never interleave, and the promise resolves after the fdatasync, so an acknowledged
 * record survives a crash. Lines that arrive while a write is on the disk join the next one
 * (group commit), as in suppressions.ts.
 */

const fdatasync = promisify(fdatasyncCallback);

export class AppendFile {
  private pending: { text: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(readonly file: string) {}

  append(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Everything appended by this process so far is on the disk. */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length) {
        const group = this.pending;
        this.pending = [];
        try {
          await this.write(group.map((change) => change.text).join(''));
          for (const change of group) change.resolve();
        } catch (error) {
          for (const change of group) change.reject(error);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async write(text: string): Promise<void> {
    const fd = openForAppend(this.file);
    try {
      // A hand-edited file may lack its last newline; ours must not join that line.
      const size = fstatSync(fd).size;
      const bytes = Buffer.from(size > 0 && lastByte(fd, size) !== 0x0a ? `\n${text}` : text, 'utf8');
      const written = writeSync(fd, bytes, 0, bytes.length);
      if (written !== bytes.length) throw new Error(`short write (${written} of ${bytes.length} bytes)`);
      await fdatasync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function openForAppend(file: string): number {
  try {
    return openSync(file, 'a+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(path.dirname(file), { recursive: true });
    return openSync(file, 'a+');
  }
}

function lastByte(fd: number, size: number): number {
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, size - 1);
  return byte[0]!;
}

/**
 * Rewrites `file` without the lines `drop` rejects (an erasure): the kept lines go to a new file
 * that is synced and renamed over the old one. Other processes keep appending to the old file
 * meanwhile (each opens it per write), so after the rename what they added is carried over, as
 * often as it grows, before the old file is closed. False when the file does not exist.
 */
export async function rewriteWithout(file: string, drop: (lines: string[]) => boolean[]): Promise<boolean> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const temporary = `${file}.erasing-${process.pid}`;
  try {
    let read = fstatSync(fd).size;
    const text = read ? readAt(fd, 0, read) : '';
    await writeSynced(temporary, keep(text, drop), 'w');
    renameSync(temporary, file);
    // Appends that reached the old file after it was read.
    for (let size = fstatSync(fd).size; size > read; size = fstatSync(fd).size) {
      const tail = readAt(fd, read, size - read);
      read = size;
      await writeSynced(file, keep(tail, drop), 'a');
    }
    // The rename itself survives a crash once the folder is synced.
    const dir = openSync(path.dirname(file), 'r');
    try {
      await fdatasync(dir);
    } finally {
      closeSync(dir);
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number): string {
  const bytes = Buffer.alloc(length);
  const got = readSync(fd, bytes, 0, length, position);
  return bytes.toString('utf8', 0, got);
}

function keep(text: string, drop: (lines: string[]) => boolean[]): string {
  if (!text) return '';
  const lines = text.split('\n');
  const last = lines.pop()!;
  // A last line without its newline is kept whole (it is someone's write in progress, or a hand edit).
  const dropped = drop(lines);
  const kept = lines.filter((_, i) => !dropped[i]);
  return kept.map((line) => `${line}\n`).join('') + last;
}

async function writeSynced(file: string, text: string, flag: 'w' | 'a'): Promise<void> {
  if (!text && flag === 'a') return;
  const fd = openSync(file, flag);
  try {
    const bytes = Buffer.from(text, 'utf8');
    writeSync(fd, bytes, 0, bytes.length);
    await fdatasync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function readTextIfAny(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

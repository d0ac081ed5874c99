import { hostname } from 'node:os';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../errors.js';

/**
 * One send per issue at a time: `<issue>.lock` holds the pid of the send that owns it. A lock whose
 * process is gone (a crash, kill -9) is taken over, and the caller is told.
 */

export interface SendLock {
  file: string;
  /** Set when a stale lock of a dead process was taken over. */
  takenOverFrom: number | null;
  release(): Promise<void>;
}

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockContent | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as LockContent;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

export async function acquireSendLock(file: string, display: string): Promise<SendLock> {
  await mkdir(path.dirname(file), { recursive: true }).catch((error: Error) => {
    throw new NewsletterError('OUTPUT_WRITE', `cannot create the folder of the lock file: ${error.message}`, { file: display });
  });
  const content: LockContent = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  let takenOverFrom: number | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(content));
      await handle.close();
      let released = false;
      return {
        file,
        takenOverFrom,
        async release() {
          if (released) return;
          released = true;
          const current = await readLock(file);
          if (current?.pid === process.pid) await unlink(file).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new NewsletterError('OUTPUT_WRITE', `cannot create the lock file: ${(error as Error).message}`, { file: display });
      }
    }
    const holder = await readLock(file);
    // A lock from another machine (shared folder) cannot be checked: treat it as held.
    if (holder && (holder.host !== content.host || isAlive(holder.pid))) {
      throw new NewsletterError('SEND_LOCKED', `another send of this issue is running (pid ${holder.pid}, started ${holder.startedAt})`, {
        file: display,
        hint: 'wait for it to finish; if no send is running, delete the lock file and run again',
      });
    }
    // Dead holder (or an unreadable, half-written lock): move it aside, then retry creating ours.
    // Renaming rather than deleting means two takers cannot both remove each other's fresh lock.
    const aside = `${file}.stale-${process.pid}`;
    try {
      await rename(file, aside);
      const moved = await readLock(aside);
      if (moved && moved.pid !== holder?.pid && isAlive(moved.pid)) {
        await rename(aside, file);
        continue;
      }
      await unlink(aside).catch(() => undefined);
      takenOverFrom = holder?.pid ?? 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new NewsletterError('SEND_LOCKED', 'could not take the send lock (other sends keep taking it)', { file: display });
}

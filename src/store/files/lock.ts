import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../../errors.js';
import type { StoreLock } from '../types.js';

/**
 * One send per issue at a time: `<issue>.lock` names the process that holds it.
 *
 * Nobody ever sees the lock empty or half-written: its content goes to a temp file first, which
 * is then hard-linked into place (link(2) fails with EEXIST when the lock exists, like O_EXCL).
 *
 * A lock whose holder is gone (a crash, kill -9) is taken over, and exactly one process can win
 * that: each lock carries a random token, and to replace the lock with token T a process must
 * first hold the guard lock `<issue>.lock.takeover-T` (taken the same way, so a crashed taker's
 * guard is itself taken over). Holding the guard, it checks that the lock still carries T and
 * only then renames its own file over it. A process that saw T too late finds the guard taken, or,
 * once the guard is released, a lock that no longer carries T.
 */

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
  /** Absent in locks written by earlier versions: their inode stands in for it. */
  token: string;
}

/** Guards of guards: only crashes during a takeover nest them; more than this is a loop. */
const MAX_DEPTH = 4;
const ATTEMPTS = 8;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Seen = { kind: 'missing' } | { kind: 'held'; content: LockContent } | { kind: 'stale'; token: string; holder: string };

async function inspect(file: string, host: string): Promise<Seen> {
  let text: string;
  let inode: string;
  try {
    const info = await stat(file);
    inode = `${info.ino}-${Math.round(info.mtimeMs)}`;
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  let content: LockContent | null = null;
  try {
    const parsed = JSON.parse(text) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') content = { ...parsed, token: typeof parsed.token === 'string' ? parsed.token : '' } as LockContent;
  } catch {
    content = null;
  }
  // Unreadable content (an older version's lock, a truncated file): never written by this
  // code, so nobody is writing it now; it is stale, identified by its inode and mtime.
  if (!content) return { kind: 'stale', token: `x${inode}`, holder: 'unknown' };
  // A lock from another machine (a shared folder) cannot be checked: treat it as held.
  if (content.host !== host || isAlive(content.pid)) return { kind: 'held', content };
  return { kind: 'stale', token: content.token.replace(/[^A-Za-z0-9_-]/g, '') || `x${inode}`, holder: String(content.pid) };
}

async function writeTemp(file: string, content: LockContent): Promise<string> {
  const temp = `${file}.${content.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(JSON.stringify(content));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return temp;
}

interface Held {
  file: string;
  token: string;
  takenOverFrom: string | null;
}

function lockedError(display: string, content: LockContent | null): NewsletterError {
  const who = content ? ` (pid ${content.pid} on ${content.host}, started ${content.startedAt})` : '';
  return new NewsletterError('SEND_LOCKED', `another send of this issue is running${who}`, {
    file: display,
    hint: 'wait for it to finish; if no send is running (another machine, a stuck process), delete the lock file and run again',
  });
}

async function acquire(file: string, display: string, depth: number): Promise<Held> {
  if (depth > MAX_DEPTH) throw new NewsletterError('SEND_LOCKED', 'the lock is being taken over by another process', { file: display });
  const host = hostname();
  const content: LockContent = { pid: process.pid, host, startedAt: new Date().toISOString(), token: randomBytes(9).toString('base64url') };
  const temp = await writeTemp(file, content);
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await link(temp, file);
        return { file, token: content.token, takenOverFrom: null };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = await inspect(file, host);
      if (seen.kind === 'missing') continue;
      if (seen.kind === 'held') throw lockedError(display, seen.content);
      let guard: Held;
      try {
        guard = await acquire(`${file}.takeover-${seen.token}`, display, depth + 1);
      } catch (error) {
        // Another process is taking this stale lock over: it will hold the lock.
        if (error instanceof NewsletterError && error.code === 'SEND_LOCKED') throw lockedError(display, null);
        throw error;
      }
      try {
        const now = await inspect(file, host);
        if (now.kind === 'stale' && now.token === seen.token) {
          // Atomic replace: the lock is never missing, so no third process can link in between.
          await rename(temp, file);
          return { file, token: content.token, takenOverFrom: seen.holder };
        }
      } finally {
        await releaseHeld(guard);
      }
    }
    throw new NewsletterError('SEND_LOCKED', 'could not take the send lock (other sends keep taking it)', { file: display });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function releaseHeld(held: Held): Promise<void> {
  try {
    const content = JSON.parse(await readFile(held.file, 'utf8')) as Partial<LockContent>;
    if (content.token === held.token) await unlink(held.file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
}

export async function acquireFileLock(file: string, display: string = file): Promise<StoreLock> {
  let held: Held;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    held = await acquire(file, display, 0);
  } catch (error) {
    if (error instanceof NewsletterError) throw error;
    throw new NewsletterError('OUTPUT_WRITE', `cannot take the send lock: ${(error as Error).message}`, { file: display, cause: error });
  }
  let released = false;
  return {
    takenOverFrom: held.takenOverFrom,
    async release() {
      if (released) return;
      released = true;
      await releaseHeld(held).catch((error: Error) => {
        throw new NewsletterError('OUTPUT_WRITE', `cannot remove the send lock: ${error.message}`, { file: display, cause: error });
      });
    },
  };
}

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}

export interface LineBatch {
  println(line: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

/**
 * Lines gathered and written once per turn of the event loop: stdout to a file or a pipe is a
 * synchronous write(2) on Linux, so `serve`'s line per request was a system call per request.
 * Every line of the stream must go through the batch, which keeps them in order; what is pending
 * is also written if the process exits.
 */
export function lineBatch(stream: NodeJS.WritableStream): LineBatch {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = '';
    for (const piece of wholeLinePieces(text)) stream.write(piece);
  };
  process.once('exit', flush);
  return {
    println(line) {
      pending += `${line}\n`;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/**
 * Several `serve --processes` write to one stdout. A write(2) of up to PIPE_BUF bytes (4096 on
 * Linux, 512 by POSIX) to a pipe is never interleaved with another process's, so a batch is
 * written in pieces of whole lines no larger than that (a single longer line goes alone).
 */
const ATOMIC_WRITE_BYTES = 4096;

export function wholeLinePieces(text: string): string[] {
  if (text.length <= ATOMIC_WRITE_BYTES / 3 || Buffer.byteLength(text) <= ATOMIC_WRITE_BYTES) return [text];
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const line of text.slice(0, -1).split('\n')) {
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > ATOMIC_WRITE_BYTES && piece) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += `${line}\n`;
    bytes += size;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

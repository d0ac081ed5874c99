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
    stream.write(text);
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

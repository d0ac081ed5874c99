import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';

/** A CliIo that keeps what a command prints, for running `main()` in-process. */
export function memoryIo(cwd: string, env: NodeJS.ProcessEnv = process.env): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  return { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd, out: () => out, err: () => err };
}

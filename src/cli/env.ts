import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { NewsletterError } from '../errors.js';
import type { CliIo } from './io.js';

/** `.env` in the working directory, read once for every command (build, check, preview, send…). */
export const DOT_ENV = '.env';

/**
 * The environment every command sees: `.env` under the real environment, so a variable set in the
 * shell or by CI always wins over the file. One helper, so `build` cannot sign with a preview key
 * while `send` uses the real NEWSLETTER_SECRET of the same folder.
 */
export function environmentWithDotEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const file = path.join(cwd, DOT_ENV);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return env;
    throw new NewsletterError('CONFIG_INVALID', `cannot read ${DOT_ENV}: ${(error as Error).message}`, { file: DOT_ENV });
  }
  let fromFile: Record<string, string>;
  try {
    fromFile = parseEnv(text) as Record<string, string>;
  } catch (error) {
    throw new NewsletterError('CONFIG_INVALID', `${DOT_ENV} is not KEY=value lines: ${(error as Error).message}`, { file: DOT_ENV });
  }
  return { ...fromFile, ...env };
}

export function withDotEnv(io: CliIo): CliIo {
  return { ...io, env: environmentWithDotEnv(io.env, io.cwd) };
}

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser, LaunchOptions } from 'playwright-core';
import { NewsletterError } from './errors.js';

/**
 * The system Chromium, for previews in tests, screenshots and the accessibility audit. We never
 * download a browser: the one from the OS package manager (Debian's `chromium`) is used, or the
 * one CHROMIUM_PATH names.
 */

const INSTALL_HINT = 'install it with `apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM_PATH to a Chromium or Chrome executable';

/** Names looked up on PATH, in order, after CHROMIUM_PATH and /usr/bin/chromium. */
const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

const FIXED_LOCATIONS = [
  '/usr/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/**
 * Flags for a browser that must work on a closed network: without the background-networking
 * ones Chromium waits on update and sync requests that never return. No sandbox because CI runs
 * as root in a container, where Chromium refuses to start with one.
 */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]);

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where Chromium is looked for when CHROMIUM_PATH is not set, in order. */
export function defaultChromiumCandidates(env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const onPath = PATH_NAMES.flatMap((name) => dirs.map((dir) => path.join(dir, name)));
  return [FIXED_LOCATIONS[0]!, ...onPath, ...FIXED_LOCATIONS.slice(1)];
}

/** The Chromium executable to use; throws BROWSER_NOT_FOUND naming what to install. */
export function findChromium(env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = defaultChromiumCandidates(env)): string {
  const explicit = env.CHROMIUM_PATH?.trim();
  if (explicit) {
    // Set on purpose, so a wrong value is an error rather than a silent fallback to another browser.
    if (isExecutableFile(explicit)) return explicit;
    throw new NewsletterError('BROWSER_NOT_FOUND', `CHROMIUM_PATH is \`${explicit}\`, which is not an executable file`, { hint: INSTALL_HINT });
  }
  const found = candidates.find(isExecutableFile);
  if (found) return found;
  throw new NewsletterError('BROWSER_NOT_FOUND', 'no Chromium found (looked at /usr/bin/chromium and for chromium or google-chrome on PATH)', {
    hint: INSTALL_HINT,
  });
}

/** Starts the system Chromium headless with the flags above; the caller closes it. */
export async function launchChromium(env: NodeJS.ProcessEnv = process.env, options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = findChromium(env);
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({ timeout: 30_000, ...options, executablePath, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
  } catch (error) {
    const firstLine = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new NewsletterError('BROWSER_NOT_FOUND', `Chromium at \`${executablePath}\` did not start: ${firstLine}`, {
      hint: 'check that it runs on its own (`chromium --headless --version`), or ' + INSTALL_HINT,
      cause: error,
    });
  }
}

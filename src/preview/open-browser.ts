import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Opens a URL in the user's browser with the system opener (`xdg-open`, `open`, `start`), and
 * says why when it could not: no opener on PATH (a machine without a desktop), or an opener that
 * failed (`xdg-open` exits 3 when no browser is configured, 4 when the browser failed). An opener
 * that is still running after `waitMs` has launched a browser in the foreground: that counts as
 * opened.
 */

export type OpenResult = { opened: true } | { opened: false; reason: string };

const DEFAULT_WAIT_MS = 3000;

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, waitMs = DEFAULT_WAIT_MS): Promise<OpenResult> {
  const [opener, args] = platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  if (platform !== 'win32' && !onPath(opener, env)) return Promise.resolve({ opened: false, reason: `no ${opener} on PATH` });
  return new Promise((resolve) => {
    const child = spawn(opener, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    const settle = (result: OpenResult) => {
      clearTimeout(timer);
      child.removeAllListeners();
      child.stderr.destroy();
      child.unref();
      resolve(result);
    };
    const timer = setTimeout(() => settle({ opened: true }), waitMs);
    child.on('error', (error) => settle({ opened: false, reason: `${opener}: ${error.message}` }));
    child.on('exit', (code, signal) => {
      if (code === 0) return settle({ opened: true });
      const said = stderr.trim().split('\n').filter(Boolean).pop();
      settle({ opened: false, reason: `${opener} ${signal ? `was killed by ${signal}` : `exited with ${code}`}${said ? `: ${said}` : ''}` });
    });
  });
}

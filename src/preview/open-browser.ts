import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Opens a URL in the user's browser with the system opener, when there is one. Returns false
 * (and the caller prints the URL) on machines without a desktop, where neither exists.
 */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  const opener = platform === 'darwin' ? 'open' : platform === 'win32' ? null : 'xdg-open';
  if (!opener) {
    const child = spawn('cmd', ['/c', 'start', '""', url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  }
  const found = (env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, opener), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) return false;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true, env });
  child.on('error', () => undefined);
  child.unref();
  return true;
}

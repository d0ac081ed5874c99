import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { NewsletterError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import { PreviewSession, type PreviewUpdate, type SessionOptions } from './preview-session.js';
import { watchProject, type WatchOptions } from './watch-project.js';
import { SseHub } from './sse-hub.js';
import { createHandler, type Asset } from './routes.js';

/**
 * The preview server: a session that renders, a watcher that feeds it changed files, an HTTP
 * server that shows the result, and server-sent events that tell open pages to refresh.
 */

export interface PreviewServerOptions extends SessionOptions {
  /** Default 127.0.0.1; anything else exposes unsent issues to the network. */
  host?: string | undefined;
  /** Default 3000; 0 picks a free port. */
  port?: number | undefined;
  watch?: WatchOptions;
}

export interface PreviewServer {
  url: string;
  host: string;
  port: number;
  session: PreviewSession;
  /** Resolves when the first render of every issue is done. */
  ready: Promise<void>;
  onUpdate(listener: (update: PreviewUpdate) => void): () => void;
  /** Stops watching, ends every event stream and closes the port. */
  close(): Promise<void>;
}

export const DEFAULT_PREVIEW_HOST = DEFAULTS.preview.host;
export const DEFAULT_PREVIEW_PORT = DEFAULTS.preview.port;

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

// tsc does not copy non-TS files, so the page's CSS and JS are read from src/ next to this
// module's source: `lib/preview/` and `src/preview/` are both two levels below the package root.
const ASSETS_DIR = fileURLToPath(new URL('../../src/preview/assets/', import.meta.url));
const ASSET_FILES = { 'preview.css': 'text/css; charset=utf-8', 'preview.js': 'text/javascript; charset=utf-8' };

async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_FILES)) {
    try {
      assets.set(name, { type, body: await readFile(`${ASSETS_DIR}${name}`) });
    } catch (error) {
      throw new NewsletterError('INTERNAL', `the preview's ${name} is missing from ${ASSETS_DIR}`, { hint: 'reinstall the package', cause: error });
    }
  }
  return assets;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${host}:${port}`;
      if (error.code === 'EADDRINUSE') {
        reject(new NewsletterError('PREVIEW_FAILED', `port ${port} on ${host} is already in use`, { hint: 'stop the other server, pick another port with --port, or use --port 0 for any free port', cause: error }));
      } else if (error.code === 'EACCES') {
        reject(new NewsletterError('PREVIEW_FAILED', `no permission to listen on ${where}`, { hint: 'ports below 1024 need root; use --port 3000', cause: error }));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
        reject(new NewsletterError('PREVIEW_FAILED', `cannot listen on host \`${host}\`: it is not an address of this machine`, { hint: 'leave out --host to use 127.0.0.1', cause: error }));
      } else {
        reject(new NewsletterError('PREVIEW_FAILED', `cannot listen on ${where}: ${error.message}`, { cause: error }));
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function startPreviewServer(options: PreviewServerOptions): Promise<PreviewServer> {
  const host = options.host ?? DEFAULT_PREVIEW_HOST;
  const port = options.port ?? DEFAULT_PREVIEW_PORT;
  const assets = await loadAssets();
  const session = new PreviewSession(options);
  const hub = new SseHub();
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const allowedHosts = isLoopbackHost(host) ? new Set(['localhost', '127.0.0.1', '[::1]', host.toLowerCase()]) : null;
  const server = createServer(createHandler({ session, hub, assets, ready, checksWired: Boolean(options.check), allowedHosts }));

  // Listen before the first render so that a taken port fails at once, not after seconds of MJML.
  await listen(server, port, host);
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : isIP(host) === 6 ? `[${host}]` : host;

  session.onUpdate((update) => hub.send('update', update));
  // A failure here is a bug, not a user's broken file (those become problems on the page); show it
  // to the open pages rather than let an unhandled rejection stop the server.
  const onChange = (files: string[]) => void session.apply(files).catch((error: unknown) => hub.send('internal-error', { message: String((error as Error)?.message ?? error) }));
  const watcher = watchProject(session.paths, onChange, options.watch);
  const started = Promise.all([watcher.ready, session.start()]).then(() => resolveReady());

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${actualPort}/`,
    host,
    port: actualPort,
    session,
    ready: started,
    onUpdate: (listener) => session.onUpdate(listener),
    close() {
      closing ??= (async () => {
        await watcher.close();
        hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        // Let a render in progress (the first one included) finish, so nothing runs after close().
        await session.close();
      })();
      return closing;
    },
  };
}

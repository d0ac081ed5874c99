import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { endpointOf, UNREADABLE_PATH, type Endpoint, type FetchHandler } from './handler.js';

/**
 * `newsletter serve` on Node's http module. A handler made by `createHandler` is answered by its
 * endpoint straight from the IncomingMessage into the ServerResponse: a Fetch Request and
 * Response per request (web streams, header lists, body copies) cost more than all the rest of
 * a one-click POST. Any other Fetch handler gets a Request made from the message and its Response
 * written back. Either way the request URL is built from the listening address, never from the
 * Host header; the endpoint only looks at the path anyway.
 */

export interface NodeServer {
  url: string;
  port: number;
  server: Server;
  /** Stops taking connections and waits for the requests in flight. */
  close(): Promise<void>;
}

/**
 * The body, read up to the first chunk that takes it past `max` bytes (`over` then); the rest of
 * such a body is drained, keeping the connection usable.
 */
function readCapped(req: IncomingMessage, max: number): Promise<{ bytes: Buffer; over: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.resume();
        resolve({ bytes: Buffer.concat(chunks), over: true });
      }
    };
    const onEnd = () => resolve({ bytes: Buffer.concat(chunks), over: false });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/** The body for the endpoint, or null past `max` bytes. */
async function readMessageBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  if (Number(req.headers['content-length'] ?? NaN) > max) return null;
  const { bytes, over } = await readCapped(req, max);
  return over ? null : bytes;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The request target as a URL on our own origin. Origin-form (`/path?query`) is the usual one;
 * absolute-form (`GET http://host/path`, which HTTP/1.1 servers must accept) keeps only its path
 * and query, since every URL we answer with comes from `siteUrl`, never from the request. Anything
 * else (`OPTIONS *`, `CONNECT host:443`, garbage) has no path: null, which the endpoint answers 400.
 */
export function requestUrl(target: string | undefined, origin: string): URL | null {
  const raw = target ?? '/';
  try {
    if (raw.startsWith('/')) return new URL(`${origin}${raw}`);
    if (/^https?:\/\//i.test(raw)) {
      const absolute = new URL(raw);
      return new URL(`${origin}${absolute.pathname}${absolute.search}`);
    }
  } catch {
    // Fall through: not a target we can read.
  }
  return null;
}

async function answer(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, origin: string): Promise<void> {
  const method = req.method ?? 'GET';
  const { status, headers, body } = await endpoint({
    method,
    url: requestUrl(req.url, origin) ?? unreadableTarget(origin),
    header: (name) => header(req, name),
    body: (max) => readMessageBody(req, max),
    remoteAddress: req.socket.remoteAddress ?? null,
  });
  if (method === 'HEAD' || body === null) {
    res.writeHead(status, headers);
    res.end();
  } else {
    res.writeHead(status, [...flatHeaders(headers), 'Content-Length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)]);
    res.end(body);
  }
}

/** The URL given for a target that has no path: the endpoint answers it 400, logged as any request. */
function unreadableTarget(origin: string): URL {
  return new URL(`${origin}${UNREADABLE_PATH}`);
}

/**
 * The endpoint answers with a few shared header objects: each is flattened once. node:http takes
 * a flat [name, value, …] list for less than an object it must walk and copy (about a tenth of a
 * one-click POST's time under load).
 */
const flattened = new WeakMap<object, string[]>();

function flatHeaders(headers: Readonly<Record<string, string>>): string[] {
  let flat = flattened.get(headers);
  if (!flat) {
    flat = Object.entries(headers).flat();
    flattened.set(headers, flat);
  }
  return flat;
}

/**
 * For another Fetch handler, the body is read here, up to one byte past the cap (more is refused
 * anyway): a Buffer makes a cheaper Request than a web stream over the socket, and one-click
 * bodies are a few bytes.
 */
async function readBody(req: IncomingMessage, cap: number): Promise<Buffer> {
  return (await readCapped(req, cap)).bytes;
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? await readBody(req, DEFAULTS.serve.maxBodyBytes + 1) : null;
  // Content-Length describes the whole body; the Request gets what was read.
  if (body) headers.delete('content-length');
  return new Request(requestUrl(req.url, origin) ?? unreadableTarget(origin), { method, headers, body: body as Uint8Array<ArrayBuffer> | null });
}

async function answerWithFetch(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, origin: string): Promise<void> {
  const response = await handler(await toRequest(req, origin));
  await writeResponse(res, response, req.method === 'HEAD');
}

async function writeResponse(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  const body = head || !response.body ? null : Buffer.from(await response.arrayBuffer());
  if (body) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      const hint =
        error.code === 'EADDRINUSE'
          ? 'stop the other server or pick another port with --port'
          : error.code === 'EACCES'
            ? 'ports below 1024 need root: listen on 8080 behind a reverse proxy (docs/publish-and-serve.md)'
            : 'leave out --host to use 127.0.0.1';
      const what = error.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : `cannot listen on ${where}: ${error.message}`;
      reject(new NewsletterError('SERVE_CONFIG', what, { hint, cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startNodeServer(handler: FetchHandler, options: { host: string; port: number; onError?: (error: unknown) => void }): Promise<NodeServer> {
  let origin = '';
  const endpoint = endpointOf(handler);
  const server = createServer((req, res) => {
    (endpoint ? answer(endpoint, req, res, origin) : answerWithFetch(handler, req, res, origin))
      .catch((error: unknown) => {
        options.onError?.(error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
  });
  // Slow or silent clients must not hold sockets for ever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await listen(server, options.port, options.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const urlHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  origin = `http://${urlHost}:${port}`;
  return {
    url: `${origin}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

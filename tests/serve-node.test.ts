import http from 'node:http';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUnsubscribeHandler, startNodeServer, type FetchHandler, type NodeServer, type RequestLog } from '../src/serve/index.js';
import { loadProject, type Project } from '../src/pipeline.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { openFilesStore } from '../src/store/index.js';
import { ROOT } from './helpers/cli.js';

/**
 * `newsletter serve` answers from node:http without the Fetch handler's Request and Response
 * (node-server.ts): every request here goes both ways, through the Fetch handler and over a
 * socket to the node server of the same endpoint, and must get the same answer.
 */

const SECRET = 'node-test-secret';
const ORIGIN = 'http://127.0.0.1:9';

let dir: string;
let project: Project;
let handler: FetchHandler;
let server: NodeServer;
let logs: RequestLog[];
let token: (email: string) => string;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Ask {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | string;
}

/** Headers that belong to the connection, not to the answer. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

function answerOf(status: number, entries: Iterable<[string, string]>, body: string): Answer {
  const headers: Record<string, string> = {};
  for (const [key, value] of entries) if (!TRANSPORT.has(key.toLowerCase())) headers[key.toLowerCase()] = value;
  return { status, headers, body };
}

async function viaFetch(ask: Ask): Promise<Answer> {
  const response = await handler(new Request(`${ORIGIN}${ask.path}`, { method: ask.method, headers: ask.headers, body: ask.body ?? null }));
  const headers: [string, string][] = [];
  response.headers.forEach((value, key) => headers.push([key, value]));
  return answerOf(response.status, headers, ask.method === 'HEAD' ? '' : await response.text());
}

/** Over a socket, with the path exactly as given (fetch would normalise `/../`). */
function viaNode(ask: Ask): Promise<Answer & { length: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: ask.method, path: ask.path, headers: ask.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const entries = Object.entries(res.headers).map(([key, value]) => [key, String(value)] as [string, string]);
        resolve({ ...answerOf(res.statusCode!, entries, Buffer.concat(chunks).toString('utf8')), length: res.headers['content-length'] });
      });
    });
    req.on('error', reject);
    req.end(ask.body);
  });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsletter-serve-node-'));
  await writeFile(path.join(dir, 'newsletter.config.json'), await readFile(path.join(ROOT, 'newsletter.config.json')));
  project = await loadProject({ cwd: dir, content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), out: path.join(dir, 'dist') });
  const store = openFilesStore({ journalDir: path.join(dir, '.newsletter/sends'), suppressions: path.join(dir, 'suppressions.txt') }).suppressions;
  const site = path.join(dir, 'dist/site');
  await mkdir(path.join(site, 'issues/one'), { recursive: true });
  await writeFile(path.join(site, 'index.html'), '<!doctype html><title>archive</title>');
  await writeFile(path.join(site, 'issues/one/index.html'), '<!doctype html><title>one</title>');
  await writeFile(path.join(site, 'feed.json'), '{"version":"https://jsonfeed.org/version/1.1"}');
  await writeFile(path.join(dir, 'secret.txt'), 'not for the web');
  logs = [];
  handler = await createUnsubscribeHandler({ project, secret: SECRET, suppressions: store, siteDir: site, onRequest: (log) => logs.push(log) });
  server = await startNodeServer(handler, { host: '127.0.0.1', port: 0 });
  token = (email) => unsubscribeToken(email, SECRET, listIdFor(project.config));
});

afterEach(async () => {
  await server.close();
});

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('serve on node:http answers as the Fetch handler does', () => {
  it('pages, one-click, resubscribe, refusals, health, the site and its 404s', async () => {
    const t = token('ann@example.com');
    const multipart = new Request(ORIGIN, { method: 'POST', body: (() => { const f = new FormData(); f.set('List-Unsubscribe', 'One-Click'); return f; })() });
    const asks: Ask[] = [
      { method: 'GET', path: `/unsubscribe/${t}` },
      { method: 'GET', path: `/unsubscribe?token=${t}` },
      { method: 'GET', path: `/unsubscribe/${t.slice(0, -2)}` },
      { method: 'GET', path: '/unsubscribe/not%20a%20token' },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: form, body: 'List-Unsubscribe=One-Click' },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: { 'content-type': multipart.headers.get('content-type')! }, body: new Uint8Array(await multipart.arrayBuffer()) },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: form, body: 'action=resubscribe' },
      // No Content-Type (bytes, so the Request adds none either): read as a urlencoded form.
      { method: 'POST', path: `/unsubscribe/${t}`, body: new TextEncoder().encode('List-Unsubscribe=One-Click') },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: form, body: `List-Unsubscribe=One-Click&pad=${'x'.repeat(11 * 1024)}` },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: { 'content-type': 'application/json' }, body: '{"List-Unsubscribe":"One-Click"}' },
      { method: 'POST', path: `/unsubscribe/${t}`, headers: form, body: 'List-Unsubscribe=Two-Clicks' },
      { method: 'PUT', path: `/unsubscribe/${t}`, headers: form, body: 'List-Unsubscribe=One-Click' },
      { method: 'GET', path: '/healthz' },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/issues/one/' },
      { method: 'GET', path: '/feed.json' },
      { method: 'POST', path: '/', body: 'x' },
      { method: 'GET', path: '/../secret.txt' },
      { method: 'GET', path: '/%2e%2e/secret.txt' },
      { method: 'GET', path: '/issues/..%2f..%2fsecret.txt' },
      { method: 'GET', path: '/nothing-here' },
    ];
    for (const ask of asks) {
      const { length, ...node } = await viaNode(ask);
      expect(node, `${ask.method} ${ask.path}`).toEqual(await viaFetch(ask));
      expect(Number(length), `${ask.method} ${ask.path}`).toBe(Buffer.byteLength(node.body));
    }
    // Both logged each request once, the same way.
    const line = (log: RequestLog) => `${log.method} ${log.path} ${log.status}`;
    expect(logs.filter((_, i) => i % 2 === 0).map(line)).toEqual(logs.filter((_, i) => i % 2 === 1).map(line));
  });

  it('HEAD: the headers of the GET, no body', async () => {
    for (const pathname of [`/unsubscribe/${token('ann@example.com')}`, '/issues/one/']) {
      const get = await viaNode({ method: 'GET', path: pathname });
      const head = await viaNode({ method: 'HEAD', path: pathname });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers).toEqual(get.headers);
    }
  });

  it('a chunked body past the cap is refused (413) and the connection still answers', async () => {
    const t = token('ann@example.com');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ agent, host: '127.0.0.1', port: server.port, method: 'POST', path: `/unsubscribe/${t}`, headers: form }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        for (let i = 0; i < 20; i++) req.write('x'.repeat(1024));
        req.end();
      });
      expect(status).toBe(413);
      const next = await new Promise<number>((resolve, reject) => {
        http.get({ agent, host: '127.0.0.1', port: server.port, path: '/healthz' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        }).on('error', reject);
      });
      expect(next).toBe(200);
    } finally {
      agent.destroy();
    }
    expect(await readFile(path.join(dir, 'suppressions.txt'), 'utf8').catch(() => '')).toBe('');
  });

  it('another Fetch handler still gets a Request and has its Response written back', async () => {
    const other = await startNodeServer(async (request) => new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`, { status: 201, headers: { 'x-seen': 'yes' } }), { host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`${other.url}echo`, { method: 'POST', body: 'hello' });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-seen')).toBe('yes');
      expect(await response.text()).toBe('POST /echo hello');
    } finally {
      await other.close();
    }
  });
});

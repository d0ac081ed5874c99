import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PreviewSession } from './preview-session.js';
import type { SseHub } from './sse-hub.js';
import { contentType, fileInside, urlSegments } from './safe-path.js';
import { darkView, linksInNewTab, phoneView } from './email-views.js';
import { headerBlock } from './message-headers.js';
import { indexPage } from './pages/index-page.js';
import { isView, issuePage } from './pages/issue-page.js';
import type { RenderedIssue } from '../render/render-issue.js';

/**
 * Every URL the preview answers. Anything else, including every path that tries to climb out of
 * a folder, is a 404.
 *
 *   /                                  the issue list
 *   /issues/<slug>/?view=&r=           one issue (view: desktop, phone, dark, text, html, mjml, headers)
 *   /issues/<slug>/email.html?r=&view= the email itself, for the frame (view: phone or dark variants)
 *   /issues/<slug>/images/<name>       a processed local image of that issue (before it is published)
 *   /issues/<slug>/{text,html,mjml,headers}.txt?r=
 *   /events                            server-sent events: `update` after every re-render
 *   /assets/preview.{css,js}           the page's own style and script
 *   /files/{content,templates,out}/…   files inside those folders
 */

export interface Asset {
  type: string;
  body: Buffer;
}

export interface RouteContext {
  session: PreviewSession;
  hub: SseHub;
  assets: ReadonlyMap<string, Asset>;
  /** Resolves when the first render is done; pages wait for it instead of showing an empty list. */
  ready: Promise<void>;
  checksWired: boolean;
  /** Host names a request may carry when the server listens on loopback only (DNS-rebinding guard). */
  allowedHosts: ReadonlySet<string> | null;
}

const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// Emails never run scripts in a mail client, so they do not run here either; images and web fonts
// load from anywhere, as they would in an inbox.
const EMAIL_POLICY = "default-src 'none'; img-src * data: blob:; style-src 'unsafe-inline' *; font-src * data:; media-src *; frame-ancestors 'self'; form-action 'none'";
const FILE_POLICY = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline' *; font-src * data:";

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function notFound(response: ServerResponse): void {
  send(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
}

function recipientIndex(params: URLSearchParams, session: PreviewSession): number {
  const index = Number(params.get('r') ?? 0);
  return Number.isInteger(index) && index >= 0 && index < session.recipients().length ? index : 0;
}

function hostAllowed(request: IncomingMessage, allowed: ReadonlySet<string> | null): boolean {
  if (!allowed) return true;
  const host = request.headers.host;
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return allowed.has(name.toLowerCase());
}

async function renderedCopy(context: RouteContext, slug: string, params: URLSearchParams): Promise<RenderedIssue | null> {
  const copy = await context.session.copyFor(slug, recipientIndex(params, context.session));
  if (copy && 'rendered' in copy) return copy.rendered;
  // The picked recipient's copy failed (the page shows why); the frame keeps the sample's copy.
  return context.session.issue(slug)?.good?.rendered ?? null;
}

async function issueRoute(context: RouteContext, slug: string, rest: string[], trailingSlash: boolean, params: URLSearchParams, response: ServerResponse): Promise<void> {
  const { session } = context;
  const state = session.issue(slug);
  if (!state) return notFound(response);
  if (rest.length === 0) {
    if (!trailingSlash) {
      response.writeHead(301, { Location: `/issues/${encodeURIComponent(slug)}/` }).end();
      return;
    }
    const view = params.get('view');
    const index = recipientIndex(params, session);
    const page = issuePage({
      session,
      state,
      view: isView(view) ? view : 'desktop',
      recipientIndex: index,
      copy: await session.copyFor(slug, index),
      checksWired: context.checksWired,
    });
    return send(response, 200, 'text/html; charset=utf-8', page, { 'Content-Security-Policy': PAGE_POLICY });
  }
  if (rest.length === 2 && rest[0] === 'images') {
    // Only the files the render produced, by their exact name: nothing else can be asked for.
    const asset = (await renderedCopy(context, slug, params))?.assets?.find((a) => a.name === rest[1]);
    if (!asset) return notFound(response);
    return send(response, 200, asset.contentType, await readFile(asset.file));
  }
  if (rest.length !== 1) return notFound(response);
  const rendered = await renderedCopy(context, slug, params);
  const text = (body: string) => send(response, 200, 'text/plain; charset=utf-8', body);
  switch (rest[0]) {
    case 'email.html': {
      if (!rendered) return send(response, 200, 'text/html; charset=utf-8', '<!doctype html><title>No render yet</title>', { 'Content-Security-Policy': EMAIL_POLICY });
      const view = params.get('view');
      const variant = view === 'dark' ? darkView(rendered.html).html : view === 'phone' ? phoneView(rendered.html) : rendered.html;
      const body = linksInNewTab(localImages(variant, rendered));
      return send(response, 200, 'text/html; charset=utf-8', body, { 'Content-Security-Policy': EMAIL_POLICY });
    }
    case 'text.txt':
      return text(rendered?.text ?? '');
    case 'html.txt':
      return text(rendered?.html ?? '');
    case 'mjml.txt':
      return text(rendered?.mjml ?? '');
    case 'headers.txt':
      return text(rendered && session.config ? await headerBlock(session.config, rendered, state.good?.renderedAt) : '');
    default:
      return notFound(response);
  }
}

/**
 * Local images point at `{siteUrl}assets/…` (published later) or `cid:` (sent inside the message):
 * the preview shows them from the render's own files, so the editor sees them before either.
 */
export function localImages(html: string, rendered: Pick<RenderedIssue, 'assets'>): string {
  let out = html;
  for (const asset of rendered.assets ?? []) out = out.split(`"${asset.url}"`).join(`"images/${asset.name}"`);
  return out;
}

const FILE_ROOTS = { content: 'content', templates: 'templates', out: 'out' } as const;

async function fileRoute(context: RouteContext, rest: string[], response: ServerResponse): Promise<void> {
  const [rootName, ...segments] = rest;
  if (!rootName || !Object.hasOwn(FILE_ROOTS, rootName)) return notFound(response);
  const root = context.session.paths[FILE_ROOTS[rootName as keyof typeof FILE_ROOTS]];
  const file = await fileInside(root, segments);
  if (!file) return notFound(response);
  return send(response, 200, contentType(file), await readFile(file), { 'Content-Security-Policy': FILE_POLICY });
}

export function createHandler(context: RouteContext): (request: IncomingMessage, response: ServerResponse) => void {
  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET, HEAD' });
    }
    if (!hostAllowed(request, context.allowedHosts)) return send(response, 403, 'text/plain; charset=utf-8', 'Host not allowed\n');
    const target = request.url ?? '/';
    const query = target.indexOf('?');
    const pathname = query === -1 ? target : target.slice(0, query);
    const params = new URLSearchParams(query === -1 ? '' : target.slice(query + 1));
    const segments = urlSegments(pathname);
    if (!segments) return notFound(response);
    const [first, second, ...rest] = segments;

    if (first === 'assets' && second && rest.length === 0) {
      const asset = context.assets.get(second);
      return asset ? send(response, 200, asset.type, asset.body) : notFound(response);
    }
    if (first === 'events' && segments.length === 1) {
      context.hub.add(request, response);
      return;
    }
    await context.ready;
    if (segments.length === 0) {
      return send(response, 200, 'text/html; charset=utf-8', indexPage(context.session, (slug) => context.session.issue(slug)?.findings ?? []), {
        'Content-Security-Policy': PAGE_POLICY,
      });
    }
    if (first === 'issues' && second && /^[\w.-]+$/.test(second)) {
      return issueRoute(context, second, rest, pathname.endsWith('/'), params, response);
    }
    if (first === 'files' && second) return fileRoute(context, [second, ...rest], response);
    return notFound(response);
  };

  return (request, response) => {
    route(request, response).catch((error: unknown) => {
      // A bug in one request must not take the server down; the page shows the 500.
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `Preview error: ${(error as Error)?.message ?? String(error)}\n`);
      else response.destroy();
    });
  };
}

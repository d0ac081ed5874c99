import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readUnsubscribeToken, unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { startPreviewServer, type PreviewServer } from '../src/preview/preview-server.js';
import { copyPreviewProject } from './helpers/preview-project.js';

/**
 * The preview as an unlucky operator meets it: a real NEWSLETTER_SECRET in the environment, the
 * content folder moved away and back, a FIFO where an article belongs.
 */

let server: PreviewServer | null = null;
let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await server?.close();
  await cleanup?.();
  server = null;
  cleanup = null;
});

function get(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: target }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function until(what: string, test: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

async function start(options: { secret?: string } = {}) {
  const project = await copyPreviewProject();
  cleanup = project.cleanup;
  const recipients = [{ email: 'first@example.com', name: 'First' }];
  server = await startPreviewServer({ request: { cwd: project.dir }, port: 0, recipients, secret: options.secret, watch: { quietMs: 5 } });
  await server.ready;
  return project;
}

describe('preview tokens', () => {
  it('never signs with the real secret, even when one is given: its tokens are marked and do not verify', { timeout: 30_000 }, async () => {
    await start({ secret: 'the-real-secret' });
    for (const r of [0, 1]) {
      const { status, body } = await get(server!.port, `/issues/weekly-1/text.txt?r=${r}`);
      expect(status).toBe(200);
      const match = /\/unsubscribe\/([\w-]{20,})/.exec(body);
      expect(match, body.slice(-400)).not.toBeNull();
      const token = match![1]!;
      const listId = listIdFor(server!.session.config!);
      // Marked as a preview token: refused whatever key reads it, the real one included.
      expect(readUnsubscribeToken(token, 'the-real-secret', listId)).toEqual({ problem: 'preview' });
      const email = r === 0 ? server!.session.config!.sampleRecipient.email : 'first@example.com';
      expect(token).not.toBe(unsubscribeToken(email, 'the-real-secret', listId));
    }
    const headers = await get(server!.port, '/issues/weekly-1/headers.txt?r=1');
    expect(headers.body).not.toContain(unsubscribeToken('first@example.com', 'the-real-secret', listIdFor(server!.session.config!)));
  });
});

describe('preview watcher', () => {
  it('survives the content folder being moved away, deleted and restored', { timeout: 60_000 }, async () => {
    const project = await start();
    const content = path.join(project.dir, 'content');
    const aside = path.join(project.dir, 'content-aside');
    const rendered = async () => (await get(server!.port, '/issues/weekly-1/text.txt')).body.includes('Kim');
    await until('first render', rendered);

    await rename(content, aside);
    await until('the issue to go away', () => server!.session.issue('weekly-1')?.good == null);
    await rename(aside, content);
    await until('the issue to render again after the folder came back', async () => server!.session.issue('weekly-1')?.good != null && (await rendered()));

    // Replaced by a copy (a checkout, a sync tool), then an edit inside the new folder.
    const backup = await readFile(path.join(content, 'issues/weekly-1.md'), 'utf8');
    await rm(content, { recursive: true });
    await until('the issue to go away after delete', () => server!.session.issue('weekly-1')?.good == null);
    const { cp } = await import('node:fs/promises');
    const fresh = await copyPreviewProject();
    await cp(path.join(fresh.dir, 'content'), content, { recursive: true });
    await fresh.cleanup();
    await until('render after restore', async () => server!.session.issue('weekly-1')?.good != null);
    await writeFile(path.join(content, 'issues/weekly-1.md'), backup.replace(/^subject: .*$/m, 'subject: "Edited after the folder came back"'));
    await until('an edit inside the restored folder to show', async () => server!.session.issue('weekly-1')?.good?.rendered.subject === 'Edited after the folder came back');
  });

  it('a FIFO where an article belongs is a problem on the page, not a wedged preview', { timeout: 30_000 }, async () => {
    const project = await start();
    const article = path.join(project.dir, 'content/articles/kim-putin-summit.txt');
    const text = await readFile(article, 'utf8');
    await rm(article);
    execFileSync('mkfifo', [article]);
    await until('the FIFO to be reported', () => /FIFO/.test(server!.session.issue('weekly-1')?.problem?.message ?? ''));
    expect((await get(server!.port, '/')).status).toBe(200);
    // Replaced the way editors save: a temp file renamed over the FIFO.
    await writeFile(`${article}.tmp`, text);
    await rename(`${article}.tmp`, article);
    await until("the article to render again", () => server!.session.issue("weekly-1")?.problem == null && server!.session.issue("weekly-1")?.good != null).catch((error: Error) => {
      throw new Error(`${error.message}: ${server!.session.issue("weekly-1")?.problem?.message}`);
    });
  });
});

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, ROOT } from './cli.js';

/**
 * A temp copy of the example project (content, templates, config) with the preview fixture laid
 * over it, so that tests can edit files freely.
 */
export async function copyPreviewProject(options: { imageOrigin?: string } = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'newsletter-preview-'));
  for (const entry of ['content', 'templates']) await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  // The example's config with its example domains accepted (check-helpers.ts, EXAMPLE_CONFIG).
  await cp(path.join(FIXTURES, 'example-config/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await cp(path.join(FIXTURES, 'preview/content'), path.join(dir, 'content'), { recursive: true });
  // Port 9 (discard) refuses at once: a preview page that loads the image does not hang on it.
  const article = path.join(dir, 'content/articles/harbour-notes.md');
  await writeFile(article, (await readFile(article, 'utf8')).replaceAll('__IMAGE_ORIGIN__', options.imageOrigin ?? '127.0.0.1:9'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

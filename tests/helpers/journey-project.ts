import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, ROOT } from './cli.js';

/**
 * The Harbour Letter (tests/fixtures/journey/): a project of its own, not the example. Its config
 * has a real-looking `siteUrl`; its issue has a Markdown lead with a local image, a second article
 * without `url:` holding a table, and a layout of its own (`harbour`). The built-in partials and
 * theme are copied beside that layout, as a user who starts from the example's templates has them.
 */
export async function journeyProject(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-journey-'));
  await cp(path.join(FIXTURES, 'journey'), dir, { recursive: true });
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true, force: false });
  return dir;
}

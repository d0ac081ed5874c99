import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIssue } from '../src/content/load-issue.js';
import { isNewsletterError, type NewsletterError } from '../src/errors.js';
import { readRegularFile } from '../src/fs/read-regular-file.js';
import { loadTemplates } from '../src/render/templates.js';
import { openList } from '../src/send/recipients.js';
import { ROOT, runCli } from './helpers/cli.js';

/**
 * Inputs are read only as regular files inside their own folder: a symlink out of the content
 * folder must not put `.env` into an email, a FIFO must not wedge a build, and every other
 * file-system problem is a coded error naming the file (exit 1), never "unexpected error" (70).
 */

const ARTICLE = 'articles/kim-putin-summit.txt';

async function project(): Promise<{ dir: string; content: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-fs-'));
  const content = path.join(dir, 'content');
  await cp(path.join(ROOT, 'content'), content, { recursive: true });
  await writeFile(path.join(dir, '.env'), 'NEWSLETTER_SECRET=do-not-mail-me\n');
  return { dir, content };
}

async function failure(promise: Promise<unknown>): Promise<NewsletterError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isNewsletterError(error)) throw new Error(`expected a NewsletterError, got ${String(error)}`);
  return error;
}

/** Replaces the example article with `make(file)`. */
async function withArticle(make: (file: string, dir: string) => Promise<void>) {
  const p = await project();
  const file = path.join(p.content, ARTICLE);
  const { rm } = await import('node:fs/promises');
  await rm(file);
  await make(file, p.dir);
  return p;
}

describe('content read as regular files inside the content folder', () => {
  it('a symlink to a file outside the folder is refused, naming the article; the secret never appears', async () => {
    const p = await withArticle((file) => symlink('../../.env', file));
    const error = await failure(loadIssue(p.content, 'weekly-1', p.dir));
    expect(error.code).toBe('FILE_UNREADABLE');
    expect(error.message).toMatch(/kim-putin-summit\.txt` is a symlink to `.*\.env`, outside its folder/);
    expect(error.file).toMatch(/kim-putin-summit\.txt$/);

    const cli = await runCli(['build', '--content', p.content, '--templates', path.join(ROOT, 'templates'), '--out', path.join(p.dir, 'dist')], { cwd: p.dir });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('outside its folder');
    expect(`${cli.stdout}${cli.stderr}`).not.toContain('do-not-mail-me');
  });

  it('a symlink that stays inside the folder is followed', async () => {
    const p = await withArticle(async (file, dir) => {
      await mkdir(path.join(dir, 'content/shared'));
      await cp(path.join(ROOT, 'content', ARTICLE), path.join(dir, 'content/shared/kim.txt'));
      await symlink('../shared/kim.txt', file);
    });
    const issue = await loadIssue(p.content, 'weekly-1', p.dir);
    expect(issue.articles[0]!.text).toContain('Kim');
  });

  it('a FIFO is refused at once, without waiting for a writer', { timeout: 10_000 }, async () => {
    const p = await withArticle(async (file) => void execFileSync('mkfifo', [file]));
    const error = await failure(loadIssue(p.content, 'weekly-1', p.dir));
    expect(error.code).toBe('FILE_UNREADABLE');
    expect(error.message).toMatch(/kim-putin-summit\.txt` is a FIFO \(named pipe\), not a file/);
  });

  it('a folder where the article belongs, a symlink loop and a dangling symlink are clear errors (exit 1, not 70)', async () => {
    const folder = await withArticle((file) => mkdir(file));
    expect((await failure(loadIssue(folder.content, 'weekly-1', folder.dir))).message).toMatch(/kim-putin-summit\.txt` is a folder, not a file/);

    const loop = await withArticle(async (file) => {
      await symlink(path.basename(file), file);
    });
    const loopError = await failure(loadIssue(loop.content, 'weekly-1', loop.dir));
    expect(loopError.code).toBe('FILE_UNREADABLE');
    expect(loopError.message).toMatch(/symlink loop/);
    const cli = await runCli(['build', '--content', loop.content, '--templates', path.join(ROOT, 'templates'), '--out', path.join(loop.dir, 'dist')], { cwd: loop.dir });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/kim-putin-summit\.txt.*symlink loop/);

    const dangling = await withArticle((file) => symlink('nowhere.txt', file));
    expect((await failure(loadIssue(dangling.content, 'weekly-1', dangling.dir))).message).toMatch(/symlink to a file that does not exist/);
  });

  it('an article over the size limit is refused, naming it', async () => {
    const p = await withArticle((file) => writeFile(file, 'By A Reporter\n' + 'word '.repeat(1_300_000)));
    const error = await failure(loadIssue(p.content, 'weekly-1', p.dir));
    expect(error.code).toBe('FILE_UNREADABLE');
    expect(error.message).toMatch(/kim-putin-summit\.txt` is 6\.\d MB, over the limit of 1 MB/);
  });

  it('the issue file itself follows the same rules', async () => {
    const p = await project();
    const { rm } = await import('node:fs/promises');
    await rm(path.join(p.content, 'issues/weekly-1.md'));
    await symlink('/etc/passwd', path.join(p.content, 'issues/weekly-1.md'));
    expect((await failure(loadIssue(p.content, 'weekly-1', p.dir))).message).toMatch(/weekly-1\.md` is a symlink to `\/etc\/passwd`/);
  });
});

describe('templates and lists', () => {
  it('a template symlinked out of the templates folder is refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-fs-tpl-'));
    const templates = path.join(dir, 'templates');
    await cp(path.join(ROOT, 'templates'), templates, { recursive: true });
    await writeFile(path.join(dir, 'secret.mjml'), '<mj-text>secret</mj-text>');
    await symlink('../../secret.mjml', path.join(templates, 'partials/leak.mjml'));
    const error = await failure(loadTemplates(templates, dir));
    expect(error.code).toBe('FILE_UNREADABLE');
    expect(error.message).toMatch(/leak\.mjml` is a symlink to .*secret\.mjml`, outside its folder/);
  });

  it('a theme.json that is a folder is that error, not "no theme file"', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-fs-theme-'));
    const templates = path.join(dir, 'templates');
    await cp(path.join(ROOT, 'templates'), templates, { recursive: true });
    const { rm } = await import('node:fs/promises');
    await rm(path.join(templates, 'theme.json'));
    await mkdir(path.join(templates, 'theme.json'));
    const error = await failure(loadTemplates(templates, dir));
    expect(error.message).toMatch(/theme\.json` is a folder, not a file/);
  });

  it('a list that is a FIFO or links out of its folder is refused', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-fs-list-'));
    await mkdir(path.join(dir, 'lists'));
    execFileSync('mkfifo', [path.join(dir, 'lists/pipe.csv')]);
    await writeFile(path.join(dir, 'other.csv'), 'email\na@example.com\n');
    await symlink('../other.csv', path.join(dir, 'lists/out.csv'));
    expect((await failure(openList('lists/pipe.csv', dir))).message).toMatch(/pipe\.csv` is a FIFO/);
    expect((await failure(openList('lists/out.csv', dir))).message).toMatch(/out\.csv` is a symlink to .*other\.csv`, outside its folder/);
    const list = await openList('other.csv', dir);
    expect(list.columns).toEqual(['email']);
  });

  it('reads a regular file, and a missing one is null for the caller to name', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-fs-plain-'));
    await writeFile(path.join(dir, 'a.txt'), 'hello');
    expect(await readRegularFile(path.join(dir, 'a.txt'), { root: dir, display: 'a.txt' })).toBe('hello');
    expect(await readRegularFile(path.join(dir, 'b.txt'), { root: dir, display: 'b.txt' })).toBeNull();
    expect((await failure(readRegularFile('/dev/zero', { root: '/dev', display: '/dev/zero' }))).message).toMatch(/is a device, not a file/);
  });
});

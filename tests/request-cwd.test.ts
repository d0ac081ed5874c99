import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProjectIssue, isNewsletterError, loadProject, publishSite, renderProjectIssue, type NewsletterError } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

/**
 * A library caller names its project with the request's `cwd`; the process's working directory
 * (the repository under vitest) is somewhere else. Every path an error or a finding shows is
 * relative to the request's `cwd`, as the CLI run in that folder would show it. No test here
 * changes the process's directory: vitest runs test files side by side in one process.
 */

/** A project outside the repository: the links fixture's content and config, the real templates. */
async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-request-cwd-'));
  await cp(path.join(ROOT, 'tests/fixtures/checks/links'), dir, { recursive: true });
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<NewsletterError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  if (!isNewsletterError(error)) throw new Error(`expected a NewsletterError, got ${String(error)}`);
  return error;
}

describe("shown paths are relative to the request's cwd, not the process's", () => {
  it('a content error: an article with a bad front matter value', async () => {
    const dir = await project();
    expect(path.relative(process.cwd(), dir)).toMatch(/^\.\./);
    await writeFile(path.join(dir, 'content/articles/bad.md'), '---\ntitle: T\nurl: not a url\n---\nBody.\n');
    await writeFile(path.join(dir, 'content/issues/bad.md'), '---\nsubject: S\narticles:\n  - bad\n---\n');
    const error = await failure(renderProjectIssue(await loadProject({ cwd: dir }), 'bad'));
    expect(error).toMatchObject({ code: 'CONTENT_INVALID', file: path.join('content', 'articles', 'bad.md'), line: 3 });
  });

  it('a template error: a Handlebars syntax error in a partial', async () => {
    const dir = await project();
    await writeFile(path.join(dir, 'templates/partials/broken.mjml'), '<mj-text>\n{{#if x}}\nno close\n</mj-text>\n');
    // The project loads (a broken partial fails only the layouts that call it); the error is kept.
    const error = (await loadProject({ cwd: dir })).templates.brokenPartials.get('broken');
    expect(error).toMatchObject({ code: 'TEMPLATE_SYNTAX', file: path.join('templates', 'partials', 'broken.mjml') });
  });

  it('a template error: an unknown layout, at the `template:` line of the issue, with the layouts folder', async () => {
    const dir = await project();
    const issue = path.join(dir, 'content/issues/http-link.md');
    await writeFile(issue, (await readFile(issue, 'utf8')).replace('date: 2024-05-03\n', 'date: 2024-05-03\ntemplate: magazine\n'));
    const error = await failure(renderProjectIssue(await loadProject({ cwd: dir }), 'http-link'));
    expect(error).toMatchObject({ code: 'TEMPLATE_NOT_FOUND', file: path.join('content', 'issues', 'http-link.md'), line: 5 });
    expect(error.message).toContain(`(looked for ${path.join('templates', 'layouts', 'magazine.mjml')})`);
    expect(error.hint).toBe(`layouts in ${path.join('templates', 'layouts')}: article, digest`);
  });

  it('a check finding: a plain http link, at its line in the article', async () => {
    const dir = await project();
    const { findings } = await checkProjectIssue(await loadProject({ cwd: dir }), 'http-link');
    const found = findings.filter((finding) => finding.rule === 'links/http');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: path.join('content', 'articles', 'http-link.md'), line: 9 });
  });

  it('a config error found at check time: an unknown rule id, at its line in the config', async () => {
    const dir = await project();
    const config = path.join(dir, 'newsletter.config.json');
    await writeFile(config, (await readFile(config, 'utf8')).replace('"links/example-domain": "off"', '"links/example-domain": "off", "links/htpp": "off"'));
    const error = await failure(checkProjectIssue(await loadProject({ cwd: dir }), 'http-link'));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', file: 'newsletter.config.json', line: 18 });
  });

  it('a publish error: a site template that cannot be read', async () => {
    const dir = await project();
    // A folder where the file should be: readdir lists it, reading it fails.
    await mkdir(path.join(dir, 'templates/site/extra.hbs'), { recursive: true });
    const error = await failure(publishSite({ project: await loadProject({ cwd: dir }) }));
    expect(error).toMatchObject({ code: 'TEMPLATE_NOT_FOUND', file: path.join('templates', 'site', 'extra.hbs') });
    expect(error.message).toContain(`\`${path.join('templates', 'site', 'extra.hbs')}\``);
  });
});

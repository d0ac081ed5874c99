import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { loadProject, renderProjectIssue } from '../src/pipeline.js';
import { runChecks } from '../src/checks/index.js';
import { linksHttp } from '../src/checks/rules/links-http.js';
import { chunk } from '../src/render/helpers.js';
import { NewsletterError } from '../src/errors.js';
import { layoutFor } from '../src/render/templates.js';

/** A project with the real-content fixture and a copy of the templates, to edit. */
async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-lint-'));
  await cp(path.join(FIXTURES, 'real-content/content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(FIXTURES, 'real-content/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  return dir;
}

async function edit(file: string, change: (source: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')));
}

/** The project loads whatever its templates say; a layout with a problem throws it when an issue uses it. */
async function projectError(dir: string, layout = 'digest'): Promise<NewsletterError> {
  const loaded = await loadProject({ cwd: dir });
  const error = (() => {
    try {
      layoutFor(loaded.templates, layout);
      return null;
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(NewsletterError);
  return error as NewsletterError;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('template lint', () => {
  it('reports a typo in an {{else}} branch that never runs, with the template file and line', async () => {
    const dir = await project();
    await edit(path.join(dir, 'templates/layouts/digest.mjml'), (s) => s.replace('{{> footer}}', '{{#if issue.subject}}{{else}}{{titel}}{{/if}}\n    {{> footer}}'));
    const error = await projectError(dir);
    expect(error.code).toBe('TEMPLATE_VARIABLE');
    expect(error.format()).toMatch(/layouts[/\\]digest\.mjml:\d+: unknown variable `titel`/);
    const line = (await readFile(path.join(dir, 'templates/layouts/digest.mjml'), 'utf8')).split('\n').findIndex((l) => l.includes('{{titel}}')) + 1;
    expect(error.line).toBe(line);
  });

  it('follows partials in the context they are called with, and lists every problem', async () => {
    const dir = await project();
    await edit(path.join(dir, 'templates/partials/article-card.mjml'), (s) => `${s}\n{{#if full}}{{summery}}{{/if}}\n`);
    await edit(path.join(dir, 'templates/layouts/default.txt'), (s) => `${s}\n{{#each rest}}{{#if tags}}{{tagz}}{{/if}}{{/each}}\n`);
    const error = await projectError(dir);
    expect(error.message).toMatch(/unknown variable `summery`/);
    expect(error.file).toMatch(/article-card\.mjml$/);
    // The text layout is linted on its own: every HTML layout that falls back to it fails with it.
    const { templates } = await loadProject({ cwd: dir });
    expect(templates.broken.get('default.txt')?.format()).toMatch(/default\.txt:\d+: unknown variable `tagz`/);
    expect((await projectError(dir, 'article')).format()).toMatch(/default\.txt:\d+: unknown variable `tagz`/);
  });

  it('gives a hint for merge tags of other tools', async () => {
    const dir = await project();
    await edit(path.join(dir, 'templates/partials/footer.mjml'), (s) => `${s}\n<mj-raw>{{FirstName}}</mj-raw>\n`);
    const error = await projectError(dir);
    expect(error.hint).toMatch(/\{\{recipient\.name\}\}.*\\\{\{FirstName\}\}/);
  });

  it('accepts what the README documents: @root, ../, recipient columns, helpers, chunk rows', async () => {
    const dir = await project();
    const grid = [
      '{{#each (chunk rest 2)}}{{#each this}}<mj-raw><!-- {{title}} {{../../issue.subject}} {{@root.theme.colors.text}} {{@index}} --></mj-raw>{{/each}}{{/each}}',
      '{{#each articles as |article i|}}<mj-raw><!-- {{article.title}} {{i}} {{formatDate article.date "short"}} --></mj-raw>{{/each}}',
      '{{#if recipient.company}}<mj-raw><!-- {{recipient.company}} --></mj-raw>{{/if}}',
      '{{#with lead}}{{#each tags}}<mj-raw><!-- {{this}} --></mj-raw>{{/each}}{{/with}}',
    ].join('\n');
    await edit(path.join(dir, 'templates/layouts/digest.mjml'), (s) => s.replace('{{> footer}}', `${grid}\n    {{> footer}}`));
    expect((await loadProject({ cwd: dir })).templates.broken).toEqual(new Map());
    await edit(path.join(dir, 'templates/layouts/digest.mjml'), (s) => s.replace('{{#each this}}<mj-raw><!-- {{title}}', '{{#each this}}<mj-raw><!-- {{titel}}'));
    expect((await projectError(dir)).message).toMatch(/unknown variable `titel`/);
  });

  it('is what `build` and `check` report, before rendering anything: a broken layout fails only the issues that use it, the others build with a warning naming it', async () => {
    const dir = await project();
    await edit(path.join(dir, 'templates/layouts/article.mjml'), (s) => s.replace('{{> footer}}', '{{#if lead}}{{else}}{{lead.titel}}{{/if}}\n    {{> footer}}'));
    // The fixture's harbour.example.com would make `check` exit 1 on its own: not this test's subject.
    const configFile = path.join(dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, checks: { rules: { 'links/example-domain': 'off' } } }, null, 2));
    const place = /templates[/\\]layouts[/\\]article\.mjml:\d+: unknown variable `lead\.titel`/;
    for (const command of ['build', 'check']) {
      const others = await runCli([command, 'digest'], { cwd: dir, timeoutMs: 60_000 });
      expect(others.code, `${command} digest`).toBe(0);
      expect(others.stderr, command).toMatch(new RegExp(`^warning: ${place.source}.*layout \`article\` cannot be used`, 'm'));
      const user = await runCli([command, 'long-read'], { cwd: dir, timeoutMs: 60_000 });
      expect(user.code, `${command} long-read`).toBe(1);
      expect(user.stderr, command).toMatch(place);
    }
    const all = await runCli(['build'], { cwd: dir, timeoutMs: 60_000 });
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/^long-read: failed$/m);
    expect(all.stdout).toMatch(/dist[/\\]digest[/\\]index\.html/);
  }, 180_000);
});

describe('layouts', () => {
  it('`chunk` makes rows of N', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk('no list', 2)).toEqual([]);
  });

  it('`article` renders every article of the issue in full, in order, in HTML and text', async () => {
    const dir = await project();
    const { rendered } = await renderProjectIssue(await loadProject({ cwd: dir }), 'long-read');
    const $ = cheerio.load(rendered.html);
    expect($('h1').toArray().map((h) => $(h).text())).toEqual(['The harbour reopens after the winter works', 'Market notes from the square']);
    expect($('body').text()).toContain('Stalls return to the square on Saturdays');
    expect(rendered.text).toMatch(/Stalls return to the square on\s+Saturdays/);
  });

  it('`mjml.validation: "soft"` builds a template that strict validation refuses, and reports MJML\'s complaint as a warning', async () => {
    const dir = await project();
    await edit(path.join(dir, 'templates/layouts/digest.mjml'), (s) => s.replace('{{> footer}}', '<mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section>\n    {{> footer}}'));
    const strict = await renderProjectIssue(await loadProject({ cwd: dir }), 'digest').catch((e: unknown) => e);
    expect((strict as NewsletterError).code).toBe('MJML_INVALID');
    const config = JSON.parse(await readFile(path.join(dir, 'newsletter.config.json'), 'utf8'));
    await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify({ ...config, mjml: { validation: 'soft' } }));
    const soft = await loadProject({ cwd: dir });
    const { issue, rendered } = await renderProjectIssue(soft, 'digest');
    const findings = await runChecks({ project: soft, issue, rendered });
    const mjml = findings.filter((f) => f.rule === 'mjml/validation');
    expect(mjml).toHaveLength(1);
    expect(mjml[0]!.severity).toBe('warn');
    expect(mjml[0]!.message).toMatch(/colour/);
    expect(mjml[0]!.file).toMatch(/digest\.mjml$/);
  });
});

describe('checks that do not fall over', () => {
  it('turns a crashing rule into a note and still runs the others', async () => {
    const dir = await project();
    const loaded = await loadProject({ cwd: dir });
    const { issue, rendered } = await renderProjectIssue(loaded, 'long-read');
    vi.spyOn(linksHttp, 'check').mockImplementation(() => {
      throw new TypeError('boom');
    });
    const findings = await runChecks({ project: loaded, issue, rendered });
    expect(findings.find((f) => f.rule === 'links/http')).toMatchObject({ severity: 'info', message: expect.stringMatching(/^rule links\/http could not run: boom/) });
    expect(findings.some((f) => f.rule === 'content/removed')).toBe(true);
  });
});

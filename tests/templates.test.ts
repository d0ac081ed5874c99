import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { loadIssue } from '../src/content/load-issue.js';
import { NewsletterError } from '../src/errors.js';
import { formatDate, wrapText } from '../src/render/helpers.js';
import { renderIssue, sizeWarnings } from '../src/render/render-issue.js';
import { loadTemplates } from '../src/render/templates.js';
import { ROOT } from './helpers/cli.js';

async function templatesCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-tpl-'));
  await cp(path.join(ROOT, 'templates'), dir, { recursive: true });
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<NewsletterError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(NewsletterError);
  return error as NewsletterError;
}

describe('templates folder', () => {
  it('refuses an <mj-include> that leaves the templates folder, with the file and line', async () => {
    const dir = await templatesCopy();
    await writeFile(path.join(dir, 'partials/extra.mjml'), '<mj-section>\n  <mj-include path="../../secret.mjml" />\n</mj-section>\n');
    const error = (await loadTemplates(dir, ROOT)).brokenPartials.get('extra')!;
    expect(error.code).toBe('TEMPLATE_SYNTAX');
    expect(error.line).toBe(2);
    expect(error.file).toMatch(/partials[/\\]extra\.mjml$/);
  });

  it('reports Handlebars syntax errors with the line', async () => {
    const dir = await templatesCopy();
    await writeFile(path.join(dir, 'partials/broken.mjml'), '<mj-text>\n{{#if x}}\nno close\n</mj-text>\n');
    const error = (await loadTemplates(dir, ROOT)).brokenPartials.get('broken')!;
    expect(error.code).toBe('TEMPLATE_SYNTAX');
    expect(error.file).toMatch(/partials[/\\]broken\.mjml$/);
  });

  it('names a misspelt theme key and its line', async () => {
    const dir = await templatesCopy();
    const theme = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path.join(dir, 'theme.json'), 'utf8')));
    theme.radios = 4;
    await writeFile(path.join(dir, 'theme.json'), JSON.stringify(theme, null, 2));
    const error = await failure(loadTemplates(dir, ROOT));
    expect(error.code).toBe('THEME_INVALID');
    expect(error.message).toBe('unknown key `radios` (did you mean `radius`?)');
    expect(error.line).toBeGreaterThan(1);
  });

  it('names a layout that does not exist and lists those that do', async () => {
    const config = await loadConfig({ cwd: ROOT });
    const templates = await loadTemplates(config.paths.templates, config.paths.cwd);
    const issue = { ...(await loadIssue(config.paths.content, 'weekly-1', config.paths.cwd)), template: 'magazine' };
    const error = await failure(renderIssue(issue, { config, templates }));
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.hint).toMatch(/article, digest/);
  });

  it('pins an MJML error to the template line that wrote the tag, not to a line of bare Handlebars tags', async () => {
    const dir = await templatesCopy();
    const digest = await import('node:fs/promises').then((fs) => fs.readFile(path.join(dir, 'layouts/digest.mjml'), 'utf8'));
    const lines = digest.split('\n');
    const at = lines.findIndex((l) => l.includes('{{> footer}}'));
    lines.splice(at, 0, '    {{#if lead}}{{#if rest.length}}{{/if}}{{/if}}', '    <mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section>');
    await writeFile(path.join(dir, 'layouts/digest.mjml'), lines.join('\n'));
    const config = await loadConfig({ cwd: ROOT });
    const templates = await loadTemplates(dir, config.paths.cwd);
    const issue = await loadIssue(config.paths.content, 'weekly-1', config.paths.cwd);
    const error = await failure(renderIssue(issue, { config, templates }));
    expect(error.code).toBe('MJML_INVALID');
    expect(error.file).toMatch(/layouts[/\\]digest\.mjml$/);
    expect(error.line).toBe(at + 2);
    expect(error.message).toBe('MJML: <mj-text> Attribute colour is illegal');
  });

  it('refuses prototype access from a template', async () => {
    const dir = await templatesCopy();
    await writeFile(path.join(dir, 'partials/header.mjml'), '<mj-section><mj-column><mj-text>{{issue.constructor.name}}</mj-text></mj-column></mj-section>\n');
    const config = await loadConfig({ cwd: ROOT });
    const templates = await loadTemplates(dir, config.paths.cwd);
    const issue = await loadIssue(config.paths.content, 'weekly-1', config.paths.cwd);
    const error = await failure(renderIssue(issue, { config, templates }));
    expect(error.code).toBe('TEMPLATE_VARIABLE');
    expect(error.file).toMatch(/partials[/\\]header\.mjml$/);
  });
});

describe('config', () => {
  it('falls back to the built-in defaults when there is no config file', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'nl-cfg-'));
    const config = await loadConfig({ cwd });
    expect(config.paths.config).toBeNull();
    expect(config.unsubscribeUrl.startsWith('https://')).toBe(true);
    expect(Object.isFrozen((await import('../src/config/defaults.js')).DEFAULTS.config)).toBe(true);
  });

  it('names the line of invalid JSON', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'nl-cfg-'));
    await writeFile(path.join(cwd, 'newsletter.config.json'), '{\n  "name": "x",\n  "from": \n}\n');
    const error = await failure(loadConfig({ cwd }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.line).toBe(4);
  });

  it('names a locale Node.js does not know as a config error, not a template error', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'nl-cfg-'));
    await writeFile(
      path.join(cwd, 'newsletter.config.json'),
      JSON.stringify({ name: 'n', from: 'a@b.example', postalAddress: 'p', baseUrl: 'https://b.example/', unsubscribeUrl: 'https://b.example/u', locale: 'en_GB' }, null, 2),
    );
    const error = await failure(loadConfig({ cwd }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/^`locale`: expected a BCP 47 locale/);
    expect(error.line).toBe(7);
  });

  it('requires an https unsubscribe URL', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'nl-cfg-'));
    await writeFile(
      path.join(cwd, 'newsletter.config.json'),
      JSON.stringify({ name: 'n', from: 'a@b.example', postalAddress: 'p', baseUrl: 'https://b.example/', unsubscribeUrl: 'http://b.example/u' }, null, 2),
    );
    const error = await failure(loadConfig({ cwd }));
    expect(error.message).toMatch(/^`unsubscribeUrl`: expected an https:\/\/ URL/);
    expect(error.line).toBe(6);
  });
});

describe('helpers', () => {
  it('formats dates in the configured locale', () => {
    expect(formatDate('2023-09-11', 'en-GB')).toBe('11 September 2023');
    expect(formatDate('2023-09-11', 'en-US')).toBe('September 11, 2023');
    expect(formatDate('2023-09-11', 'fr-FR')).toBe('11 septembre 2023');
  });

  it('warns of Gmail clipping above 102 KB of HTML, and not at 102 KB', () => {
    expect(sizeWarnings('x'.repeat(102 * 1024))).toEqual([]);
    const [warning] = sizeWarnings('é'.repeat(52 * 1024));
    expect(warning?.rule).toBe('size');
    expect(warning?.message).toMatch(/^HTML is 104\.0 KB: Gmail clips/);
  });

  it('wraps text at 76 columns without breaking words', () => {
    const wrapped = wrapText('word '.repeat(40).trim());
    expect(wrapped.split('\n').every((l) => l.length <= 76)).toBe(true);
    expect(wrapped.replace(/\n/g, ' ')).toBe('word '.repeat(40).trim());
  });
});

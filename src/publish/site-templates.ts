import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from '../fs/display-path.js';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { ResolvedConfig, Theme } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { escapeCssValue } from '../css-escape.js';
import { registerHelpers } from '../render/helpers.js';
import { compileFile, runTemplate, type TemplateFile, type TemplateSet } from '../render/templates.js';

/**
 * The pages around the issues (the archive of `publish`, the unsubscribe pages of `serve`) are
 * Handlebars files in `templates/site/`, edited like the email templates. A templates folder
 * without them (one made before they existed, or a gallery template) gets the built-in ones, file
 * by file. Every `site/<name>.hbs` is also the partial `site-<name>`.
 */

const BUILT_IN = fileURLToPath(new URL('../../templates/site/', import.meta.url));

export type SitePage = 'archive' | 'unsubscribe' | 'subscribe' | 'confirm' | 'subscribe-form';

export interface SiteTemplates {
  render(page: SitePage, context: object): string;
}

/** What every site page sees besides its own data: the keys the email's partials (head, footer) read. */
export function sitePageContext(config: Pick<ResolvedConfig, 'locale' | 'name' | 'postalAddress' | 'siteUrl'>, theme: Theme) {
  return {
    lang: config.locale,
    locale: config.locale,
    utm: null,
    issue: { slug: '' },
    newsletter: { name: config.name, postalAddress: config.postalAddress, homeUrl: config.siteUrl },
    theme,
  };
}

/**
 * Helpers named after the context they write into. `css`: a value inside the page's `<style>`,
 * CSS-escaped and not HTML-escaped (the element's text is never decoded, so `&#x27;` would reach
 * the CSS). Attributes and text keep Handlebars' own `{{value}}`, which escapes for HTML.
 */
function registerSiteHelpers(env: typeof Handlebars): void {
  env.registerHelper('css', (value: unknown) => new Handlebars.SafeString(typeof value === 'string' || typeof value === 'number' ? escapeCssValue(String(value)) : ''));
}

async function namesIn(dir: string, cwd: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => /^[\w-]+\.hbs$/.test(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    const shown = displayPath(dir, cwd);
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `cannot read \`${shown}\`: ${(error as Error).message}`, { file: shown });
  }
}

export async function loadSiteTemplates(templates: Pick<TemplateSet, 'dir' | 'cwd'>): Promise<SiteTemplates> {
  const env = Handlebars.create();
  registerHelpers(env);
  registerSiteHelpers(env);
  const userDir = path.join(templates.dir, 'site');
  const files = new Map<string, string>();
  for (const name of await namesIn(BUILT_IN, templates.cwd)) files.set(name, path.join(BUILT_IN, name));
  for (const name of await namesIn(userDir, templates.cwd)) files.set(name, path.join(userDir, name));
  const compiled = new Map<string, TemplateFile>();
  for (const [name, absolute] of files) {
    let source: string;
    try {
      source = await readFile(absolute, 'utf8');
    } catch (error) {
      const shown = displayPath(absolute, templates.cwd);
      throw new NewsletterError('TEMPLATE_NOT_FOUND', `cannot read \`${shown}\`: ${(error as Error).message}`, { file: shown });
    }
    const base = name.slice(0, -4);
    const template = compileFile(env, base, absolute, source, false, templates.cwd);
    compiled.set(base, template);
    env.registerPartial(`site-${base}`, template.render);
  }
  const set = { partials: compiled } as unknown as TemplateSet;
  return {
    render(page, context) {
      const template = compiled.get(page);
      if (!template) throw new NewsletterError('TEMPLATE_NOT_FOUND', `no site template \`site/${page}.hbs\``, { file: displayPath(userDir, templates.cwd) });
      return runTemplate(set, template, context);
    },
  };
}

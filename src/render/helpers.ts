import type { HelperOptions } from 'handlebars';
import type { TemplateContext } from './context.js';
import { withUtm } from './links.js';
import { taintingHelper } from './recipient-values.js';
import { wrapText } from '../text-layout.js';

export { wrapText } from '../text-layout.js';

/**
 * The few helpers templates get. They read the locale and UTM settings from the root context, so a
 * template never passes configuration around.
 */

type Env = Pick<typeof import('handlebars'), 'registerHelper'>;

const WORDS_PER_MINUTE = 230;

export function readingMinutes(wordCount: number): number {
  return Math.max(1, Math.round(wordCount / WORDS_PER_MINUTE));
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

export function formatDate(iso: string, locale: string, style: 'long' | 'short' | 'medium' = 'long'): string {
  const key = `${locale}|${style}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: style, timeZone: 'UTC' });
    dateFormats.set(key, format);
  }
  return format.format(new Date(`${iso}T00:00:00Z`));
}

function root(options: HelperOptions): TemplateContext {
  return options.data.root as TemplateContext;
}

/** Items in rows of `size` (the last row may be shorter); nothing for anything but a list. */
export function chunk<T>(items: unknown, size: unknown): T[][] {
  if (!Array.isArray(items)) return [];
  const n = typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : 1;
  const rows: T[][] = [];
  for (let i = 0; i < items.length; i += n) rows.push(items.slice(i, i + n) as T[]);
  return rows;
}

export function registerHelpers(target: Env): void {
  // Every helper sees raw recipient values and hands back tainted results (recipient-values.ts).
  const env: Env = { registerHelper: ((name: string, fn: (...args: unknown[]) => unknown) => target.registerHelper(name, taintingHelper(fn) as never)) as never };
  env.registerHelper('formatDate', ((date: unknown, ...rest: unknown[]) => {
    const options = rest.pop() as HelperOptions;
    if (typeof date !== 'string' || !date) return '';
    const style = rest[0] === 'short' || rest[0] === 'medium' ? rest[0] : 'long';
    return formatDate(date, root(options).locale, style);
  }) as never);

  env.registerHelper('readingTime', ((article: unknown) => {
    const words = (article as { wordCount?: number } | null)?.wordCount ?? 0;
    return `${readingMinutes(words)} min read`;
  }) as never);

  env.registerHelper('utm', ((url: unknown, options: HelperOptions) => {
    if (typeof url !== 'string') return '';
    const context = root(options);
    return withUtm(url, context.utm, context.issue.slug);
  }) as never);

  env.registerHelper('eq', ((a: unknown, b: unknown) => a === b) as never);

  // `{{#each (chunk rest 2)}}<mj-section>{{#each this}}<mj-column>…` — rows of N for grid layouts.
  env.registerHelper('chunk', ((items: unknown, size: unknown) => chunk(items, size)) as never);

  env.registerHelper('wrap', ((text: unknown, ...rest: unknown[]) => {
    rest.pop();
    const width = typeof rest[0] === 'number' ? rest[0] : 76;
    return typeof text === 'string' ? wrapText(text, width) : '';
  }) as never);

  env.registerHelper('upper', ((text: unknown) => (typeof text === 'string' ? text.toUpperCase() : '')) as never);

  env.registerHelper('underline', ((text: unknown, ...rest: unknown[]) => {
    rest.pop();
    const char = typeof rest[0] === 'string' && rest[0] ? rest[0][0]! : '=';
    return typeof text === 'string' ? char.repeat(Math.min(76, [...text].length)) : '';
  }) as never);
}

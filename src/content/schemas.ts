import { z } from 'zod';

/** Front-matter schemas for articles and issues. Unknown keys are errors that name the key. */

/**
 * A day as written: `2024-05-01`, or a date with time and zone as static-site generators write it
 * (`2024-05-01T10:00:00+02:00`, Jekyll's `2024-05-01 10:00:00 +0200`). The day the editor wrote is
 * kept (`YYYY-MM-DD`); converting to UTC first could move it to the day before.
 */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?)?$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
/** `Jun 19 2024`, `June 19, 2024` (Astro's starter, US style) */
const MONTH_DAY_YEAR = new RegExp(`^(?:[a-z]{3,9},?\\s+)?${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})$`, 'i');
/** `19 June 2024`, `19 Jun, 2024` (British style) */
const DAY_MONTH_YEAR = new RegExp(`^(?:[a-z]{3,9},?\\s+)?(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH},?\\s+(\\d{4})$`, 'i');

/**
 * A date written in words, which cannot be misread: the month is named. `05/06/2024` is May or
 * June depending on the writer's country, so numeric forms other than YYYY-MM-DD stay errors.
 */
export function humanDate(value: string): string | null {
  const trimmed = value.trim();
  const mdy = MONTH_DAY_YEAR.exec(trimmed);
  const dmy = mdy ? null : DAY_MONTH_YEAR.exec(trimmed);
  if (!mdy && !dmy) return null;
  const [month, day, year] = mdy ? [mdy[1]!, mdy[2]!, mdy[3]!] : [dmy![2]!, dmy![1]!, dmy![3]!];
  const index = MONTHS.indexOf(month.slice(0, 3).toLowerCase());
  return `${year}-${String(index + 1).padStart(2, '0')}-${day.padStart(2, '0')}`;
}

export const isoDate = z.preprocess(
  (value) => {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
    return typeof value === 'string' ? (humanDate(value) ?? value) : value;
  },
  z
    .string({ error: 'expected a date written YYYY-MM-DD' })
    .trim()
    .regex(DATE_TIME, 'expected a date written YYYY-MM-DD (a time and zone may follow) or with the month in words (`Jun 19 2024`, `19 June 2024`)')
    .transform((value) => DATE_TIME.exec(value)![1]!)
    .pipe(z.iso.date({ error: 'expected a date in the calendar, written YYYY-MM-DD' })),
);

const webUrl = z.url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' });
/** An https URL, or a path to an image file relative to the article (`./photo.jpg`, `/images/a.png`). */
const imageRef = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((value) => !/^[a-z][a-z0-9+.-]*:/i.test(value) || /^https?:\/\//i.test(value), {
    error: 'expected an http(s) URL or a path to an image file next to the article (`./photo.jpg`)',
  });
const text = z.string().trim().min(1, 'must not be empty');

/**
 * An article's slug is its path under `content/articles/` without the extension, as the blog
 * keeps it: `harbour`, `blog/2024/post` (nested folders), `Image Gallery` (Hugo's folder names).
 * Each segment is a plain name: no `.`/`..`, no backslash or control character, no leading or
 * trailing space, so a slug can never name a file outside the articles folder.
 */
const SLUG_SEGMENT = /^(?!\.\.?$)(?! )(?!.* $)[^/\\\u0000-\u001f\u007f:*?"<>|]+$/u;
export function isArticleSlug(slug: string): boolean {
  return slug.length > 0 && slug.length <= 200 && slug.split('/').every((segment) => SLUG_SEGMENT.test(segment));
}
const articleSlug = z.string().refine(isArticleSlug, {
  error: 'expected an article\'s path under content/articles/ without extension, such as `harbour` or `blog/2024/post`',
});

export const articleFields = {
  title: text,
  author: text,
  date: isoDate,
  summary: text,
  image: imageRef,
  imageAlt: z.string().trim(),
  url: webUrl,
  tags: z.array(text),
};

export const articleFrontMatterSchema = z.strictObject({
  title: articleFields.title,
  author: articleFields.author.optional(),
  date: articleFields.date.optional(),
  summary: articleFields.summary.optional(),
  image: articleFields.image.optional(),
  imageAlt: articleFields.imageAlt.optional(),
  url: articleFields.url.optional(),
  tags: articleFields.tags.optional(),
  draft: z.boolean().optional(),
});

/** The keys an article's front matter may hold once generators' names are mapped (article-meta.ts). */
export const ARTICLE_KEYS: readonly string[] = Object.keys(articleFrontMatterSchema.shape);

export const articleOverridesSchema = z.strictObject({
  slug: articleSlug,
  title: articleFields.title.optional(),
  author: articleFields.author.optional(),
  date: articleFields.date.optional(),
  summary: articleFields.summary.optional(),
  image: articleFields.image.optional(),
  imageAlt: articleFields.imageAlt.optional(),
  url: articleFields.url.optional(),
});

export const issueFrontMatterSchema = z.strictObject({
  subject: text,
  preheader: text.optional(),
  date: isoDate.optional(),
  template: z.string().regex(/^[\w-]+$/, 'expected a layout name such as `digest`').optional(),
  lead: z.enum(['full', 'card']).optional(),
  /** Allow articles marked `draft: true` in this issue (a test issue, a proof). */
  drafts: z.boolean().optional(),
  /** Left out of `newsletter publish` (the web edition, archive and feeds) unless `--drafts`. */
  draft: z.boolean().optional(),
  articles: z
    .array(z.union([articleSlug, articleOverridesSchema]))
    .min(1, 'an issue needs at least one article'),
});

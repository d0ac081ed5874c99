import { z } from 'zod';

/** Front-matter schemas for articles and issues. Unknown keys are errors that name the key. */

/**
 * A day as written: `2024-05-01`, or a date with time and zone as static-site generators write it
 * (`2024-05-01T10:00:00+02:00`, Jekyll's `2024-05-01 10:00:00 +0200`). The day the editor wrote is
 * kept (`YYYY-MM-DD`); converting to UTC first could move it to the day before.
 */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?)?$/;
export const isoDate = z.preprocess(
  (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString().slice(0, 10) : value),
  z
    .string({ error: 'expected a date written YYYY-MM-DD' })
    .trim()
    .regex(DATE_TIME, 'expected a date written YYYY-MM-DD (a time and zone may follow)')
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
  slug: z.string().regex(/^[\w.-]+$/, 'expected an article file name without extension'),
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
    .array(z.union([z.string().regex(/^[\w.-]+$/, 'expected an article file name without extension'), articleOverridesSchema]))
    .min(1, 'an issue needs at least one article'),
});

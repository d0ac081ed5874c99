import { z } from 'zod';

/** Front-matter schemas for articles and issues. Unknown keys are errors that name the key. */

/** YAML turns `2024-05-01` into a Date; editors mean the day they wrote, so keep it as text. */
export const isoDate = z.preprocess(
  (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString().slice(0, 10) : value),
  z.iso.date({ error: 'expected a date written YYYY-MM-DD' }),
);

const webUrl = z.url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' });
const text = z.string().trim().min(1, 'must not be empty');

export const articleFields = {
  title: text,
  author: text,
  date: isoDate,
  summary: text,
  image: webUrl,
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
});

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
  /** Left out of `newsletter publish` (the web edition, archive and feeds) unless `--drafts`. */
  draft: z.boolean().optional(),
  articles: z
    .array(z.union([z.string().regex(/^[\w.-]+$/, 'expected an article file name without extension'), articleOverridesSchema]))
    .min(1, 'an issue needs at least one article'),
});

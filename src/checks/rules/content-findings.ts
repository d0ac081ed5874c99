import type { ContentFinding } from '../../content/types.js';
import { kb } from '../elements.js';
import type { CheckContext } from '../context.js';
import type { Problem, Rule } from '../types.js';

/**
 * What the content and render stages did to what the editor wrote, as findings with file and
 * line: nothing is removed, ignored or converted in silence.
 */

function contentFindings(context: CheckContext, rule: ContentFinding['rule']): Problem[] {
  const all = [...context.issue.findings, ...context.issue.articles.flatMap((article) => article.findings)];
  return all.filter((finding) => finding.rule === rule).map(({ message, file, line }) => ({ message, file, line }));
}

export const contentRemoved: Rule = {
  id: 'content/removed',
  description: 'markup of an article that the sanitizer removed (<form>, <script>, event handlers, javascript: links), with its line',
  defaultSeverity: 'warn',
  check: (context) => contentFindings(context, 'content/removed'),
};

export const contentEmbed: Rule = {
  id: 'content/embed',
  description: 'an embed (<iframe>, <video>) shown as a linked thumbnail or link card, since no embed plays in email',
  defaultSeverity: 'info',
  check: (context) => contentFindings(context, 'content/embed'),
};

export const contentIgnoredKeys: Rule = {
  id: 'content/ignored-keys',
  description: 'front-matter keys of static-site generators that mean nothing in an email (aliases, weight, extra, …)',
  defaultSeverity: 'info',
  check: (context) => contentFindings(context, 'content/ignored-keys'),
};

export const mjmlValidation: Rule = {
  id: 'mjml/validation',
  description: 'what MJML validation rejects, when `mjml.validation` is `soft` (strict fails the build instead)',
  defaultSeverity: 'warn',
  check: ({ rendered }) => rendered.warnings.filter((w) => w.rule === 'mjml/validation').map(({ message, file, line }) => ({ message, file, line })),
};

/** Inline images make every copy heavier: slow on a phone, and over ~10 MB refused by some providers. */
export const EMBEDDED_IMAGES_WARN_BYTES = 1024 * 1024;

export const sizeEmbeddedImages: Rule = {
  id: 'size/embedded-images',
  description: `images attached to each message (images: "embed") add up to more than ${EMBEDDED_IMAGES_WARN_BYTES / 1024 / 1024} MB`,
  defaultSeverity: 'warn',
  check({ rendered, locate }) {
    const embedded = rendered.assets.filter((asset) => asset.cid);
    const bytes = embedded.reduce((sum, asset) => sum + asset.bytes, 0);
    // Base64 makes each part a third larger on the wire.
    const wire = Math.ceil(bytes / 3) * 4;
    if (wire <= EMBEDDED_IMAGES_WARN_BYTES) return [];
    return [{ message: `${embedded.length} embedded images make every message ${kb(wire)} larger: each recipient downloads them, and some providers refuse messages over 10 MB. Use \`images: "hosted"\` with a website, or fewer images`, ...locate.issueFile }];
  },
};

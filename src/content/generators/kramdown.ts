import { escapeHtml } from '../html/escape.js';
import { ADDED_BLANK_LINE } from './added-lines.js';
import { titleOf } from './shortcode-forms.js';

/**
 * kramdown (Jekyll's Markdown) attribute lists and `markdown="1"`, which no other Markdown reads.
 * An attribute list sets classes and attributes on the element before it: in email only an
 * image's `width` and `height` mean something (Chirpy's `w`/`h` too), and a theme's callout
 * classes (`.notice--info`, `.prompt-tip`) make the block a callout box; the rest is dropped.
 */

const BLOCK_IAL = /^\s*\{:\s*([^{}]*)\}\s*$/;
/** Minimal Mistakes' `notice`, `notice--info`, Chirpy's `prompt-tip`, and the common `admonition`/`callout`/`alert-x`. */
const CALLOUT_CLASS = /(?:^|\s)\.?(?:notice(?:--(\w+))?|prompt-(\w+)|alert-(\w+)|admonition|callout)(?=\s|$)/;

function calloutOf(attributes: string): string | null {
  const match = CALLOUT_CLASS.exec(attributes);
  if (!match) return null;
  return (match[1] ?? match[2] ?? match[3] ?? 'note').toLowerCase();
}

export function kramdownBlockAttributes(line: string): { callout: string | null; title: string | null } | null {
  const match = BLOCK_IAL.exec(line);
  if (!match) return null;
  const callout = calloutOf(match[1]!);
  // Chirpy's prompts show their type (as an icon) on the site: here as the box's title.
  return { callout, title: callout && /prompt-/.test(match[1]!) ? titleOf(callout) : null };
}

function attributesOf(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of list.matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))/g)) out[match[1]!] = match[2] ?? match[3] ?? match[4] ?? '';
  return out;
}

const IMAGE_IAL = /!\[([^\]\n]*)\]\(\s*<?([^\s)>]+)>?(?:\s+"([^"\n]*)")?\s*\)\{:\s*([^{}\n]*)\}/g;
const SPAN_IAL = /\{:\s*[^{}\n]*\}/g;

/**
 * `![alt](src){: width="972" height="589" .w-75}` becomes an `<img>` with that size; any other
 * attribute list inside a paragraph (`` `file`{: .filepath} ``) is dropped.
 */
export function kramdownSpanAttributes(text: string): string {
  const image = (alt: string, src: string, title: string | undefined, list: string) => {
    const attributes = attributesOf(list);
    const width = attributes.width ?? attributes.w;
    const height = attributes.height ?? attributes.h;
    const size = `${width && /^\d+$/.test(width) ? ` width="${width}"` : ''}${height && /^\d+$/.test(height) ? ` height="${height}"` : ''}`;
    return `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}"${title ? ` title="${escapeHtml(title)}"` : ''}${size}>`;
  };
  return (
    text
      // Chirpy's caption: an emphasized line right under the image.
      .replace(new RegExp(`^${IMAGE_IAL.source}[ \\t]*\\n_([^_\\n]+)_[ \\t]*$`, 'gm'), (_, alt: string, src: string, title: string | undefined, list: string, caption: string) =>
        `<figure>${image(alt, src, title, list)}<figcaption>${escapeHtml(caption)}</figcaption></figure>\n`,
      )
      // An image alone on its line is an HTML block now: text under it must start a paragraph of its own.
      .replace(new RegExp(`^${IMAGE_IAL.source}[ \\t]*\\n(?=[ \\t]*\\S)`, 'gm'), (_, alt: string, src: string, title: string | undefined, list: string) => `${image(alt, src, title, list)}${ADDED_BLANK_LINE}`)
      .replace(IMAGE_IAL, (_, alt: string, src: string, title: string | undefined, list: string) => image(alt, src, title, list))
      .replace(SPAN_IAL, '')
  );
}

const MARKDOWN_OPEN = /^(\s*<(\w+)\b[^>]*?)\s+markdown\s*=\s*(["']?)(?:1|block|span)\3([^>]*>)\s*$/i;

/** `<div class="notice" markdown="1">` on a line of its own: the tag without the attribute, and its name. */
export function markdownAttributeOpen(line: string): { line: string; tag: string } | null {
  const match = MARKDOWN_OPEN.exec(line);
  if (!match) return null;
  const open = `${match[1]}${match[4]}`;
  const callout = calloutOf(/class\s*=\s*["']([^"']*)["']/.exec(open)?.[1] ?? '');
  return { line: callout ? `<${match[2]} data-nl-callout="${callout}">` : open, tag: match[2]!.toLowerCase() };
}

import type { ContentFinding } from '../types.js';
import { escapeHtml as escapeAttribute } from './escape.js';

/**
 * Shortcodes of static-site generators, which a blog post carries and only its site can run:
 * Hugo's `{{< youtube ID >}}`, `{{< vimeo ID >}}`, `{{< figure src="…" caption="…" >}}` and
 * Zola's `{{ youtube(id="…") }}` become the HTML they stand for (then the embed and image stages
 * treat them like any other); any other shortcode is removed with a warning naming its line,
 * never printed as braces. Fenced code is left alone: a post about Hugo shows its shortcodes.
 */

const HUGO = /\{\{[<%]\s*([\w/-]+)([^]*?)\s*[>%]\}\}/g;
const ZOLA = /\{\{\s*(youtube|vimeo)\(([^)]*)\)\s*\}\}/g;
/** Jekyll's Liquid tags (`{% highlight python %}`): the site's, not the reader's. */
const LIQUID = /\{%-?\s*(\w+)[^%]*?-?%\}/g;
/** `{{ site.url }}/assets/a.png`: the site's root, which is where a path starting with / is looked for. */
const SITE_ROOT = /\{\{\s*(?:site\.url|site\.baseurl|\.Site\.BaseURL)\s*\}\}(?=\/)/gi;

function args(text: string): { positional: string[]; named: Record<string, string> } {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const match of text.matchAll(/(?:([\w-]+)\s*=\s*)?(?:"([^"]*)"|'([^']*)'|([^\s"',]+))/g)) {
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    if (match[1]) named[match[1]] = value;
    else if (value) positional.push(value);
  }
  return { positional, named };
}

function expand(name: string, raw: string): string | null {
  const { positional, named } = args(raw);
  const id = named.id ?? positional[0];
  if (name === 'youtube' && id && /^[\w-]+$/.test(id)) return `<iframe src="https://www.youtube.com/embed/${id}"${named.title ? ` title="${escapeAttribute(named.title)}"` : ''}></iframe>`;
  if (name === 'vimeo' && id && /^\d+$/.test(id)) return `<iframe src="https://player.vimeo.com/video/${id}"${named.title ? ` title="${escapeAttribute(named.title)}"` : ''}></iframe>`;
  if (name === 'figure' && named.src) {
    const caption = named.caption ?? named.title;
    const alt = named.alt ?? caption ?? '';
    return `<figure><img src="${escapeAttribute(named.src)}" alt="${escapeAttribute(alt)}">${caption ? `<figcaption>${escapeAttribute(caption)}</figcaption>` : ''}</figure>`;
  }
  return null;
}

export function expandShortcodes(source: string, file: string | null, firstLine: number): { source: string; findings: ContentFinding[] } {
  if (!source.includes('{{') && !source.includes('{%')) return { source, findings: [] };
  const findings: ContentFinding[] = [];
  let inFence = false;
  const lines = source.split('\n').map((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence || (!line.includes('{{') && !line.includes('{%'))) return line;
    const replace = (whole: string, name: string, raw: string) => {
      const html = expand(name, raw);
      if (html) return html;
      if (file) findings.push({ rule: 'content/removed', severity: 'warn', message: `removed the shortcode \`${whole.length > 60 ? `${whole.slice(0, 57)}...` : whole}\`: only the blog's site can run it`, file, line: firstLine + index });
      return '';
    };
    return line
      .replace(SITE_ROOT, '')
      .replace(HUGO, (whole, name: string, raw: string) => (name.startsWith('/') ? '' : replace(whole, name, raw)))
      .replace(ZOLA, (whole, name: string, raw: string) => replace(whole, name, raw))
      .replace(LIQUID, (whole, name: string) => (/^end/.test(name) ? '' : replace(whole, name, '')));
  });
  return { source: lines.join('\n'), findings };
}

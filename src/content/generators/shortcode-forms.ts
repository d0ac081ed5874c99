import { escapeHtml } from '../html/escape.js';
import { ADDED_BLANK_LINE as BLANK } from './added-lines.js';

/**
 * What a known shortcode of a static-site generator stands for, as the HTML (or Markdown) the
 * later stages already know: an `<iframe>` or `<video>` (made a link card by html/embeds.ts), a
 * `<figure>` (its image processed like any other), a callout box (`data-nl-callout`, made a styled
 * box by html/callouts.ts), a quote with its attribution, or just the text it wraps. One table for
 * Hugo, Zola, Jekyll/Liquid and Eleventy/Nunjucks: the same names mean the same things there.
 */

export interface ShortcodeArgs {
  positional: string[];
  named: Record<string, string>;
}

export interface ShortcodeCall {
  name: string;
  args: ShortcodeArgs;
  /** The Markdown between the opening and the closing tag (already rewritten), or null. */
  body: string | null;
  /** Whether the tag stands on a line of its own (a block), or inside a sentence. */
  block: boolean;
}

/** `id="x" 'y' z, w=true`: named and positional arguments of any of the four syntaxes. */
export function parseArgs(text: string): ShortcodeArgs {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  const unquote = (s: string) => s.replace(/\\(["'\\])/g, '$1');
  for (const match of text.matchAll(/(?:([\w-]+)\s*[=:]\s*)?(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"',()]+))/g)) {
    const value = match[2] !== undefined ? unquote(match[2]) : match[3] !== undefined ? unquote(match[3]) : (match[4] ?? '');
    if (match[1]) named[match[1]] = value;
    else if (value) positional.push(value);
  }
  return { positional, named };
}

const attr = escapeHtml;

/** Blank lines around HTML that holds Markdown, so that CommonMark parses what is inside. */
function blockHtml(open: string, markdown: string, close: string): string {
  return `${BLANK}${open}${BLANK}${markdown.trim()}${BLANK}${close}${BLANK}`;
}

function pad(html: string, block: boolean): string {
  return block ? `${BLANK}${html}${BLANK}` : html;
}

export function callout(type: string, title: string | null, markdown: string): string {
  const kind = type.toLowerCase().replace(/[^a-z]/g, '') || 'note';
  return blockHtml(`<div data-nl-callout="${attr(kind)}"${title ? ` data-nl-title="${attr(title)}"` : ''}>`, markdown, '</div>');
}

function figure(src: string, alt: string, caption: string | null): string {
  return `<figure><img src="${attr(src)}" alt="${attr(alt)}">${caption ? `<figcaption>${attr(caption)}</figcaption>` : ''}</figure>`;
}

function quote(markdown: string, author: string | null, source: string | null, url: string | null): string {
  const cite = source ? `<cite>${url ? `<a href="${attr(url)}">${attr(source)}</a>` : attr(source)}</cite>` : '';
  const by = [author ? attr(author) : '', cite].filter(Boolean).join(', ');
  return blockHtml('<blockquote>', `${markdown.trim()}${by ? `${BLANK}<p class="nl-attribution">— ${by}</p>` : ''}`, '</blockquote>');
}

function iframe(src: string, title: string | undefined, block: boolean): string {
  return pad(`<iframe src="${attr(src)}"${title ? ` title="${attr(title)}"` : ''}></iframe>`, block);
}

/** Admonition-like shortcodes of common themes; the name is the type when no `type` is given. */
const CALLOUTS = new Set(['admonition', 'alert', 'callout', 'notice', 'hint', 'note', 'tip', 'info', 'warning', 'danger', 'caution', 'important', 'aside', 'details', 'sidenote']);
/** Wrappers whose only job is layout on the blog (width, direction, a hanging indent): their text stays. */
const WRAPPERS = new Set(['lead', 'references', 'wide_container', 'force_text_direction', 'center', 'columns', 'column', 'div', 'section', 'spoiler', 'markdown', 'markdownify']);
/** Zola (tabi) image shortcodes: every image they show, in order, with its alt text. */
const IMAGE_SOURCES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  dual_theme_image: [['light_src', 'alt'], ['dark_src', 'alt']],
  image_hover: [['default_src', 'default_alt'], ['hovered_src', 'hovered_alt']],
  image_toggler: [['default_src', 'default_alt'], ['toggled_src', 'toggled_alt']],
};
const FIGURES = new Set(['figure', 'screenshot', 'image', 'img', 'full_width_image', 'invertible_image', 'dimmable_image']);

/** Jekyll themes' `{% include embed/youtube.html id='…' %}` (Chirpy and others). */
const INCLUDE_EMBED = /^embed\/(youtube|vimeo|bilibili|video)\.html$/;

/** The HTML or Markdown a known shortcode stands for, or null when this tool does not know it. */
export function expandShortcode(call: ShortcodeCall): string | null {
  const { positional, named } = call.args;
  const body = call.body ?? named.text ?? named.body ?? '';
  let name = call.name.toLowerCase();
  if (name === 'include') {
    const embed = INCLUDE_EMBED.exec(positional[0] ?? '');
    if (!embed) return null;
    name = embed[1]!;
    positional.shift();
  }
  const id = named.id ?? positional[0];
  switch (name) {
    case 'youtube':
      return id && /^[\w-]+$/.test(id) ? iframe(`https://www.youtube.com/embed/${id}`, named.title, call.block) : null;
    case 'vimeo':
      return id && /^\d+$/.test(id) ? iframe(`https://player.vimeo.com/video/${id}`, named.title, call.block) : null;
    case 'bilibili':
      return id && /^[\w]+$/.test(id) ? iframe(`https://player.bilibili.com/player.html?${/^av/i.test(id) ? 'aid' : 'bvid'}=${id}`, named.title, call.block) : null;
    case 'tencent':
      return id && /^\w+$/.test(id) ? iframe(`https://v.qq.com/txp/iframe/player.html?vid=${id}`, named.title, call.block) : null;
    case 'gitlab':
      return id && /^\d+$/.test(id) ? iframe(`https://gitlab.com/-/snippets/${id}`, 'GitLab snippet', call.block) : null;
    case 'gist': {
      const path = positional.length >= 2 ? `${positional[0]}/${positional[1]}` : positional[0];
      return path && /^[\w-]+\/[\w]+$/.test(path) ? iframe(`https://gist.github.com/${path}`, named.file ?? 'Gist', call.block) : null;
    }
    case 'tweet':
    case 'twitter':
    case 'x': {
      const user = named.user ?? positional[0];
      const status = named.id ?? positional[1];
      return user && status && /^\w+$/.test(user) && /^\d+$/.test(status) ? iframe(`https://x.com/${user}/status/${status}`, 'Post on X', call.block) : null;
    }
    case 'video': {
      const src = named.src ?? positional[0];
      return src ? pad(`<video src="${attr(src)}"${named.poster ? ` poster="${attr(named.poster)}"` : ''}${named.title ? ` title="${attr(named.title)}"` : ''}></video>`, call.block) : null;
    }
    case 'quote':
    case 'blockquote':
      return quote(body, named.author ?? null, named.source ?? named.title ?? null, named.url ?? named.link ?? null);
    case 'multilingual_quote': {
      const text = [named.translated, named.original ? `*${named.original}*` : ''].filter(Boolean).join(BLANK);
      return text ? quote(text, named.author ?? null, null, null) : null;
    }
  }
  if (IMAGE_SOURCES[name]) {
    const images = IMAGE_SOURCES[name]!.map(([src, alt]) => (named[src] ? figure(named[src]!, named[alt] ?? named.alt ?? '', null) : '')).join('');
    return images ? pad(images, true) : null;
  }
  if (FIGURES.has(name)) {
    const src = named.src ?? positional[0];
    if (!src) return null;
    const caption = named.caption ?? named.title ?? null;
    return pad(figure(src, named.alt ?? positional[1] ?? caption ?? '', caption), true);
  }
  if (CALLOUTS.has(name)) {
    const type = named.type ?? (['admonition', 'alert', 'callout', 'notice', 'hint', 'aside', 'details', 'sidenote'].includes(name) ? positional.find((p) => /^[a-z]+$/i.test(p) && p !== 'md') ?? 'note' : name);
    // A title that the shortcode names, or the type when it is one readers know (Note, Tip, …).
    const title = named.title ?? named.summary ?? (name === 'aside' || name === 'sidenote' || name === 'alert' || name === 'callout' ? null : titleOf(type));
    return callout(type, title, body);
  }
  if (WRAPPERS.has(name)) return body ? (call.block ? `${BLANK}${body.trim()}${BLANK}` : body) : null;
  return null;
}

const TITLES: Readonly<Record<string, string>> = { note: 'Note', tip: 'Tip', info: 'Info', warning: 'Warning', warn: 'Warning', danger: 'Danger', caution: 'Caution', important: 'Important', error: 'Error', success: 'Success' };

export function titleOf(type: string): string | null {
  return TITLES[type.toLowerCase()] ?? null;
}

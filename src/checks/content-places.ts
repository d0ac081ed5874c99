import type { Element } from 'domhandler';
import type { LocalImageRef } from '../content/types.js';
import { lineOfJsonKey, lineOfOffset } from '../text-position.js';
import { linkLabel, parseHtml } from './html.js';

/** A file's text, read on first need (locate.ts's SourceFile). */
interface TextSource {
  readonly text: string | null;
}

export interface ContentPlace {
  file: string;
  line: number;
  /** The URL as the author wrote it (a local image's path, not its processed URL). */
  written: string;
}

/**
 * Where a link or image of the email was written, when an article (or the intro) holds it:
 * the body's HTML as the email got it (images processed) is matched with the element, and the
 * element's own line found in the article's source. This is what lets a finding about an
 * article's content name the article and its line, never the template line `{{{html}}}` that
 * printed it: the k-th `[text](#)` of a post at its own line, a local image by the line that
 * names it (not its processed URL), `/docs/` at its link and not at an earlier mention in prose,
 * a pasted `[x](\\server\path)` however Markdown escaped it.
 */

/** One article body (or the intro) as the email shows it. */
export interface ContentBody {
  /** The article or issue file, as shown. */
  file: string;
  source: TextSource;
  /** The body's HTML as written (local images under the paths the author wrote). */
  writtenHtml: string;
  /** The same HTML as the email got it (local images replaced by their processed URL). */
  shownHtml: string;
  localImages: readonly LocalImageRef[];
  /** The article's `image:` as written and as the email shows it (the template prints it). */
  image?: { written: string; shown: string } | undefined;
}

interface Mark {
  tag: 'a' | 'img';
  /** The href or src as the email has it (before UTM parameters). */
  shown: string;
  /** The same as the author wrote it. */
  written: string;
  label: string;
}

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

function marksOf(body: ContentBody): Mark[] {
  const pick = (html: string) => parseHtml(`<body>${html}</body>`).elements.filter((e) => (e.name === 'a' && e.attribs.href !== undefined) || (e.name === 'img' && e.attribs.src !== undefined));
  const shown = pick(body.shownHtml);
  const written = pick(body.writtenHtml);
  const sameShape = shown.length === written.length && shown.every((e, i) => e.name === written[i]!.name);
  return shown.map((element, i) => {
    const attribute = element.name === 'a' ? 'href' : 'src';
    const value = element.attribs[attribute]!.trim();
    return {
      tag: element.name as 'a' | 'img',
      shown: value,
      written: sameShape ? written[i]!.attribs[attribute]!.trim() : value,
      label: element.name === 'a' ? linkLabel(element) : '',
    };
  });
}

function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return decodeURI(a) === decodeURI(b);
  } catch {
    return false;
  }
}

/** ASCII punctuation, which Markdown lets an author escape with a backslash. */
const PUNCTUATION = /[!-/:-@[-`{-~]/;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A pattern for a URL as an author may have written it: Markdown lets any punctuation be escaped
 * (`\_`, `\\` for `\`), HTML writes `&` as `&amp;`, and the email may carry it percent-encoded.
 */
function writtenPattern(url: string): string {
  let decoded = url;
  try {
    decoded = decodeURI(url);
  } catch {
    // Kept as it is.
  }
  const variants = [...new Set([url, decoded])];
  return `(?:${variants
    .map((variant) =>
      [...variant]
        .map((ch) => {
          if (ch === '\\') return '\\\\{1,2}';
          if (ch === '&') return '&(?:amp;)?';
          return PUNCTUATION.test(ch) ? `\\\\?${escapeRegExp(ch)}` : escapeRegExp(ch);
        })
        .join(''),
    )
    .join('|')})`;
}

/** Offsets where `url` is written as a link or image target: `](url`, `]: url`, `href="url"`, `src=url`. */
function targetOffsets(text: string, url: string): number[] {
  const pattern = new RegExp(`(?:\\]\\(\\s*<?|^\\s*\\[[^\\]]+\\]:\\s*<?|\\b(?:href|src)\\s*=\\s*["']?)${writtenPattern(url)}(?=[\\s)"'>]|$)`, 'gim');
  return [...text.matchAll(pattern)].map((match) => match.index);
}

/** The line of a mark in its body's source: by the label's line when the URL is written several times, else the n-th time. */
function lineOf(body: ContentBody, mark: Mark, nth: number): number | undefined {
  if (mark.tag === 'img') {
    const local = body.localImages.find((ref) => ref.written === mark.written && ref.line !== undefined);
    if (local) return local.line;
  }
  const text = body.source.text;
  if (!text) return undefined;
  let offsets = targetOffsets(text, mark.written);
  if (!offsets.length) {
    const bare = text.indexOf(mark.written);
    offsets = bare >= 0 ? [bare] : [];
  }
  if (!offsets.length) return undefined;
  const lines = offsets.map((offset) => lineOfOffset(text, offset));
  const label = normalize(mark.label);
  if (label && offsets.length > 1) {
    // The line where this text is the link's own (`[text](`, `text</a>`), else where the text is.
    const all = text.split('\n');
    const at = (line: number) => normalize(all[line - 1] ?? '');
    const labelled = lines.find((line) => at(line).includes(`${label}](`) || at(line).includes(`${label}</a>`)) ?? lines.find((line) => at(line).includes(label));
    if (labelled !== undefined) return labelled;
  }
  return lines[Math.min(nth, lines.length - 1)];
}

export class ContentPlaces {
  private marks: Mark[][] | undefined;

  constructor(private readonly bodies: readonly ContentBody[]) {}

  private marksByBody(): Mark[][] {
    this.marks ??= this.bodies.map(marksOf);
    return this.marks;
  }

  /**
   * Where the author wrote this link or image, or undefined when no article or intro holds it (a
   * template's own). `occurrence`: the element's index among the email's elements with the same
   * tag, URL and label, so that repeated ones land on their own lines.
   */
  of(element: Element, url: string, occurrence: number): ContentPlace | undefined {
    const tag = element.name === 'a' ? 'a' : element.name === 'img' ? 'img' : null;
    if (!tag) return undefined;
    return this.find(tag, url, tag === 'a' ? linkLabel(element) : null, occurrence);
  }

  /** The first place an article or the intro writes a piece of markup (`<a href="#" …>`) with a URL. */
  ofMarkup(markup: string): ContentPlace | undefined {
    const match = /^<(a|img)\b[^>]*?\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(markup.trim());
    if (!match) return undefined;
    const url = (match[2] ?? match[3] ?? match[4] ?? '').trim().replace(/&amp;/g, '&');
    return this.find(match[1]!.toLowerCase() as 'a' | 'img', url, null, 0);
  }

  /** `label` null: any link text. */
  private find(tag: 'a' | 'img', url: string, label: string | null, occurrence: number): ContentPlace | undefined {
    const candidates: { body: ContentBody; mark: Mark; nth: number }[] = [];
    const marks = this.marksByBody();
    this.bodies.forEach((body, b) => {
      const seen = new Map<string, number>();
      for (const mark of marks[b]!) {
        const nth = seen.get(mark.written) ?? 0;
        seen.set(mark.written, nth + 1);
        if (mark.tag === tag && sameUrl(mark.shown, url) && (label === null || normalize(mark.label) === normalize(label))) candidates.push({ body, mark, nth });
      }
    });
    const chosen = candidates[Math.min(occurrence, candidates.length - 1)];
    if (chosen) return { file: chosen.body.file, line: lineOf(chosen.body, chosen.mark, chosen.nth) ?? 1, written: chosen.mark.written };
    // An article's `image:`, which the template prints: the line of that key.
    const lead = tag === 'img' ? this.bodies.find((body) => body.image && sameUrl(body.image.shown, url)) : undefined;
    if (lead) return { file: lead.file, line: (lead.source.text && lineOfJsonKey(lead.source.text, ['image'])) || 1, written: lead.image!.written };
    return undefined;
  }
}

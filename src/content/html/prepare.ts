import { parseDocument, DomUtils } from 'htmlparser2';
import { Element, Text, isTag, type AnyNode } from 'domhandler';
import type { ContentFinding } from '../types.js';
import { embedCard, embedTarget, videoCard, videoSource } from './embeds.js';
import { replaceWith, rewriteBlogMarkup } from './blog-markup.js';
import { ALLOWED_TAGS, DROPPED_WITH_CONTENT, UNWRAPPED_QUIETLY, attributeAllowed, refusedScheme } from './sanitize.js';

/**
 * The HTML that Markdown produced, before the sanitizer sees it: embeds become link cards,
 * footnotes an email-friendly notes list, `<noscript>` content is shown, and everything the
 * sanitizer is about to remove is written down with its line, so that nothing vanishes in silence.
 */

export interface SourcePlace {
  file: string;
  /** The Markdown text, to find the line of a tag. */
  source: string;
  /** Line of the file where `source` starts. */
  firstLine: number;
  /** The file's line of each line of `source`, when `source` is a rewritten form of the file (generator syntax). */
  lineMap?: readonly number[] | undefined;
}

export interface PreparedHtml {
  html: string;
  findings: ContentFinding[];
  /** `src` of every `<img>` that is not a URL: local files for the image stage. */
  localSources: { src: string; line: number | undefined }[];
}

/** Attributes dropped by design, not worth a warning: styling and page scripts' hooks. */
const QUIET_ATTRIBUTES = /^(?:class|id|style|data-.*|aria-.*|role|target|rel|loading|decoding|srcset|sizes|referrerpolicy|crossorigin|fetchpriority|width|height|align|valign|lang|dir|tabindex|name|frameborder|allow|allowfullscreen|title|type|border|cellpadding|cellspacing|start|colspan|rowspan|scope|headers|datetime|cite|alt|src|href|poster|controls|muted|autoplay|loop|playsinline|preload|bgcolor|color|face|size|nowrap|hspace|vspace)$/i;

/** The line of the file that text of the (rewritten) source is on, searched in order. */
export class SourceLines {
  private readonly cursors = new Map<string, number>();
  constructor(private readonly place: SourcePlace) {}

  /** Line of the next occurrence of `needle` in the source (case-insensitive), or undefined. */
  of(needle: string): number | undefined {
    const haystack = this.place.source.toLowerCase();
    const key = needle.toLowerCase();
    let at = haystack.indexOf(key, this.cursors.get(key) ?? 0);
    if (at < 0) at = haystack.indexOf(key);
    if (at < 0) return undefined;
    this.cursors.set(key, at + key.length);
    const index = this.place.source.slice(0, at).split('\n').length - 1;
    return this.place.lineMap?.[index] ?? this.place.firstLine + index;
  }
}

/**
 * A card (a `<p>`) standing for an embed: in place of the embed, or of the paragraph around it when
 * the embed is all the paragraph holds (a `<p>` inside a `<p>` would leave empty paragraphs).
 */
function replaceWithCard(node: Element, card: AnyNode[]): void {
  const parent = node.parent;
  const alone = parent instanceof Element && parent.name === 'p' && parent.children.every((c) => c === node || (c instanceof Text && !c.data.trim()));
  replaceWith(alone ? parent : node, card);
}

function unwrap(node: Element): void {
  replaceWith(node, [...node.children]);
}

/** marked-footnote's `<section class="footnotes">` as a rule, a "Notes" heading and a list. */
function rewriteFootnotes(section: Element): void {
  const list = DomUtils.findOne((n) => n.name === 'ol', section.children, true);
  if (!list) return unwrap(section);
  list.attribs = { class: 'nl-notes' };
  for (const backref of DomUtils.findAll((n) => n.name === 'a' && Object.keys(n.attribs).some((k) => k.endsWith('-backref')), list.children)) {
    backref.attribs = { href: backref.attribs.href ?? '', class: 'nl-backref' };
  }
  // h2, the level article headings start at, so that no heading level is skipped before it.
  const heading = new Element('h2', { class: 'nl-notes-title' }, [new Text('Notes')]);
  heading.children[0]!.parent = heading;
  replaceWith(section, [new Element('hr', {}), heading, list]);
}

export function prepareHtml(raw: string, place: SourcePlace | null): PreparedHtml {
  const document = parseDocument(raw, { decodeEntities: true });
  const findings: ContentFinding[] = [];
  const localSources: PreparedHtml['localSources'] = [];
  const lines = place ? new SourceLines(place) : null;
  const removed = new Map<string, { count: number; line: number | undefined; what: string }>();
  const note = (key: string, what: string, needle: string) => {
    const entry = removed.get(key);
    if (entry) entry.count += 1;
    else removed.set(key, { count: 1, line: lines?.of(needle), what });
  };

  const blog = rewriteBlogMarkup(document);
  if (place) {
    for (const diagram of blog.diagrams) {
      const kind = /^\s*(\w+)/.exec(diagram)?.[1] ?? 'diagram';
      findings.push({ rule: 'content/embed', severity: 'info', message: `a Mermaid diagram (\`${kind}\`) is shown as its source code: email cannot draw it`, file: place.file, line: lines?.of('```mermaid') ?? lines?.of('mermaid') });
    }
    for (const video of blog.videos) {
      if (video.startsWith('gist:')) {
        findings.push({ rule: 'content/embed', severity: 'info', message: `the gist \`${video.slice(5)}\` shown as a link card: email runs no <script>`, file: place.file, line: lines?.of(video.slice(5)) });
        continue;
      }
      findings.push({ rule: 'content/embed', severity: 'info', message: `Wistia video \`${video}\` shown as a link card (“Watch on Wistia”): no video plays in email`, file: place.file, line: lines?.of(`wistia_async_${video}`) });
    }
  }

  const walk = (nodes: AnyNode[]) => {
    for (const node of [...nodes]) {
      if (!isTag(node)) continue;
      const name = node.name.toLowerCase();
      if (name === 'iframe') {
        const target = node.attribs.src ? embedTarget(node.attribs.src) : null;
        const line = lines?.of('<iframe');
        if (target) {
          replaceWithCard(node, embedCard(target, node.attribs.title?.trim() || null));
          if (place) findings.push({ rule: 'content/embed', severity: 'info', message: `<iframe> of ${new URL(target.page).hostname} shown as a link card (“${target.label}”): no iframe plays in email`, file: place.file, line });
        } else {
          replaceWith(node, []);
          if (place) findings.push({ rule: 'content/removed', severity: 'warn', message: `removed <iframe>${node.attribs.src ? ` \`${node.attribs.src}\`` : ''}: it has no http(s) address to link to`, file: place.file, line });
        }
        continue;
      }
      if (name === 'video' || name === 'audio') {
        const src = videoSource(node);
        const card = videoCard(src, node.attribs.poster ?? null, node.attribs.title?.trim() || null);
        const line = lines?.of(`<${name}`);
        if (card) {
          if (node.attribs.poster && !/^https?:/i.test(node.attribs.poster)) localSources.push({ src: node.attribs.poster, line });
          replaceWithCard(node, card);
          if (place) findings.push({ rule: 'content/embed', severity: 'info', message: `<${name}> shown as a link to ${src}: no ${name} plays in email`, file: place.file, line });
        } else {
          replaceWith(node, []);
          if (place) findings.push({ rule: 'content/removed', severity: 'warn', message: `removed <${name}>${src ? ` \`${src}\`` : ''}: email cannot play it and it has no http(s) address to link to`, file: place.file, line });
        }
        continue;
      }
      if (name === 'section' && 'data-footnotes' in node.attribs) {
        walk(node.children);
        rewriteFootnotes(node);
        continue;
      }
      if (name === 'a' && Object.keys(node.attribs).some((k) => /^data-.*-ref$/.test(k))) {
        node.attribs = { href: node.attribs.href ?? '', id: node.attribs.id ?? '', class: 'nl-fnref' };
        continue;
      }
      for (const attribute of Object.keys(node.attribs)) {
        const value = node.attribs[attribute] ?? '';
        if (/^on/i.test(attribute)) {
          note(`on:${name}`, `event handler \`${attribute}\` on <${name}>`, attribute);
        } else if ((attribute === 'href' || attribute === 'src') && ALLOWED_TAGS.includes(name)) {
          const scheme = refusedScheme(value);
          const local = attribute === 'src' && name === 'img' && scheme === null && !/^https?:/i.test(value.trim());
          if (local && value.trim()) localSources.push({ src: value.trim(), line: lines?.of(value.trim()) });
          else if (scheme) note(`scheme:${scheme}:${name}`, `${name === 'img' ? 'image' : 'link'} with a \`${scheme}:\` address`, value.slice(0, 20));
        } else if (ALLOWED_TAGS.includes(name) && !attributeAllowed(name, attribute) && !QUIET_ATTRIBUTES.test(attribute)) {
          note(`attr:${attribute}`, `attribute \`${attribute}\` on <${name}>`, attribute);
        }
      }
      if (!ALLOWED_TAGS.includes(name)) {
        if (UNWRAPPED_QUIETLY.has(name)) {
          walk(node.children);
          continue;
        }
        note(`tag:${name}`, DROPPED_WITH_CONTENT.has(name) ? `<${name}> and its content` : `<${name}>`, `<${name}`);
        if (DROPPED_WITH_CONTENT.has(name)) continue;
      }
      walk(node.children);
    }
  };
  walk(document.children);

  if (place) {
    for (const { count, line, what } of removed.values()) {
      findings.push({ rule: 'content/removed', severity: 'warn', message: `removed ${what}${count > 1 ? ` (${count} times)` : ''}: not allowed in email`, file: place.file, line });
    }
  }
  // Unwrap <noscript> so its content shows; sanitize-html would keep the text but not see it as markup.
  for (const noscript of DomUtils.findAll((n) => n.name === 'noscript', document.children)) unwrap(noscript);
  return { html: DomUtils.getOuterHTML(document, { decodeEntities: true }), findings, localSources };
}

import { parseDocument } from 'htmlparser2';
import { isTag, isText, type AnyNode, type Document, type Element } from 'domhandler';

/**
 * The rendered HTML, parsed once and shared by every rule. htmlparser2 keeps MJML's Outlook
 * conditionals (`<!--[if mso | IE]>…<![endif]-->`) as comments, so their tables are never seen
 * as elements: they are for Outlook's Word engine, not something the rules should flag.
 */

export interface HtmlDocument {
  source: string;
  root: Document;
  /** Every element in document order (outside comments). */
  elements: Element[];
  /** The words a reader sees in the body: no head, styles, or display:none blocks (the preheader). */
  visibleText: string;
}

const NOT_RENDERED = new Set(['head', 'style', 'script', 'title', 'template']);

export function parseHtml(source: string): HtmlDocument {
  const root = parseDocument(source, { withStartIndices: true, withEndIndices: true, decodeEntities: true });
  const elements: Element[] = [];
  const text: string[] = [];
  const walk = (nodes: AnyNode[], visible: boolean) => {
    for (const node of nodes) {
      if (isTag(node)) {
        elements.push(node);
        walk(node.children, visible && !NOT_RENDERED.has(node.name) && !isHidden(node));
      } else if (isText(node) && visible) {
        text.push(node.data);
      }
    }
  };
  walk(root.children, true);
  return { source, root, elements, visibleText: normalizeSpace(text.join(' ')) };
}

export function normalizeSpace(text: string): string {
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}

export function isHidden(element: Element): boolean {
  const style = element.attribs.style ?? '';
  return /(?:^|;)\s*display\s*:\s*none/i.test(style) || element.attribs.hidden !== undefined || element.attribs['aria-hidden'] === 'true';
}

/** Text of an element and its descendants, spaces collapsed. */
export function textOf(node: AnyNode): string {
  const parts: string[] = [];
  const walk = (n: AnyNode) => {
    if (isText(n)) parts.push(n.data);
    else if (isTag(n)) for (const child of n.children) walk(child);
  };
  walk(node);
  return normalizeSpace(parts.join(' '));
}

/** Accessible name of a link: its text, else the alt of images inside it, else aria-label or title. */
export function linkLabel(element: Element): string {
  const text = textOf(element);
  if (text) return text;
  const alts: string[] = [];
  const walk = (n: AnyNode) => {
    if (!isTag(n)) return;
    if (n.name === 'img' && n.attribs.alt) alts.push(n.attribs.alt);
    for (const child of n.children) walk(child);
  };
  walk(element);
  return normalizeSpace(alts.join(' ') || element.attribs['aria-label'] || element.attribs.title || '');
}

export function hasAncestor(element: Element, name: string): boolean {
  for (let parent = element.parent; parent; parent = parent.parent) {
    if (isTag(parent) && parent.name === name) return true;
  }
  return false;
}

/** The opening tag exactly as written in the source, e.g. `<a href="…" style="…">`. */
export function startTagSource(document: HtmlDocument, element: Element): string {
  const start = element.startIndex ?? 0;
  const end = document.source.indexOf('>', start);
  return document.source.slice(start, end < 0 ? undefined : end + 1);
}

/** An attribute's value as written in the source (still HTML-escaped), for finding it in templates. */
export function rawAttribute(document: HtmlDocument, element: Element, name: string): string | undefined {
  const tag = startTagSource(document, element);
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

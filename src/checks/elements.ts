import type { Element } from 'domhandler';
import type { CheckContext } from './context.js';
import { hasAncestor, isHidden, linkLabel, rawAttribute } from './html.js';
import { withoutUtm, type Place } from './locate.js';

/** The links and images rules look at, and where each one was written. */

export interface Link {
  element: Element;
  /** Decoded href, trimmed; '' when empty. */
  href: string;
  label: string;
}

const linksOf = new WeakMap<CheckContext, Link[]>();

/**
 * MJML's own anchors: mj-carousel writes its thumbnails as `<a href="#1">` around a <label> that
 * switches the radio button; the href is never followed, so it is not a link of the email.
 */
function isMjmlAnchor(element: Element): boolean {
  return /(^|\s)mj-carousel-thumbnail(\s|$)/.test(element.attribs.class ?? '');
}

/** Every link of the body; six rules read them, so they are collected once per check. */
export function links(context: CheckContext): Link[] {
  let found = linksOf.get(context);
  if (!found) {
    // A link to a place in the email itself (footnote and back), whose target exists, is not a
    // URL to check: it never leaves the message.
    const ids = new Set(context.html.elements.map((element) => element.attribs.id).filter(Boolean));
    found = context.html.elements
      .filter((element) => element.name === 'a' && element.attribs.href !== undefined && hasAncestor(element, 'body') && !isMjmlAnchor(element))
      .filter((element) => !(element.attribs.href!.startsWith('#') && ids.has(element.attribs.href!.slice(1))))
      .map((element) => ({ element, href: element.attribs.href!.trim(), label: linkLabel(element) }));
    linksOf.set(context, found);
  }
  return found;
}

/** mj-carousel's previous/next arrows: MJML's controls, not pictures of the email. */
function inCarouselControls(element: Element): boolean {
  for (let node = element.parent; node && 'attribs' in node; node = node.parent) {
    if (/(^|\s)mj-carousel-(previous|next)(-icons)?(\s|$)/.test((node as Element).attribs.class ?? '')) return true;
  }
  return false;
}

/** Images a reader is meant to see: not hidden, not 1×1 tracking pixels or spacers. */
export function contentImages(context: CheckContext): Element[] {
  return context.html.elements.filter((element) => {
    if (element.name !== 'img' || !hasAncestor(element, 'body') || isHidden(element)) return false;
    if (inCarouselControls(element)) return false;
    const width = Number.parseInt(element.attribs.width ?? '', 10);
    const height = Number.parseInt(element.attribs.height ?? '', 10);
    return !(width > 0 && width <= 2) && !(height > 0 && height <= 2);
  });
}

/**
 * Where a URL of the email comes from: the article or issue that holds it, the config, or a
 * template. `templateFirst` for problems only a template can cause (a link without `{{utm}}`).
 */
export function placeOfUrl(context: CheckContext, element: Element, attribute: 'href' | 'src', options: { templateFirst?: boolean } = {}): Place {
  const value = element.attribs[attribute]?.trim() ?? '';
  const plain = withoutUtm(value);
  // `#` or nothing would match anywhere: look for the link as Markdown or HTML writes it.
  const needles = value === '' || value === '#' ? [`](${value})`, `${attribute}="${value}"`] : [value, plain, plain.replace(/\/$/, '')];
  const raw = rawAttribute(context.html, element, attribute);
  const snippets = raw === undefined ? [] : [`${attribute}="${raw}"`];
  const { locate } = context;
  // What an article or the intro holds is found in it, at the element's own line.
  if (!options.templateFirst) {
    const inContent = locate.element(element, plain, occurrenceOf(context, element, attribute, plain));
    if (inContent) return inContent;
  }
  const place = options.templateFirst
    ? (snippets.map((s) => locate.template(s)).find(Boolean) ?? locate.anywhere(needles.filter(Boolean), []))
    : locate.anywhere(needles.filter(Boolean), snippets);
  return place ?? locate.layout;
}

/** A link's or image's URL as the author wrote it (a local image's path, not its processed URL). */
export function writtenUrlOf(context: CheckContext, element: Element, attribute: 'href' | 'src'): string {
  const value = element.attribs[attribute]?.trim() ?? '';
  const plain = withoutUtm(value);
  return context.locate.writtenUrl(element, plain, occurrenceOf(context, element, attribute, plain)) ?? value;
}

/** The element's index among the body's elements with the same tag, URL (without UTM) and link text. */
function occurrenceOf(context: CheckContext, element: Element, attribute: 'href' | 'src', plain: string): number {
  const label = element.name === 'a' ? linkLabel(element) : '';
  let index = 0;
  for (const other of context.html.elements) {
    if (other === element) return index;
    if (other.name !== element.name || !hasAncestor(other, 'body')) continue;
    const value = other.attribs[attribute]?.trim();
    if (value !== undefined && withoutUtm(value) === plain && (element.name !== 'a' || linkLabel(other) === label)) index++;
  }
  return index;
}

/** Groups items by a key, keeping the first item of each group and counting the rest. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): { first: T; count: number }[] {
  const groups = new Map<string, { first: T; count: number }>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.count++;
    else groups.set(k, { first: item, count: 1 });
  }
  return [...groups.values()];
}

export function times(count: number): string {
  return count > 1 ? ` (${count} times)` : '';
}

export { formatKb as kb } from '../format.js';

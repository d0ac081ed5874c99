import { TOOL_DECLARATIONS } from '../content/html/article-styles.js';
import { parseDocument } from 'htmlparser2';
import { isTag, isText, type AnyNode, type Element } from 'domhandler';
import { startTagSource, type HtmlDocument } from './html.js';

/**
 * The email cut into the distinct constructs caniemail is asked about, each with where it comes from:
 *  - `authored`: written in the MJML that templates and content produced (a `<span style=
 *    "white-space:nowrap">`, a rule of <mj-style>, `border-radius="6px"` on <mj-section>): the
 *    editor or template author can change it;
 *  - `mjml`: MJML generated it (its wrappers and their defaults, the hidden preheader, its
 *    responsive <style>), with MJML's own fallbacks for the clients concerned.
 */

export type Origin = 'authored' | 'mjml';

export interface Unit {
  /** What caniemail checks: an element without its style, or `<div style="prop:value">`. */
  markup: string;
  /** For declarations: the property, to drop caniemail's substring matches (`transform` for text-transform). */
  property: string | undefined;
  /** For elements: the tag name, for the same reason (`<body> element` for <tbody>). */
  tag: string | undefined;
  origin: Origin;
  /** How many times the email uses it. */
  count: number;
  /** Text to look for in the generated MJML to find the template line. */
  snippet: string | undefined;
}

/** A <style> block with its declarations taken out: caniemail checks its selectors and at-rules. */
export interface StyleSkeleton {
  css: string;
  origin: Origin;
  /** The original lines, to name the template line of a selector. */
  lines: string[];
  firstLine: string;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

export function signature(element: Element): string {
  const attributes = Object.entries(element.attribs)
    .filter(([name]) => name !== 'style')
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join('');
  return `<${element.name}${attributes}>${VOID.has(element.name) ? '' : `</${element.name}>`}`;
}

/** `a: b; c: d(1;2)` → [['a','b'], ['c','d(1;2)']]; semicolons inside quotes or brackets do not split. */
export function declarations(style: string): [string, string][] {
  const out: [string, string][] = [];
  let depth = 0;
  let quote = '';
  let current = '';
  const flush = () => {
    const colon = current.indexOf(':');
    if (colon > 0) out.push([current.slice(0, colon).trim().toLowerCase(), current.slice(colon + 1).trim()]);
    current = '';
  };
  for (const char of style) {
    if (quote) {
      if (char === quote) quote = '';
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '(') depth++;
    else if (char === ')') depth = Math.max(0, depth - 1);
    else if (char === ';' && depth === 0) {
      flush();
      continue;
    }
    current += char;
  }
  flush();
  return out;
}

function normalizeValue(value: string): string {
  return value.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** For provenance: `!important` and spacing do not change who wrote a declaration. */
function declarationKey(property: string, value: string): string {
  return `${property}:${normalizeValue(value.replace(/\s*!important\s*$/i, ''))}`;
}

interface Authored {
  elements: Set<string>;
  declarations: Set<string>;
  attributes: Set<string>;
  styleText: string;
}

/** What templates and content wrote, read back from the generated MJML. */
const TOOL_KEYS = new Set(TOOL_DECLARATIONS.map(([property, value]) => declarationKey(property, value)));

function authoredConstructs(mjml: string): Authored {
  const root = parseDocument(mjml, { lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true });
  const authored: Authored = { elements: new Set(), declarations: new Set(), attributes: new Set(), styleText: '' };
  const styles: string[] = [];
  const walk = (nodes: AnyNode[]) => {
    for (const node of nodes) {
      if (!isTag(node)) continue;
      if (node.name === 'mj-style') {
        const css = node.children.filter(isText).map((t) => t.data).join('');
        styles.push(css);
        for (const [property, value] of cssDeclarations(css)) authored.declarations.add(declarationKey(property, value));
      } else if (node.name.startsWith('mj-')) {
        for (const [name, value] of Object.entries(node.attribs)) authored.attributes.add(declarationKey(name, value));
      } else {
        authored.elements.add(signature(node));
        // The wrapping styles the content stage puts on article HTML are the tool's, each with its
        // fallback (a word that does not break): like MJML's own, not the template author's.
        for (const [property, value] of declarations(node.attribs.style ?? '')) {
          const key = declarationKey(property, value);
          if (!TOOL_KEYS.has(key)) authored.declarations.add(key);
        }
      }
      walk(node.children);
    }
  };
  walk(root.children);
  authored.styleText = styles.join('\n').replace(/\s+/g, ' ');
  return authored;
}

const RULE_BODY = /\{([^{}]*)\}/g;

function cssDeclarations(css: string): [string, string][] {
  return [...css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(RULE_BODY)].flatMap((match) => declarations(match[1]!));
}

interface Declaration {
  property: string;
  value: string;
  /** For provenance (see declarationKey). */
  key: string;
  markup: string;
}

interface ParsedTag {
  /** The element without its style, shared by every tag with the same markup: the unit's identity. */
  element: { markup: string };
  written: string;
  declarations: Declaration[];
}

/**
 * The same opening tags and declarations recur in every render (MJML's wrappers), and the preview
 * re-checks on every save: each distinct one is taken apart once per process, and the same object
 * stands for it everywhere, so units are grouped by identity.
 */
const parsedTags = new Map<string, ParsedTag>();
const elements = new Map<string, { markup: string }>();
const declarationsByText = new Map<string, Declaration>();
const MAX_CACHED = 20_000;

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, value);
  }
  return value;
}

function parseTag(document: HtmlDocument, element: Element): ParsedTag {
  const source = startTagSource(document, element);
  return remember(parsedTags, source, () => {
    const markup = signature(element);
    return {
      element: remember(elements, markup, () => ({ markup })),
      // The tag as written, up to its style (which MJML may have inlined into), finds the template line.
      written: source.split(/\sstyle\s*=/i)[0]!.replace(/\/?>$/, ''),
      declarations: declarations(element.attribs.style ?? '').map(([property, value]) => declaration(property, value)),
    };
  });
}

function declaration(property: string, value: string): Declaration {
  return remember(declarationsByText, `${property}:${normalizeValue(value)}`, () => ({
    property,
    value,
    key: declarationKey(property, value),
    markup: `<div style="${escapeAttribute(`${property}:${value}`)}"></div>`,
  }));
}

export function collectUnits(document: HtmlDocument, mjml: string): { units: Unit[]; styles: StyleSkeleton[] } {
  const authored = authoredConstructs(mjml);
  // Keyed by the cached tag and declaration objects themselves, one map per origin: no string keys to build.
  const units: Record<Origin, Map<object, Unit>> = { authored: new Map(), mjml: new Map() };
  const styles: StyleSkeleton[] = [];
  const add = (key: object, unit: Omit<Unit, 'count'>) => {
    const known = units[unit.origin].get(key);
    if (known) known.count++;
    else units[unit.origin].set(key, { ...unit, count: 1 });
  };
  const addDeclaration = (d: Declaration, origin: Origin, snippet: string) => {
    add(d, { markup: d.markup, property: d.property, tag: undefined, origin, snippet });
  };

  for (const element of document.elements) {
    const tag = parseTag(document, element);
    const elementOrigin: Origin = authored.elements.has(tag.element.markup) ? 'authored' : 'mjml';
    add(tag.element, { markup: tag.element.markup, property: undefined, tag: element.name, origin: elementOrigin, snippet: tag.written });
    for (const d of tag.declarations) {
      // The templates' doing when set as a component attribute, or written (inline or in <mj-style>)
      // on an element they wrote; anything else is an MJML default.
      const viaAttribute = authored.attributes.has(d.key);
      const origin: Origin = viaAttribute || (elementOrigin === 'authored' && authored.declarations.has(d.key)) ? 'authored' : 'mjml';
      addDeclaration(d, origin, viaAttribute ? `${d.property}="${d.value}"` : `${d.property}:${d.value}`);
    }
    if (element.name !== 'style') continue;
    const css = quoteUrls(element.children.filter(isText).map((t) => t.data).join(''));
    const lines = css.split('\n');
    const firstLine = lines.map((l) => l.trim()).find(Boolean);
    if (!firstLine) continue;
    const origin: Origin = authored.styleText.includes(firstLine.replace(/\s+/g, ' ')) ? 'authored' : 'mjml';
    for (const [property, value] of cssDeclarations(css)) addDeclaration(declaration(property, value), origin, origin === 'authored' ? `${property}: ${value}` : '');
    // Rule bodies emptied but their line breaks kept, so caniemail's line numbers still fit `lines`.
    const skeleton = css.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(RULE_BODY, (body) => `{${body.replace(/[^\n]/g, '')}}`);
    styles.push({ css: skeleton, origin, lines, firstLine });
  }
  return { units: [...units.authored.values(), ...units.mjml.values()], styles };
}

/**
 * MJML writes a web font as `@import url(https://…/css2?family=Inter:wght@400;700);`: valid CSS,
 * but the `;` inside the unquoted URL ends the rule for the CSS parser under caniemail. Quoting
 * the URL keeps the text the same length (line numbers still fit) apart from the two quotes.
 */
export function quoteUrls(css: string): string {
  return css.replace(/url\(\s*([^'")\s][^)]*?)\s*\)/gi, (_, url: string) => `url("${url.replace(/"/g, '%22')}")`);
}

/** Property names a caniemail property title stands for (`height property` → height), else null. */
export function titleProperties(title: string): string[] | null {
  if (title === 'left, right, top, bottom') return ['left', 'right', 'top', 'bottom'];
  const trimmed = title.trim().replace(/ shorthand$/, '').replace(/ property$/, '');
  return /^[a-z-]+$/.test(trimmed) ? [trimmed] : null;
}

const ELEMENT_TITLES: Record<string, string[]> = {
  address: ['address'],
  'HTML5 semantics': ['article', 'aside', 'details', 'figcaption', 'figure', 'footer', 'header', 'main', 'mark', 'nav', 'section', 'summary', 'time'],
  'Image maps': ['map'],
  'Embedded <svg> image': ['image'],
};

/** Tag names a caniemail element title stands for (`<body> element` → body), else null. */
export function titleElements(title: string): string[] | null {
  if (ELEMENT_TITLES[title]) return ELEMENT_TITLES[title]!;
  if (/<\w+ \w+="\w+"> element/.test(title)) return null;
  const match = /<(\w+)>/.exec(title);
  return match ? [match[1]!] : null;
}

/**
 * XML written by hand, escaped by context. Feeds carry text from issues (subjects, preheaders,
 * article HTML) that nobody vetted for XML: every character XML 1.0 forbids is dropped, and `<`,
 * `>` and `&` are always escaped, so no text can end an element, a CDATA section (none is used)
 * or a comment, whatever it holds.
 */

/** Everything but the characters XML 1.0 allows (tab, newlines, and the rest of Unicode but U+FFFE/U+FFFF and lone surrogates). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text as the content of an XML element. */
export function escapeXmlText(text: string): string {
  return text.replace(NOT_XML, '').replace(/[&<>]/g, (c) => ESCAPES[c]!);
}

/** Text as an XML attribute value, in double or single quotes. */
export function escapeXmlAttribute(text: string): string {
  return text.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type XmlAttributes = Readonly<Record<string, string | number | null | undefined>>;

function attributes(attrs: XmlAttributes): string {
  return Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== null && entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`)
    .join('');
}

/** `<name attrs>text</name>`, the text escaped. */
export function textElement(name: string, text: string, attrs: XmlAttributes = {}): string {
  return `<${name}${attributes(attrs)}>${escapeXmlText(text)}</${name}>`;
}

/** `<name attrs/>`. */
export function emptyElement(name: string, attrs: XmlAttributes): string {
  return `<${name}${attributes(attrs)}/>`;
}

/** `<name attrs>` children, indented, `</name>`: children are elements made by these functions. */
export function parentElement(name: string, children: readonly string[], attrs: XmlAttributes = {}, indent = '  '): string {
  // Only markup lines start with `<` (escaped text never holds one): text keeps its whitespace.
  const inner = children.map((child) => child.replace(/^(?=[ \t]*<)/gm, indent)).join('\n');
  return `<${name}${attributes(attrs)}>\n${inner}\n</${name}>`;
}

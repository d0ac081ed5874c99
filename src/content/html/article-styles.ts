import { parseDocument, DomUtils } from 'htmlparser2';
import { Element, isTag, type AnyNode } from 'domhandler';

/**
 * Inline styles on the article HTML itself, for what breaks phones: images and tables no wider
 * than their column, code blocks that wrap, long words and URLs that break. They travel with the
 * HTML, so a user's own MJML layout that only does `{{{html}}}` stays within a 375 px screen; the
 * theme's `<mj-style>` (head.mjml) adds looks on top and never has to be there for the layout to hold.
 */

/**
 * On a wrapper around the whole article: inherited by every paragraph, list, heading and cell.
 * `overflow-wrap: break-word` alone does not shrink a block's minimum width, and MJML puts every
 * column in a table cell, which grows to the minimum width of what it holds: `word-break:
 * break-word` (WebKit, Blink) does, so a long URL breaks instead of widening the email.
 */
export const WRAPPER_STYLE = 'overflow-wrap:break-word;word-wrap:break-word;word-break:break-word;';

/** The declarations above that `check` counts as the tool's own (compat-units.ts), not the template's. */
export const TOOL_DECLARATIONS: readonly [string, string][] = Object.freeze([
  ['overflow-wrap', 'break-word'],
  ['word-wrap', 'break-word'],
  ['word-break', 'break-word'],
  ['white-space', 'pre-wrap'],
]);

/** From this many columns a table gets a smaller font and tighter cells so that it fits a phone. */
export const WIDE_TABLE_COLUMNS = 6;

const STYLES: Readonly<Record<string, string>> = Object.freeze({
  img: 'max-width:100%;height:auto;border:0;',
  // Inline code, on its own line: the theme may set `word-break` on it.
  code: 'word-break:break-word;',
  figure: 'margin:0 0 18px 0;max-width:100%;',
  pre: 'white-space:pre-wrap;max-width:100%;',
  dt: 'font-weight:bold;margin:0;',
  dd: 'margin:0 0 12px 24px;',
});

/** Border and background of each kind of callout box: readable in light mode, kept by dark modes that invert. */
const CALLOUT_COLOURS: Readonly<Record<string, readonly [string, string]>> = Object.freeze({
  note: ['#0969da', '#eef5ff'],
  info: ['#0969da', '#eef5ff'],
  primary: ['#0969da', '#eef5ff'],
  tip: ['#1a7f37', '#edf8f0'],
  success: ['#1a7f37', '#edf8f0'],
  important: ['#8250df', '#f4f0fd'],
  warning: ['#9a6700', '#fff8e5'],
  caution: ['#cf222e', '#fff0f0'],
  danger: ['#cf222e', '#fff0f0'],
  error: ['#cf222e', '#fff0f0'],
});

function calloutStyle(element: Element): string | null {
  const type = /(?:^|\s)nl-callout-(\w+)/.exec(element.attribs.class ?? '')?.[1];
  if (!type) return null;
  const [border, background] = CALLOUT_COLOURS[type] ?? CALLOUT_COLOURS.note!;
  return `margin:0 0 18px 0;padding:12px 16px;border-left:4px solid ${border};background-color:${background};font-style:normal;`;
}

/**
 * An image with a known width is `width:100%` up to that width: in a table cell (every MJML
 * column is one) an image with a fixed width keeps the cell at least that wide, a percentage
 * one does not.
 */
export function imageStyle(img: Element): string {
  // A formula is as large as it was drawn, on the text's baseline (inline) or centred (display).
  if (/(?:^|\s)nl-math(?:\s|$)/.test(img.attribs.class ?? '')) return 'display:inline-block;max-width:100%;height:auto;border:0;vertical-align:middle;';
  const width = Number.parseInt(img.attribs.width ?? '', 10);
  return width > 0 ? `width:100%;max-width:${width}px;height:auto;border:0;` : STYLES.img!;
}

export function appendStyle(element: Element, style: string): void {
  const existing = element.attribs.style?.trim();
  element.attribs.style = existing ? `${existing.replace(/;?$/, ';')}${style}` : style;
}

function columnCount(table: Element): number {
  const row = DomUtils.findOne((node) => node.name === 'tr', table.children, true);
  if (!row) return 0;
  return row.children.filter((cell): cell is Element => isTag(cell) && (cell.name === 'th' || cell.name === 'td')).reduce((sum, cell) => sum + (Number(cell.attribs.colspan) || 1), 0);
}

/** `<col style="width: 37%">` or `<col width="37%">`: a column's share of the table, as written. */
function colWidths(table: Element): (string | null)[] {
  const widths: (string | null)[] = [];
  for (const col of DomUtils.findAll((node) => node.name === 'col', table.children)) {
    const written = /(?:^|;)\s*width\s*:\s*([\d.]+%)/i.exec(col.attribs.style ?? '')?.[1] ?? (/^[\d.]+%$/.test(col.attribs.width ?? '') ? col.attribs.width! : null);
    for (let i = 0; i < (Number(col.attribs.span) || 1); i++) widths.push(written);
  }
  return widths;
}

/**
 * Tables read as tables: a cell never breaks inside a word or number (the article's wrapper
 * breaks long words everywhere else, so cells say `word-break:normal` again), the type is a size
 * smaller than the prose, and a table wider than the screen scrolls inside its own box rather than
 * splitting `07:20` or widening the email. Why a scroll box rather than stacking rows or shrinking
 * the type further: it needs no media query (Gmail's apps with non-Google accounts ignore them),
 * Apple Mail and Gmail scroll it with a swipe, and Outlook for Windows, which ignores `overflow`,
 * shows emails at desktop width where the table fits. The box takes no width of its own
 * (`width:0;min-width:100%`): MJML puts each column in a table cell that grows to the minimum width
 * of its content, so a box with a width would widen the email instead of scrolling.
 * `<colgroup>` widths become the cells' `width`, which email clients honour more widely than `<col>`.
 */
function styleTable(table: Element): void {
  const wide = columnCount(table) >= WIDE_TABLE_COLUMNS;
  const widths = colWidths(table);
  appendStyle(table, `${widths.some(Boolean) ? 'width:100%;' : ''}border-collapse:collapse;font-size:${wide ? '13px' : '15px'};line-height:1.4;`);
  for (const row of DomUtils.findAll((node) => node.name === 'tr', table.children)) {
    let column = 0;
    for (const cell of row.children.filter((node): node is Element => isTag(node) && (node.name === 'th' || node.name === 'td'))) {
      // Markdown column alignment arrives as `align`; say it in CSS too, which every client reads
      // and which the theme's `text-align: left` would otherwise override once inlined.
      const align = cell.attribs.align;
      const textAlign = align === 'center' || align === 'right' || align === 'left' ? `text-align:${align};` : '';
      const width = widths[column];
      if (width && !cell.attribs.colspan) cell.attribs.width = width;
      column += Number(cell.attribs.colspan) || 1;
      appendStyle(cell, `${textAlign}word-break:normal;overflow-wrap:normal;word-wrap:normal;vertical-align:top;padding:${wide ? '4px 8px 4px 0' : '6px 12px 6px 0'};`);
    }
  }
  for (const colgroup of DomUtils.findAll((node) => node.name === 'colgroup', table.children)) DomUtils.removeElement(colgroup);
}

/** The scroll box around a table (see styleTable). */
export const TABLE_BOX_STYLE = 'width:0;min-width:100%;max-width:100%;overflow-x:auto;margin:0 0 18px 0;';

function boxTable(table: Element): void {
  const box = new Element('div', { class: 'nl-table', style: TABLE_BOX_STYLE });
  DomUtils.prepend(table, box);
  DomUtils.removeElement(table);
  DomUtils.appendChild(box, table);
}

/**
 * Adds the inline styles to sanitized HTML, inside one wrapper `<div>` that carries the
 * inherited ones; ids not made by us (`idPrefix`) are dropped.
 */
export function styleArticleHtml(html: string, idPrefix: string | null): string {
  if (!html.trim()) return '';
  const document = parseDocument(html, { decodeEntities: false });
  const walk = (nodes: AnyNode[], inTable: boolean) => {
    for (const node of nodes) {
      if (!isTag(node)) continue;
      if (node.attribs.id !== undefined && (!idPrefix || !node.attribs.id.startsWith(idPrefix))) delete node.attribs.id;
      if (node.name === 'table') {
        styleTable(node);
        boxTable(node);
      }
      else if (node.name === 'h2' && node.attribs.class === 'nl-notes-title') appendStyle(node, 'font-size:17px;');
      else if (node.name === 'img') appendStyle(node, imageStyle(node));
      else if (node.name === 'blockquote' && calloutStyle(node)) appendStyle(node, calloutStyle(node)!);
      else if (node.name === 'p' && node.attribs.class === 'nl-callout-title') appendStyle(node, 'margin:0 0 6px 0;');
      else if (node.name === 'p' && node.attribs.class === 'nl-attribution') appendStyle(node, 'font-style:italic;');
      else if (node.name === 'p' && node.attribs.class === 'nl-math-display') appendStyle(node, 'text-align:center;');
      // Code in a cell keeps the cell's `word-break:normal`: a table never splits a word.
      else if (STYLES[node.name] && !(inTable && node.name === 'code')) appendStyle(node, STYLES[node.name]!);
      walk(node.children, inTable || node.name === 'table');
    }
  };
  walk(document.children, false);
  return `<div style="${WRAPPER_STYLE}">${DomUtils.getOuterHTML(document, { decodeEntities: false, selfClosingTags: true })}</div>`;
}

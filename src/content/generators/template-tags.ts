import type { ContentFinding } from '../types.js';
import { expandShortcode, parseArgs } from './shortcode-forms.js';
import { ADDED_BLANK_LINE, ADDED_LINE_BREAK } from './added-lines.js';

/**
 * The template tags of a blog post's prose (outside code): Hugo `{{< name >}}` / `{{% name %}}`,
 * Zola `{{ name(args) }}` / `{% name(args) %}…{% end %}`, Liquid and Nunjucks `{% name args %}`
 * (with `{% endname %}` when paired) and `{{ expression | filter }}`. Each one becomes what it
 * stands for (shortcode-forms.ts), or is removed with a warning that names it and its line while
 * the text it wraps stays. `{% raw %}` keeps its content literally; comments go quietly.
 */

export interface TagContext {
  file: string | null;
  findings: ContentFinding[];
  /** `{% capture name %}…{% endcapture %}`, for a later `{{ name | markdownify }}`. */
  captures: Map<string, string>;
  /** Whether the post's prose has Liquid or Nunjucks tags (`{% … %}`): then its `{{ … }}` are the generator's too. */
  usesLiquid: boolean;
}

/** Placeholders for text that must come out literally: private-use characters, never in prose. */
const HOLD_OPEN = '\uE000';
const HOLD_CLOSE = '\uE001';


interface Tag {
  kind: 'hugo' | 'liquid' | 'zola-block' | 'zola' | 'expression';
  name: string;
  args: string;
  closing: boolean;
  start: number;
  end: number;
  text: string;
}

const TAG = /\{\{([<%])\s*(\/)?\s*([\w./-]+)([^\n]*?)\s*\/?[>%]\}\}|\{%-?\s*(\/?[\w./-]+)([^\n]*?)-?%\}|\{\{-?([^\n]*?)-?\}\}/g;

function readTag(match: RegExpExecArray): Tag {
  const base = { start: match.index, end: match.index + match[0].length, text: match[0] };
  if (match[1]) return { ...base, kind: 'hugo', name: match[3]!, args: match[4] ?? '', closing: Boolean(match[2]) };
  if (match[5] !== undefined) {
    const zola = /^\s*\(([\s\S]*)\)\s*$/.exec(match[6] ?? '');
    if (zola) return { ...base, kind: 'zola-block', name: match[5], args: zola[1]!, closing: false };
    return { ...base, kind: 'liquid', name: match[5], args: match[6] ?? '', closing: false };
  }
  const inner = match[7]!.trim();
  const zola = /^(\w+)\(([\s\S]*)\)$/.exec(inner);
  if (zola) return { ...base, kind: 'zola', name: zola[1]!, args: zola[2]!, closing: false };
  return { ...base, kind: 'expression', name: inner, args: '', closing: false };
}

function allTags(text: string): Tag[] {
  TAG.lastIndex = 0;
  return [...text.matchAll(TAG)].map((m) => readTag(m as RegExpExecArray));
}

/** Tags that only set up the page and show nothing: removed without a word. */
const QUIET = new Set(['assign', 'set', 'comment', 'increment', 'decrement', 'cycle', 'liquid', 'echo', 'katex', 'toc']);

/** For each tag, the index of the tag that closes it (-1 if none), in one pass: innermost open first, as the generators nest. */
function closingTags(tags: Tag[]): Int32Array {
  const ends = new Int32Array(tags.length).fill(-1);
  const open = new Map<string, number[]>();
  const push = (key: string, index: number) => {
    const stack = open.get(key);
    if (stack) stack.push(index);
    else open.set(key, [index]);
  };
  tags.forEach((tag, index) => {
    if (tag.kind === 'hugo') {
      if (!tag.closing) push(`hugo:${tag.name}`, index);
      else {
        const opener = open.get(`hugo:${tag.name}`)?.pop();
        if (opener !== undefined) ends[opener] = index;
      }
    } else if (tag.kind === 'zola-block') push('zola', index);
    else if (tag.kind === 'liquid') {
      const closes = tag.name === 'end' ? 'zola' : tag.name.startsWith('end') ? `liquid:${tag.name.slice(3)}` : null;
      if (closes === null) push(`liquid:${tag.name}`, index);
      else {
        const opener = open.get(closes)?.pop();
        if (opener !== undefined) ends[opener] = index;
      }
    }
  });
  return ends;
}

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

/** Tags inside tags inside tags…: past this depth the rest are removed with one warning (no recursion without end). */
const MAX_DEPTH = 32;

export class TagRewriter {
  private readonly held: string[] = [];
  private readonly heldBreaks: number[] = [];
  private text = '';
  /** Offsets of line breaks (and of held texts with line breaks) in `source`, and the count up to each. */
  private index: { at: number[]; count: number[] } | null = null;
  constructor(private readonly context: TagContext, private readonly firstLine: number) {}

  /** The text that offsets refer to (it changes as it is rewritten), for line numbers. */
  get source(): string {
    return this.text;
  }

  set source(text: string) {
    this.text = text;
    this.index = null;
  }

  /** The file's line of an offset in `source`, counting the line breaks inside held text too. */
  lineAt(offset: number): number {
    if (!this.index) {
      const at: number[] = [];
      const count: number[] = [];
      let total = 0;
      for (const match of this.text.matchAll(/\n|\uE000(\d+)\uE001/g)) {
        const breaks = match[1] === undefined ? 1 : this.breaksOfHeld(Number(match[1]));
        if (!breaks) continue;
        total += breaks;
        at.push(match.index);
        count.push(total);
      }
      this.index = { at, count };
    }
    // The last entry before `offset`, by binary search.
    const { at, count } = this.index;
    let low = 0;
    let high = at.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (at[middle]! < offset) low = middle + 1;
      else high = middle;
    }
    return this.firstLine + (low > 0 ? count[low - 1]! : 0);
  }

  private breaksOfHeld(n: number): number {
    return this.heldBreaks[n] ?? 0;
  }

  /** Text kept literally until `release`. */
  hold(text: string): string {
    this.held.push(text);
    this.heldBreaks.push((text.match(/\n/g) ?? []).length + this.heldLineBreaks(text));
    return `${HOLD_OPEN}${this.held.length - 1}${HOLD_CLOSE}`;
  }

  /** Line breaks inside the held texts that `text` refers to, so that lines are counted as written. */
  heldLineBreaks(text: string): number {
    let count = 0;
    for (const match of text.matchAll(/\uE000(\d+)\uE001/g)) count += this.breaksOfHeld(Number(match[1]));
    return count;
  }

  release(text: string): string {
    return text.replace(/\uE000(\d+)\uE001/g, (_, n: string) => this.release(this.held[Number(n)] ?? ''));
  }

  private warn(message: string, offset: number): void {
    if (this.context.file) this.context.findings.push({ rule: 'content/removed', severity: 'warn', message, file: this.context.file, line: this.lineAt(offset) });
  }

  /** Rewrites the template tags of `text`, whose first character is at `offset` in the prose. */
  rewrite(text: string, offset: number, depth = 0): string {
    if (offset === 0 && depth === 0) this.source = text;
    const tags = allTags(text);
    if (depth > MAX_DEPTH && tags.length) {
      this.warn(`removed ${tags.length} template tags nested more than ${MAX_DEPTH} deep (kept the text between them)`, offset + tags[0]!.start);
      TAG.lastIndex = 0;
      return text.replace(TAG, '');
    }
    const ends = closingTags(tags);
    let out = '';
    let at = 0;
    for (let i = 0; i < tags.length; i += 1) {
      const tag = tags[i]!;
      if (tag.start < at) continue;
      out += text.slice(at, tag.start);
      const lineStart = text.lastIndexOf('\n', tag.start - 1) + 1;
      const block = text.slice(lineStart, tag.start).trim() === '';
      const end = tag.closing || tag.kind === 'expression' || tag.kind === 'zola' ? -1 : this.pairedEnd(tags, i, ends);
      if (end >= 0) {
        const close = tags[end]!;
        const inner = text.slice(tag.end, close.start);
        out += this.balanced(this.block(tag, inner, tag.end + offset, offset + tag.start, block, depth + 1), text.slice(tag.start, close.end));
        at = close.end;
        // Skip the tags inside: they were rewritten with the body.
        while (i + 1 < tags.length && tags[i + 1]!.start < at) i += 1;
        continue;
      }
      out += this.balanced(this.single(tag, offset + tag.start, block), tag.text);
      at = tag.end;
    }
    return out + text.slice(at);
  }

  private breaks(text: string): number {
    return (text.match(/\n/g) ?? []).length + this.heldLineBreaks(text);
  }

  /** `output` with as many line breaks as `written` had: the lines after it keep their numbers. */
  private balanced(output: string, written: string): string {
    const need = this.breaks(written);
    let result = output;
    if (this.breaks(result) > need) result = result.replace(/\n/g, ADDED_LINE_BREAK);
    return result + '\n'.repeat(Math.max(0, need - this.breaks(result)));
  }

  /**
   * `{{ npm.downloads | humanReadableNum }}`, `{{ site.title }}`: a generator's. A bare
   * `{{name}}` or `{{{x}}}` in a post with no other Liquid or Nunjucks tag is the author's own text
   * (a post about Handlebars or Mustache), shown as written: content is data, never run.
   */
  private isGeneratorExpression(tag: Tag): boolean {
    if (tag.text.startsWith('{{{')) return false;
    return tag.name.includes('|') || GENERATOR_DATA.test(tag.name) || this.context.usesLiquid;
  }

  private pairedEnd(tags: Tag[], index: number, ends: Int32Array): number {
    const tag = tags[index]!;
    if (tag.kind === 'liquid' && /^(?:end|else|elsif|elif|when)/.test(tag.name)) return -1;
    if (tag.kind === 'liquid' && tag.name === 'set' && /=/.test(tag.args)) return -1;
    if (tag.kind === 'hugo' && /\/\s*$/.test(tag.text.slice(0, -3))) return -1;
    return ends[index]!;
  }

  private block(tag: Tag, inner: string, innerOffset: number, at: number, block: boolean, depth: number): string {
    const name = tag.name.toLowerCase();
    if (tag.kind === 'liquid') {
      if (name === 'comment') return '';
      if (name === 'raw') return this.hold(inner);
      if (name === 'capture') {
        this.context.captures.set(tag.args.trim(), this.rewrite(inner, innerOffset, depth));
        return '';
      }
      if (['if', 'unless', 'for', 'case', 'tablerow'].includes(name)) return this.conditional(tag, inner, innerOffset, at, depth);
    }
    const body = this.rewrite(inner, innerOffset, depth);
    const html = expandShortcode({ name, args: parseArgs(tag.args), body, block });
    if (html !== null) return html;
    this.warn(`removed the ${syntaxName(tag)} \`${short(tag.text)}\` and its closing tag (kept the text inside): only the blog's site can run it`, at);
    return body;
  }

  /**
   * `{% if %}`, `{% for %}`: the blog's site data decides, which a newsletter does not have. A
   * branch that only shows text is kept; one that shows site data (`{{ npm.downloads }}`) would
   * read as a sentence with holes, so it goes, with a warning.
   */
  private conditional(tag: Tag, inner: string, innerOffset: number, at: number, depth: number): string {
    const firstBranch = inner.split(/\{%-?\s*(?:else|elsif|elif|when)\b[^%]*%\}/)[0]!;
    const usesData = tag.name !== 'if' && tag.name !== 'unless' ? true : allTags(firstBranch).some((t) => t.kind === 'expression' && !this.context.captures.has(variableOf(t.name)));
    if (usesData) {
      this.warn(`removed \`${short(tag.text)}\` … \`{% end${tag.name} %}\` with what it wraps: it shows the blog's site data, which the newsletter does not have`, at);
      return '';
    }
    this.warn(`removed the condition \`${short(tag.text)}\` (kept the text it wraps): only the blog's site can evaluate it`, at);
    return this.rewrite(firstBranch, innerOffset, depth);
  }

  private single(tag: Tag, at: number, block: boolean): string {
    const name = tag.name.toLowerCase();
    if (tag.kind === 'expression') {
      const captured = this.context.captures.get(variableOf(tag.name));
      if (captured !== undefined) return block ? `${ADDED_BLANK_LINE}${captured.trim()}${ADDED_BLANK_LINE}` : captured;
      if (!this.isGeneratorExpression(tag)) return tag.text;
      this.warn(`removed the template expression \`${short(tag.text)}\`: only the blog's site has its value`, at);
      return '';
    }
    if (tag.closing || /^end/.test(name) || ['else', 'elsif', 'elif', 'when'].includes(name)) {
      this.warn(`removed \`${short(tag.text)}\`, a closing tag without its opening one`, at);
      return '';
    }
    if (tag.kind === 'liquid' && QUIET.has(name)) return '';
    const html = expandShortcode({ name, args: parseArgs(tag.args), body: null, block });
    if (html !== null) return html;
    this.warn(`removed the ${syntaxName(tag)} \`${short(tag.text)}\`: only the blog's site can run it`, at);
    return '';
  }
}

/** The data a generator hands its templates: Jekyll's `site`, `page`; Eleventy's `collections`; Hugo's `.Site`, `.Params`. */
const GENERATOR_DATA = /^-?\s*(?:site|page|post|paginator|layout|include|jekyll|content|config|collections|eleventy|pkg|metadata|data|section|\.Site|\.Params|\.Page|\$\.Site)\b[.\w[\]'"]*\s*-?$/;

function syntaxName(tag: Tag): string {
  if (tag.kind === 'hugo') return 'Hugo shortcode';
  if (tag.kind === 'zola' || tag.kind === 'zola-block') return 'Zola shortcode';
  return 'template tag';
}

/** `notice-2 | markdownify` → `notice-2`. */
function variableOf(expression: string): string {
  return expression.split('|')[0]!.trim();
}

// The escaped forms of Zola and Hugo (a shortcode inside a C comment inside the braces): shown as the site shows them, unescaped.
export function unescapeShortcodes(text: string): string {
  return text
    .replace(/\{\{<\/\*\s?([\s\S]*?)\s?\*\/>\}\}/g, '{{< $1 >}}')
    .replace(/\{\{%\/\*\s?([\s\S]*?)\s?\*\/%\}\}/g, '{{% $1 %}}')
    .replace(/\{\{\/\*\s?([\s\S]*?)\s?\*\/\}\}/g, '{{ $1 }}')
    .replace(/\{%\/\*\s?([\s\S]*?)\s?\*\/%\}/g, '{% $1 %}');
}

// Liquid's raw and endraw tags are gone once the site is built, everywhere, code included.
export function stripRawTags(text: string): string {
  return text.replace(/\{%-?\s*(?:end)?raw\s*-?%\}/g, '');
}

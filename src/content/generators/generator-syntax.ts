import type { ContentFinding } from '../types.js';
import { ADDED_BLANK_LINE, ADDED_LINE_BREAK } from './added-lines.js';
import { TagRewriter, stripRawTags, unescapeShortcodes, type TagContext } from './template-tags.js';
import { kramdownBlockAttributes, kramdownSpanAttributes, markdownAttributeOpen } from './kramdown.js';

/**
 * The first step on an article's Markdown: what the blog's generator (Hugo, Zola, Jekyll,
 * Eleventy) would have done before its Markdown renderer, done the way an email needs it, so that
 * no template syntax reaches a reader. Line by line: code (fenced, `{% highlight %}`,
 * `{{< highlight >}}`, Zola's `{% mermaid() %}`) keeps generator syntax verbatim and unescaped;
 * kramdown's attribute lists and `markdown="1"` blocks are resolved (kramdown.ts); the prose
 * between goes through the template tags (template-tags.ts).
 */

export interface GeneratorSyntax {
  source: string;
  findings: ContentFinding[];
  /** For each line of `source`, the line of the file it comes from. */
  lineMap: number[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const HIGHLIGHT_LIQUID = /^\s*\{%-?\s*highlight\s+([\w+#.-]+)[^%]*?-?%\}(.*)$/;
const HIGHLIGHT_LIQUID_END = /^(.*?)\{%-?\s*endhighlight\s*-?%\}\s*$/;
const HIGHLIGHT_HUGO = /^\s*\{\{[<%]\s*highlight\s+([\w+#.-]+)[^\n]*?[>%]\}\}(.*)$/;
const HIGHLIGHT_HUGO_END = /^(.*?)\{\{[<%]\s*\/\s*highlight\s*[>%]\}\}\s*$/;
const MERMAID_ZOLA = /^\s*\{%-?\s*mermaid\([^)]*\)\s*-?%\}\s*$/;
const ZOLA_END = /^\s*\{%-?\s*end\s*-?%\}\s*$/;
/** `{{ site.url }}/assets/a.png`: the site's root, which is where a path starting with / is looked for. */
const SITE_ROOT = /\{\{-?\s*(?:site\.url|site\.baseurl|\.Site\.BaseURL|config\.base_url)\s*-?\}\}(?=\/)/gi;
/** `[text]({{< ref "x" >}})`, `[text]({{ "https://…" | filter }})`: a link whose target is a template tag. */
const TEMPLATE_LINK = /(!?)\[((?:[^[\]\n]|\[[^[\]\n]*\])*)\]\(\s*(\{\{[<%][^\n]*?[>%]\}\}|\{\{[^\n]*?\}\}|\{%[^\n]*?%\})\s*\)/g;

function codeFence(lang: string, lines: string[]): string[] {
  const longest = Math.max(2, ...lines.map((line) => Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...lines, fence];
}

export function rewriteGeneratorSyntax(source: string, file: string | null, firstLine: number): GeneratorSyntax {
  const findings: ContentFinding[] = [];
  const context: TagContext = { file, findings, captures: new Map(), usesLiquid: false };
  const input = source.split('\n');
  // Code is held out of the prose (as one placeholder a block, released verbatim at the end), so
  // that a shortcode around a code block still finds its closing tag.
  const lines: string[] = [];
  const rewriter = new TagRewriter(context, firstLine);
  const holdCode = (code: string[]) => lines.push(rewriter.hold(code.join('\n')));
  const markdownBlocks: { tag: string; depth: number }[] = [];

  for (let i = 0; i < input.length; i += 1) {
    const line = input[i]!;
    const fence = FENCE.exec(line);
    const highlight = HIGHLIGHT_LIQUID.exec(line) ?? HIGHLIGHT_HUGO.exec(line);
    if (fence) {
      const marks = fence[2]!;
      const close = new RegExp(`^\\s*${marks[0] === '`' ? '`' : '~'}{${marks.length},}\\s*$`);
      const code = [line];
      for (i += 1; i < input.length; i += 1) {
        const closing = close.test(input[i]!);
        code.push(closing ? input[i]! : unescapeShortcodes(stripRawTags(input[i]!)));
        if (closing) break;
      }
      holdCode(code);
      continue;
    }
    if (highlight || MERMAID_ZOLA.test(line)) {
      const end = highlight ? (HIGHLIGHT_LIQUID.test(line) ? HIGHLIGHT_LIQUID_END : HIGHLIGHT_HUGO_END) : ZOLA_END;
      const code: string[] = highlight?.[2]?.trim() ? [highlight[2]] : [];
      let j = i + 1;
      for (; j < input.length; j += 1) {
        const ending = end.exec(input[j]!);
        if (ending) {
          if (ending[1]?.trim()) code.push(ending[1]);
          break;
        }
        code.push(input[j]!);
      }
      if (j < input.length) {
        // As many lines as the tags and code took, so that later lines keep their numbers.
        holdCode(codeFence(highlight ? highlight[1]! : 'mermaid', code.map((c) => unescapeShortcodes(stripRawTags(c)))));
        i = j;
        continue;
      }
      // No end tag: not a code block after all; the line goes through the prose rules.
    }
    const attributes = kramdownBlockAttributes(line);
    if (attributes) {
      applyBlockAttributes(lines, attributes);
      lines.push('');
      continue;
    }
    const markdownBlock = markdownAttributeOpen(line);
    if (markdownBlock) {
      lines.push(`${markdownBlock.line}${HELD_BREAK}`);
      markdownBlocks.push({ tag: markdownBlock.tag, depth: 0 });
      continue;
    }
    const open = markdownBlocks.at(-1);
    if (open) {
      open.depth += (line.match(new RegExp(`<${open.tag}\\b`, 'gi')) ?? []).length;
      if (new RegExp(`^\\s*</${open.tag}>`, 'i').test(line)) {
        if (open.depth === 0) {
          markdownBlocks.pop();
          lines.push(`${HELD_BREAK}${line}`);
          continue;
        }
        open.depth -= 1;
      }
    }
    lines.push(line);
  }
  // Every line of the file is one line here; the breaks this step added become lines of their own now.
  const out: string[] = [];
  const lineMap: number[] = [];
  rewriteProse(lines.join('\n'), context, rewriter)
    .split('\n')
    .forEach((line, index) => {
      for (const piece of line.replaceAll(ADDED_BLANK_LINE, '\n\n').replaceAll(ADDED_LINE_BREAK, '\n').split('\n')) {
        out.push(piece);
        lineMap.push(firstLine + Math.min(index, input.length - 1));
      }
    });
  return { source: out.join('\n'), findings, lineMap };
}

/** A blank line that kramdown's `markdown="1"` needs and the file does not have. */
const HELD_BREAK = ADDED_BLANK_LINE;

/**
 * A kramdown block attribute list (`{: .notice--info}` on the line after a paragraph or quote):
 * a callout class makes the block a callout; anything else means nothing in email and goes.
 */
function applyBlockAttributes(lines: string[], attributes: { callout: string | null; title: string | null }): void {
  if (!attributes.callout) return;
  let start = lines.length;
  // The block just before: a quote's `>` lines, or else everything back to a blank line.
  const quote = /^\s*>/.test(lines.at(-1) ?? '');
  while (start > 0 && lines[start - 1]!.trim() !== '' && (!quote || /^\s*>/.test(lines[start - 1]!))) start -= 1;
  if (start === lines.length) return;
  const block = lines.splice(start);
  const quoted = block.every((line) => /^\s*>/.test(line));
  const body = quoted ? block.map((line) => line.replace(/^\s*> ?/, '')) : block;
  // The box's tags share the first and last lines of the block: later lines keep their numbers.
  const title = attributes.title ? ` data-nl-title="${attributes.title}"` : '';
  body[0] = `<div data-nl-callout="${attributes.callout}"${title}>${HELD_BREAK}${body[0]}`;
  body[body.length - 1] = `${body.at(-1)}${HELD_BREAK}</div>`;
  lines.push(...body);
}

function rewriteProse(text: string, context: TagContext, rewriter: TagRewriter): string {
  // Literal first: `{% raw %}` regions and inline code (where generator syntax is shown, not run).
  rewriter.source = text;
  context.usesLiquid = /\{%-?\s*[a-z]\w*(?!\()[\s\S]*?%\}/.test(text.replace(/\{%-?\s*\w+\([^)]*\)\s*-?%\}/g, ''));
  let held = text.replace(/\{%-?\s*raw\s*-?%\}([\s\S]*?)\{%-?\s*endraw\s*-?%\}/g, (_, inner: string) => rewriter.hold(inner));
  rewriter.source = held;
  held = held.replace(/(`+)(?!`)([^\n]*?[^`\n])\1(?!`)/g, (whole) => rewriter.hold(unescapeShortcodes(stripRawTags(whole))));
  rewriter.source = held;
  held = held.replace(/\{#[^\n]*?#\}/g, '');
  rewriter.source = held;
  held = held.replace(SITE_ROOT, '');
  rewriter.source = held;
  held = held.replace(TEMPLATE_LINK, (_whole, bang: string, label: string, target: string, offset: number) => {
    const literal = /["'](https?:\/\/[^"'\s]+)["']/.exec(target);
    if (literal) return `${bang}[${label}](${literal[1]})`;
    // `![x]({{ "/assets/x.png" | relative_url }})`: an image of the site, which is where the content folder is.
    const path = bang ? /["']([^"'\s{}]+\.\w+)["']/.exec(target) : null;
    if (path) return `![${label}](${path[1]})`;
    if (context.file) {
      context.findings.push({
        rule: 'content/removed',
        severity: 'warn',
        message: `removed the ${bang ? 'image' : 'link'} target \`${target.length > 50 ? `${target.slice(0, 47)}...` : target}\` of "${rewriter.release(label)}": only the blog's site can resolve it (the text stays, without a link)`,
        file: context.file,
        line: rewriter.lineAt(offset),
      });
    }
    return bang ? '' : label;
  });
  held = kramdownSpanAttributes(held);
  return rewriter.release(rewriter.rewrite(held, 0));
}

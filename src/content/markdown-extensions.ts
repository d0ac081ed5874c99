import type { MarkedExtension, Tokens } from 'marked';
import { escapeHtml } from './html/escape.js';
import { TexError, mathImageName, texToSvg } from './math/tex-to-svg.js';

/**
 * Markdown that blogs write and GFM does not read: TeX math (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`)
 * made an image (MathJax SVG, rasterized by the image stage) with the TeX as alt text, and
 * kramdown / PHP Markdown Extra definition lists (`Term` then `: definition`).
 */

export interface GeneratedImage {
  /** The `src` the HTML carries until the image stage replaces it. */
  src: string;
  svg: string;
}

export interface MathProblem {
  tex: string;
  message: string;
}

export interface MathState {
  images: Map<string, GeneratedImage>;
  problems: MathProblem[];
}

function mathHtml(tex: string, display: boolean, state: MathState, ownBlock = display): string {
  const trimmed = tex.trim();
  try {
    const image = texToSvg(trimmed, display);
    const src = mathImageName(trimmed, display);
    state.images.set(src, { src, svg: image.svg });
    const img = `<img class="nl-math" src="${src}" alt="${escapeHtml(trimmed)}" width="${image.width}" height="${image.height}">`;
    return ownBlock ? `<p class="nl-math-display">${img}</p>\n` : img;
  } catch (error) {
    if (!(error instanceof TexError)) throw error;
    state.problems.push({ tex: trimmed, message: error.message });
    return ownBlock ? `<pre><code>${escapeHtml(trimmed)}</code></pre>\n` : `<code>${escapeHtml(trimmed)}</code>`;
  }
}

/** Inline `$…$` is math only when it reads as TeX: not "$5 and $10". */
function looksLikeTex(text: string): boolean {
  return text.trim() !== '' && (/[\\^_={}]/.test(text) || /^\s*[A-Za-z]\s*$/.test(text));
}

export function mathExtension(state: MathState): MarkedExtension {
  return {
    extensions: [
      {
        name: 'mathBlock',
        level: 'block',
        start: (src: string) => src.match(/^ {0,3}(?:\$\$|\\\[)/m)?.index,
        tokenizer(src: string) {
          const match = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
          if (!match) return undefined;
          return { type: 'mathBlock', raw: match[0], text: match[1] ?? match[2] ?? '' };
        },
        renderer: (token) => mathHtml((token as Tokens.Generic).text as string, true, state),
      },
      {
        name: 'mathInline',
        level: 'inline',
        start(src: string) {
          // `\\(` and `\\[` too: Markdown turns them into the `\(` and `\[` that KaTeX and MathJax read on the blog.
          const match = /\\\\[([]|(?<!\\)\\\(|(?<!\\)\$/.exec(src);
          return match?.index;
        },
        tokenizer(src: string) {
          const display = /^\$\$([^\n]+?)\$\$/.exec(src);
          if (display) return { type: 'mathInline', raw: display[0], text: display[1]!, display: false };
          const escaped = /^\\\\([([])([^\n]+?)\\\\([)\]])/.exec(src);
          if (escaped && (escaped[1] === '(') === (escaped[3] === ')')) return { type: 'mathInline', raw: escaped[0], text: escaped[2]!, display: escaped[1] === '[' };
          const paren = /^\\\(([^\n]+?)\\\)/.exec(src);
          if (paren) return { type: 'mathInline', raw: paren[0], text: paren[1]!, display: false };
          const dollar = /^\$((?:\\\$|[^$\n])+?)\$(?!\d)/.exec(src);
          if (dollar && looksLikeTex(dollar[1]!)) return { type: 'mathInline', raw: dollar[0], text: dollar[1]!, display: false };
          return undefined;
        },
        renderer: (token) => mathHtml((token as Tokens.Generic).text as string, Boolean((token as Tokens.Generic).display), state, false),
      },
    ],
  };
}

/** `Term` on a line, then one or more `: definition` lines (kramdown, PHP Markdown Extra, Pandoc). */
export const definitionListExtension: MarkedExtension = {
  extensions: [
    {
      name: 'definitionList',
      level: 'block',
      start: (src: string) => src.match(/^[^\n:][^\n]*\n:[ \t]/m)?.index,
      tokenizer(src: string) {
        const match = /^(?:[^\n:][^\n]*\n(?::[ \t]+[^\n]+(?:\n|$))+\n*)+/.exec(src);
        if (!match) return undefined;
        const items: { term: Tokens.Generic[]; definitions: Tokens.Generic[][] }[] = [];
        for (const line of match[0].split('\n')) {
          if (!line.trim()) continue;
          const definition = /^:[ \t]+(.*)$/.exec(line);
          if (definition) items.at(-1)?.definitions.push(this.lexer.inlineTokens(definition[1]!) as Tokens.Generic[]);
          else items.push({ term: this.lexer.inlineTokens(line.trim()) as Tokens.Generic[], definitions: [] });
        }
        return { type: 'definitionList', raw: match[0], items };
      },
      renderer(token) {
        const items = (token as Tokens.Generic).items as { term: Tokens.Generic[]; definitions: Tokens.Generic[][] }[];
        const body = items
          .map(({ term, definitions }) => `<dt>${this.parser.parseInline(term)}</dt>\n${definitions.map((d) => `<dd>${this.parser.parseInline(d)}</dd>`).join('\n')}`)
          .join('\n');
        return `<dl>\n${body}\n</dl>\n`;
      },
    },
  ],
};

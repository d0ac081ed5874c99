import type { ContentFinding } from './types.js';

/**
 * MDX is Markdown with JavaScript: `import`/`export` statements, JSX components and `{expressions}`.
 * An email cannot run any of it, so an `.mdx` post is read as the Markdown it holds: statements and
 * expressions are removed, a component's tags are removed and its children kept (they are usually
 * the text the component shows), and every removal is a warning at its line. Line breaks are kept,
 * so later findings still point at the right line of the file.
 */

export interface MdxResult {
  body: string;
  findings: ContentFinding[];
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const IMPORT_START = /^import\s/;
const IMPORT_END = /(?:^import\s+['"][^'"]+['"]|from\s+['"][^'"]+['"])\s*;?\s*$/;
const EXPORT_START = /^export\s/;
/** `<Chart …>`, `</Chart>`, `<Chart … />`, `<ui.Button>`: JSX components start with a capital or hold a dot. */
const COMPONENT_TAG = /<\/?(?:[A-Z][\w]*|[a-z]\w*(?:\.\w+)+)(?:\s(?:[^<>{}]|\{[^{}]*\})*)?\/?>/g;
/** `{expression}`, but not `{/* comment *\/}` (removed silently, as HTML comments are). */
const COMMENT = /\{\s*\/\*[\s\S]*?\*\/\s*\}/g;
const EXPRESSION = /\{[^{}\n]*\}/g;

function braceDepth(text: string): number {
  let depth = 0;
  for (const char of text) {
    if (char === '{' || char === '(' || char === '[') depth++;
    else if (char === '}' || char === ')' || char === ']') depth--;
  }
  return depth;
}

export function stripMdx(body: string, file: string, firstLine: number): MdxResult {
  const lines = body.split('\n');
  const findings: ContentFinding[] = [];
  const warn = (index: number, what: string): void => {
    findings.push({ rule: 'content/removed', severity: 'warn', message: `MDX ${what} removed: an email runs no JavaScript`, file, line: firstLine + index });
  };
  let fence: string | null = null;
  // Inside a component's tags, its children are indented as JSX, not as Markdown code.
  let componentDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opened = FENCE.exec(line);
    if (fence) {
      if (opened && opened[1]!.startsWith(fence)) fence = null;
      continue;
    }
    if (opened) {
      fence = opened[1]!;
      continue;
    }
    if (IMPORT_START.test(line) || EXPORT_START.test(line)) {
      const isImport = IMPORT_START.test(line);
      const start = i;
      let depth = braceDepth(line);
      // A statement may run over several lines: `import {\n a,\n b\n} from 'x'`, `export const meta = {\n…\n}`.
      while (i + 1 < lines.length && (isImport ? !IMPORT_END.test(lines[i]!) : depth > 0)) {
        i++;
        depth += braceDepth(lines[i]!);
      }
      const statement = lines[start]!.trim().split(/\s+/).slice(0, 3).join(' ');
      warn(start, `statement \`${statement.length > 60 ? `${statement.slice(0, 60)}…` : statement}\``);
      for (let j = start; j <= i; j++) lines[j] = '';
      continue;
    }
    let text = (componentDepth > 0 ? line.trimStart() : line).replace(COMMENT, '');
    // Inline code keeps its braces and angle brackets: only text outside backticks is JSX.
    text = text
      .split(/(`+[^`]*`+)/)
      .map((part, index) => {
        if (index % 2 === 1) return part;
        return part
          .replace(COMPONENT_TAG, (tag) => {
            if (tag.startsWith('</')) componentDepth = Math.max(0, componentDepth - 1);
            else if (!tag.endsWith('/>')) componentDepth++;
            warn(i, `component tag \`${tag.length > 60 ? `${tag.slice(0, 60)}…` : tag}\``);
            return '';
          })
          .replace(EXPRESSION, (expression) => {
            warn(i, `expression \`${expression.length > 60 ? `${expression.slice(0, 60)}…` : expression}\``);
            return '';
          });
      })
      .join('');
    // A line that held only a tag becomes empty, not a line of spaces that Markdown reads as code.
    lines[i] = text.trim() === '' ? '' : text;
  }
  return { body: lines.join('\n'), findings };
}

import type { ContentFinding } from './types.js';

/**
 * Control characters arrive in wire copy from agency systems (VT, FF, ESC, record separators) and
 * in pasted text (NUL). None of them is allowed in XML (the feeds), none shows in a page, and NUL
 * becomes `=00` in a message. They are taken out where a file is read, and the editor is told
 * where: nothing the user wrote goes missing in silence.
 */

/** C0 controls but tab and the line ends, DEL, C1 controls, and the non-characters U+FFFE/U+FFFF. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/g;

/** Page and line separators of wire copy stand between words: a space keeps the words apart. */
const AS_SPACE = new Set(['\u000B', '\u000C', '\u0085']);

export function hasControlCharacter(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

function codePoint(c: string): string {
  return `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

export interface Scrubbed {
  text: string;
  /** One `content/removed` finding naming the lines, or none when the text was clean. */
  findings: ContentFinding[];
}

/** `text` without control characters, and a warning that names the file and the lines. */
export function scrubControlCharacters(text: string, file: string): Scrubbed {
  if (!hasControlCharacter(text)) return { text, findings: [] };
  const lines: number[] = [];
  const kinds = new Set<string>();
  let line = 1;
  let out = '';
  for (const c of text) {
    if (c === '\n') line++;
    CONTROL.lastIndex = 0;
    if (!CONTROL.test(c)) {
      out += c;
      continue;
    }
    kinds.add(codePoint(c));
    if (lines[lines.length - 1] !== line) lines.push(line);
    if (AS_SPACE.has(c)) out += ' ';
  }
  const shown = lines.length > 8 ? `${lines.slice(0, 8).join(', ')} and ${lines.length - 8} more` : lines.join(', ');
  return {
    text: out,
    findings: [
      {
        rule: 'content/removed',
        severity: 'warn',
        message: `control characters (${[...kinds].join(', ')}) removed from line${lines.length > 1 ? 's' : ''} ${shown}: no email or feed can carry them`,
        file,
        line: lines[0],
      },
    ],
  };
}

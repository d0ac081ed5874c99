import matter from 'gray-matter';
import { NewsletterError } from '../errors.js';
import { yamlHint } from './yaml-hint.js';

export interface FrontMatter {
  data: Record<string, unknown>;
  /** The text after the front matter. */
  body: string;
  /** 1-based line of the file where `body` starts. */
  bodyLine: number;
  /** The raw YAML text, for finding the line of a key. */
  yaml: string;
}

const refuseToRun = (language: string) => () => {
  throw new Error(`front matter in ${language} is never run; write it as YAML`);
};

// gray-matter evaluates a `---js` block with eval(); content is data, so only YAML (and JSON,
// which is YAML) may be parsed. Every other engine throws.
const SAFE_ENGINES = {
  javascript: { parse: refuseToRun('JavaScript') },
  js: { parse: refuseToRun('JavaScript') },
  coffee: { parse: refuseToRun('CoffeeScript') },
  coffeescript: { parse: refuseToRun('CoffeeScript') },
  cson: { parse: refuseToRun('CSON') },
};

/** Splits YAML front matter from the body, mapping YAML errors to the line in the file. */
export function parseFrontMatter(source: string, file: string): FrontMatter {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!text.startsWith('---')) return { data: {}, body: text, bodyLine: 1, yaml: '' };

  const firstLine = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'));
  const language = firstLine.slice(3).trim();
  if (language && !/^ya?ml$/i.test(language)) {
    throw new NewsletterError('CONTENT_YAML', `front matter must be YAML; \`${firstLine}\` blocks are never run`, {
      file,
      line: 1,
      hint: 'start the file with a line `---` and write the keys as YAML',
    });
  }
  if (!/\n---[ \t]*(\n|$)/.test(text.slice(firstLine.length))) {
    throw new NewsletterError('CONTENT_YAML', 'front matter is not closed: add a line `---` after the last key', { file, line: 1 });
  }

  let parsed: matter.GrayMatterFile<string>;
  try {
    parsed = matter(text, { engines: SAFE_ENGINES as never });
  } catch (error) {
    const yamlError = error as Error & { mark?: { line: number }; reason?: string };
    // The YAML text starts right after `---` (with that line's newline), so its line 0 is file line 1.
    const line = yamlError.mark ? yamlError.mark.line + 1 : 1;
    const reason = yamlError.reason ?? yamlError.message.split('\n')[0];
    throw new NewsletterError('CONTENT_YAML', `invalid YAML front matter: ${reason}`, { file, line, hint: yamlHint(text, line) ?? yamlHint(text, line - 1) });
  }

  const data = parsed.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new NewsletterError('CONTENT_YAML', 'front matter must be a set of `key: value` lines', { file, line: 2 });
  }
  // parsed.matter is everything between the opening `---` and the closing one, starting with the
  // newline after `---`, so its line count is the opening line plus the YAML lines.
  const yaml = `---${parsed.matter}`;
  return { data, body: parsed.content, bodyLine: parsed.matter.split('\n').length + 2, yaml };
}

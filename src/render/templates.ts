import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { fileError, readRegularFile } from '../fs/read-regular-file.js';
import { displayPath } from '../fs/display-path.js';
import path from 'node:path';
import Handlebars from 'handlebars';
import { z } from 'zod';
import { NewsletterError, isNewsletterError } from '../errors.js';
import { fontFamilyName, fontStack, themeSchema, themeUrl } from '../config/schema.js';
import type { DeepPartialTheme, Theme } from '../config/defaults.js';
import { parseJsonText, zodToError } from '../config/load-config.js';
import { registerHelpers } from './helpers.js';
import { mergeTagHint } from './lint.js';
import { didYouMean } from '../suggest.js';
import { lineOfJsonKey } from '../text-position.js';
import { expandIncludes } from './mj-include.js';
import { createTemplateImageRefs, markTemplateImages, type TemplateImageRefs } from './template-image-refs.js';

/**
 * The templates folder, loaded and compiled once: layouts (`layouts/<name>.mjml` and the text
 * layouts `layouts/<name>.txt`), partials (`partials/<name>.mjml`) and `theme.json`. Each set gets
 * its own Handlebars environment so that nothing registered here leaks between projects.
 */

export type HandlebarsEnv = typeof Handlebars;
export type Program = hbs.AST.Program;

export interface TemplateFile {
  name: string;
  /** Path as shown in messages. */
  file: string;
  source: string;
  ast: Program;
  render: HandlebarsTemplateDelegate;
}

export interface TemplateSet {
  dir: string;
  /** The request's working folder, which the templates' paths are shown relative to. */
  cwd: string;
  layouts: Map<string, TemplateFile>;
  textLayouts: Map<string, TemplateFile>;
  partials: Map<string, TemplateFile>;
  theme: Theme;
  themeFile: string;
  env: HandlebarsEnv;
  /**
   * Layouts that cannot be used, with why (`digest`, or `digest.txt` for a text layout): a syntax
   * error, a bad include, a lint problem, a broken partial they call. Only the issues that use one
   * fail; `build` and `check` warn of the others (`brokenLayoutWarnings`).
   */
  broken: Map<string, NewsletterError>;
  /** Partials that do not compile; a layout that calls one is broken with the partial's error. */
  brokenPartials: Map<string, NewsletterError>;
  /** Images the templates write as paths next to them, each replaced by a marker (template-image-refs.ts). */
  images?: TemplateImageRefs | undefined;
}

/** Where a template error happened; attached to errors thrown while rendering a partial. */
const TEMPLATE_FILE = Symbol('templateFile');
type Attributed = Error & { [TEMPLATE_FILE]?: string; lineNumber?: number; column?: number };

const themeFileSchema = themeSchema.extend({
  colors: themeSchema.shape.colors.unwrap().required(),
  darkColors: themeSchema.shape.darkColors.unwrap().required().nullable(),
  fonts: z.strictObject({
    body: fontStack,
    heading: fontStack,
    webFontUrl: themeUrl.nullable(),
    webFontName: fontFamilyName.nullable(),
  }),
  logo: themeSchema.shape.logo.unwrap().nullable(),
  // The config's own rules, required here (their descriptions name the expected form in errors).
  width: themeSchema.shape.width.unwrap(),
  radius: themeSchema.shape.radius.unwrap(),
});

async function readDir(dir: string, cwd: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fileError(error, displayPath(dir, cwd), 'list');
  }
}

/** A template listed by readdir: gone by now (a race with an editor) is a read error too. */
async function readTemplateFile(dir: string, absolute: string, cwd: string): Promise<string> {
  const file = displayPath(absolute, cwd);
  const source = await readRegularFile(absolute, { root: dir, display: file });
  if (source === null) throw new NewsletterError('TEMPLATE_NOT_FOUND', `\`${file}\` disappeared while the templates were read`, { file });
  return source;
}

export function compileFile(env: HandlebarsEnv, name: string, absolute: string, source: string, noEscape: boolean, cwd: string): TemplateFile {
  const file = displayPath(absolute, cwd);
  let ast: Program;
  try {
    ast = env.parse(source);
  } catch (error) {
    const message = (error as Error).message;
    const line = /line (\d+)/.exec(message);
    const detail = message.split('\n').slice(-1)[0] ?? message;
    throw new NewsletterError('TEMPLATE_SYNTAX', `Handlebars syntax error: ${detail}`, { file, line: line ? Number(line[1]) : undefined });
  }
  // preventIndent: a partial on its own indented line must not indent every line it outputs
  // (that would shift the contents of <pre> blocks in article bodies).
  const render = env.compile(ast, { strict: true, noEscape, preventIndent: true });
  return { name, file, source, ast, render };
}

/** Wraps a compiled template so that an error inside it carries the template's file name. */
function attributing(template: TemplateFile): HandlebarsTemplateDelegate {
  return (context, options) => {
    try {
      return template.render(context, options);
    } catch (error) {
      if (error instanceof Error && !(error as Attributed)[TEMPLATE_FILE]) (error as Attributed)[TEMPLATE_FILE] = template.file;
      throw error;
    }
  };
}

/** Maps a Handlebars runtime error to the template file and line the user edits. */
/**
 * Strict mode names only the last segment that failed (`title` for `{{articel.title}}`); the
 * whole expression, read back from the template at the reported position, is what the user typed.
 */
function expressionAt(source: string | undefined, line: number | undefined, column: number | undefined, fallback: string): string {
  if (!source || !line) return fallback;
  const text = source.split('\n')[line - 1] ?? '';
  const match = /^(?:\{\{~?[#^/>&{]?\s*)?([@\w./-]+)/.exec(text.slice(column ?? 0));
  return match && match[1]!.split(/[./]/).includes(fallback) ? match[1]! : fallback;
}

export function templateError(error: unknown, fallbackFile: string, sources?: ReadonlyMap<string, string>): NewsletterError {
  if (isNewsletterError(error)) return error;
  const e = error as Attributed;
  const file = e[TEMPLATE_FILE] ?? fallbackFile;
  const raw = (e?.message ?? String(error)).replace(/ - \d+:\d+$/, '');
  const line = e?.lineNumber;
  const notDefined = /^"([^"]+)" not defined in/.exec(raw);
  if (notDefined) {
    const expression = expressionAt(sources?.get(file), line, e?.column, notDefined[1]!);
    return new NewsletterError('TEMPLATE_VARIABLE', `unknown variable \`${expression}\` (templates run in strict mode)`, {
      file,
      line,
      hint: mergeTagHint(expression) ?? 'check the spelling against the template data listed in docs/templates.md, or guard it with {{#if}}',
    });
  }
  const missingHelper = /^Missing helper: "([^"]+)"/.exec(raw);
  if (missingHelper) {
    return new NewsletterError('TEMPLATE_VARIABLE', `unknown helper or variable \`${missingHelper[1]}\``, { file, line });
  }
  const missingPartial = /^The partial (\S+) could not be found/.exec(raw);
  if (missingPartial) {
    return new NewsletterError('TEMPLATE_NOT_FOUND', `partial \`${missingPartial[1]}\` does not exist (expected partials/${missingPartial[1]}.mjml)`, { file, line });
  }
  return new NewsletterError('TEMPLATE_VARIABLE', raw, { file, line, cause: error });
}

export function mergeTheme(base: Theme, overrides: DeepPartialTheme): Theme {
  return {
    colors: { ...base.colors, ...overrides.colors },
    darkColors: overrides.darkColors ? { ...(base.darkColors ?? base.colors), ...overrides.darkColors } : base.darkColors,
    fonts: { ...base.fonts, ...overrides.fonts },
    logo: overrides.logo ? { width: 160, ...overrides.logo } : base.logo,
    width: overrides.width ?? base.width,
    radius: overrides.radius ?? base.radius,
  };
}

async function loadTheme(dir: string, overrides: DeepPartialTheme, cwd: string): Promise<{ theme: Theme; file: string }> {
  const absolute = path.join(dir, 'theme.json');
  const file = displayPath(absolute, cwd);
  // Only a missing file is "no theme file"; any other read error is reported as what it is.
  const text = await readRegularFile(absolute, { root: dir, display: file });
  if (text === null) {
    throw new NewsletterError('THEME_INVALID', `no theme file \`${file}\``, { file, hint: 'every templates folder needs a theme.json (copy templates/theme.json)' });
  }
  const raw = parseJsonText(text, file, 'THEME_INVALID');
  const parsed = themeFileSchema.safeParse(raw);
  if (!parsed.success) throw zodToError(parsed.error, text, file, 'THEME_INVALID', 0, themeFileSchema, raw);
  return { theme: mergeTheme(parsed.data as Theme, overrides), file };
}

export async function loadTemplates(dir: string, cwd: string, themeOverrides: DeepPartialTheme = {}): Promise<TemplateSet> {
  const env = Handlebars.create();
  registerHelpers(env);
  const layoutNames = await readDir(path.join(dir, 'layouts'), cwd);
  const partialNames = await readDir(path.join(dir, 'partials'), cwd);
  if (layoutNames.length === 0) {
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `no layouts in \`${displayPath(path.join(dir, 'layouts'), cwd)}\``, {
      hint: 'point --templates at a folder with layouts/, partials/ and theme.json',
    });
  }

  const layouts = new Map<string, TemplateFile>();
  const textLayouts = new Map<string, TemplateFile>();
  const partials = new Map<string, TemplateFile>();
  const broken = new Map<string, NewsletterError>();
  const brokenPartials = new Map<string, NewsletterError>();
  const images = createTemplateImageRefs();
  /** An MJML template with its `<mj-include>`s made partials (mj-include.ts), its local images marked. */
  const compileMjml = (name: string, absolute: string, source: string): TemplateFile => {
    const expanded = expandIncludes(source, absolute, dir, cwd);
    for (const included of expanded.files) {
      if (partials.has(included.name)) continue;
      const marked = markTemplateImages(images, included.source, included.absolute, included.kind, dir, cwd);
      const template = compileFile(env, included.name, included.absolute, included.kind === 'mjml' ? marked : '', false, cwd);
      partials.set(included.name, template);
      const text = marked;
      env.registerPartial(included.name, included.kind === 'mjml' ? attributing(template) : () => text);
    }
    return compileFile(env, name, absolute, markTemplateImages(images, expanded.source, absolute, 'mjml', dir, cwd), false, cwd);
  };
  for (const entry of layoutNames) {
    const match = /^([\w-]+)\.(mjml|txt)$/.exec(entry);
    if (!match) continue;
    const absolute = path.join(dir, 'layouts', entry);
    const source = await readTemplateFile(dir, absolute, cwd);
    const isText = match[2] === 'txt';
    // A layout that does not compile fails the issues that use it, not every issue (layoutFor).
    try {
      (isText ? textLayouts : layouts).set(match[1]!, isText ? compileFile(env, match[1]!, absolute, source, true, cwd) : compileMjml(match[1]!, absolute, source));
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      broken.set(isText ? `${match[1]}.txt` : match[1]!, error);
    }
  }
  for (const entry of partialNames) {
    const match = /^([\w-]+)\.mjml$/.exec(entry);
    if (!match) continue;
    const absolute = path.join(dir, 'partials', entry);
    const source = await readTemplateFile(dir, absolute, cwd);
    try {
      const template = compileMjml(match[1]!, absolute, source);
      partials.set(template.name, template);
      env.registerPartial(template.name, attributing(template));
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      // Rendering a layout that calls it throws its own error, naming the partial's file and line.
      brokenPartials.set(match[1]!, error);
      env.registerPartial(match[1]!, () => {
        throw error;
      });
    }
  }
  const { theme, file: themeFile } = await loadTheme(dir, themeOverrides, cwd);
  return { dir, cwd, layouts, textLayouts, partials, theme, themeFile, env, broken, brokenPartials, images };
}

/** Runs a compiled template, turning Handlebars errors into NewsletterErrors with file and line. */
export function runTemplate(templates: TemplateSet, template: TemplateFile, context: unknown): string {
  try {
    return attributing(template)(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch (error) {
    const sources = new Map([template, ...templates.partials.values()].map((t) => [t.file, t.source]));
    throw templateError(error, template.file, sources);
  }
}

/** One line per broken layout, for the commands to print as a warning; `reported`: errors already printed. */
export function brokenLayoutWarnings(templates: TemplateSet, reported: readonly unknown[] = []): string[] {
  return [...templates.broken].filter(([, error]) => !reported.includes(error)).map(([name, error]) => `${error.format().split('\n')[0]} (layout \`${name}\` cannot be used: issues that use it fail, the others build)`);
}

/**
 * The layout an issue names. `issueFile` (as displayed) is the issue that asked for it: an unknown
 * layout is the issue's mistake as often as the templates', so the error points at its `template:`.
 */
/** The line of `template:` in an issue file; read only on this error path. */
function templateLine(issueFile: string, cwd: string): number | undefined {
  try {
    return lineOfJsonKey(readFileSync(path.resolve(cwd, issueFile), 'utf8'), ['template']);
  } catch {
    // Without the file, the error still names it; only the line is lost.
    return undefined;
  }
}

export function layoutFor(templates: TemplateSet, name: string, issueFile?: string): { html: TemplateFile; text: TemplateFile } {
  const unusable = templates.broken.get(name) ?? templates.broken.get(`${name}.txt`) ?? (templates.textLayouts.has(name) ? undefined : templates.broken.get('default.txt'));
  if (unusable && (templates.layouts.has(name) || templates.broken.has(name))) throw unusable;
  const html = templates.layouts.get(name);
  if (!html) {
    const known = [...templates.layouts.keys()].sort();
    const layoutsDir = displayPath(path.join(templates.dir, 'layouts'), templates.cwd);
    const expected = displayPath(path.join(templates.dir, 'layouts', `${name}.mjml`), templates.cwd);
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `\`template: ${name}\`: no layout \`${name}\`${didYouMean(name, known)} (looked for ${expected})`, {
      ...(issueFile ? { file: issueFile, line: templateLine(issueFile, templates.cwd) } : {}),
      hint: known.length ? `layouts in ${layoutsDir}: ${known.join(', ')}` : `no layouts in ${layoutsDir}`,
    });
  }
  const text = templates.textLayouts.get(name) ?? templates.textLayouts.get('default');
  if (!text) {
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `no plain-text layout for \`${name}\` (expected layouts/${name}.txt or layouts/default.txt)`, {
      file: displayPath(path.join(templates.dir, 'layouts'), templates.cwd),
    });
  }
  return { html, text };
}

import { NewsletterError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import { hoistIncludedStyles } from './mj-include.js';
import { ANY_MARKER } from './template-image-refs.js';
import type { TemplateFile, TemplateSet } from './templates.js';

/**
 * MJML → HTML, with strict validation. mjml is loaded on first use: its require costs ~0.4 s, which
 * commands that never render (`--help`, `send --dry-run` on a bad list) should not pay.
 */

export interface MjmlValidationIssue {
  line: number;
  message: string;
  tagName: string;
}

export interface MjmlResult {
  html: string;
  errors: MjmlValidationIssue[];
}

/** mjml2html itself, or something that runs it elsewhere (the build's worker thread). */
export type Mjml2Html = (mjml: string, options: Record<string, unknown>) => Promise<MjmlResult>;

let compiler: Promise<Mjml2Html> | null = null;

export function loadMjml(): Promise<Mjml2Html> {
  compiler ??= import('mjml').then((module) => (module.default ?? module) as unknown as Mjml2Html);
  return compiler;
}

export interface CompileOptions {
  templates: TemplateSet;
  /** The layout that produced the MJML, for messages when the line cannot be traced further. */
  layout: TemplateFile;
  /** Where to run mjml2html; in this thread when absent. */
  compiler?: Mjml2Html | undefined;
  validation?: 'strict' | 'soft' | undefined;
}

/** One complaint of MJML's validator under `mjml.validation: "soft"`, at the template line that made it. */
export interface MjmlWarning {
  message: string;
  file: string;
  line: number | undefined;
}

export function mjmlOptions(templates: TemplateSet, validation: 'strict' | 'soft' = 'strict'): Record<string, unknown> {
  return {
    // `soft` (config `mjml.validation`): MJML still compiles what `mjml --validate` rejects, and
    // its complaints come back as warnings, so a gallery template can be used while it is fixed.
    validationLevel: validation,
    // MJML's own mj-include stays off: loadTemplates resolves a template's includes itself, inside
    // templates/ only (mj-include.ts), so nothing, not even content that slipped through as
    // markup, can make MJML read a file.
    ignoreIncludes: true,
    filePath: templates.dir,
    keepComments: false,
    // Inlining <mj-style inline> must not turn an image's `height: auto` into height="auto":
    // article images carry their real width and height as attributes (Outlook reads them).
    juiceOptions: { applyHeightAttributes: false, applyWidthAttributes: false },
    minify: false,
    beautify: false,
  };
}

const ENHANCEMENT_MARKER = /<!--\s*progressive-enhancement:[\s\S]*?-->/g;

export async function compileMjml(mjml: string, options: CompileOptions): Promise<string> {
  return (await compileMjmlWithWarnings(mjml, options)).html;
}

export async function compileMjmlWithWarnings(mjml: string, { templates, layout, compiler: given, validation }: CompileOptions): Promise<{ html: string; warnings: MjmlWarning[] }> {
  // MJML's memory grows ~200× the source it is given (a 1 MB source took 380 MB): an email this
  // large is far past Gmail's clipping anyway, so it is refused before it can exhaust memory.
  const bytes = Buffer.byteLength(mjml);
  if (bytes > DEFAULTS.maxMjmlBytes) {
    throw new NewsletterError('CONTENT_INVALID', `this issue's email is ${Math.round(bytes / 1024)} KB of MJML, over the limit of ${Math.round(DEFAULTS.maxMjmlBytes / 1024)} KB (Gmail clips an email after ${Math.round(DEFAULTS.gmailClipBytes / 1024)} KB)`, {
      file: layout.file,
      hint: 'shorten the articles (or show long ones as cards linking to the web edition): the email is far too large to send',
    });
  }
  const mjml2html = given ?? (await loadMjml());
  let result: MjmlResult;
  try {
    result = await mjml2html(hoistIncludedStyles(mjml), mjmlOptions(templates, validation));
  } catch (error) {
    const issues = (error as { errors?: MjmlValidationIssue[] }).errors;
    if (Array.isArray(issues) && issues.length) {
      const first = issues[0]!;
      const place = locateGeneratedLine(mjml, first.line, templates, layout);
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more MJML error${issues.length > 2 ? 's' : ''})` : '';
      throw new NewsletterError('MJML_INVALID', `MJML: <${first.tagName}> ${first.message}${more}`, {
        file: place.file,
        line: place.line,
        hint: place.exact ? undefined : `line ${first.line} of the generated MJML: ${mjml.split('\n')[first.line - 1]?.trim() ?? ''}`,
        cause: error,
      });
    }
    throw new NewsletterError('MJML_INVALID', `MJML could not compile the template: ${(error as Error).message}`, {
      file: layout.file,
      cause: error,
    });
  }
  const warnings = (result.errors ?? []).map((issue) => {
    const place = locateGeneratedLine(mjml, issue.line, templates, layout);
    return { message: `MJML: <${issue.tagName}> ${issue.message}`, file: place.file, line: place.line };
  });
  // Markers read by the compatibility check (checks/compat.ts) from the MJML. MJML drops comments
  // between tags, but keeps those inside mj-text and mj-raw (article HTML carries one): never send them.
  return { html: result.html.replace(ENHANCEMENT_MARKER, ''), warnings };
}

const TEMPLATE_PART = new RegExp(`\\{\\{\\{?[^}]*\\}?\\}\\}|${ANY_MARKER}`);

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * MJML reports lines of the generated MJML, which nobody edits. Find the template line that
 * produced it: each template line becomes a pattern where `{{...}}` matches anything.
 */
export function locateGeneratedLine(
  mjml: string,
  line: number,
  templates: TemplateSet,
  layout: TemplateFile,
): { file: string; line: number | undefined; exact: boolean } {
  const generated = mjml.split('\n')[line - 1]?.trim();
  if (!generated) return { file: layout.file, line: undefined, exact: false };
  const candidates = [layout, ...templates.partials.values()];
  for (const template of candidates) {
    const lines = template.source.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const source = lines[i]!.trim();
      // A template image's marker (template-image-refs.ts) became its URL: it matches anything too.
      const literal = source.split(TEMPLATE_PART);
      // A line of only Handlebars tags (`{{#if lead}}{{/if}}`) would match anything: skip it.
      if (literal.join('').replace(/\s+/g, '').length < 3) continue;
      const pattern = literal.map(escapeRegExp).join('.*?');
      if (new RegExp(`^${pattern}$`).test(generated)) return { file: template.file, line: i + 1, exact: true };
    }
  }
  return { file: layout.file, line: undefined, exact: false };
}

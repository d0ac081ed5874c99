import { readFileSync } from 'node:fs';
import type { Element } from 'domhandler';
import { DEFAULTS } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { locateGeneratedLine } from '../render/mjml.js';
import type { TemplateFile, TemplateSet } from '../render/templates.js';
import { lineOfJsonKey, lineOfOffset } from '../text-position.js';
import { ContentPlaces, type ContentBody } from './content-places.js';

/**
 * Findings point at the file an editor opens: the article or issue that holds a URL or a title,
 * the config or theme key of a colour, or the template line that produced a piece of HTML (found
 * the way MJML errors are, through the generated MJML and `locateGeneratedLine`).
 */

export interface Place {
  file: string;
  line?: number | undefined;
}

/**
 * A file findings may point into, read on first need: a clean issue never reads one, and a finding
 * needs a line number far less often than a check runs (the preview checks on every save).
 */
export class SourceFile {
  private loaded: string | null | undefined;

  /** `file` as shown in messages; `absolute` to read. */
  constructor(
    readonly file: string,
    private readonly absolute: string,
  ) {}

  get text(): string | null {
    if (this.loaded === undefined) {
      try {
        this.loaded = readFileSync(this.absolute, 'utf8');
      } catch {
        // A file that cannot be read again only costs a line number in a message.
        this.loaded = null;
      }
    }
    return this.loaded;
  }
}

export interface LocatorSources {
  issue: Issue;
  /** The issue file first, then its articles. */
  content: SourceFile[];
  config: SourceFile | null;
  theme: SourceFile | null;
  templates: TemplateSet;
  layout: TemplateFile;
  textLayout: TemplateFile;
  mjml: string;
  /** The issue's intro and its articles' bodies as the email shows them. */
  bodies?: readonly ContentBody[] | undefined;
}

/**
 * A template line made only of Handlebars tags (`{{#if a}}{{#if b}}`) becomes a pattern that matches
 * any generated line in locateGeneratedLine; such lines produce no markup of their own, so they are
 * blanked (numbering kept) before searching.
 */
function withoutTagOnlyLines(template: TemplateFile): TemplateFile {
  const source = template.source
    .split('\n')
    .map((line) => (line.replace(/\{\{\{?[^}]*\}?\}\}/g, '').trim() ? line : ''))
    .join('\n');
  return { ...template, source };
}

interface TemplateSearch {
  templates: TemplateSet;
  layouts: Map<string, TemplateFile>;
  /** Generated line (per layout) → template place; the same lines recur in every check of a project. */
  found: Map<string, Place | null>;
}

const searches = new WeakMap<TemplateSet, TemplateSearch>();

function searchFor(templates: TemplateSet): TemplateSearch {
  let search = searches.get(templates);
  if (!search) {
    const partials = new Map([...templates.partials].map(([name, t]) => [name, withoutTagOnlyLines(t)]));
    search = { templates: { ...templates, partials }, layouts: new Map(), found: new Map() };
    searches.set(templates, search);
  }
  return search;
}

export class Locator {
  private readonly mjmlLines: string[];
  private readonly search: TemplateSearch;
  private readonly searchLayout: TemplateFile;
  private readonly contentPlaces: ContentPlaces;

  constructor(private readonly sources: LocatorSources) {
    this.contentPlaces = new ContentPlaces(sources.bodies ?? []);
    this.mjmlLines = sources.mjml.split('\n');
    this.search = searchFor(sources.templates);
    let layout = this.search.layouts.get(sources.layout.name);
    if (!layout) {
      layout = withoutTagOnlyLines(sources.layout);
      this.search.layouts.set(sources.layout.name, layout);
    }
    this.searchLayout = layout;
  }

  get issueFile(): Place {
    return { file: this.sources.issue.file, line: 1 };
  }

  get layout(): Place {
    return { file: this.sources.layout.file };
  }

  get textLayout(): Place {
    return { file: this.sources.textLayout.file };
  }

  /**
   * The article (or issue intro) line where a link or image of the email was written; undefined
   * for a template's own. `occurrence`: its index among the email's elements with the same tag,
   * URL and label.
   */
  element(element: Element, url: string, occurrence = 0): Place | undefined {
    const found = this.contentPlaces.of(element, url, occurrence);
    return found && { file: found.file, line: found.line };
  }

  /** Where an article or the intro writes a link or image given as markup (`<a href="#" …>`). */
  contentMarkup(markup: string): Place | undefined {
    const found = this.contentPlaces.ofMarkup(markup);
    return found && { file: found.file, line: found.line };
  }

  /** The URL of a link or image as its author wrote it (a local image's path), when content holds it. */
  writtenUrl(element: Element, url: string, occurrence = 0): string | undefined {
    return this.contentPlaces.of(element, url, occurrence)?.written;
  }

  /** First content file (issue, then articles) where `needle` is written. */
  content(...needles: string[]): Place | undefined {
    return findIn(this.sources.content, needles);
  }

  config(...needles: string[]): Place | undefined {
    return this.sources.config ? findIn([this.sources.config], needles) : undefined;
  }

  /** Line of a front-matter key in the issue file; line 1 when the key is not written. */
  issueKey(key: string): Place {
    const text = this.sources.content[0]?.text;
    const line = text ? lineOfJsonKey(text, [key]) : undefined;
    return { file: this.sources.issue.file, line: line ?? 1 };
  }

  configKey(keyPath: string[]): Place | undefined {
    const config = this.sources.config;
    const text = config?.text;
    if (!config || !text) return undefined;
    const line = lineOfJsonKey(text, keyPath);
    return line === undefined ? undefined : { file: config.file, line };
  }

  /** Where a setting is (or would be) written: its line in the config, or the config file itself. */
  setting(keyPath: string[]): Place {
    return this.configKey(keyPath) ?? { file: this.sources.config?.file ?? DEFAULTS.configFile };
  }

  /** Where a theme colour is set: the config when it overrides it, else theme.json. */
  themeColor(palette: 'colors' | 'darkColors', key: string): Place | undefined {
    const fromConfig = this.configKey(['theme', palette, key]);
    if (fromConfig) return fromConfig;
    const theme = this.sources.theme;
    if (!theme) return undefined;
    const text = theme.text;
    return { file: theme.file, line: text ? lineOfJsonKey(text, [palette, key]) : undefined };
  }

  /** The template line that produced the first generated MJML line containing `snippet`. */
  template(snippet: string): Place | undefined {
    if (!snippet) return undefined;
    const generated = this.mjmlLines.find((line) => line.includes(snippet));
    if (generated === undefined) return undefined;
    const key = `${this.searchLayout.name}\u0000${generated}`;
    let found = this.search.found.get(key);
    if (found === undefined) {
      const place = locateGeneratedLine(generated, 1, this.search.templates, this.searchLayout);
      // A line that prints content as it is (`{{{html}}}`) did not write what it printed.
      found = place.exact && !this.printsContent(place.file, place.line) ? { file: place.file, line: place.line } : null;
      if (this.search.found.size > 5000) this.search.found.clear();
      this.search.found.set(key, found);
    }
    return found ?? undefined;
  }

  private printsContent(file: string, line: number | undefined): boolean {
    if (line === undefined) return false;
    const templates = [this.sources.layout, ...this.sources.templates.partials.values()];
    const source = templates.find((t) => t.file === file)?.source.split('\n')[line - 1] ?? '';
    return /\{\{\{[^}]*\}\}\}/.test(source);
  }

  /** Content first (an editor's URL or words), then the config, then the templates. */
  anywhere(needles: string[], templateSnippets: string[] = needles): Place | undefined {
    return this.content(...needles) ?? this.config(...needles) ?? firstOf(templateSnippets, (s) => this.template(s));
  }
}

function firstOf<T, R>(items: readonly T[], pick: (item: T) => R | undefined): R | undefined {
  for (const item of items) {
    const found = pick(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

function findIn(sources: readonly SourceFile[], needles: readonly string[]): Place | undefined {
  for (const needle of needles) {
    if (!needle) continue;
    for (const source of sources) {
      const text = source.text;
      const at = text ? text.indexOf(needle) : -1;
      if (text && at >= 0) return { file: source.file, line: lineOfOffset(text, at) };
    }
  }
  return undefined;
}

/** A URL as an editor wrote it: without the utm_* parameters the renderer adds. */
export function withoutUtm(url: string): string {
  try {
    const parsed = new URL(url);
    const keys = [...parsed.searchParams.keys()].filter((key) => key.startsWith('utm_'));
    if (keys.length === 0) return url;
    for (const key of keys) parsed.searchParams.delete(key);
    const text = parsed.toString();
    return text.endsWith('?') ? text.slice(0, -1) : text;
  } catch {
    return url;
  }
}

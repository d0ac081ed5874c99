import type { HtmlDocument } from './html.js';
import { belongsTo, runCaniemail, type CaniemailData } from './caniemail.js';
import { collectUnits, titleElements, titleProperties, type Origin } from './compat-units.js';
import type { Locator, Place } from './locate.js';

/**
 * Client compatibility: the HTML and CSS features of the email that configured clients do not (or
 * only partly) support, according to caniemail. caniemail is asked about each distinct construct
 * once (compat-units.ts), not about the whole document: MJML output repeats the same wrappers, so
 * this is several times faster, and it tells us where each feature comes from.
 */

export type { Origin } from './compat-units.js';

export interface CompatUse {
  /** caniemail's feature title, e.g. `border-radius`, `<style> element`, `:last-child`. */
  feature: string;
  /** The configured client (`gmail`) and its platforms concerned (`gmail.ios`, …). */
  client: string;
  platforms: string[];
  support: 'none' | 'partial';
  origin: Origin;
  /** Places in the email that use it. */
  count: number;
  notes: string[];
  url: string | undefined;
  where: Place | undefined;
  /** Set when a template declares the feature a progressive enhancement (see declaredEnhancements). */
  declared: Enhancement | undefined;
}

/** A feature the templates use knowing some clients ignore it, declared with a marker comment. */
export interface Enhancement {
  /** As declared, matched case-insensitively to caniemail's title (`border-radius`, `:last-child`). */
  feature: string;
  /** What readers of clients without it get instead (`square corners`); may be empty. */
  fallback: string;
  where: Place | undefined;
}

const MARKER = /<!--\s*progressive-enhancement:([\s\S]*?)-->/g;

/**
 * `<!-- progressive-enhancement: \`border-radius\` — square corners in Outlook -->` in a layout or
 * partial. A comment of the generated MJML (MJML drops it from the HTML, keepComments is off), so it
 * costs the email nothing; it applies to every use of the feature in the email.
 */
export function declaredEnhancements(mjml: string, locate: Locator): Map<string, Enhancement> {
  const declared = new Map<string, Enhancement>();
  if (!mjml.includes('progressive-enhancement:')) return declared;
  for (const match of mjml.matchAll(MARKER)) {
    const body = match[1]!;
    const names = [...body.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim()).filter(Boolean);
    const fallback = body.slice(body.lastIndexOf('`') + 1).replace(/^[\s—–:,.-]+/, '').replace(/\s+/g, ' ').trim();
    const firstLine = match[0].split('\n')[0]!.trim();
    let where: Place | undefined;
    for (const feature of names) {
      where ??= locate.template(firstLine);
      if (!declared.has(feature.toLowerCase())) declared.set(feature.toLowerCase(), { feature, fallback, where });
    }
  }
  return declared;
}

interface Hit {
  feature: string;
  platform: string;
  support: 'none' | 'partial';
  notes: string[];
  origin: Origin;
  count: number;
  snippet: string | undefined;
}

type Issues = ReturnType<CaniemailData['caniemail']>['issues'];
type Source = { origin: Origin; count: number; snippet: string | undefined; property?: string | undefined; tag?: string | undefined };

interface RawHit {
  title: string;
  platform: string;
  support: 'none' | 'partial';
  notes: string[];
  line: number;
}

const STYLE_ELEMENT = '<style> element';

function rawHits(data: CaniemailData, issues: Issues): RawHit[] {
  const hits: RawHit[] = [];
  for (const [map, support] of [[issues.errors, 'none'], [issues.warnings, 'partial']] as const) {
    for (const [platform, list] of map) {
      for (const issue of list) {
        // caniemail files unknown support (`u`) under warnings; unknown is not a finding.
        if (support === 'partial' && data.support(issue.title, platform) !== 'a') continue;
        hits.push({ title: issue.title, platform, support, notes: issue.notes, line: issue.position?.start.line ?? 0 });
      }
    }
  }
  return hits;
}

/**
 * caniemail's verdict on a construct depends only on the construct and the clients, and the same
 * constructs recur from one check to the next (the preview re-checks on every save): remember them.
 */
const verdicts = new Map<string, RawHit[]>();
const MAX_VERDICTS = 20_000;

function verdictsFor(data: CaniemailData, clients: readonly string[], markups: readonly string[]): RawHit[][] {
  const prefix = `${clients.join(',')}\u0000`;
  const missing = [...new Set(markups.filter((m) => !verdicts.has(prefix + m)))];
  if (missing.length) {
    if (verdicts.size + missing.length > MAX_VERDICTS) verdicts.clear();
    // One construct per line, inside a container: caniemail only descends from top-level tags,
    // and a top-level <style> would be skipped.
    const result = runCaniemail(data, clients, { html: `<div>${missing.join('\n')}</div>` });
    const byLine = missing.map((): RawHit[] => []);
    for (const hit of rawHits(data, result.issues)) byLine[hit.line - 1]?.push(hit);
    missing.forEach((markup, i) => verdicts.set(prefix + markup, byLine[i]!));
  }
  return markups.map((m) => verdicts.get(prefix + m) ?? []);
}

function cssVerdicts(data: CaniemailData, clients: readonly string[], css: string): RawHit[] {
  const key = `${clients.join(',')}\u0000css\u0000${css}`;
  let hits = verdicts.get(key);
  if (!hits) {
    hits = rawHits(data, runCaniemail(data, clients, { css }).issues);
    // Same bound as the markup verdicts: a long preview session edits <mj-style> many times.
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(key, hits);
  }
  return hits;
}

function toHit(raw: RawHit, source: Source): Hit | null {
  // caniemail matches titles by substring: `line-height` also hits `height`, <tbody> hits <body>.
  const properties = titleProperties(raw.title);
  if (source.property && properties && !properties.includes(source.property)) return null;
  const tags = titleElements(raw.title);
  if (source.tag && tags && !tags.includes(source.tag)) return null;
  return { feature: raw.title, platform: raw.platform, support: raw.support, notes: raw.notes, origin: source.origin, count: source.count, snippet: source.snippet };
}

export function analyzeCompat(data: CaniemailData, document: HtmlDocument, mjml: string, clients: readonly string[], locate: Locator): CompatUse[] {
  const { units, styles } = collectUnits(document, mjml);
  const hits: Hit[] = [];
  verdictsFor(data, clients, units.map((u) => u.markup)).forEach((raws, i) => {
    for (const raw of raws) {
      const hit = toHit(raw, units[i]!);
      if (hit) hits.push(hit);
    }
  });
  // Where <style> itself is dropped, its selectors and at-rules are moot: say it once per block.
  const styleless = new Set(hits.filter((h) => h.feature === STYLE_ELEMENT && h.support === 'none').map((h) => h.platform));
  for (const style of styles) {
    for (const raw of cssVerdicts(data, clients, style.css)) {
      if (styleless.has(raw.platform)) continue;
      const snippet = style.origin === 'authored' ? style.lines[raw.line - 1]?.trim() || style.firstLine : undefined;
      const hit = toHit(raw, { origin: style.origin, count: 1, snippet });
      if (hit) hits.push(hit);
    }
    if (style.origin !== 'authored') continue;
    for (const platform of styleless) hits.push({ feature: STYLE_ELEMENT, platform, support: 'none', notes: [], origin: 'authored', count: 1, snippet: style.firstLine });
  }
  const declared = declaredEnhancements(mjml, locate);
  return group(data, hits, clients, locate).map((use) => ({
    ...use,
    declared: use.origin === 'authored' ? declared.get(use.feature.toLowerCase()) : undefined,
  }));
}

function group(data: CaniemailData, hits: Hit[], clients: readonly string[], locate: Locator): CompatUse[] {
  const clientOf = new Map<string, string>();
  const groups = new Map<string, CompatUse & { counted: Map<string, number> }>();
  for (const hit of hits) {
    let client = clientOf.get(hit.platform);
    if (!client) {
      client = clients.find((c) => belongsTo(hit.platform, c)) ?? hit.platform;
      clientOf.set(hit.platform, client);
    }
    const key = `${hit.feature}\u0000${client}\u0000${hit.support}\u0000${hit.origin}`;
    let use = groups.get(key);
    if (!use) {
      use = { feature: hit.feature, client, platforms: [], support: hit.support, origin: hit.origin, count: 0, notes: [], url: data.url(hit.feature), where: undefined, declared: undefined, counted: new Map() };
      groups.set(key, use);
    }
    if (!use.platforms.includes(hit.platform)) use.platforms.push(hit.platform);
    for (const note of hit.notes) if (note && !use.notes.includes(note)) use.notes.push(note);
    // Every platform sees the same uses: count them for one platform, not once per platform.
    use.counted.set(hit.platform, (use.counted.get(hit.platform) ?? 0) + hit.count);
    if (!use.where && hit.origin === 'authored' && hit.snippet) use.where = locate.template(hit.snippet) ?? locate.contentMarkup(hit.snippet) ?? locate.content(hit.snippet);
  }
  return [...groups.values()].map(({ counted, ...use }) => ({ ...use, count: Math.max(...counted.values()) }));
}

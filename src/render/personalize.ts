import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { buildIssueContext, withRecipient, type IssueContext } from './build-context.js';
import { unsubscribeUrl as unsubscribeUrlFor } from './links.js';
import { compileMjml } from './mjml.js';
import { prepareIssueImages, type ImageAsset } from './images/issue-images.js';
import { mergeAssets, placeTemplateImages } from './images/template-images.js';
import { analyzeRecipientUsage, checkListColumns, type RecipientUsage } from './personalize-analysis.js';
import { renderWithContext, runLayouts, tidyText } from './render-issue.js';
import { layoutFor, runTemplate, type TemplateSet } from './templates.js';

/**
 * Compile an issue once, personalize it per recipient. The issue is rendered a single time with a
 * unique token in place of every recipient value; each copy is then the token output with the
 * tokens replaced: HTML-escaped exactly as Handlebars would (MJML passes escaped text through
 * untouched), raw in the text part (its layout runs with noEscape). A copy made this way is
 * byte-identical to rendering that recipient from scratch; compileIssue checks that on a probe
 * recipient and falls back to a full render per recipient when the templates make it impossible.
 */

export interface SlotTemplate {
  /** Static text around the slots: `segments.length === slots.length + 1`. */
  segments: string[];
  /** Slot id at each position: 0 is the unsubscribe URL, 1..n the fields in `CompiledIssue.fields`. */
  slots: number[];
}

export interface PersonalizedCopy {
  html: string;
  text: string;
  unsubscribeUrl: string;
}

/** A recipient's slot values, raw (text part, headers) and HTML-escaped; index = slot id. */
export interface SlotValues {
  raw: string[];
  html: string[];
}

export interface CompileIssueOptions {
  config: ResolvedConfig;
  templates: TemplateSet;
  /** NEWSLETTER_SECRET (or the preview secret) for unsubscribe tokens. */
  secret: string;
  /** The list's columns when known (CSV header); a template field missing from them is an error. */
  fields?: readonly string[] | null | undefined;
  /** How the list is named in messages. */
  listName?: string | undefined;
}

export interface CompiledIssue {
  issue: Issue;
  /** Processed local images; with `images: "embed"`, each message must carry them as inline parts (`cid`). */
  assets: ImageAsset[];
  mode: 'slots' | 'render';
  /** Why copies are rendered one by one (mode `render`); null in `slots` mode. */
  fallbackReason: string | null;
  /** Recipient fields the templates print; slot id i + 1 is `fields[i]`. */
  fields: string[];
  html: SlotTemplate;
  /** The text part after tidyText, and before it (for values tidying would treat differently). */
  text: SlotTemplate;
  textRaw: SlotTemplate;
  /** Per text slot position: a value there may be empty or edged with spaces without changing tidyText. */
  textRobust: boolean[];
  values(recipient: Recipient): SlotValues;
  /** The copy from slot values; slots mode only, and only for values that pass slotSafe. */
  fill(values: SlotValues): PersonalizedCopy;
  /** Value classes the probes showed MJML leaves alone. */
  safeClasses: ReadonlySet<ValueClass>;
  /** Whether every value is of a class the probes showed MJML leaves alone (else: render from scratch). */
  slotSafe(values: SlotValues): boolean;
  personalize(recipient: Recipient): Promise<PersonalizedCopy>;
}

const SLOT_PREFIX = 'nlslot';

export function splitSlots(output: string, nonce: string): SlotTemplate {
  const segments: string[] = [];
  const slots: number[] = [];
  const pattern = new RegExp(`${SLOT_PREFIX}(\\d+)x${nonce}`, 'g');
  let last = 0;
  for (const match of output.matchAll(pattern)) {
    segments.push(output.slice(last, match.index));
    slots.push(Number(match[1]));
    last = match.index + match[0].length;
  }
  segments.push(output.slice(last));
  return { segments, slots };
}

export function fillSlots(template: SlotTemplate, values: readonly string[]): string {
  const { segments, slots } = template;
  let out = segments[0]!;
  for (let i = 0; i < slots.length; i++) out += values[slots[i]!]! + segments[i + 1]!;
  return out;
}

/**
 * tidyText trims line ends, collapses blank lines and trims the whole text. Substituting into the
 * tidied output commutes with that when the value has no line break, and either the value is
 * non-empty without edge whitespace or static non-blank text surrounds the slot (before it in the
 * text, after it on its line).
 */
function robustTextSlots(raw: SlotTemplate): boolean[] {
  const { segments, slots } = raw;
  const robust: boolean[] = [];
  let seenText = false;
  for (let k = 0; k < slots.length; k++) {
    seenText ||= /\S/.test(segments[k]!);
    let after = false;
    for (let j = k + 1; j < segments.length; j++) {
      const segment = segments[j]!;
      const lineEnd = segment.indexOf('\n');
      if (/\S/.test(lineEnd < 0 ? segment : segment.slice(0, lineEnd))) {
        after = true;
        break;
      }
      if (lineEnd >= 0) break;
    }
    robust.push(seenText && after);
  }
  return robust;
}

function textValueFits(value: string, robust: boolean): boolean {
  if (value.includes('\n')) return false;
  return robust || (value !== '' && value.trim() === value);
}

/**
 * MJML treats some values differently from others: it trims the text of a button, writes an
 * empty attribute as a bare name. So values fall into classes, each checked once per issue on a
 * probe recipient; a copy is made from slots only when all of its values are in checked classes.
 */
export type ValueClass = 'ordinary' | 'empty' | 'edge-space' | 'line-break';

export function valueClass(value: string): ValueClass {
  if (value === '') return 'empty';
  if (value.includes('\n') || value.includes('\r')) return 'line-break';
  return value.trim() === value ? 'ordinary' : 'edge-space';
}

function probeRecipients(fields: readonly string[]): [ValueClass, Recipient[]][] {
  const all = (value: (field: string) => string): Recipient => {
    const recipient: Recipient = { email: value('email') };
    for (const field of fields) recipient[field] = value(field);
    return recipient;
  };
  return [
    ['ordinary', [all((f) => `<b>&amp;"'=\`${f}  \t ü\u00e9&#x3D;>`)]],
    ['empty', [all(() => '')]],
    ['edge-space', [all(() => '  '), all((f) => ` \t<i>${f}</i>\u00a0 `)]],
    ['line-break', [all((f) => `a\n${f}\r\nb`), all(() => '\n')]],
  ];
}

/** What slots mode needs from a compiled issue: plain data, so a queue worker can rebuild it. */
export interface SlotParts {
  fields: readonly string[];
  html: SlotTemplate;
  text: SlotTemplate;
  textRaw: SlotTemplate;
  textRobust: readonly boolean[];
  safeClasses: ReadonlySet<ValueClass>;
}

/** values/fill/slotSafe over the parts; the unsubscribe URL is the caller's (it needs the secret). */
export function slotPersonalizer(parts: SlotParts, unsubscribeUrl: (recipient: Recipient) => string): Pick<CompiledIssue, 'values' | 'fill' | 'slotSafe'> {
  const { fields, html, text, textRaw, textRobust, safeClasses } = parts;
  return {
    values(recipient) {
      const raw = [unsubscribeUrl(recipient)];
      for (const field of fields) {
        const value = recipient[field];
        raw.push(value === undefined || value === null ? '' : String(value));
      }
      return { raw, html: raw.map((value) => Handlebars.escapeExpression(value)) };
    },
    fill(slotValues) {
      const fits = text.slots.every((slot, k) => textValueFits(slotValues.raw[slot]!, textRobust[k]!));
      return {
        html: fillSlots(html, slotValues.html),
        text: fits ? fillSlots(text, slotValues.raw) : tidyText(fillSlots(textRaw, slotValues.raw)),
        unsubscribeUrl: slotValues.raw[0]!,
      };
    },
    slotSafe: (slotValues) => slotValues.raw.every((value) => safeClasses.has(valueClass(value))),
  };
}

/**
 * The recipient fields an issue's templates print, checked against the list's columns: cheap (no
 * render), so a send can check its list before loading MJML.
 */
export function recipientFields(issue: Issue, options: Pick<CompileIssueOptions, 'templates' | 'fields' | 'listName'>): { fields: string[]; usage: RecipientUsage } {
  const usage = analyzeRecipientUsage(options.templates, layoutFor(options.templates, issue.template, issue.file));
  checkListColumns(usage, options.fields ?? null, options.listName ?? 'list');
  // `email` always has a slot: every list has it, and a layout may print it in any of its partials.
  return { fields: [...new Set(['email', ...usage.fields.keys()])], usage };
}

export async function compileIssue(issue: Issue, options: CompileIssueOptions): Promise<CompiledIssue> {
  const { config, templates, secret } = options;
  const layout = layoutFor(templates, issue.template, issue.file);
  const { fields, usage } = recipientFields(issue, options);
  // Local images processed (cached) and placed once for every copy of the send.
  const images = await prepareIssueImages(issue, { config, width: templates.theme.width });
  const issueContext = buildIssueContext(images.issue, config, templates.theme, images.imageSizes);

  const nonce = randomBytes(8).toString('hex');
  const token = (id: number) => `${SLOT_PREFIX}${id}x${nonce}`;
  const tokenRecipient: Recipient = { email: token(1) };
  fields.forEach((field, i) => (tokenRecipient[field] = token(i + 1)));
  const { mjml, rawText } = runLayouts(templates, layout, issueContext, tokenRecipient, token(0));
  const placed = await placeTemplateImages(mjml, templates, layout.html, { config, width: templates.theme.width });
  const html = splitSlots(await compileMjml(placed.mjml, { templates, layout: layout.html }), nonce);
  const textRaw = splitSlots(rawText, nonce);
  const text = splitSlots(tidyText(rawText), nonce);
  const textRobust = robustTextSlots(textRaw);
  const safeClasses = new Set<ValueClass>();
  const personalizer = slotPersonalizer({ fields, html, text, textRaw, textRobust, safeClasses }, (recipient) => unsubscribeUrlFor(config, recipient, issue.slug, secret));
  const { values, fill } = personalizer;

  const renderOne = async (recipient: Recipient, issueCtx: IssueContext): Promise<PersonalizedCopy> => {
    const unsubscribeUrl = unsubscribeUrlFor(config, recipient, issue.slug, secret);
    const copy = await renderWithContext(issue, issueCtx, { config, templates, recipient, unsubscribeUrl });
    return { html: copy.html, text: copy.text, unsubscribeUrl };
  };

  let fallbackReason = usage.blocker ? `${usage.blocker.file}${usage.blocker.line ? `:${usage.blocker.line}` : ''}: ${usage.blocker.reason}` : null;
  // The probes prove, class by class, that MJML left the slots as Handlebars wrote them.
  const probeFields = options.fields ?? fields;
  if (!fallbackReason) {
    for (const [valueKind, recipients] of probeRecipients(probeFields)) {
      let same = true;
      for (const recipient of recipients) {
        try {
          const expected = await renderOne(recipient, issueContext);
          const actual = fill(values(recipient));
          same &&= expected.html === actual.html && expected.text === actual.text;
        } catch {
          same = false;
        }
      }
      if (same) safeClasses.add(valueKind);
    }
    if (!safeClasses.has('ordinary')) fallbackReason = 'MJML changes recipient values in the output (a value is used where MJML rewrites it)';
  } else {
    // Rendering one recipient up front surfaces template errors before anything is sent.
    await renderOne(probeRecipients(probeFields)[0]![1][0]!, issueContext);
  }
  const { slotSafe } = personalizer;

  const mode = fallbackReason ? 'render' : 'slots';
  return {
    issue,
    assets: mergeAssets(images.assets, placed.assets),
    mode,
    fallbackReason,
    fields,
    html,
    text,
    textRaw,
    textRobust,
    values,
    fill,
    safeClasses,
    slotSafe,
    personalize: (recipient) => {
      if (mode === 'render') return renderOne(recipient, issueContext);
      const slotValues = values(recipient);
      return slotSafe(slotValues) ? Promise.resolve(fill(slotValues)) : renderOne(recipient, issueContext);
    },
  };
}

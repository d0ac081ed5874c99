import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import path from 'node:path';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { compileMjml } from '../render/mjml.js';
import { compileFile, runTemplate, type TemplateFile, type TemplateSet } from '../render/templates.js';
import type { SlotTemplate } from '../render/personalize.js';

/**
 * The emails of a sign-up, `templates/emails/<name>.mjml` with `<name>.txt` as the text part,
 * rendered like an issue: the same Handlebars environment (helpers, the partials head, header,
 * footer…), the same theme and MJML options. `confirm` must exist; `welcome` is optional (no
 * file, no welcome email). Loaded once when `serve` starts, so a template error stops it there.
 */

export type SignupEmailName = 'confirm' | 'welcome';

export interface SignupEmail {
  subject: string;
  html: string;
  text: string;
  /**
   * The same email as static text with slots, and this reader's values (HTML-escaped for the
   * HTML part): the mailer encodes the static text once per shape (send/qp-slots.ts) instead of
   * composing every message from scratch. Absent when the email was rendered on its own.
   */
  slots?: { html: SlotTemplate; text: SlotTemplate; htmlValues: string[]; textValues: string[] } | undefined;
}

export interface SignupEmailValues {
  recipient: Recipient;
  /** confirm: the page with the button. */
  confirmUrl?: string;
  expiresDays?: number;
  /** welcome: one click, as in every issue. */
  unsubscribeUrl?: string;
}

export type SignupEmailRenderer = (values: SignupEmailValues) => Promise<SignupEmail>;

async function readTemplate(dir: string, file: string): Promise<string | null> {
  try {
    return await readFile(path.join(dir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function loadSignupEmail(name: SignupEmailName, config: ResolvedConfig, templates: TemplateSet): Promise<SignupEmailRenderer | null> {
  const dir = path.join(templates.dir, 'emails');
  const mjmlSource = await readTemplate(dir, `${name}.mjml`);
  if (mjmlSource === null) {
    if (name === 'welcome') return null;
    const shown = displayPath(path.join(dir, `${name}.mjml`), templates.cwd);
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `no \`${shown}\`: sign-ups need a confirmation email template`, { file: shown, hint: 'copy templates/emails/ from the newsletter package into your templates folder' });
  }
  const textSource = await readTemplate(dir, `${name}.txt`);
  const html: TemplateFile = compileFile(templates.env, `emails/${name}`, path.join(dir, `${name}.mjml`), mjmlSource, false, templates.cwd);
  const text: TemplateFile | null = textSource === null ? null : compileFile(templates.env, `emails/${name}.txt`, path.join(dir, `${name}.txt`), textSource, true, templates.cwd);
  const subjectPattern = name === 'confirm' ? config.signup.confirmSubject : config.signup.welcomeSubject;
  const subject = subjectPattern.replaceAll('{name}', config.name);

  const renderFully = async (values: SignupEmailValues): Promise<SignupEmail> => {
    const context = {
      newsletter: { name: config.name, postalAddress: config.postalAddress, homeUrl: config.siteUrl },
      theme: templates.theme,
      lang: config.locale,
      locale: config.locale,
      utm: null,
      web: false,
      issue: { slug: name, subject, preheader: null, date: null, introHtml: '', introText: '', articleCount: 0, template: name },
      articles: [],
      lead: null,
      rest: [],
      recipient: values.recipient,
      confirmUrl: values.confirmUrl ?? null,
      expiresDays: values.expiresDays ?? null,
      unsubscribeUrl: values.unsubscribeUrl ?? null,
      viewInBrowserUrl: config.siteUrl,
    };
    const mjml = runTemplate(templates, html, context);
    const rendered = await compileMjml(mjml, { templates, layout: html, validation: config.mjml.validation });
    const plain = text ? runTemplate(templates, text, context) : `${subject}\n\n${values.confirmUrl ?? values.unsubscribeUrl ?? ''}\n`;
    return { subject, html: rendered, text: plain.replace(/^\s*\n/, '') };
  };
  return slotted(renderFully);
}

/*
 * MJML takes milliseconds of CPU per message, and `serve` sends a confirmation per sign-up: the
 * email is rendered once per shape (which of its values are empty, since a template may say
 * `{{#if recipient.name}}`) with a stand-in for each value, cut where they appear, and joined
 * around each reader's own values: HTML-escaped in the HTML part (as Handlebars escapes
 * `{{value}}`), as they are in the text part. A second render with other values (markup
 * characters included) must match what the pieces give; a template that does more with a value
 * than print it (a helper, a comparison) fails that check and is rendered per message, as here.
 */

type Slot = { slot: number };
type Pieces = (string | Slot)[];

const STAND_IN = (nonce: string, n: number) => `nlslot${nonce}q${n}z`;

function valuesOf(values: SignupEmailValues): string[] {
  const recipient = Object.entries(values.recipient).map(([, value]) => String(value ?? ''));
  return [...recipient, values.confirmUrl ?? '', values.unsubscribeUrl ?? ''];
}

function withValues(values: SignupEmailValues, replace: (value: string, n: number) => string): SignupEmailValues {
  let n = 0;
  const recipient = Object.fromEntries(Object.entries(values.recipient).map(([key, value]) => [key, replace(String(value ?? ''), n++)])) as SignupEmailValues['recipient'];
  const confirmUrl = values.confirmUrl === undefined ? undefined : replace(values.confirmUrl, n++);
  const unsubscribeUrl = values.unsubscribeUrl === undefined ? undefined : replace(values.unsubscribeUrl, n++);
  return { ...values, recipient, ...(confirmUrl === undefined ? {} : { confirmUrl }), ...(unsubscribeUrl === undefined ? {} : { unsubscribeUrl }) };
}

function cut(text: string, nonce: string): Pieces {
  const pieces: Pieces = [];
  const pattern = new RegExp(`nlslot${nonce}q(\\d+)z`, 'g');
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    pieces.push(text.slice(at, match.index), { slot: Number(match[1]) });
    at = match.index + match[0].length;
  }
  pieces.push(text.slice(at));
  return pieces;
}

function join(pieces: Pieces, values: readonly string[], escape: boolean): string {
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : escape ? Handlebars.escapeExpression(values[piece.slot] ?? '') : (values[piece.slot] ?? '');
  return out;
}

function slotTemplate(pieces: Pieces): SlotTemplate {
  const segments: string[] = [''];
  const slots: number[] = [];
  for (const piece of pieces) {
    if (typeof piece === 'string') segments[segments.length - 1] += piece;
    else {
      slots.push(piece.slot);
      segments.push('');
    }
  }
  return { segments, slots };
}

function slotted(render: (values: SignupEmailValues) => Promise<SignupEmail>): SignupEmailRenderer {
  const shapes = new Map<string, Promise<{ html: Pieces; text: Pieces; subject: string; templates: { html: SlotTemplate; text: SlotTemplate } } | null>>();
  const prepare = async (values: SignupEmailValues) => {
    const nonce = randomBytes(6).toString('hex');
    const standIns = withValues(values, (value, n) => (value ? STAND_IN(nonce, n) : ''));
    const email = await render(standIns);
    const html = cut(email.html, nonce);
    const text = cut(email.text, nonce);
    const pieces = { html, text, subject: email.subject, templates: { html: slotTemplate(html), text: slotTemplate(text) } };
    // The check: values that differ from the stand-ins in every way that matters to escaping.
    const tricky = withValues(values, (value, n) => (value ? `"a'b&c<d>=\`${n}@example.com` : ''));
    const expected = await render(tricky);
    const given = valuesOf(tricky);
    return join(pieces.html, given, true) === expected.html && join(pieces.text, given, false) === expected.text ? pieces : null;
  };
  return async (values) => {
    const key = `${Object.keys(values.recipient).join(',')}|${valuesOf(values).map((value) => (value ? 1 : 0)).join('')}`;
    let shape = shapes.get(key);
    if (!shape) {
      // Bounded: a shape per combination of empty fields, which the config's few fields keep small.
      if (shapes.size > 64) shapes.clear();
      shape = prepare(values).catch(() => null);
      shapes.set(key, shape);
    }
    const pieces = await shape;
    if (!pieces) return render(values);
    const given = valuesOf(values);
    const email: SignupEmail = { subject: pieces.subject, html: join(pieces.html, given, true), text: join(pieces.text, given, false) };
    // Quoted-printable slots take values without line breaks; a value with one is composed whole.
    if (!given.some((value) => /[\r\n]/.test(value))) {
      email.slots = { ...pieces.templates, htmlValues: given.map((value) => Handlebars.escapeExpression(value)), textValues: given };
    }
    return email;
  };
}

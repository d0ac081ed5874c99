import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { compileMjml } from '../render/mjml.js';
import { compileFile, runTemplate, type TemplateFile, type TemplateSet } from '../render/templates.js';

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

  return async (values) => {
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
}

import { DEFAULTS, type Recipient, type ResolvedConfig } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { buildIssueContext, textContextFor, watchingBodies, withRecipient, type IssueContext } from './build-context.js';
import { PREVIEW_SECRET, unsubscribeUrl as unsubscribeUrlFor } from './links.js';
import { compileMjmlWithWarnings, type Mjml2Html } from './mjml.js';
import { prepareIssueImages, type ImageAsset } from './images/issue-images.js';
import { mergeAssets, placeTemplateImages } from './images/template-images.js';
import { layoutFor, runTemplate, type TemplateFile, type TemplateSet } from './templates.js';

export interface RenderOptions {
  config: ResolvedConfig;
  templates: TemplateSet;
  /** Whose copy to render; the config's sample recipient when absent. */
  recipient?: Recipient | undefined;
  /** Key for unsubscribe tokens (NEWSLETTER_SECRET); a preview-only key when absent. */
  secret?: string | undefined;
  /** Where MJML compiles; this thread when absent (see mjml-worker.ts for the build's worker). */
  compiler?: Mjml2Html | undefined;
}

/** Problems the render itself can tell, for library users; `newsletter check` goes further. */
export interface RenderWarning {
  rule: string;
  message: string;
  file?: string | undefined;
  line?: number | undefined;
}

export interface RenderedIssue {
  slug: string;
  subject: string;
  preheader: string | null;
  html: string;
  text: string;
  /** The MJML that produced `html`, for debugging templates. */
  mjml: string;
  warnings: RenderWarning[];
  recipient: Recipient;
  unsubscribeUrl: string;
  layout: string;
  /**
   * The processed local images the email refers to: `build` writes them to `<out>/assets/<name>`,
   * `publish` puts them at `url` (`{siteUrl}assets/<name>`); with `images: "embed"` each has a
   * `cid` and travels in the message as an inline part.
   */
  assets: ImageAsset[];
}

/** Tidies the text layout's output: no trailing spaces, at most one blank line in a row. */
export function tidyText(text: string): string {
  return `${text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/**
 * Gmail clips an HTML body over 102 KB. This measures the HTML as rendered; the check
 * `size/gmail-clip` measures it as encoded in the message (a little larger), and is what the CLI
 * and the preview report, so they do not list this too.
 */
export function sizeWarnings(html: string): RenderWarning[] {
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes <= DEFAULTS.gmailClipBytes) return [];
  return [{ rule: 'size', message: `HTML is ${(bytes / 1024).toFixed(1)} KB: Gmail clips messages over 102 KB and hides the rest, unsubscribe link included` }];
}

/**
 * Both layouts for one copy, the HTML one first: the text part shows in full the articles whose
 * body the HTML printed, and the others as cards (`full`), whatever the layout. The text comes
 * back untidied (`tidyText`): personalize.ts finds its slots in it first.
 */
export function runLayouts(templates: TemplateSet, layout: { html: TemplateFile; text: TemplateFile }, issueContext: IssueContext, recipient: Recipient, unsubscribeUrl: string): { mjml: string; rawText: string } {
  const watched = watchingBodies(withRecipient(issueContext, recipient, unsubscribeUrl, 'html'));
  const mjml = runTemplate(templates, layout.html, watched.context);
  const text = runTemplate(templates, layout.text, textContextFor(withRecipient(issueContext, recipient, unsubscribeUrl, 'text'), watched.shown));
  return { mjml, rawText: text };
}

/** Handlebars → MJML → HTML for one recipient's copy; the text part from the text layout. */
export async function renderWithContext(issue: Issue, issueContext: IssueContext, options: RenderOptions & { recipient: Recipient; unsubscribeUrl: string }): Promise<{ html: string; text: string; mjml: string; warnings: RenderWarning[]; assets: ImageAsset[] }> {
  const layout = layoutFor(options.templates, issue.template, issue.file);
  const layouts = runLayouts(options.templates, layout, issueContext, options.recipient, options.unsubscribeUrl);
  // The layout's own images (./img/logo.png), placed like the articles' (images/template-images.ts).
  const { mjml, assets } = await placeTemplateImages(layouts.mjml, options.templates, layout.html, { config: options.config, width: options.templates.theme.width });
  const text = tidyText(layouts.rawText);
  const { html, warnings } = await compileMjmlWithWarnings(mjml, {
    templates: options.templates,
    layout: layout.html,
    compiler: options.compiler,
    validation: options.config.mjml.validation,
  });
  return { html, text, mjml, warnings: warnings.map((w) => ({ rule: 'mjml/validation', ...w })), assets };
}

/** Renders one issue for one recipient (the sample recipient by default). */
export async function renderIssue(issue: Issue, options: RenderOptions): Promise<RenderedIssue> {
  const recipient = options.recipient ?? options.config.sampleRecipient;
  const unsubscribeUrl = unsubscribeUrlFor(options.config, recipient, issue.slug, options.secret ?? PREVIEW_SECRET);
  const images = await prepareIssueImages(issue, { config: options.config, width: options.templates.theme.width });
  const issueContext = buildIssueContext(images.issue, options.config, options.templates.theme, images.imageSizes);
  const { html, text, mjml, warnings, assets } = await renderWithContext(issue, issueContext, { ...options, recipient, unsubscribeUrl });
  return {
    slug: issue.slug,
    subject: issue.subject,
    preheader: issue.preheader,
    html,
    text,
    mjml,
    warnings: [...warnings, ...sizeWarnings(html)],
    recipient,
    unsubscribeUrl,
    layout: issue.template,
    assets: mergeAssets(images.assets, assets),
  };
}

import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { NewsletterError } from '../errors.js';
import { buildIssueContext } from './build-context.js';
import { compileMjmlWithWarnings, type Mjml2Html } from './mjml.js';
import { prepareIssueImages, type ImageAsset } from './images/issue-images.js';
import { layoutFor, runTemplate, type TemplateSet } from './templates.js';

/**
 * The web edition: the issue's own layout rendered with `web: true` and no recipient. It is
 * public, so it must carry nothing of a reader. Templates hide personal parts with
 * `{{#unless web}}`; a template that prints a recipient field anyway gets a marker value, and a
 * page where a marker survives is refused rather than published.
 */

const MARKER = 'nl-web-edition-no-recipient';

export interface WebEditionOptions {
  config: ResolvedConfig;
  templates: TemplateSet;
  compiler?: Mjml2Html | undefined;
}

function markerRecipient(config: ResolvedConfig): Recipient {
  // Every field the sample recipient has exists, so strict mode accepts the same templates.
  const recipient: Recipient = { email: `${MARKER}@example.invalid` };
  for (const key of Object.keys(config.sampleRecipient)) if (key !== 'email') recipient[key] = `${MARKER}-${key}`;
  return recipient;
}

export interface WebEdition {
  html: string;
  /** Processed local images the page links to, at `{siteUrl}assets/<name>`. */
  assets: ImageAsset[];
  /**
   * The lead article's `image` as the page shows it: a local image's `{siteUrl}assets/<name>`, a
   * remote one as written; null without one. Open Graph tags and feeds use this, never the path
   * the editor wrote (`./ferry.jpg` means nothing outside the content folder).
   */
  leadImage: string | null;
}

export async function renderWebEdition(issue: Issue, options: WebEditionOptions): Promise<WebEdition> {
  const { templates } = options;
  // A web page links its images: never `cid:` parts, whatever the email does.
  const config: ResolvedConfig = options.config.images === 'hosted' ? options.config : { ...options.config, images: 'hosted' };
  const images = await prepareIssueImages(issue, { config, width: templates.theme.width });
  const layout = layoutFor(templates, issue.template, issue.file);
  const context = { ...buildIssueContext(images.issue, config, templates.theme, images.imageSizes, { webEdition: true }), web: true, recipient: markerRecipient(config), unsubscribeUrl: `https://${MARKER}.invalid/` };
  const mjml = runTemplate(templates, layout.html, context);
  if (mjml.includes(MARKER)) {
    throw new NewsletterError('TEMPLATE_VARIABLE', 'the web edition would show recipient data (an address, a list field or the unsubscribe link): it is public', {
      file: layout.html.file,
      hint: 'wrap what is personal in `{{#unless web}}…{{/unless}}` (see templates/partials/footer.mjml)',
    });
  }
  const { html } = await compileMjmlWithWarnings(mjml, { templates, layout: layout.html, compiler: options.compiler, validation: config.mjml.validation });
  return { html, assets: images.assets, leadImage: images.issue.articles[0]?.image ?? null };
}

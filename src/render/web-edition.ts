import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { NewsletterError, isNewsletterError } from '../errors.js';
import { htmlRecipient, htmlUnsubscribeUrl, RecipientInWebEdition } from './recipient-values.js';
import { recipientPlaceInWeb, type GuardPlace } from './web-edition-guard.js';
import { buildIssueContext } from './build-context.js';
import { compileMjmlWithWarnings, type Mjml2Html } from './mjml.js';
import { prepareIssueImages, type ImageAsset } from './images/issue-images.js';
import { mergeAssets, placeTemplateImages } from './images/template-images.js';
import { layoutFor, runTemplate, type TemplateSet } from './templates.js';

/**
 * The web edition: the issue's own layout rendered with `web: true` and no recipient. It is
 * public, so it must carry nothing of a reader. Templates hide personal parts with
 * `{{#unless web}}`; a template that prints a recipient field anyway, as it is or through any
 * helper (`{{upper recipient.name}}`), gets a forbidden value whose printing stops the render
 * (recipient-values.ts), and the page is refused with the template's file and line.
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

function recipientDataError(place: GuardPlace): NewsletterError {
  return new NewsletterError('TEMPLATE_VARIABLE', 'the web edition would show recipient data (an address, a list field or the unsubscribe link): it is public', {
    ...place,
    hint: 'wrap what is personal in `{{#unless web}}…{{/unless}}` (see templates/partials/footer.mjml)',
  });
}

export async function renderWebEdition(issue: Issue, options: WebEditionOptions): Promise<WebEdition> {
  const { templates } = options;
  // A web page links its images: never `cid:` parts, whatever the email does.
  const config: ResolvedConfig = options.config.images === 'hosted' ? options.config : { ...options.config, images: 'hosted' };
  const images = await prepareIssueImages(issue, { config, width: templates.theme.width });
  const layout = layoutFor(templates, issue.template, issue.file);
  const context = {
    ...buildIssueContext(images.issue, config, templates.theme, images.imageSizes, { webEdition: true }),
    web: true,
    recipient: htmlRecipient(markerRecipient(config), true),
    unsubscribeUrl: htmlUnsubscribeUrl(`https://${MARKER}.invalid/`, true),
  };
  let mjml: string;
  try {
    mjml = runTemplate(templates, layout.html, context);
  } catch (error) {
    if (!(isNewsletterError(error) && error.cause instanceof RecipientInWebEdition)) throw error;
    throw recipientDataError(recipientPlaceInWeb(templates, layout.html, error.file));
  }
  // The layout's own images (./img/logo.png), placed like the articles' (images/template-images.ts).
  const placed = await placeTemplateImages(mjml, templates, layout.html, { config, width: templates.theme.width });
  mjml = placed.mjml;
  // A raw value that got past the wrappers still carries the marker, in any case.
  if (mjml.toLowerCase().includes(MARKER)) {
    throw recipientDataError(recipientPlaceInWeb(templates, layout.html, undefined));
  }
  const { html } = await compileMjmlWithWarnings(mjml, { templates, layout: layout.html, compiler: options.compiler, validation: config.mjml.validation });
  return { html, assets: mergeAssets(images.assets, placed.assets), leadImage: images.issue.articles[0]?.image ?? null };
}

import type { Rule, RuleSeverity } from '../types.js';
import { a11yContrast } from './a11y-contrast.js';
import { a11yHeadings } from './a11y-headings.js';
import { a11yLang } from './a11y-lang.js';
import { a11yLayoutTables } from './a11y-layout-tables.js';
import { compatEnhancement } from './compat-enhancement.js';
import { compatMjml } from './compat-mjml.js';
import { compatPartial } from './compat-partial.js';
import { compatUnsupported } from './compat-unsupported.js';
import { complianceFrom } from './compliance-from.js';
import { complianceListUnsubscribe } from './compliance-list-unsubscribe.js';
import { compliancePostalAddress } from './compliance-postal-address.js';
import { complianceReplyTo } from './compliance-reply-to.js';
import { complianceUnsubscribeLink } from './compliance-unsubscribe-link.js';
import { complianceUnsubscribeIdentifies } from './compliance-unsubscribe-identifies.js';
import { privacyUnsubscribeEmail } from './privacy-unsubscribe-email.js';
import { darkMode } from './dark-mode.js';
import { deliverabilityBounceAddress, deliverabilityReturnPath } from './deliverability-bounces.js';
import { imagesAlt } from './images-alt.js';
import { imagesHttp } from './images-http.js';
import { imagesTextRatio } from './images-text-ratio.js';
import { imagesWidth } from './images-width.js';
import { inboxPreheader } from './inbox-preheader.js';
import { inboxSubject } from './inbox-subject.js';
import { inboxSubjectCaps } from './inbox-subject-caps.js';
import { linksEmptyHref } from './links-empty-href.js';
import { linksHttp } from './links-http.js';
import { linksMalformed } from './links-malformed.js';
import { linksUnsafeScheme } from './links-unsafe-scheme.js';
import { linksUtm } from './links-utm.js';
import { linksVagueText } from './links-vague-text.js';
import { sizeGmailClip } from './size-gmail-clip.js';
import { sizeLarge } from './size-large.js';
import { sizeHostedImages } from './size-hosted-images.js';
import { textArticles } from './text-articles.js';
import { textPresent } from './text-present.js';
import { contentEmbed, contentIgnoredKeys, contentRemoved, mjmlValidation, sizeEmbeddedImages } from './content-findings.js';
import { contentUnreachable } from './content-unreachable.js';
import { linksExampleDomain } from './links-example-domain.js';

/**
 * Every rule of `newsletter check`, in the order findings are reported: what stops a send first
 * (size, compliance), then what the reader sees. This list is the one place the order is written.
 */
export const RULES: readonly Rule[] = Object.freeze([
  sizeGmailClip,
  sizeLarge,
  sizeEmbeddedImages,
  sizeHostedImages,
  complianceUnsubscribeLink,
  complianceListUnsubscribe,
  complianceUnsubscribeIdentifies,
  privacyUnsubscribeEmail,
  compliancePostalAddress,
  complianceFrom,
  complianceReplyTo,
  linksExampleDomain,
  deliverabilityReturnPath,
  deliverabilityBounceAddress,
  inboxSubject,
  inboxSubjectCaps,
  inboxPreheader,
  linksMalformed,
  linksUnsafeScheme,
  linksEmptyHref,
  linksHttp,
  linksVagueText,
  linksUtm,
  imagesAlt,
  imagesHttp,
  imagesWidth,
  imagesTextRatio,
  textPresent,
  textArticles,
  contentUnreachable,
  a11yLang,
  a11yLayoutTables,
  a11yContrast,
  a11yHeadings,
  compatUnsupported,
  compatPartial,
  compatEnhancement,
  compatMjml,
  darkMode,
  contentRemoved,
  contentEmbed,
  contentIgnoredKeys,
  mjmlValidation,
]);

/** Rules that need a browser: run only with `--a11y`, after the rules above. */
export const AUDIT_RULES: readonly Omit<Rule, 'check'>[] = Object.freeze([
  {
    id: 'a11y/axe',
    description: 'axe-core, in Chromium (--a11y): a critical or serious accessibility violation',
    defaultSeverity: 'error' as RuleSeverity,
  },
  {
    id: 'a11y/axe-minor',
    description: 'axe-core, in Chromium (--a11y): a moderate or minor accessibility violation',
    defaultSeverity: 'warn' as RuleSeverity,
  },
  {
    id: 'layout/overflow',
    description: 'in Chromium (--a11y): the email is wider than a 375 px phone; names the widest element and its source',
    defaultSeverity: 'error' as RuleSeverity,
  },
]);

export const RULE_IDS: readonly string[] = Object.freeze([...RULES, ...AUDIT_RULES].map((rule) => rule.id));

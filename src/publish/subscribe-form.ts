import type { ResolvedConfig } from '../config/defaults.js';
import type { SiteTemplates } from './site-templates.js';

/**
 * The sign-up form of the site (templates/site/subscribe-form.hbs): its data, and its place in a
 * web edition, whose page is the email's HTML: after the email's body, between two markers, so a
 * page kept from an earlier publish gets the current form instead of a second one, and its feed
 * entry none.
 */

const CAPTCHA_WIDGETS = {
  turnstile: { className: 'cf-turnstile', scriptUrl: 'https://challenges.cloudflare.com/turnstile/v0/api.js' },
  hcaptcha: { className: 'h-captcha', scriptUrl: 'https://js.hcaptcha.com/1/api.js' },
} as const;

const KNOWN_LABELS: Record<string, { label: string; autocomplete: string | null }> = {
  name: { label: 'Name', autocomplete: 'name' },
  firstName: { label: 'First name', autocomplete: 'given-name' },
  lastName: { label: 'Last name', autocomplete: 'family-name' },
  company: { label: 'Company', autocomplete: 'organization' },
};

export function subscribeFormContext(config: Pick<ResolvedConfig, 'siteUrl' | 'signup'>, page: string) {
  const captcha = config.signup.captcha;
  return {
    actionUrl: `${config.siteUrl}subscribe`,
    page,
    consentText: config.signup.consentText,
    fields: config.signup.fields.map((name) => ({ name, ...(KNOWN_LABELS[name] ?? { label: name.charAt(0).toUpperCase() + name.slice(1).replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' '), autocomplete: null }) })),
    captcha: captcha ? { siteKey: captcha.siteKey, ...CAPTCHA_WIDGETS[captcha.provider] } : null,
  };
}

const START = '<!-- newsletter:subscribe -->';
const END = '<!-- /newsletter:subscribe -->';

export function withoutSubscribeForm(html: string): string {
  const start = html.indexOf(START);
  const end = html.indexOf(END);
  if (start < 0 || end < start) return html;
  // With the line break withSubscribeForm put after it: a page kept and given the form again is the same bytes.
  const after = html.startsWith('\n', end + END.length) ? end + END.length + 1 : end + END.length;
  return html.slice(0, start) + html.slice(after);
}

/** The form rendered for `page`, put before </body> (at the end when there is none). */
export function withSubscribeForm(html: string, pages: SiteTemplates, base: object, config: Pick<ResolvedConfig, 'siteUrl' | 'signup'>, page: string): string {
  const form = `${START}\n${pages.render('subscribe-form', { ...base, signup: subscribeFormContext(config, page) })}\n${END}`;
  const clean = withoutSubscribeForm(html);
  const close = clean.search(/<\/body>/i);
  return close < 0 ? `${clean}\n${form}` : `${clean.slice(0, close)}${form}\n${clean.slice(close)}`;
}

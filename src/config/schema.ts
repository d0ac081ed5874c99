import { z } from 'zod';
import { VERP_TAG_LENGTH } from '../bounces/verp-tag-length.js';

/**
 * The shape of `newsletter.config.json`. Every object is strict: a key we do not know is an error
 * that names it, because a misspelt key silently ignored is a wrong email sent.
 */

const hexColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, 'expected a hex color such as `#1a1a1a`');
const httpsUrl = z.url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' });

/**
 * Theme values land in style attributes and <link> tags of every email, so they are checked for
 * what they are, not just for being strings: `"Arial;background-image:url(…)"` must not pass.
 * A font stack is a comma-separated list of family names, each bare (`Times New Roman`, `serif`)
 * or quoted (`'Helvetica Neue'`), with nothing else in it.
 */
const BARE_FAMILY = "[A-Za-z][A-Za-z0-9 _-]*";
const QUOTED_FAMILY = "'[A-Za-z0-9 _.-]+'|\"[A-Za-z0-9 _.-]+\"";
const FONT_STACK = new RegExp(`^\\s*(?:${BARE_FAMILY}|${QUOTED_FAMILY})\\s*(?:,\\s*(?:${BARE_FAMILY}|${QUOTED_FAMILY})\\s*)*$`);
export const fontStack = z
  .string()
  .max(300)
  .regex(FONT_STACK, "expected a list of font family names such as `Georgia, 'Times New Roman', serif` (letters, digits, spaces, - and _; quoted or bare; nothing else)");
export const fontFamilyName = z.string().max(100).regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, 'expected one font family name (letters, digits, spaces, `-`, `_`, `.`)');
/** Theme URLs are fetched by every reader's mail client: https only. */
export const themeUrl = z.url({ protocol: /^https$/, error: 'expected an absolute https URL' }).max(2000).refine((url) => !/["'<>\s]/.test(url), 'the URL must not contain quotes, spaces or angle brackets');

export const themeColorsSchema = z.strictObject({
  background: hexColor.optional(),
  surface: hexColor.optional(),
  text: hexColor.optional(),
  muted: hexColor.optional(),
  accent: hexColor.optional(),
  accentText: hexColor.optional(),
  link: hexColor.optional(),
  border: hexColor.optional(),
});

export const themeSchema = z.strictObject({
  colors: themeColorsSchema.optional(),
  /** Colors for clients that honour `prefers-color-scheme: dark`. */
  darkColors: themeColorsSchema.optional(),
  fonts: z
    .strictObject({
      body: fontStack.optional(),
      heading: fontStack.optional(),
      /** Web font stylesheet URL (mj-font); clients that cannot load it fall back to `body`. */
      webFontUrl: themeUrl.optional(),
      webFontName: fontFamilyName.optional(),
    })
    .optional(),
  logo: z
    .strictObject({
      url: themeUrl,
      alt: z.string().min(1),
      width: z.number().int().positive().max(600).describe('a number of pixels such as 120').optional(),
    })
    .optional(),
  /** Content width of the email in pixels. 600 is what every client handles. */
  width: z.number().int().min(320).max(800).describe('a number of pixels such as 600').optional(),
  radius: z.number().int().min(0).max(32).describe('a number of pixels such as 6').optional(),
});

export const recipientSchema = z
  .looseObject({
    email: z.email({ error: 'expected an email address' }),
    name: z.string().optional(),
  })
  .refine((r) => Object.values(r).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'), {
    error: 'recipient fields must be strings, numbers or booleans',
  });

const severity = z.enum(['error', 'warn', 'off']);

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  from: z.string().min(3),
  replyTo: z.string().min(3).optional(),
  postalAddress: z.string().min(1),
  /**
   * The public root of the newsletter's website (`newsletter publish` writes it; processed images
   * go under `{siteUrl}assets/`). An https URL; a missing trailing slash is added.
   */
  siteUrl: z.url({ protocol: /^https$/, error: 'expected an absolute https URL such as `https://news.example.com/`' }).optional(),
  /** Where issues are published on the web; `{issue}` is replaced by the issue slug. */
  baseUrl: httpsUrl.optional(),
  /**
   * Unsubscribe page; default `{siteUrl}unsubscribe/{token}` (what `newsletter serve` answers).
   * `{token}` (the address, encrypted and signed with NEWSLETTER_SECRET), `{email}` and `{issue}`
   * are replaced (URL-encoded) per recipient.
   */
  unsubscribeUrl: z.string().regex(/^https:\/\//, 'expected an https:// URL pattern (Gmail and Yahoo require https for one-click unsubscribe)').optional(),
  /** Optional mailbox for `List-Unsubscribe: <mailto:...>`. */
  unsubscribeMailto: z.email().optional(),
  /** `List-Id` header; defaults to the newsletter name and the From domain. */
  listId: z.string().min(1).optional(),
  utm: z
    .union([
      z.literal(false),
      z.strictObject({
        source: z.string().min(1),
        medium: z.string().min(1),
        /** `{issue}` is replaced by the issue slug. */
        campaign: z.string().min(1),
        /** Only links to these hosts get UTM parameters; empty means every http(s) link. */
        hosts: z.array(z.string().min(1)).optional(),
      }),
    ])
    .optional(),
  theme: themeSchema.optional(),
  /** BCP 47 locale for dates and the document `lang`. */
  locale: z
    .string()
    .refine((locale) => {
      try {
        return Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
      } catch {
        return false;
      }
    }, 'expected a BCP 47 locale this Node.js knows, such as `en-GB` or `fr-FR`')
    .optional(),
  sampleRecipient: recipientSchema.optional(),
  /** Addresses never sent to (unsubscribed, bounced); one per line. Relative to the config file. */
  suppressions: z.string().min(1).optional(),
  dkim: z
    .strictObject({
      domainName: z.string().min(1),
      keySelector: z.string().min(1),
      /** PEM private key file, relative to the config file. */
      privateKeyFile: z.string().min(1),
    })
    .optional(),
  /**
   * Local images: `hosted` (the default) links them under `{siteUrl}assets/`, where the web
   * edition publishes them; `embed` attaches them to each message as inline (cid:) parts.
   */
  images: z.enum(['hosted', 'embed'], { error: 'expected `hosted` or `embed`' }).optional(),
  mjml: z
    .strictObject({
      /** `strict` (default) fails on what `mjml --validate` rejects; `soft` reports it as warnings. */
      validation: z.enum(['strict', 'soft'], { error: 'expected `strict` or `soft`' }).optional(),
    })
    .optional(),
  /** Bounces and complaints (docs/bounces.md). */
  bounces: z
    .strictObject({
      /** VERP base address; its local part leaves room for `+` and a 24-character tag (64 octets in all). */
      address: z.email().refine((value) => value.split('@')[0]!.length <= 64 - 1 - VERP_TAG_LENGTH && !value.split('@')[0]!.includes('+'), `expected a local part of at most ${64 - 1 - VERP_TAG_LENGTH} characters without \`+\` (the VERP tag follows it)`).optional(),
      imap: z.string().regex(/^imaps?:\/\/[^/]+/, 'expected an IMAP URL such as `imaps://user:pass@imap.example.com/INBOX`').optional(),
      processed: z.enum(['flag', 'move'], { error: 'expected `flag` or `move`' }).optional(),
      folder: z.string().min(1).optional(),
      softBounceLimit: z.number().int().min(1).max(100).optional(),
    })
    .optional(),
  checks: z
    .strictObject({
      rules: z.record(z.string(), severity).optional(),
      clients: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  /** Sign-up with double opt-in: the form `publish` adds and `serve` answers (docs/signup.md). */
  signup: z
    .strictObject({
      /** Optional fields of the form besides the address, e.g. `["name"]`. */
      fields: z
        .array(z.string().regex(/^[a-z][A-Za-z0-9_]{0,31}$/, 'expected a field name such as `name` (a lowercase letter, then letters, digits, `_`)').refine((name) => name !== 'email', 'the address is always asked for: leave `email` out'))
        .max(10)
        .optional(),
      /** Shown next to the button, and kept with each subscriber as the consent they gave. */
      consentText: z.string().min(1).max(1000).optional(),
      /** Keep the whole client IP address with the consent (default: truncated to /24 or /48). */
      fullIp: z.boolean().optional(),
      maxPerIpPerHour: z.number().int().min(1).max(1_000_000).optional(),
      /** How long a confirmation link works, in days. */
      tokenDays: z.number().positive().max(90).optional(),
      confirmSubject: z.string().min(1).max(200).optional(),
      welcomeSubject: z.string().min(1).max(200).optional(),
      /** Cloudflare Turnstile or hCaptcha; the secret is read from CAPTCHA_SECRET. */
      captcha: z
        .strictObject({
          provider: z.enum(['turnstile', 'hcaptcha'], { error: 'expected `turnstile` or `hcaptcha`' }),
          siteKey: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'expected the site key the provider gave (letters, digits, `-`, `_`)'),
          /** The provider's siteverify URL; override only to test against a stub. */
          verifyUrl: httpsUrl.optional(),
        })
        .optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof configSchema>;

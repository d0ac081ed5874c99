/**
 * Every default of the project in one frozen object. The config file overrides it key by key;
 * command-line flags override both; the result is validated once (load-config.ts) and then handed
 * to the stages, which never look at flags or files of their own.
 */

export interface ThemeColors {
  background: string;
  surface: string;
  text: string;
  muted: string;
  accent: string;
  accentText: string;
  link: string;
  border: string;
}

export interface Theme {
  colors: ThemeColors;
  darkColors: ThemeColors | null;
  fonts: { body: string; heading: string; webFontUrl: string | null; webFontName: string | null };
  logo: { url: string; alt: string; width: number } | null;
  width: number;
  radius: number;
}

export interface Recipient {
  email: string;
  [field: string]: string | number | boolean | undefined;
}

export interface UtmParameters {
  source: string;
  medium: string;
  campaign: string;
  hosts: string[];
}

export interface ResolvedPaths {
  /** Folder holding `articles/` and `issues/`. */
  content: string;
  templates: string;
  out: string;
  /** The config file that was read, or null when the built-in defaults were used. */
  config: string | null;
  /** Folder that relative paths inside the config are resolved against. */
  root: string;
  /** The request's working folder, absolute: the request's paths resolve against it, shown paths are relative to it. */
  cwd: string;
}

export interface ResolvedConfig {
  name: string;
  from: string;
  replyTo: string | null;
  postalAddress: string;
  /** Public root of the newsletter's website, always ending in `/`. */
  siteUrl: string;
  baseUrl: string;
  unsubscribeUrl: string;
  unsubscribeMailto: string | null;
  listId: string | null;
  utm: UtmParameters | null;
  /** Theme overrides from the config; merged over templates/theme.json when templates load. */
  themeOverrides: DeepPartialTheme;
  locale: string;
  sampleRecipient: Recipient;
  suppressions: string;
  dkim: { domainName: string; keySelector: string; privateKeyFile: string } | null;
  checks: { rules: Record<string, 'error' | 'warn' | 'off'>; clients: string[] };
  /** Local images: linked under `{siteUrl}assets/` (`hosted`) or attached as inline parts (`embed`). */
  images: 'hosted' | 'embed';
  /** Folder of processed images, reused across builds and preview reloads (absolute). */
  imageCache: string;
  mjml: { validation: 'strict' | 'soft' };
  /** Bounces and complaints (docs/bounces.md). */
  bounces: ResolvedBounces;
  signup: SignupConfig;
  paths: ResolvedPaths;
}

export interface SignupConfig {
  fields: string[];
  consentText: string;
  fullIp: boolean;
  maxPerIpPerHour: number;
  tokenDays: number;
  /** `{name}` is the newsletter's name. */
  confirmSubject: string;
  welcomeSubject: string;
  captcha: { provider: 'turnstile' | 'hcaptcha'; siteKey: string; verifyUrl: string } | null;
}

export interface ResolvedBounces {
  /** The VERP base address (`bounces@news.example.com`): envelope senders become `bounces+<tag>@…`. */
  address: string | null;
  /** The mailbox `newsletter bounces` reads (`imaps://user:pass@host/INBOX`). */
  imap: string | null;
  /** What `bounces` does with a message it handled: set a keyword, or move it to `folder`. */
  processed: 'flag' | 'move';
  folder: string;
  /** Consecutive issues that soft-bounced before the address is suppressed. */
  softBounceLimit: number;
}

export type DeepPartialTheme = {
  colors?: Partial<ThemeColors>;
  darkColors?: Partial<ThemeColors>;
  fonts?: Partial<Theme['fonts']>;
  logo?: { url: string; alt: string; width?: number | undefined } | undefined;
  width?: number;
  radius?: number;
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export const DEFAULTS = deepFreeze({
  configFile: 'newsletter.config.json',
  paths: { content: 'content', templates: 'templates', out: 'dist' },
  config: {
    // The embedded default: enough to render the example on a fresh machine with no config file.
    name: 'The Newsletter',
    from: 'The Newsletter <newsletter@example.com>',
    replyTo: null,
    postalAddress: '1 Example Street, Example City',
    siteUrl: 'https://newsletter.example.com/',
    baseUrl: 'https://newsletter.example.com/issues/{issue}/',
    unsubscribeUrl: 'https://newsletter.example.com/unsubscribe/{token}',
    unsubscribeMailto: null,
    listId: null,
    utm: null,
    locale: 'en-GB',
    sampleRecipient: { email: 'reader@example.com', name: 'Sample Reader' },
    suppressions: 'suppressions.txt',
    dkim: null,
    checks: { rules: {}, clients: ['gmail', 'outlook', 'apple-mail', 'yahoo'] },
    images: 'hosted' as 'hosted' | 'embed',
    /** Relative to the config file's folder (the working directory without one). */
    imageCache: '.newsletter/cache/images',
    mjml: { validation: 'strict' as 'strict' | 'soft' },
    bounces: { address: null, imap: null, processed: 'flag' as 'flag' | 'move', folder: 'Newsletter Processed', softBounceLimit: 3 },
  },
  issue: { template: 'digest', lead: 'full' as 'full' | 'card' },
  /** `newsletter send`: flags override these; paths are relative to the config file's folder. */
  send: {
    concurrency: 5,
    /** Retries after the first attempt for temporary failures (4xx, dropped connections, timeouts). */
    retries: 3,
    /** First retry delay; each further retry waits twice as long (with jitter), at most maxRetryDelayMs. */
    retryDelayMs: 1000,
    maxRetryDelayMs: 60_000,
    /** A reply slower than this counts as a timeout (a temporary failure). */
    socketTimeoutMs: 120_000,
    journalDir: '.newsletter/sends',
    outbox: 'outbox',
    /** `send --queue` says that no worker is running once batches have waited this long with none connected. */
    noWorkerNoticeMs: 30_000,
  },
  /**
   * Articles, issues and templates larger than this are refused (a 50 MB post took 2 GB to build).
   * 1 MB is some 170,000 words: ten times a long read, and far past what an email can hold.
   */
  maxInputBytes: 1024 * 1024,
  /** The rendered MJML of one email, at most (MJML needs ~200× its source in memory). */
  maxMjmlBytes: 400 * 1024,
  /** Gmail clips an HTML body larger than this (bytes as encoded in the message). */
  gmailClipBytes: 102 * 1024,
  sizeWarnBytes: 80 * 1024,
  /**
   * Linked images (`images: "hosted"`) a reader downloads on opening, all together: past this a
   * phone on a slow connection shows blank boxes for seconds, and a metered plan pays for it.
   */
  hostedImagesWarnBytes: 2 * 1024 * 1024,
  /** `newsletter preview`: loopback only unless --host says otherwise; --port 0 picks a free port. */
  preview: { host: '127.0.0.1', port: 3000, pickerRows: 50 },
  /** `newsletter publish`: the static site goes to `<out>/<siteDir>/`; the archive pages hold `perPage` issues. */
  publish: { siteDir: 'site', perPage: 50 },
  /** `newsletter serve`: loopback unless --host; bodies past maxBodyBytes are refused (413). */
  /** One process answers ~5,000 one-click POSTs a second; --processes auto uses every core. */
  serve: {
    host: '127.0.0.1',
    port: 8080,
    maxBodyBytes: 10 * 1024,
    processes: 1,
    /** The Retry-After of a 503 while the suppression store cannot record (Redis down, disk full). */
    retryAfterSeconds: 60,
    /** `/healthz` says not ok when the store has not answered a ping within this. */
    healthTimeoutMs: 1500,
  },
  /** Bounces and complaints: the IMAP keyword of handled messages, webhook replay window, rate warnings. */
  bounces: {
    keyword: '$NewsletterHandled',
    /** Webhook timestamps older (or newer) than this are refused; replay tokens are kept as long. */
    replayWindowMs: 5 * 60_000,
    /** Once-only marks of handled reports (IMAP messages, webhook events) are kept this long. */
    claimTtlMs: 400 * 24 * 3600_000,
    /** SNS signing certificates are fetched once per URL and kept this long. */
    certCacheMs: 24 * 3600_000,
    /** A certificate fetch that failed is tried again after this long. */
    certRetryMs: 60_000,
    /** SNS messages are accepted this long after they were published (SNS retries for up to an hour). */
    snsMaxAgeMs: 3600_000,
    /** Webhook bodies past this are refused (413): SendGrid batches events, SES sends full headers. */
    webhookMaxBytes: 1024 * 1024,
    /** `status` warns past these rates (Gmail and Yahoo: keep complaints under 0.3%, aim below 0.1%). */
    complaintRateWarn: 0.001,
    hardBounceRateWarn: 0.02,
    /** The issues sent are read again after this long: a `bounces --watch` or `serve` running for days sees new sends. */
    issuesMaxAgeMs: 60_000,
    /** `bounces --watch` opens a lost connection again after these waits (the last one repeats). */
    reconnectDelaysMs: [1000, 2000, 5000, 10_000, 30_000] as readonly number[],
  },
  /** Sign-up with double opt-in (`serve`'s POST /subscribe, docs/signup.md). */
  signup: {
    /** Beside the suppression list. */
    subscribersFile: 'subscribers.jsonl',
    /** How long a confirmation link works. */
    tokenDays: 7,
    /** At most one confirmation (or reminder) mail per address in this window. */
    mailWindowMs: 24 * 60 * 60 * 1000,
    /** Sign-ups one client address may make per hour (config `signup.maxPerIpPerHour`). */
    maxPerIpPerHour: 10,
    /** Rate-limit windows a process keeps in memory at most (files store). */
    maxTrackedKeys: 100_000,
    /** Each optional field's value, at most (characters). */
    maxFieldLength: 200,
    consentText: 'I agree to receive this newsletter by email. Every issue has a link that stops it.',
    confirmSubject: 'Please confirm your subscription to {name}',
    welcomeSubject: 'Welcome to {name}',
    /** CAPTCHA verification endpoints (config `signup.captcha.verifyUrl` overrides, for tests). */
    captchaVerifyUrls: {
      turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
      hcaptcha: 'https://api.hcaptcha.com/siteverify',
    },
    captchaTimeoutMs: 5000,
    /**
     * Sign-up emails waiting for the SMTP server at once, per `serve` process. Past it a sign-up
     * is answered 503 (try again in a minute) rather than told a mail is on its way that is not.
     */
    maxMailsInFlight: 5000,
    /** A sign-up email the SMTP server refuses for now (4xx, no connection) is tried again after these waits. */
    mailRetryDelaysMs: [5_000, 30_000, 120_000] as readonly number[],
    /** `Retry-After` of a 503 answered while the mail queue is full. */
    busyRetryAfterSeconds: 60,
  },
});

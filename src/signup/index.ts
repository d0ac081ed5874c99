import type { Project } from '../pipeline.js';
import { NewsletterError } from '../errors.js';
import type { Store } from '../store/types.js';
import { loadSignupEmail } from './emails.js';
import { smtpSignupMailer, type SignupMailer, type SignupMailerOptions } from './mailer.js';
import { createSignupService, type SignupRefusal, type SignupService } from './sign-up.js';

/**
 * Sign-ups of a project, as `serve` opens them: the emails loaded (a template error stops `serve`
 * before it listens), the pooled SMTP transport, the CAPTCHA secret checked.
 */

export interface OpenSignupOptions {
  project: Project;
  store: Store;
  secret: string;
  smtpUrl: string;
  captchaSecret?: string | null | undefined;
  /** A sign-up refused (without the address in clear). */
  onRefusal?: ((refusal: SignupRefusal) => void) | undefined;
  /** An email that could not be sent (without the address). */
  onMailError?: ((kind: string, error: unknown) => void) | undefined;
  /** An email the SMTP server refused for now, tried again after `inMs` (without the address). */
  onMailRetry?: ((kind: string, error: Error, inMs: number) => void) | undefined;
  /** For tests: another way to send. */
  mailer?: SignupMailer | undefined;
  /** The SMTP mailer's queue and retries (DEFAULTS.signup); tests make them small. */
  mailerOptions?: SignupMailerOptions | undefined;
  /** For tests: the clock (epoch ms). */
  now?: (() => number) | undefined;
}

export interface OpenSignup {
  service: SignupService;
  /** Every email handed to the transport so far has been sent (or has failed). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function openSignup(options: OpenSignupOptions): Promise<OpenSignup> {
  const { project } = options;
  const config = project.config;
  if (config.signup.captcha && !options.captchaSecret) {
    throw new NewsletterError('SERVE_CONFIG', `the config asks for a ${config.signup.captcha.provider} CAPTCHA but CAPTCHA_SECRET is not set`, {
      file: config.paths.config ?? undefined,
      hint: 'set CAPTCHA_SECRET to the secret key of the site key in `signup.captcha` (environment or .env)',
    });
  }
  const confirmEmail = (await loadSignupEmail('confirm', config, project.templates))!;
  const welcomeEmail = await loadSignupEmail('welcome', config, project.templates);
  // Rendered once now: a template error stops `serve` before it listens, and the first sign-up
  // does not wait for MJML to load (emails.ts renders each shape once, then joins values in).
  const sample = { email: 'reader@example.com', name: 'Sample Reader', ...Object.fromEntries(config.signup.fields.map((field) => [field, 'x'])) };
  await confirmEmail({ recipient: sample, confirmUrl: `${config.siteUrl}confirm/sample`, expiresDays: config.signup.tokenDays });
  await welcomeEmail?.({ recipient: sample, unsubscribeUrl: `${config.siteUrl}unsubscribe/sample` });
  const mailer = options.mailer ?? (await smtpSignupMailer(options.smtpUrl, config, options.onMailError ?? (() => undefined), { onRetry: options.onMailRetry, ...options.mailerOptions }));
  const service = createSignupService({ config, secret: options.secret, store: options.store, confirmEmail, welcomeEmail, mailer, captchaSecret: options.captchaSecret, onRefusal: options.onRefusal, now: options.now });
  return { service, idle: () => mailer.idle(), close: () => mailer.close() };
}

export { createSignupService, HONEYPOT_FIELD, type SignupService, type SignupRefusal, type SignupServiceOptions } from './sign-up.js';
export { signupToken, readSignupToken, type SignupClaims } from './token.js';

import { createHmac } from 'node:crypto';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { normalizeEmail, unsubscribeUrl } from '../render/links.js';
import { listIdFor } from '../render/list-id.js';
import { addressProblem } from '../send/recipients.js';
import type { Store, Subscriber } from '../store/types.js';
import { captchaCheck, CAPTCHA_FIELDS, type CaptchaCheck } from './captcha.js';
import { truncateIp } from './client-ip.js';
import type { SignupEmailRenderer } from './emails.js';
import type { MailSlot, SignupMailer } from './mailer.js';
import { readSignupToken, signupToken, type SignupClaims, type SignupTokenProblem } from './token.js';

/**
 * Sign-up with double opt-in, apart from HTTP (serve/subscribe.ts carries it):
 *
 *   signUp   the form's fields → one answer whatever the address; at most a confirmation mail,
 *            sent in the background. In order: the client's hourly limit, the honeypot, the
 *            CAPTCHA, the address's syntax (each of these answers the same for every address),
 *            then, answered like a success: an address suppressed for anything but an
 *            unsubscribe gets nothing, and an address mailed in the last 24 h gets nothing more
 *            (a mail that could not be sent does not count). While the mailer's queue is full,
 *            every sign-up is answered `busy` (503, try again), before any of that is counted.
 *   confirm  a token from that mail → the subscriber recorded with the proof of consent. Only
 *            a POST calls it (a GET shows the button): mail scanners open links, they do not press
 *            buttons. An unsubscribed address that confirms is subscribed again, its earlier
 *            consents kept; a subscriber who confirms again changes nothing. The welcome email
 *            goes once, when the confirmation changed something.
 *
 * Refusals are logged with the address as a keyed hash (`#1a2b3c4d5e6f`), never in clear.
 */

export interface SignupForm {
  get(name: string): string | null;
}

export interface SignupInput {
  form: SignupForm;
  /** The client's address (serve/client-ip.ts), null when unknown. */
  ip: string | null;
  /** The Referer, when the form did not say which page it was on. */
  referer: string | null;
}

export type SignupResult =
  | { kind: 'accepted'; outcome: 'signup-mailed' | 'signup-honeypot' | 'signup-suppressed' | 'signup-already-mailed' }
  | { kind: 'invalid'; outcome: 'signup-invalid'; message: string }
  | { kind: 'limited'; outcome: 'signup-ip-limit' }
  | { kind: 'captcha'; outcome: 'signup-captcha' }
  | { kind: 'busy'; outcome: 'signup-busy' };

export type ConfirmResult =
  | { kind: 'confirmed'; email: string; outcome: 'confirmed' | 'resubscribed' | 'already-confirmed' | 'confirm-blocked' }
  | { kind: 'refused'; problem: SignupTokenProblem; outcome: `confirm-${SignupTokenProblem}` };

export interface SignupRefusal {
  outcome: string;
  /** `#` and 12 hex digits of an HMAC of the address; null when there was none. */
  address: string | null;
  ip: string | null;
}

export interface SignupServiceOptions {
  config: ResolvedConfig;
  secret: string;
  store: Store;
  confirmEmail: SignupEmailRenderer;
  welcomeEmail: SignupEmailRenderer | null;
  mailer: SignupMailer;
  /** CAPTCHA_SECRET, needed when the config names a CAPTCHA. */
  captchaSecret?: string | null | undefined;
  onRefusal?: ((refusal: SignupRefusal) => void) | undefined;
  now?: () => number;
}

export interface SignupService {
  signUp(input: SignupInput): Promise<SignupResult>;
  /** Reads the token only (the GET page). */
  check(token: string): { email: string } | { problem: SignupTokenProblem };
  confirm(token: string): Promise<ConfirmResult>;
}

/** The honeypot: a field people never see (the form hides it), which form-filling bots fill. */
export const HONEYPOT_FIELD = 'website';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export function createSignupService(options: SignupServiceOptions): SignupService {
  const { config, secret, store } = options;
  const listId = listIdFor(config);
  const now = options.now ?? Date.now;
  const captcha: CaptchaCheck | null = config.signup.captcha ? captchaCheck(config.signup.captcha, options.captchaSecret ?? '') : null;
  const addressTag = (email: string) => createHmac('sha256', secret).update(`signup-log\n${normalizeEmail(email)}`).digest('hex').slice(0, 12);
  const refuse = (outcome: string, email: string | null, ip: string | null) => options.onRefusal?.({ outcome, address: email ? `#${addressTag(email)}` : null, ip: ip ? truncateIp(ip) : null });

  /** An unsubscribe may be lifted by a new consent; a bounce, a complaint or a hand-made entry may not. */
  async function blocked(email: string): Promise<boolean> {
    const reason = store.suppressions.reason ? await store.suppressions.reason(email) : (await store.suppressions.has(email)) ? '' : null;
    return reason !== null && !/^unsubscribed\b/.test(reason);
  }

  function recipientOf(email: string, fields: Record<string, string>): Recipient {
    const recipient: Recipient = { email, name: '' };
    for (const field of config.signup.fields) recipient[field] = fields[field] ?? '';
    return recipient;
  }

  function send(render: Promise<{ subject: string; html: string; text: string }>, to: Recipient, kind: 'confirm' | 'welcome', unsubscribe: string | null): void {
    options.mailer.send(
      render.then((email) => ({ ...email, to, unsubscribeUrl: unsubscribe })),
      kind,
    );
  }

  async function signUpIn(slot: MailSlot, { form, ip, referer }: SignupInput): Promise<SignupResult> {
    const given = (form.get('email') ?? '').trim();
    if (!(await store.limits.take(`signup-ip:${ip ? addressTag(`ip ${ip}`) : 'unknown'}`, config.signup.maxPerIpPerHour, HOUR_MS))) {
      refuse('signup-ip-limit', given || null, ip);
      return { kind: 'limited', outcome: 'signup-ip-limit' };
    }
    if (form.get(HONEYPOT_FIELD)) {
      refuse('signup-honeypot', given || null, ip);
      return { kind: 'accepted', outcome: 'signup-honeypot' };
    }
    if (captcha && !(await captcha(form.get(CAPTCHA_FIELDS[config.signup.captcha!.provider]), ip))) {
      refuse('signup-captcha', given || null, ip);
      return { kind: 'captcha', outcome: 'signup-captcha' };
    }
    const problem = addressProblem(given);
    if (problem) {
      refuse('signup-invalid', null, ip);
      return { kind: 'invalid', outcome: 'signup-invalid', message: problem.replace(/`[^`]*`/, 'this') };
    }
    const email = normalizeEmail(given);
    if (await blocked(email)) {
      refuse('signup-suppressed', email, ip);
      return { kind: 'accepted', outcome: 'signup-suppressed' };
    }
    const mailKey = `signup-mail:${addressTag(email)}`;
    if (!(await store.limits.take(mailKey, 1, DEFAULTS.signup.mailWindowMs))) {
      refuse('signup-already-mailed', email, ip);
      return { kind: 'accepted', outcome: 'signup-already-mailed' };
    }
    const fields: Record<string, string> = {};
    for (const field of config.signup.fields) {
      const value = form.get(field)?.trim().replace(/[\u0000-\u001f\u007f]/g, ' ');
      if (value) fields[field] = value.slice(0, DEFAULTS.signup.maxFieldLength);
    }
    const page = pageOf(form.get('page') ?? referer, config.siteUrl);
    const signedUpAt = new Date(now()).toISOString();
    const claims: SignupClaims = {
      email,
      fields,
      page,
      consentText: config.signup.consentText,
      ip: ip ? (config.signup.fullIp ? ip : truncateIp(ip)) : null,
      signedUpAt,
      expiresAt: now() + config.signup.tokenDays * DAY_MS,
    };
    const token = signupToken(claims, secret, listId);
    const to = recipientOf(email, fields);
    // Not sent after all (refused by the SMTP server): the address's one mail a day is given
    // back, so the reader's next try sends again; logged with the address's tag, so the line
    // that answered this sign-up can be found.
    const giveBack = () => {
      refuse('confirm-not-sent', email, ip);
      void store.limits.give(mailKey).catch(() => undefined);
    };
    const render = options.confirmEmail({ recipient: to, confirmUrl: `${config.siteUrl}confirm/${token}`, expiresDays: config.signup.tokenDays });
    slot.send(
      render.then((email) => ({ ...email, to, unsubscribeUrl: null })),
      'confirm',
      giveBack,
    );
    return { kind: 'accepted', outcome: 'signup-mailed' };
  }

  return {
    async signUp(input) {
      // A place in the mail queue first, before anything is counted: a reader told to come back
      // has used none of their allowance. Given back unless a confirmation is sent in it.
      const slot = options.mailer.reserve();
      if (!slot) {
        refuse('signup-busy', null, input.ip);
        return { kind: 'busy', outcome: 'signup-busy' };
      }
      try {
        return await signUpIn(slot, input);
      } finally {
        slot.release();
      }
    },

    check(token) {
      const read = readSignupToken(token, secret, listId, now());
      return 'problem' in read ? read : { email: read.claims.email };
    },

    async confirm(token) {
      const read = readSignupToken(token, secret, listId, now());
      if ('problem' in read) {
        refuse(`confirm-${read.problem}`, null, null);
        return { kind: 'refused', problem: read.problem, outcome: `confirm-${read.problem}` };
      }
      const { claims } = read;
      const email = claims.email;
      const existing: Subscriber | null = await store.subscribers.get(email);
      const reason = store.suppressions.reason ? await store.suppressions.reason(email) : (await store.suppressions.has(email)) ? '' : null;
      if (reason !== null && !/^unsubscribed\b/.test(reason)) {
        // Bounced or complained since the sign-up: nothing is lifted, nothing sent.
        refuse('confirm-blocked', email, null);
        return { kind: 'confirmed', email, outcome: 'confirm-blocked' };
      }
      if (existing && reason === null) return { kind: 'confirmed', email, outcome: 'already-confirmed' };
      await store.subscribers.put({
        email,
        fields: claims.fields,
        signedUpAt: claims.signedUpAt,
        confirmedAt: new Date(now()).toISOString(),
        page: claims.page,
        consentText: claims.consentText,
        ip: claims.ip,
        source: 'form',
      });
      if (reason !== null) await store.suppressions.remove(email);
      if (options.welcomeEmail) {
        const to = recipientOf(email, claims.fields);
        const unsubscribe = unsubscribeUrl(config, to, 'welcome', secret);
        send(options.welcomeEmail({ recipient: to, unsubscribeUrl: unsubscribe }), to, 'welcome', unsubscribe);
      }
      return { kind: 'confirmed', email, outcome: reason !== null ? 'resubscribed' : 'confirmed' };
    },
  };
}

/** The page the form was on (the form's `page` field, else the Referer): an http(s) URL, else null. */
function pageOf(value: string | null, siteUrl: string): string | null {
  if (!value) return null;
  try {
    const url = new URL(value, siteUrl);
    url.hash = '';
    const text = url.toString();
    return /^https?:$/.test(url.protocol) && text.length <= 500 ? text : null;
  } catch {
    return null;
  }
}

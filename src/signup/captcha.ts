import type { SignupConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';

/**
 * The optional CAPTCHA of the sign-up form: Cloudflare Turnstile or hCaptcha. Both widgets put
 * their answer in a form field and both providers check it the same way (a POST of secret,
 * response and remoteip to their siteverify URL, answered with `{"success": true|false}`). A
 * provider that cannot be reached refuses the sign-up: a bot must not get through because the
 * check was down.
 */

export const CAPTCHA_FIELDS = { turnstile: 'cf-turnstile-response', hcaptcha: 'h-captcha-response' } as const;

export type CaptchaCheck = (response: string | null, ip: string | null) => Promise<boolean>;

export function captchaCheck(captcha: NonNullable<SignupConfig['captcha']>, secret: string): CaptchaCheck {
  return async (response, ip) => {
    if (!response) return false;
    const body = new URLSearchParams({ secret, response });
    if (ip) body.set('remoteip', ip);
    try {
      const answer = await fetch(captcha.verifyUrl, { method: 'POST', body, signal: AbortSignal.timeout(DEFAULTS.signup.captchaTimeoutMs) });
      if (!answer.ok) return false;
      const result = (await answer.json()) as { success?: unknown };
      return result.success === true;
    } catch {
      return false;
    }
  };
}

import Handlebars from 'handlebars';
import type { Recipient } from '../config/defaults.js';

/**
 * Recipient values (list fields, the unsubscribe URL) reach the HTML templates only as values
 * Handlebars always escapes, whatever carries them: `{{x}}` calls toHTML, `{{{x}}}`, `lookup`,
 * `each`, `with`, `@root`, partial hash arguments and string concatenation all call toString,
 * and both give the escaped text. The raw value sits in a private field, which no template path
 * can reach (Handlebars sees no own property). Helpers get the raw value as argument and their
 * string result is wrapped again, so a subexpression cannot launder a value either.
 * The text layout (noEscape, text/plain) gets the raw values.
 */

export class RecipientValue {
  readonly #raw: string;
  readonly #escaped: string;

  constructor(raw: string) {
    this.#raw = raw;
    this.#escaped = Handlebars.escapeExpression(raw);
  }

  get [Symbol.toStringTag](): string {
    return 'RecipientValue';
  }

  toString(): string {
    return this.#escaped;
  }

  toHTML(): string {
    return this.#escaped;
  }

  static raw(value: RecipientValue): string {
    return value.#raw;
  }
}

/** The value a helper should see. */
export function unwrapValue(value: unknown): unknown {
  return value instanceof RecipientValue ? RecipientValue.raw(value) : value;
}

/** Empty strings, numbers and booleans carry no markup: left as they are, so `{{#if}}` still works. */
function wrapValue(value: unknown): unknown {
  return typeof value === 'string' && value !== '' ? new RecipientValue(value) : value;
}

export function htmlRecipient(recipient: Recipient): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(recipient)) out[key] = wrapValue(value);
  return out;
}

export function htmlUnsubscribeUrl(url: string): unknown {
  return wrapValue(url);
}

/** A helper that sees raw values, and whose string result stays tainted when an argument was. */
export function taintingHelper<F extends (...args: unknown[]) => unknown>(helper: F): F {
  return function (this: unknown, ...args: unknown[]) {
    let tainted = false;
    const plain = args.map((arg) => {
      if (arg instanceof RecipientValue) tainted = true;
      return unwrapValue(arg);
    });
    const result = helper.apply(this, plain);
    if (!tainted) return result;
    if (result instanceof Handlebars.SafeString) return wrapValue(result.toString());
    return wrapValue(result);
  } as F;
}

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
 *
 * The public web edition has no recipient: its values are `forbidden`, and printing one, or
 * anything a helper made of one (`{{upper recipient.name}}`), throws RecipientInWebEdition.
 */

/** Thrown when the web edition would print a recipient value, as it is or transformed. */
export class RecipientInWebEdition extends Error {
  constructor() {
    super('the web edition would show recipient data');
    this.name = 'RecipientInWebEdition';
  }
}

export class RecipientValue {
  readonly #raw: string;
  readonly #escaped: string;
  readonly #forbidden: boolean;

  constructor(raw: string, forbidden = false) {
    this.#raw = raw;
    this.#escaped = Handlebars.escapeExpression(raw);
    this.#forbidden = forbidden;
  }

  get [Symbol.toStringTag](): string {
    return 'RecipientValue';
  }

  toString(): string {
    if (this.#forbidden) throw new RecipientInWebEdition();
    return this.#escaped;
  }

  toHTML(): string {
    return this.toString();
  }

  static raw(value: RecipientValue): string {
    return value.#raw;
  }

  static forbidden(value: RecipientValue): boolean {
    return value.#forbidden;
  }
}

/** The value a helper should see. */
export function unwrapValue(value: unknown): unknown {
  return value instanceof RecipientValue ? RecipientValue.raw(value) : value;
}

/** Empty strings, numbers and booleans carry no markup: left as they are, so `{{#if}}` still works. */
function wrapValue(value: unknown, forbidden = false): unknown {
  return typeof value === 'string' && value !== '' ? new RecipientValue(value, forbidden) : value;
}

/** `forbidden`: for the web edition, where printing a value is an error. */
export function htmlRecipient(recipient: Recipient, forbidden = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(recipient)) out[key] = wrapValue(value, forbidden);
  return out;
}

export function htmlUnsubscribeUrl(url: string, forbidden = false): unknown {
  return wrapValue(url, forbidden);
}

/** A helper that sees raw values, and whose string result stays tainted when an argument was. */
export function taintingHelper<F extends (...args: unknown[]) => unknown>(helper: F): F {
  return function (this: unknown, ...args: unknown[]) {
    let tainted = false;
    let forbidden = false;
    const plain = args.map((arg) => {
      if (arg instanceof RecipientValue) {
        tainted = true;
        forbidden ||= RecipientValue.forbidden(arg);
      }
      return unwrapValue(arg);
    });
    const result = helper.apply(this, plain);
    if (!tainted) return result;
    if (result instanceof Handlebars.SafeString) return wrapValue(result.toString(), forbidden);
    return wrapValue(result, forbidden);
  } as F;
}

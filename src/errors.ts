/**
 * The one error type of the project. Every failure a user can cause is a NewsletterError with a
 * code from ERROR_CODES; the CLI turns it into `file:line: message` and the code's exit status.
 * The library never prints and never exits.
 */

export const ERROR_CODES = Object.freeze({
  USAGE: { exit: 2, description: 'Wrong command-line usage: unknown flag, missing argument, bad flag value.' },
  CONFIG_NOT_FOUND: { exit: 1, description: 'The file given with --config does not exist.' },
  CONFIG_INVALID: { exit: 1, description: 'The config file is not valid JSON, or a key is unknown or has the wrong type.' },
  CONTENT_NOT_FOUND: { exit: 1, description: 'A content folder, issue or article that was asked for does not exist.' },
  CONTENT_YAML: { exit: 1, description: 'Front matter is not valid YAML (or is not YAML at all, e.g. a `---js` block).' },
  CONTENT_INVALID: { exit: 1, description: 'Front matter is valid YAML but a key is missing, unknown or has the wrong type.' },
  TEMPLATE_NOT_FOUND: { exit: 1, description: 'A layout or partial named by an issue or template does not exist in the templates folder.' },
  TEMPLATE_SYNTAX: { exit: 1, description: 'A template is not valid Handlebars.' },
  TEMPLATE_VARIABLE: { exit: 1, description: 'A template names a variable or helper that does not exist (Handlebars strict mode).' },
  MJML_INVALID: { exit: 1, description: 'The MJML produced by a template does not pass MJML strict validation.' },
  THEME_INVALID: { exit: 1, description: 'templates/theme.json is not valid JSON or has a wrong key.' },
  OUTPUT_WRITE: { exit: 1, description: 'An output file or folder could not be written.' },
  LIST_INVALID: { exit: 1, description: 'A subscriber list cannot be read (missing file, no `email` column, bad JSON).' },
  SEND_CONFIG: { exit: 1, description: 'Sending is not possible as configured: bad SMTP URL, missing secret, missing confirmation.' },
  SEND_LOCKED: { exit: 1, description: 'Another send of the same issue is running (its lock file is held).' },
  SEND_FAILED: { exit: 1, description: 'At least one recipient could not be sent to; the summary lists them.' },
  BROWSER_NOT_FOUND: { exit: 1, description: 'No Chromium was found for previews, screenshots or the accessibility audit.' },
  PREVIEW_FAILED: { exit: 1, description: 'The preview server could not start (port in use, bad host).' },
  CHECK_FAILED: { exit: 1, description: '`newsletter check` found at least one error-level finding.' },
  BUILD_FAILED: { exit: 1, description: 'At least one issue of a `build` of several failed; each failure is printed, the other issues were built.' },
  JOURNAL_INVALID: { exit: 1, description: 'A line of the send journal is not a valid record (`send --repair-journal` moves bad lines aside).' },
  FILE_UNREADABLE: { exit: 1, description: 'An input file cannot be read: a symlink leaving its folder, a FIFO or device, a folder where a file belongs, too large, or a file-system error.' },
  SERVE_CONFIG: { exit: 1, description: '`newsletter serve` cannot start: NEWSLETTER_SECRET missing, port in use, bad host.' },
  QUEUE_UNAVAILABLE: { exit: 1, description: 'The Redis of `--queue`/`--store`/REDIS_URL cannot be reached, or holds state this version cannot read.' },
  PUBLISH_FAILED: { exit: 1, description: 'At least one issue could not be published; each failure is printed with its file and line, the other issues were published.' },
  BOUNCES_MAILBOX: { exit: 1, description: '`newsletter bounces` cannot read the bounce mailbox: bad IMAP URL, login refused, mailbox missing, connection lost.' },
  INTERNAL: { exit: 70, description: 'A bug: something failed that should not have. Run with --debug and report it.' },
} satisfies Record<string, { exit: number; description: string }>);

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorPlace {
  /** The file the user should open: a content file, template or config, as given (relative paths stay relative). */
  file?: string | undefined;
  /** 1-based line in that file. */
  line?: number | undefined;
  column?: number | undefined;
  /** What to do about it, printed on its own line. */
  hint?: string | undefined;
}

export class NewsletterError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, place: ErrorPlace & { cause?: unknown } = {}) {
    super(message, place.cause === undefined ? undefined : { cause: place.cause });
    this.name = 'NewsletterError';
    this.code = code;
    this.file = place.file;
    this.line = place.line;
    this.column = place.column;
    this.hint = place.hint;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** `file:line: message`, the form editors and terminals turn into a link. */
  get location(): string | undefined {
    if (!this.file) return undefined;
    return this.line ? `${this.file}:${this.line}` : this.file;
  }

  format(): string {
    const head = this.location ? `${this.location}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

export function isNewsletterError(error: unknown): error is NewsletterError {
  return error instanceof NewsletterError;
}

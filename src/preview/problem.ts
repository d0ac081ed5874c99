import { isNewsletterError, type ErrorCode } from '../errors.js';

/** A failure as the preview page shows it: the same file, line and message the CLI prints. */
export interface PreviewProblem {
  code: ErrorCode;
  message: string;
  file: string | null;
  line: number | null;
  hint: string | null;
  /** `file:line`, or null when the error has no place. */
  location: string | null;
  /** The whole message as `newsletter build` would print it. */
  formatted: string;
}

export function toProblem(error: unknown): PreviewProblem {
  if (isNewsletterError(error)) {
    return {
      code: error.code,
      message: error.message,
      file: error.file ?? null,
      line: error.line ?? null,
      hint: error.hint ?? null,
      location: error.location ?? null,
      formatted: error.format(),
    };
  }
  // Not a user error but a bug; still shown in the page rather than stopping the server.
  const message = `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  return { code: 'INTERNAL', message, file: null, line: null, hint: 'report it with the steps that led here', location: null, formatted: message };
}

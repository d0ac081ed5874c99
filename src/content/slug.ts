import { NewsletterError } from '../errors.js';

/**
 * What an issue slug is: the name of a file under `content/issues/` without `.md`, and the name of
 * the folders `build`, `send` and `publish` write (`dist/<slug>/`, `outbox/<slug>/`,
 * `site/issues/<slug>/`). A plain name only: letters, digits, `-`, `_` and `.`, starting with a
 * letter or digit, so it can never climb out of a folder (`../x`), name a subfolder (`a/b`) or a
 * hidden file. Article slugs are their own matter (they may name a page bundle).
 */
const ISSUE_SLUG = /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u;
const MAX_LENGTH = 200;

/** Why `slug` is not an issue slug, or null when it is one. */
export function issueSlugProblem(slug: string): string | null {
  if (slug === '') return 'it is empty';
  if (slug.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters`;
  if (/[/\\]/.test(slug)) return 'it holds a path separator';
  if (!ISSUE_SLUG.test(slug)) return 'only letters, digits, `-`, `_` and `.` may be in it, and it starts with a letter or digit';
  return null;
}

/** Refuses anything but an issue slug, quoting it: called before any file is read or written. */
export function assertIssueSlug(slug: string): string {
  const problem = issueSlugProblem(slug);
  if (problem !== null) {
    throw new NewsletterError('USAGE', `\`${slug.slice(0, MAX_LENGTH)}\` is not an issue slug: ${problem}`, {
      hint: 'give the file name under content/issues/ without `.md`, e.g. `weekly-1`',
    });
  }
  return slug;
}

/** Commander's parser of an `[issues...]` argument: each slug checked as it is read. */
export function issueSlugsArgument(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), assertIssueSlug(value)];
}

/**
 * Line breaks the generator step adds (a blank line around a callout's Markdown, the lines of a
 * captured block): written as these characters (private use, never in prose) until the end, so
 * that every other line keeps the number it has in the file; then mapped to the line of the
 * construct that made them.
 */
export const ADDED_BLANK_LINE = '\uE002';
export const ADDED_LINE_BREAK = '\uE003';

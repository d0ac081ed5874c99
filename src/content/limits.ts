/**
 * How much structure a content file may hold. Real articles and issues stay far below these; a
 * file past them is hostile or broken, and is refused with its file and line before a parser's
 * recursion or a YAML alias expansion can exhaust the stack or the memory (docs/security.md).
 */
export const CONTENT_LIMITS = Object.freeze({
  /** Values front matter may expand to: YAML aliases (`*a`) repeat shared nodes, 30 of them 2^30 times. */
  frontMatterValues: 10_000,
  /** Nesting of lists and maps in front matter (`[[[…]]]`, `{a: {b: …}}`, indented YAML). */
  frontMatterDepth: 64,
  /** Nesting of Markdown blocks: `>` quotes, lists inside lists. */
  markdownDepth: 100,
  /** Nesting of HTML elements written in Markdown (`<div><div>…`). */
  htmlDepth: 200,
});

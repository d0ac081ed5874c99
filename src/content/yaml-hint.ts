/**
 * What to do about a YAML error, where the line shows a common cause: a value holding `: ` (a
 * headline such as `title: Kim: the summit`) is read as a second key unless it is quoted.
 */
export function yamlHint(source: string, line: number): string | undefined {
  const text = source.split('\n')[line - 1];
  if (text === undefined) return undefined;
  const match = /^(\s*(?:-\s+)?)([^\s:#"'][^:#]*?):[ \t]+(.+?)\s*$/.exec(text);
  if (!match) return undefined;
  const [, , key, value] = match as unknown as [string, string, string, string];
  if (/^["'[{|>&*!]/.test(value) || !/:(\s|$)/.test(value)) return undefined;
  const quoted = `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `a value containing ": " must be quoted, or YAML reads a second key: write \`${key}: ${quoted}\``;
}

/**
 * The field blocks of delivery and feedback reports (RFC 3464 `message/delivery-status`, RFC 5965
 * `message/feedback-report`) and quoted header blocks: `Name: value` lines, continued by lines
 * that start with white space, blocks separated by blank lines.
 */

export type FieldBlock = Map<string, string[]>;

/** The blocks of `text`; names lower-cased, values unfolded and trimmed, repeated fields kept in order. */
export function parseFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let block: FieldBlock | null = null;
  let last: { name: string; index: number } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) {
      if (block) blocks.push(block);
      block = null;
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && block && last) {
      const values = block.get(last.name)!;
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    block ??= new Map();
    const values = block.get(name) ?? [];
    values.push(value);
    block.set(name, values);
    last = { name, index: values.length - 1 };
  }
  if (block) blocks.push(block);
  return blocks;
}

/**
 * The per-recipient blocks of a delivery-status part. RFC 3464 puts a per-message block first and
 * a blank line before each recipient's, but real reports do not all: some have no per-message
 * block (the first block is a recipient's), some run the per-message fields into the first
 * recipient's, some list recipients without blank lines between them. So a block is a recipient's
 * when it names one (Final-Recipient, Original-Recipient) or an Action, and a second recipient
 * field in one block starts another.
 */
export function recipientBlocks(text: string): FieldBlock[] {
  const out: FieldBlock[] = [];
  for (const block of parseFieldBlocks(splitRepeatedRecipients(text))) {
    if (block.has('final-recipient') || block.has('original-recipient') || block.has('action')) out.push(block);
  }
  return out;
}

/** A blank line before each recipient field that would repeat one already in its block. */
function splitRepeatedRecipients(text: string): string {
  const lines = text.split(/\r?\n/);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    if (!line.trim()) seen.clear();
    const name = /^(final-recipient|original-recipient|action)\s*:/i.exec(line)?.[1]?.toLowerCase();
    if (name) {
      // Original-Recipient comes before Final-Recipient in one block; Action after both.
      const repeats = seen.has(name) || (name === 'original-recipient' && seen.has('final-recipient'));
      if (repeats) {
        out.push('');
        seen.clear();
      }
      seen.add(name);
    }
    out.push(line);
  }
  return out.join('\n');
}

/** The header block at the start of a message (up to its first blank line). */
export function parseHeaderBlock(text: string): FieldBlock {
  const end = text.search(/\r?\n\r?\n/);
  return parseFieldBlocks(end < 0 ? text : text.slice(0, end))[0] ?? new Map();
}

export function field(block: FieldBlock | undefined, name: string): string | null {
  return block?.get(name)?.[0] ?? null;
}

/** `rfc822; Ana@Example.org` → `ana@example.org` (the address type is dropped, angle brackets too). */
export function addressOfTyped(value: string | null): string | null {
  if (!value) return null;
  const semicolon = value.indexOf(';');
  const address = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim().replace(/^<|>$/g, '').trim();
  return EMAIL.test(address) ? address.toLowerCase() : null;
}

const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

export function looksLikeEmail(text: string): boolean {
  return EMAIL.test(text);
}

import { isErasedKey } from '../erased-address.js';
import { normalizeEmail } from '../../render/links.js';
import { addressProblem } from '../../send/recipients.js';
import { normalizeEntry, parseEntryJson } from '../suppression-entry.js';
import type { SuppressionEntry } from '../types.js';

/**
 * One line of `suppressions.txt`, read the way people write it. A line is a comment (`#` first),
 * blank, or a change: an optional `-` (resubscribed: a tombstone) or `+` (an address that itself
 * begins with `-` or `+`), then the address, then an optional comment after whitespace and `#`.
 * The address may be written as in a mail header or a spreadsheet: `<a@x>`, `Name <a@x>`,
 * `"a@x"`, `mailto:a@x`, `a@x,` or `a@x;`; several on one line (`a@x, b@x`) are each suppressed.
 * Anything else that is not an address is a problem, reported with its line: never skipped
 * silently, since a reader who asked to be left alone would be sent mail.
 *
 * What this tool writes: a comment `#: {json}` (the entry: reason, source, time…) on the line
 * before the bare address, so `grep -v '^#'` still lists the addresses. Older versions wrote
 * `# reason 2026-…Z (source)` there, which is read the same way.
 */

export type LineReading =
  | { kind: 'none' }
  | { kind: 'entry'; entry: SuppressionEntry }
  | { kind: 'change'; op: 'add' | 'remove'; emails: string[]; note: string | null }
  | { kind: 'problem'; message: string };

const NONE: LineReading = { kind: 'none' };

/** The usual line, a bare address: no splitting or decoding needed. */
const BARE = /^[^\s<>"'`,;:#()[\]\\@+-][^\s<>"'`,;:#()[\]\\@]*@[^\s<>"'`,;:#()[\]\\@]+$/;

/** The address of a line that is nothing but one (what the tool writes, and most hand lines), else null. */
export function bareAddress(raw: string): string | null {
  const line = raw.trim();
  return BARE.test(line) ? line.toLowerCase() : null;
}

const LEGACY_META = /^#\s*(\S.*?)\s+(\d{4}-\d\d-\d\dT[\d:.]+Z)\s+\((.*)\)\s*$/;

export function readSuppressionLine(raw: string): LineReading {
  const line = (raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw).trim();
  if (!line) return NONE;
  if (line.startsWith('#')) return readComment(line);
  // An erased address, kept as its hash (store/erased-address.ts, `subscribers remove --erase`).
  if (isErasedKey(line)) return { kind: 'change', op: 'add', emails: [line], note: null };
  // Shaped like an address (nothing around it, one `@` with text on both sides): taken as it is,
  // without the full address check, which would double the time to read a list of a million.
  if (BARE.test(line)) return { kind: 'change', op: 'add', emails: [normalizeEmail(line)], note: null };
  const json = line.includes('"') ? jsonChange(line) : null;
  if (json) return json;
  // `a@x # note`, `a@x<TAB>#note`: a `#` after whitespace starts a comment (`#` inside an address is not one).
  const hash = /\s#/.exec(line);
  const body = (hash ? line.slice(0, hash.index) : line).trim();
  const note = hash ? line.slice(hash.index).replace(/^\s*#+\s*/, '').trim() || null : null;
  let op: 'add' | 'remove' = 'add';
  let text = body;
  if (text.startsWith('-')) {
    op = 'remove';
    text = text.slice(1);
  } else if (text.startsWith('+')) {
    text = text.slice(1);
  }
  if (QUOTED_LOCAL.test(text)) return { kind: 'change', op, emails: [normalizeEmail(text)], note };
  const found = addressesIn(text);
  if (typeof found === 'string') return problem(line, found);
  return { kind: 'change', op, emails: found, note };
}

/** `"a b"@example.com`: an address whose local part is quoted (RFC 5322), taken as it is. */
const QUOTED_LOCAL = /^"(?:[^"\\\r\n]|\\.)*"@[^\s@"<>,;]+$/;

/** An address as the writer may store it: something before the last `@`, a domain, no line break or control character. */
function storable(email: string): boolean {
  return /^[^\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/.test(email);
}

/**
 * A change written as a JSON string (`"…"`, `-"…"`): how the writer stores an address the rules
 * above would read otherwise. Null when the line is not one.
 */
function jsonChange(line: string): LineReading | null {
  const op = line.startsWith('-') ? 'remove' : 'add';
  const text = /^[-+]/.test(line) ? line.slice(1) : line;
  const quoted = /^"(?:[^"\\]|\\.)*"/.exec(text);
  if (!quoted || !/^\s*(#.*)?$/.test(text.slice(quoted[0].length))) return null;
  try {
    const email = normalizeEmail(JSON.parse(quoted[0]) as string);
    if (!storable(email)) return null;
    const note = text.slice(quoted[0].length).replace(/^\s*#+\s*/, '').trim() || null;
    return { kind: 'change', op, emails: [email], note };
  } catch {
    return null;
  }
}

function problem(line: string, why: string): LineReading {
  return { kind: 'problem', message: `\`${line.length > 120 ? `${line.slice(0, 117)}…` : line}\`: ${why}` };
}

function readComment(line: string): LineReading {
  if (line.startsWith('#:')) {
    const entry = parseEntryJson(line.slice(2).trim());
    return entry ? { kind: 'entry', entry } : NONE;
  }
  const legacy = LEGACY_META.exec(line);
  if (legacy) return { kind: 'entry', entry: normalizeEntry({ reason: legacy[1]!, at: legacy[2]!, source: legacy[3]! }) };
  return NONE;
}

/** The addresses a change's text holds, normalized; a string says why there is none. */
function addressesIn(text: string): string[] | string {
  let rest = text.trim();
  const emails: string[] = [];
  // Header form: whatever is between angle brackets is the address; the rest is a display name.
  if (rest.includes('<')) {
    const angled = [...rest.matchAll(/<([^<>]*)>/g)];
    if (!angled.length) return 'an unclosed `<`';
    for (const match of angled) {
      const one = oneAddress(match[1]!);
      if ('problem' in one) return one.problem;
      emails.push(one.email);
    }
    rest = rest.replace(/<[^<>]*>/g, ' ');
    // What remains is display names (`Ann <a@x>, "Bob" <b@x>`): nothing in it may be an address.
    if (/@/.test(rest.replace(/"[^"]*"/g, ''))) return 'mixes `Name <address>` with bare addresses: write one address per line';
    return emails;
  }
  const parts = rest.split(/[\s,;]+/).filter(Boolean);
  for (const part of parts) {
    const one = oneAddress(part);
    if ('problem' in one) return parts.length > 1 ? `\`${part}\`: ${one.problem} (write one address per line)` : one.problem;
    emails.push(one.email);
  }
  return emails.length ? emails : 'no address';
}

function oneAddress(raw: string): { email: string } | { problem: string } {
  let text = raw.trim().replace(/[,;]+$/, '');
  const quoted = /^(["'`])(.*)\1$/.exec(text);
  if (quoted) text = quoted[2]!.trim();
  if (/^mailto:/i.test(text)) {
    text = text.slice('mailto:'.length).split('?')[0]!;
    try {
      text = decodeURIComponent(text);
    } catch {
      return { problem: 'a `mailto:` with broken %-escapes' };
    }
  }
  const email = normalizeEmail(text);
  if (!email) return { problem: 'no address' };
  return isAddress(email) ? { email } : { problem: 'not an email address' };
}

export function isAddress(value: string): boolean {
  return addressProblem(value) === null;
}

/** The address as a line reads it back: bare when it can be, else as a JSON string; null when no line can hold it. */
function storedForm(email: string): string | null {
  const bare = /^[-+]/.test(email) ? `+${email}` : email;
  const read = readSuppressionLine(bare);
  if (read.kind === 'change' && read.op === 'add' && read.emails.length === 1 && read.emails[0] === email) return bare;
  return storable(email) ? JSON.stringify(email) : null;
}

/** True when `email` (normalized) can be stored as one line and read back as itself. */
export function canStore(email: string): boolean {
  return storedForm(email) !== null;
}

/** The lines this tool appends for a change: the entry as a comment, then the address (see storedForm). */
export function changeLines(op: 'add' | 'remove', email: string, entry: SuppressionEntry): string {
  const meta = `#: ${JSON.stringify(entry)}\n`;
  const stored = storedForm(email) ?? JSON.stringify(email);
  if (op === 'remove') return `${meta}-${stored.replace(/^\+/, '')}\n`;
  return `${meta}${stored}\n`;
}

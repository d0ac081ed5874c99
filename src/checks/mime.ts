/**
 * Just enough MIME to read back the message our own composer wrote: header fields, and the
 * leaf parts with their bodies exactly as encoded on the wire (that is what Gmail measures).
 */

export interface MimePart {
  headers: Map<string, string[]>;
  contentType: string;
  /** The part's body as it appears in the message (e.g. quoted-printable), without its headers. */
  encodedBody: Buffer;
}

export interface ParsedMessage {
  headers: Map<string, string[]>;
  parts: MimePart[];
}

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  if (end >= 0) return { head: raw.subarray(0, end).toString('latin1'), body: raw.subarray(end + 4) };
  const lf = raw.indexOf('\n\n');
  if (lf >= 0) return { head: raw.subarray(0, lf).toString('latin1'), body: raw.subarray(lf + 2) };
  return { head: raw.toString('latin1'), body: Buffer.alloc(0) };
}

/** Header names lower-cased; folded lines unfolded; a header that appears twice keeps both values. */
export function parseHeaderBlock(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  return headers;
}

export function headerValue(headers: Map<string, string[]>, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

function boundaryOf(contentType: string): string | undefined {
  const match = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

function leafParts(headers: Map<string, string[]>, body: Buffer): MimePart[] {
  const contentType = headerValue(headers, 'content-type') ?? 'text/plain';
  const boundary = /^multipart\//i.test(contentType) ? boundaryOf(contentType) : undefined;
  if (!boundary) return [{ headers, contentType: contentType.split(';')[0]!.trim().toLowerCase(), encodedBody: body }];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let from = body.indexOf(delimiter);
  while (from >= 0) {
    const afterDelimiter = from + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const start = body.indexOf('\n', afterDelimiter) + 1;
    let next = body.indexOf(delimiter, start);
    if (next < 0) next = body.length;
    // The CRLF before a delimiter belongs to the delimiter, not to the part (RFC 2046 §5.1.1).
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    const { head, body: partBody } = splitHead(body.subarray(start, Math.max(start, end)));
    parts.push(...leafParts(parseHeaderBlock(head), partBody));
    from = next < body.length ? next : -1;
  }
  return parts;
}

export function parseMessage(raw: Buffer): ParsedMessage {
  const { head, body } = splitHead(raw);
  const headers = parseHeaderBlock(head);
  return { headers, parts: leafParts(headers, body) };
}

export function partOfType(message: ParsedMessage, type: string): MimePart | undefined {
  return message.parts.find((part) => part.contentType === type);
}

/**
 * The body of a one-click POST, read with a cap: RFC 8058 bodies are a few bytes, and a server
 * that buffers whatever arrives can be made to hold gigabytes. Form fields only, as RFC 8058 says:
 * `application/x-www-form-urlencoded` or `multipart/form-data`.
 */

export type BodyResult =
  | { kind: 'fields'; fields: { get(name: string): string | null } }
  | { kind: 'too-large' }
  | { kind: 'unsupported' }
  | { kind: 'invalid' };

/** A Fetch Request's body, up to `max` bytes; null past it. */
export async function readRequestBody(request: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > max) return null;
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const utf8 = new TextDecoder();

/** `read` is the carrier's (a Fetch Request's, a node:http message's); a body of the wrong type is never read. */
export async function readLimitedBody(contentType: string | null, read: (max: number) => Promise<Uint8Array | null>, max: number): Promise<BodyResult> {
  const type = (contentType ?? '').toLowerCase();
  // No type at all: read it as a urlencoded form, the form every mail provider sends.
  const urlencoded = type === '' || type.startsWith('application/x-www-form-urlencoded');
  const multipart = type.startsWith('multipart/form-data');
  if (!urlencoded && !multipart) return { kind: 'unsupported' };
  const bytes = await read(max);
  if (!bytes) return { kind: 'too-large' };
  if (urlencoded) return { kind: 'fields', fields: new URLSearchParams(utf8.decode(bytes)) };
  try {
    const form = await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]), { headers: { 'content-type': contentType! } }).formData();
    return { kind: 'fields', fields: { get: (name) => { const value = form.get(name); return typeof value === 'string' ? value : null; } } };
  } catch {
    return { kind: 'invalid' };
  }
}

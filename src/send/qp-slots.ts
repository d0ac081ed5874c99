import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import type { SlotTemplate } from '../render/personalize.js';

/**
 * Quoted-printable with slots. The static text around the recipient values is encoded and wrapped
 * once per issue (nodemailer's encoder, CRLF line breaks); per recipient only the values are
 * encoded. Every value ends with a soft line break, so the static text after it starts a new
 * encoded line exactly as it was wrapped, and no line passes 76 characters. Soft breaks decode to
 * nothing: the decoded part equals the text with the values in place.
 */

const MAX_LINE = 76;
/** Room left for the `=` of a soft break. */
const MAX_BEFORE_SOFT_BREAK = MAX_LINE - 1;
const SOFT_BREAK = '=\r\n';

export interface EncodedSegment {
  /** The encoded text as bytes (QP is ASCII), so messages are assembled without re-encoding it. */
  bytes: Buffer;
  /** Length of the encoded text after its last line break. */
  lastLineLength: number;
}

export interface QpSlotTemplate {
  segments: EncodedSegment[];
  slots: number[];
}

function lastLineLength(text: string): number {
  return text.length - (text.lastIndexOf('\n') + 1);
}

/** Encodes and wraps static text; the last line is kept short enough for a following soft break. */
export function encodeStatic(text: string): EncodedSegment {
  let encoded = qpWrap(qpEncode(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8')), MAX_LINE);
  let tail = lastLineLength(encoded);
  if (tail > MAX_BEFORE_SOFT_BREAK) {
    // Move the last few characters (never half of an =XX) to a line of their own.
    let cut = encoded.length - 3;
    if (encoded[cut - 1] === '=') cut -= 1;
    else if (encoded[cut - 2] === '=') cut -= 2;
    encoded = `${encoded.slice(0, cut)}${SOFT_BREAK}${encoded.slice(cut)}`;
    tail = lastLineLength(encoded);
  }
  return { bytes: Buffer.from(encoded, 'latin1'), lastLineLength: tail };
}

export function encodeSlotTemplate(template: SlotTemplate): QpSlotTemplate {
  return { segments: template.segments.map(encodeStatic), slots: template.slots };
}

const HEX = '0123456789ABCDEF';
/** Printable ASCII except `=`, plus space and tab: written as they are. */
const LITERAL_ONLY = /^[\t\x20-\x3c\x3e-\x7e]*$/;

function encodeCodePoint(char: string): string {
  const code = char.codePointAt(0)!;
  if (code === 0x09 || (code >= 0x20 && code <= 0x7e && code !== 0x3d)) return char;
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `=${HEX[byte >> 4]}${HEX[byte & 15]}`;
  return out;
}

/**
 * One value, starting at column `column`, ending with a soft break. A character (all of its
 * UTF-8 bytes) is never split across lines. Values must not contain CR or LF: callers send those
 * through a from-scratch compose instead.
 */
export function encodeValue(value: string, column: number): string {
  if (LITERAL_ONLY.test(value) && column + value.length <= MAX_BEFORE_SOFT_BREAK) return value + SOFT_BREAK;
  let out = '';
  let col = column;
  for (const char of value) {
    const unit = encodeCodePoint(char);
    if (col + unit.length > MAX_BEFORE_SOFT_BREAK) {
      out += SOFT_BREAK;
      col = 0;
    }
    out += unit;
    col += unit.length;
  }
  return out + SOFT_BREAK;
}

/** The encoded body for one recipient's values, appended to `out` as byte chunks; returns their length. */
export function fillQpBytes(template: QpSlotTemplate, values: readonly string[], out: Buffer[]): number {
  const { segments, slots } = template;
  let length = segments[0]!.bytes.length;
  out.push(segments[0]!.bytes);
  for (let i = 0; i < slots.length; i++) {
    const value = Buffer.from(encodeValue(values[slots[i]!]!, segments[i]!.lastLineLength), 'latin1');
    const next = segments[i + 1]!.bytes;
    out.push(value, next);
    length += value.length + next.length;
  }
  return length;
}

/**
 * Metadata removed from a GIF, PNG or JPEG without decoding it, for the image that is kept as it
 * was because re-encoding made it larger (process-image.ts): the pixels stay byte for byte, what
 * says who, where or with what it was made goes. Each pass walks the format's own structure and
 * keeps only what is needed to show the image; a file that does not parse as expected returns
 * null, and the caller uses the re-encoded image instead.
 */

/** PNG chunks needed to show the image as made: pixels, palette, transparency, colour, animation (APNG). */
const PNG_KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'cICP', 'sBIT', 'bKGD', 'pHYs', 'acTL', 'fcTL', 'fdAT']);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Drops text chunks (tEXt, zTXt, iTXt: author, comments, XMP), eXIf (EXIF, GPS), tIME and private chunks. */
function stripPng(source: Buffer): Buffer | null {
  if (source.length < 8 || !source.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  const kept: Buffer[] = [PNG_SIGNATURE];
  let at = 8;
  while (at + 12 <= source.length) {
    const length = source.readUInt32BE(at);
    const type = source.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > source.length) return null;
    if (PNG_KEEP.has(type)) kept.push(source.subarray(at, end));
    at = end;
    if (type === 'IEND') return Buffer.concat(kept); // anything after IEND is not part of the image
  }
  return null;
}

/**
 * JPEG segments kept: APP0 (JFIF), APP2 only when it is an ICC profile (its colours), APP14
 * (Adobe: how to read the colour channels), and every non-APP segment. Dropped: APP1 (EXIF with
 * GPS and its thumbnail, XMP), APP13 (IPTC), other APP2 (FlashPix, MPF's second picture), the
 * remaining APPn and COM comments, and bytes after EOI (some phones append a video there).
 */
function stripJpeg(source: Buffer): Buffer | null {
  if (source.length < 4 || source[0] !== 0xff || source[1] !== 0xd8) return null;
  const kept: Buffer[] = [source.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= source.length) {
    if (source[at] !== 0xff) return null;
    const marker = source[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      kept.push(source.subarray(at, at + 2));
      return Buffer.concat(kept);
    }
    const length = source.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > source.length) return null;
    const segment = source.subarray(at, end);
    if (marker === 0xda) {
      // Start of scan: entropy-coded data runs to the next marker that is not a stuffed 0xFF00
      // or a restart marker; progressive files have several scans, with tables between them.
      let scan = end;
      for (;;) {
        while (scan + 1 < source.length && !(source[scan] === 0xff && source[scan + 1] !== 0x00 && (source[scan + 1]! < 0xd0 || source[scan + 1]! > 0xd7))) scan++;
        if (scan + 1 >= source.length) return null;
        if (source[scan + 1] === 0xd9) {
          kept.push(source.subarray(at, scan + 2));
          return Buffer.concat(kept);
        }
        if (source[scan + 1] === 0xff) {
          scan++;
          continue;
        }
        break;
      }
      kept.push(source.subarray(at, scan));
      at = scan;
      continue;
    }
    const isApp = marker >= 0xe0 && marker <= 0xef;
    const keep = !isApp ? marker !== 0xfe : marker === 0xe0 || marker === 0xee || (marker === 0xe2 && segment.toString('latin1', 4, 16) === 'ICC_PROFILE\0');
    if (keep) kept.push(segment);
    at = end;
  }
  return null;
}

/** Skips a GIF's data sub-blocks from `at`; returns the offset after the terminator. */
function skipSubBlocks(source: Buffer, at: number): number | null {
  while (at < source.length) {
    const size = source[at]!;
    at += 1 + size;
    if (size === 0) return at <= source.length ? at : null;
  }
  return null;
}

/**
 * Application extensions kept: NETSCAPE2.0 and ANIMEXTS1.0 say how often an animation loops.
 * Dropped: comment extensions and the other application extensions (XMP, IPTC, ICC, editors'
 * own), and anything after the trailer. Most GIFs hold none of these and come back unchanged.
 */
function stripGif(source: Buffer): Buffer | null {
  const header = source.toString('latin1', 0, 6);
  if (source.length < 13 || (header !== 'GIF87a' && header !== 'GIF89a')) return null;
  const flags = source[10]!;
  let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  if (at > source.length) return null;
  const kept: Buffer[] = [source.subarray(0, at)];
  while (at < source.length) {
    const introducer = source[at]!;
    if (introducer === 0x3b) {
      kept.push(source.subarray(at, at + 1));
      return Buffer.concat(kept);
    }
    if (introducer === 0x2c) {
      // Image descriptor, optional local colour table, LZW code size, image data sub-blocks.
      const local = source[at + 9] ?? 0;
      const data = at + 10 + (local & 0x80 ? 3 * 2 ** ((local & 0x07) + 1) : 0) + 1;
      const end = skipSubBlocks(source, data);
      if (end === null) return null;
      kept.push(source.subarray(at, end));
      at = end;
      continue;
    }
    if (introducer !== 0x21) return null;
    const label = source[at + 1];
    const end = skipSubBlocks(source, at + 2);
    if (end === null) return null;
    const application = label === 0xff ? source.toString('latin1', at + 3, at + 14) : '';
    const keep = label === 0xf9 || label === 0x01 || application === 'NETSCAPE2.0' || application === 'ANIMEXTS1.0';
    if (keep) kept.push(source.subarray(at, end));
    at = end;
  }
  return null;
}

export function stripMetadata(source: Buffer, format: 'gif' | 'png' | 'jpeg'): Buffer | null {
  if (format === 'png') return stripPng(source);
  if (format === 'jpeg') return stripJpeg(source);
  return stripGif(source);
}

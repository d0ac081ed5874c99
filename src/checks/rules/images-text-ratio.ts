import { contentImages } from '../elements.js';
import type { Rule } from '../types.js';

/** Below this many words of text per image, an email reads as a picture (and spam filters agree). */
export const WORDS_PER_IMAGE = 40;

export const imagesTextRatio: Rule = {
  id: 'images/text-ratio',
  description: `the email is mostly images: fewer than ${WORDS_PER_IMAGE} words of text per image`,
  defaultSeverity: 'warn',
  check(context) {
    // Distinct pictures: MJML writes each carousel image several times (slide, thumbnail, Outlook fallback).
    const images = new Set(contentImages(context).map((image) => image.attribs.src ?? '')).size;
    if (images === 0) return [];
    const words = context.html.visibleText.split(' ').filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    if (words >= images * WORDS_PER_IMAGE) return [];
    return [
      {
        message: `the email is mostly images: ${images} image${images > 1 ? 's' : ''} and ${words} words of text. With images off (the default in many clients) it says little, and spam filters score image-heavy mail: add text or drop images`,
        ...context.locate.issueFile,
      },
    ];
  },
};

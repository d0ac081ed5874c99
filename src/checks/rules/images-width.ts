import { contentImages, placeOfUrl } from '../elements.js';
import type { Rule } from '../types.js';

export const imagesWidth: Rule = {
  id: 'images/width',
  description: 'an image has no width attribute (Outlook then shows it at its full pixel size)',
  defaultSeverity: 'warn',
  check(context) {
    return contentImages(context)
      .filter((image) => !/^\d+(?:px)?$/.test(image.attribs.width?.trim() ?? ''))
      .map((image) => ({
        message: `image \`${image.attribs.src ?? ''}\` has no width attribute: Outlook shows it at its natural size and can break the layout; use the article's \`image:\` field or write \`<img … width="552">\``,
        ...placeOfUrl(context, image, 'src'),
      }));
  },
};

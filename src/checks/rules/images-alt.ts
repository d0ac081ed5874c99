import { contentImages, placeOfUrl, writtenUrlOf } from '../elements.js';
import type { Rule } from '../types.js';

export const imagesAlt: Rule = {
  id: 'images/alt',
  description: 'a content image has no alt text, or an empty one',
  defaultSeverity: 'error',
  check(context) {
    return contentImages(context)
      .filter((image) => !image.attribs.alt?.trim())
      .map((image) => {
        // As the author wrote it: a local image's path, not the processed file's URL.
        const src = writtenUrlOf(context, image, 'src');
        const missing = image.attribs.alt === undefined ? 'has no alt attribute' : 'has an empty alt text';
        return {
          message: `image \`${src}\` ${missing}: describe it (\`imageAlt:\` in the front matter, \`![description](url)\` in Markdown, \`alt="…"\` in a template); images are off by default in many clients and screen readers read the alt`,
          ...placeOfUrl(context, image, 'src'),
        };
      });
  },
};

import { contentImages, groupBy, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';

export const imagesHttp: Rule = {
  id: 'images/http',
  description: 'an image is loaded over plain http:',
  defaultSeverity: 'warn',
  check(context) {
    const insecure = contentImages(context).filter((image) => /^http:/i.test(image.attribs.src?.trim() ?? ''));
    return groupBy(insecure, (image) => image.attribs.src!.trim()).map(({ first, count }) => ({
      message: `image \`${first.attribs.src!.trim()}\` is loaded over http:${times(count)}: use its https: address; clients block or flag insecure images`,
      count,
      ...placeOfUrl(context, first, 'src'),
    }));
  },
};

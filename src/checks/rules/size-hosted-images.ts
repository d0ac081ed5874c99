import { DEFAULTS } from '../../config/defaults.js';
import { kb } from '../elements.js';
import type { Rule } from '../types.js';

/**
 * The embedded images of a message have their rule (size/embedded-images); linked ones cost the
 * reader just as much, only later: each open downloads them. Only the local images the image
 * stage processed are counted (a remote image's size is not known without fetching it).
 */
export const sizeHostedImages: Rule = {
  id: 'size/hosted-images',
  description: `the local images an issue links (images: "hosted") add up to more than ${DEFAULTS.hostedImagesWarnBytes / 1024 / 1024} MB, downloaded on every open`,
  defaultSeverity: 'warn',
  check({ rendered, locate }) {
    const hosted = rendered.assets.filter((asset) => !asset.cid);
    const bytes = hosted.reduce((sum, asset) => sum + asset.bytes, 0);
    if (bytes <= DEFAULTS.hostedImagesWarnBytes) return [];
    const largest = [...hosted]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map((asset) => `\`${asset.name}\` ${kb(asset.bytes)}`);
    return [
      {
        message:
          `the ${hosted.length} local images of this issue weigh ${kb(bytes)}, downloaded by every reader on opening it (a phone on a slow connection shows empty boxes meanwhile); ` +
          `largest: ${largest.join(', ')}. Use fewer or smaller images (a short animation, a photo cropped to what matters)`,
        ...locate.issueFile,
      },
    ];
  },
};

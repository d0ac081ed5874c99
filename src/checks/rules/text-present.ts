import { partOfType } from '../mime.js';
import type { Rule } from '../types.js';

export const textPresent: Rule = {
  id: 'text/present',
  description: 'the message has no plain-text part, or an empty one',
  defaultSeverity: 'error',
  check({ message, rendered, locate }) {
    const part = partOfType(message, 'text/plain');
    if (part && /[\p{L}\p{N}]/u.test(rendered.text)) return [];
    return [
      {
        message: `the plain-text part is ${part ? 'empty' : 'missing'}: some readers and clients show only text, and spam filters distrust HTML-only mail; fill the text layout`,
        ...locate.textLayout,
      },
    ];
  },
};

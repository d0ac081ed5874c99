import type { Rule } from '../types.js';

export const a11yLang: Rule = {
  id: 'a11y/lang',
  description: 'the document has no `lang` (screen readers then guess the language)',
  defaultSeverity: 'warn',
  check({ html, locate }) {
    const root = html.elements.find((element) => element.name === 'html');
    const lang = root?.attribs.lang?.trim() ?? '';
    if (lang && lang.toLowerCase() !== 'und') return [];
    return [
      {
        message: `the document has ${lang ? '`lang="und"` (undetermined)' : 'no lang attribute'}: screen readers pick a voice by it; write \`<mjml lang="{{lang}}">\` in the layout (the language comes from \`locale\` in the config)`,
        ...(locate.template('<mjml') ?? locate.layout),
      },
    ];
  },
};

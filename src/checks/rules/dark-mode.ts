import type { Rule } from '../types.js';

export const darkMode: Rule = {
  id: 'dark-mode/support',
  description: 'the email declares no dark colour scheme and the theme has no dark colours',
  defaultSeverity: 'info',
  check({ theme, html, locate }) {
    if (theme.darkColors) return [];
    const declared = html.elements.some((element) => {
      if (element.name === 'meta' && /^(color-scheme|supported-color-schemes)$/i.test(element.attribs.name ?? '')) return /dark/i.test(element.attribs.content ?? '');
      if (element.name !== 'style') return false;
      const css = element.children.map((child) => ('data' in child ? child.data : '')).join('');
      return /prefers-color-scheme\s*:\s*dark/i.test(css) || /color-scheme\s*:[^;}]*dark/i.test(css);
    });
    if (declared) return [];
    return [
      {
        message: 'no dark mode: the theme has no `darkColors` and the email declares no dark colour scheme, so clients that force dark mode (Gmail and Outlook apps) invert the colours themselves; add `darkColors` to the theme',
        ...(locate.themeColor('darkColors', 'background') ?? locate.layout),
      },
    ];
  },
};

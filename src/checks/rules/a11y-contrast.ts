import type { ThemeColors } from '../../config/defaults.js';
import { contrastRatio } from '../contrast.js';
import type { Problem, Rule } from '../types.js';

/** WCAG 2.x AA for body text. */
export const AA_RATIO = 4.5;

/** Foreground on background, as the templates pair them: body text, meta lines and links sit on the page and on cards. */
const PAIRS: [keyof ThemeColors, keyof ThemeColors][] = [
  ['text', 'background'],
  ['text', 'surface'],
  ['muted', 'background'],
  ['muted', 'surface'],
  ['link', 'background'],
  ['link', 'surface'],
  ['accentText', 'accent'],
];

export const a11yContrast: Rule = {
  id: 'a11y/contrast',
  description: `a pair of theme colours (text, muted, link, button) is below WCAG AA contrast (${AA_RATIO}:1)`,
  defaultSeverity: 'error',
  check({ theme, locate }) {
    const problems: Problem[] = [];
    const palettes: ['colors' | 'darkColors', ThemeColors | null][] = [
      ['colors', theme.colors],
      ['darkColors', theme.darkColors],
    ];
    for (const [palette, colors] of palettes) {
      if (!colors) continue;
      for (const [fg, bg] of PAIRS) {
        const ratio = contrastRatio(colors[fg], colors[bg]);
        if (ratio === null || ratio >= AA_RATIO) continue;
        problems.push({
          message: `\`${palette}.${fg}\` ${colors[fg]} on \`${palette}.${bg}\` ${colors[bg]} has a contrast of ${ratio.toFixed(2)}:1, below WCAG AA ${AA_RATIO}:1: darken or lighten one of them`,
          ...(locate.themeColor(palette, fg) ?? locate.layout),
        });
      }
    }
    return problems;
  },
};

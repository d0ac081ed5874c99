import { hasAncestor, isHidden, startTagSource, textOf } from '../html.js';
import type { Problem, Rule } from '../types.js';

export const a11yHeadings: Rule = {
  id: 'a11y/headings',
  description: 'headings skip a level (h1 then h3) or do not start at h1',
  defaultSeverity: 'warn',
  check(context) {
    const headings = context.html.elements.filter((e) => /^h[1-6]$/.test(e.name) && hasAncestor(e, 'body') && !isHidden(e));
    const problems: Problem[] = [];
    let previous = 0;
    for (const heading of headings) {
      const level = Number(heading.name[1]);
      const text = textOf(heading);
      const written = startTagSource(context.html, heading).split(/\sstyle\s*=/i)[0]!.replace(/\/?>$/, '');
      const where = context.locate.content(text) ?? context.locate.template(written) ?? context.locate.layout;
      if (previous === 0 && level !== 1) {
        problems.push({ message: `the first heading is <${heading.name}> "${text}": screen-reader users jump by headings and expect the email to start at <h1>; make the main title an h1`, ...where });
      } else if (previous > 0 && level > previous + 1) {
        problems.push({ message: `heading <${heading.name}> "${text}" follows an <h${previous}>: a level is skipped; use <h${previous + 1}> (in Markdown, ${'#'.repeat(previous + 1)} )`, ...where });
      }
      previous = level;
    }
    return problems;
  },
};

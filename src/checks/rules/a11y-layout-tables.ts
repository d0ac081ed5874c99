import type { Element } from 'domhandler';
import { isTag } from 'domhandler';
import { groupBy, times } from '../elements.js';
import { hasAncestor, startTagSource } from '../html.js';
import type { Rule } from '../types.js';

/** A table with headers or a caption holds data; any other table in an email is for layout. */
function isDataTable(table: Element): boolean {
  const walk = (node: Element): boolean =>
    node.children.some((child) => isTag(child) && (['th', 'caption', 'thead'].includes(child.name) || (child.name !== 'table' && walk(child))));
  return walk(table) || table.attribs.summary !== undefined;
}

export const a11yLayoutTables: Rule = {
  id: 'a11y/layout-tables',
  description: 'a layout table lacks role="presentation" (screen readers announce rows and columns)',
  defaultSeverity: 'warn',
  check(context) {
    const bare = context.html.elements.filter(
      (element) => element.name === 'table' && hasAncestor(element, 'body') && !['presentation', 'none'].includes(element.attribs.role ?? '') && !isDataTable(element),
    );
    return groupBy(bare, (table) => startTagSource(context.html, table)).map(({ first, count }) => {
      const written = startTagSource(context.html, first).split(/\sstyle\s*=/i)[0]!.replace(/\/?>$/, '');
      return {
        message: `a layout table has no role="presentation"${times(count)}: screen readers read it as a grid of rows and cells; add \`role="presentation"\` to \`${written}>\``,
        count,
        ...(context.locate.template(written) ?? context.locate.content(written) ?? context.locate.layout),
      };
    });
  },
};

import { recipientRef } from './personalize-analysis.js';
import type { TemplateFile, TemplateSet } from './templates.js';

/**
 * Where a template uses a recipient value in the web edition. The render finds that it does (a
 * forbidden value was printed, recipient-values.ts) but Handlebars gives no line for a value a
 * helper consumed; this walks the template that was running, skipping what `web` hides
 * (`{{#unless web}}`, the else of `{{#if web}}`), to the first recipient path it still reaches.
 */

type Node = hbs.AST.Node;

export interface GuardPlace {
  file: string;
  line: number | undefined;
}

function isWebTest(block: hbs.AST.BlockStatement): boolean {
  const param = block.params[0];
  return block.params.length === 1 && param?.type === 'PathExpression' && /^(?:@root\.|this\.)?web$/.test((param as hbs.AST.PathExpression).original);
}

/** The first recipient path reached with `web` true, in document order, or null. */
function firstRecipientPath(node: Node | undefined | null): hbs.AST.PathExpression | null {
  if (!node) return null;
  switch (node.type) {
    case 'Program':
      for (const statement of (node as hbs.AST.Program).body) {
        const found = firstRecipientPath(statement);
        if (found) return found;
      }
      return null;
    case 'PathExpression':
      return recipientRef(node as hbs.AST.PathExpression) ? (node as hbs.AST.PathExpression) : null;
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      const helper = block.path.type === 'PathExpression' ? (block.path as hbs.AST.PathExpression).original : '';
      if (isWebTest(block) && (helper === 'unless' || helper === 'if')) {
        // The branch that runs when `web` is true.
        return firstRecipientPath(helper === 'unless' ? block.inverse : block.program);
      }
      // A condition's value is not printed: only what the branches print counts.
      const condition = helper === 'if' || helper === 'unless';
      return (
        (condition ? null : firstIn([block.path, ...block.params, ...(block.hash?.pairs.map((p) => p.value) ?? [])])) ??
        firstRecipientPath(block.program) ??
        firstRecipientPath(block.inverse)
      );
    }
    case 'MustacheStatement':
    case 'SubExpression': {
      const call = node as hbs.AST.MustacheStatement;
      return firstIn([call.path, ...call.params, ...(call.hash?.pairs.map((p) => p.value) ?? [])]);
    }
    case 'PartialStatement':
    case 'PartialBlockStatement': {
      const partial = node as hbs.AST.PartialBlockStatement;
      return firstIn([...partial.params, ...(partial.hash?.pairs.map((p) => p.value) ?? [])]) ?? firstRecipientPath(partial.program);
    }
    default:
      return null;
  }
}

function firstIn(nodes: readonly Node[]): hbs.AST.PathExpression | null {
  for (const node of nodes) {
    const found = firstRecipientPath(node);
    if (found) return found;
  }
  return null;
}

/**
 * The template and line that print a recipient value in the web edition: in `running` (the
 * template the render failed in) first, then the layout and every partial.
 */
export function recipientPlaceInWeb(templates: TemplateSet, layout: TemplateFile, running: string | undefined): GuardPlace {
  const candidates = [...[layout, ...templates.partials.values()].filter((t) => t.file === running), layout, ...templates.partials.values()];
  for (const template of candidates) {
    const found = firstRecipientPath(template.ast);
    if (found) return { file: template.file, line: found.loc?.start.line };
  }
  return { file: running ?? layout.file, line: undefined };
}

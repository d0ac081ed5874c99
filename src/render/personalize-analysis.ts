import { NewsletterError } from '../errors.js';
import type { TemplateFile, TemplateSet } from './templates.js';

/**
 * Decides from the Handlebars ASTs whether an issue can be rendered once with slot tokens in place
 * of recipient values. That is only sound when every recipient value is printed as it is: a value
 * that feeds a condition, a helper or a block would make the output depend on it in ways a
 * string substitution cannot reproduce.
 */

type Node = hbs.AST.Node;
type Path = hbs.AST.PathExpression;
type Expression = hbs.AST.Expression;

export interface TemplatePlace {
  file: string;
  line: number | undefined;
}

export interface RecipientUsage {
  /** Recipient fields the templates print (`recipient.<field>`), with the first place each is used. */
  fields: Map<string, TemplatePlace>;
  /** Whether `unsubscribeUrl` is printed anywhere. */
  unsubscribeUrl: boolean;
  /** Why slots cannot be used (a recipient value is used other than printed); null when they can. */
  blocker: (TemplatePlace & { reason: string }) | null;
}

type RecipientRef = { kind: 'field'; name: string } | { kind: 'unsubscribeUrl' } | { kind: 'whole'; path: string };

/** `recipient.x`, `@root.recipient.x`, `../recipient.x`, `unsubscribeUrl`: the paths that carry recipient values. */
export function recipientRef(path: Path): RecipientRef | null {
  let parts = path.parts;
  if (path.data) {
    if (parts[0] !== 'root') return null;
    parts = parts.slice(1);
  }
  if (parts[0] === 'recipient') {
    return parts.length === 2 ? { kind: 'field', name: parts[1]! } : { kind: 'whole', path: path.original };
  }
  if (parts[0] === 'unsubscribeUrl') return parts.length === 1 ? { kind: 'unsubscribeUrl' } : { kind: 'whole', path: path.original };
  return null;
}

/** `this`, `.`, `../`, `@root`: a path that names a whole context object, possibly the root one. */
function isContextPath(path: Path): boolean {
  return path.parts.length === 0 || (path.data && path.parts.length === 1 && path.parts[0] === 'root');
}

interface Walker {
  templates: TemplateSet;
  usage: RecipientUsage;
  /** Partials already walked, per "context may be the root" flag, so recursion ends. */
  seen: Set<string>;
  /** The text layout being walked (compiled with noEscape), or null while walking the MJML layout. */
  textFile: string | null;
}

function place(file: string, node: Node): TemplatePlace {
  return { file, line: node.loc?.start.line };
}

function block(walker: Walker, file: string, node: Node, reason: string): void {
  walker.usage.blocker ??= { ...place(file, node), reason };
}

/** A path used as a parameter, hash value, block argument or partial context. */
function visitArgument(walker: Walker, file: string, expression: Expression, mayBeRoot: boolean): void {
  if (expression.type === 'SubExpression') {
    const sub = expression as hbs.AST.SubExpression;
    visitArgument(walker, file, sub.path as Expression, mayBeRoot);
    for (const param of sub.params) visitArgument(walker, file, param, mayBeRoot);
    for (const pair of sub.hash?.pairs ?? []) visitArgument(walker, file, pair.value, mayBeRoot);
    return;
  }
  if (expression.type !== 'PathExpression') return;
  const path = expression as Path;
  const ref = recipientRef(path);
  if (ref) {
    if (ref.kind === 'field') noteField(walker, file, path, ref.name);
    block(walker, file, path, `\`${path.original}\` is passed to a helper, block or partial`);
    return;
  }
  if (isContextPath(path) && (mayBeRoot || path.data || path.depth > 0)) {
    block(walker, file, path, `\`${path.original}\` may hand the whole context (with the recipient) to a helper, block or partial`);
  }
}

function noteField(walker: Walker, file: string, node: Node, name: string): void {
  if (!walker.usage.fields.has(name)) walker.usage.fields.set(name, place(file, node));
}

function visitArguments(walker: Walker, file: string, node: { params: Expression[]; hash?: hbs.AST.Hash }, mayBeRoot: boolean): void {
  for (const param of node.params) visitArgument(walker, file, param, mayBeRoot);
  for (const pair of node.hash?.pairs ?? []) visitArgument(walker, file, pair.value, mayBeRoot);
}

function visitPartial(walker: Walker, file: string, node: hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement, inline: Map<string, hbs.AST.Program>, mayBeRoot: boolean): void {
  visitArguments(walker, file, node, mayBeRoot);
  if (node.name.type !== 'PathExpression') {
    block(walker, file, node, 'a dynamic partial name cannot be followed');
    return;
  }
  const name = (node.name as Path).original;
  // A context argument replaces the context; a hash only extends it.
  const innerRoot = node.params.length ? false : mayBeRoot;
  const inlined = inline.get(name);
  if (inlined) {
    walkProgram(walker, file, inlined, inline, innerRoot);
  } else {
    const partial = walker.templates.partials.get(name);
    const key = `${name}|${innerRoot}`;
    if (partial && !walker.seen.has(key)) {
      walker.seen.add(key);
      walkTemplate(walker, partial, innerRoot);
    }
  }
  if (node.type === 'PartialBlockStatement') walkProgram(walker, file, (node as hbs.AST.PartialBlockStatement).program, inline, mayBeRoot);
}

function walkProgram(walker: Walker, file: string, program: hbs.AST.Program | undefined, inline: Map<string, hbs.AST.Program>, mayBeRoot: boolean): void {
  if (!program) return;
  // Inline partials are visible from the whole template that defines them.
  for (const statement of program.body) {
    if (statement.type === 'DecoratorBlock') {
      const decorator = statement as unknown as hbs.AST.BlockStatement;
      const nameParam = decorator.params[0];
      if (nameParam?.type === 'StringLiteral') inline.set((nameParam as hbs.AST.StringLiteral).value, decorator.program);
    }
  }
  for (const statement of program.body) walkStatement(walker, file, statement, inline, mayBeRoot);
}

function walkStatement(walker: Walker, file: string, statement: hbs.AST.Statement, inline: Map<string, hbs.AST.Program>, mayBeRoot: boolean): void {
  switch (statement.type) {
    case 'MustacheStatement': {
      const mustache = statement as hbs.AST.MustacheStatement;
      const path = mustache.path.type === 'PathExpression' ? (mustache.path as Path) : null;
      const ref = path ? recipientRef(path) : null;
      if (ref && !mustache.params.length && !mustache.hash?.pairs.length) {
        if (ref.kind === 'whole') block(walker, file, mustache, `\`${ref.path}\` prints an object, not a field`);
        if (ref.kind === 'field') noteField(walker, file, mustache, ref.name);
        if (ref.kind === 'unsubscribeUrl') walker.usage.unsubscribeUrl = true;
        // Partials are compiled with HTML escaping even when the text layout calls them.
        if (walker.textFile !== null && file !== walker.textFile) block(walker, file, mustache, 'a partial prints a recipient value inside the text layout');
        if (!mustache.escaped && walker.textFile === null) {
          throw new NewsletterError('TEMPLATE_VARIABLE', `\`{{{${path!.original}}}}\` inserts a subscriber's value without HTML escaping`, {
            file,
            line: mustache.loc?.start.line,
            hint: `use \`{{${path!.original}}}\`: list values are data, never markup`,
          });
        }
        return;
      }
      if (path && !ref) {
        visitArguments(walker, file, mustache, mayBeRoot);
        return;
      }
      visitArgument(walker, file, mustache.path as Expression, mayBeRoot);
      visitArguments(walker, file, mustache, mayBeRoot);
      return;
    }
    case 'BlockStatement':
    case 'DecoratorBlock': {
      const node = statement as hbs.AST.BlockStatement;
      if (statement.type === 'DecoratorBlock') return; // inline partials are walked where they are used
      const helper = node.path.type === 'PathExpression' ? (node.path as Path).original : '';
      visitArgument(walker, file, node.path as Expression, mayBeRoot);
      visitArguments(walker, file, node, mayBeRoot);
      const keepsContext = helper === 'if' || helper === 'unless';
      const changesContext = helper === 'each' || helper === 'with';
      // Unknown block helpers may call their block with any context, the root one included.
      const inner = keepsContext ? mayBeRoot : changesContext ? false : true;
      walkProgram(walker, file, node.program, inline, inner);
      walkProgram(walker, file, node.inverse, inline, mayBeRoot);
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      visitPartial(walker, file, statement as hbs.AST.PartialStatement, inline, mayBeRoot);
      return;
    case 'Decorator':
      block(walker, file, statement, 'decorators are not supported with recipient slots');
      return;
    default:
      return;
  }
}

function walkTemplate(walker: Walker, template: TemplateFile, mayBeRoot: boolean): void {
  walkProgram(walker, template.file, template.ast, new Map(), mayBeRoot);
}

/** Walks a layout, its text layout and every partial they reach, starting from the root context. */
export function analyzeRecipientUsage(templates: TemplateSet, layouts: { html: TemplateFile; text: TemplateFile }): RecipientUsage {
  const usage: RecipientUsage = { fields: new Map(), unsubscribeUrl: false, blocker: null };
  walkTemplate({ templates, usage, seen: new Set(), textFile: null }, layouts.html, true);
  walkTemplate({ templates, usage, seen: new Set(), textFile: layouts.text.file }, layouts.text, true);
  return usage;
}

/** Strict mode for lists: a field the templates use must be a column of the list. */
export function checkListColumns(usage: RecipientUsage, columns: readonly string[] | null, listName: string): void {
  if (!columns) return;
  for (const [field, where] of usage.fields) {
    if (field === 'email' || columns.includes(field)) continue;
    throw new NewsletterError('TEMPLATE_VARIABLE', `the template uses \`recipient.${field}\` but the list \`${listName}\` has no \`${field}\` column`, {
      file: where.file,
      line: where.line,
      hint: `columns of the list: ${columns.map((c) => `\`${c}\``).join(', ')}`,
    });
  }
}

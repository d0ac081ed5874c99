import type { ResolvedConfig } from '../config/defaults.js';
import { parseMarkdownArticle } from '../content/load-article.js';
import type { Issue } from '../content/types.js';
import { NewsletterError, type ErrorCode } from '../errors.js';
import { buildIssueContext, withRecipient } from './build-context.js';
import type { Program, TemplateFile, TemplateSet } from './templates.js';

/**
 * Template lint: every variable a template names, in every branch (`{{else}}`, `{{#each}}`,
 * partials), checked against the template context before anything renders. Strict mode alone
 * finds `{{titel}}` only when its branch runs; this finds it in the branch that did not.
 *
 * The context is not described a second time here: its shape is read off a real context built
 * by buildIssueContext from a sample article that sets every key (so no key is null).
 */

export interface LintProblem {
  file: string;
  line: number | undefined;
  message: string;
  hint?: string | undefined;
  /** Set when the problem is another error carried over (a broken partial's syntax error). */
  code?: ErrorCode | undefined;
}

type Shape = { kind: 'object'; fields: Map<string, Shape>; open: boolean } | { kind: 'array'; of: Shape } | { kind: 'scalar' } | { kind: 'any' };

const ANY: Shape = { kind: 'any' };
const SCALAR: Shape = { kind: 'scalar' };

function shapeOf(value: unknown, open = false): Shape {
  if (value === null || value === undefined) return ANY;
  if (Array.isArray(value)) return { kind: 'array', of: value.length ? shapeOf(value[0]) : ANY };
  if (typeof value === 'object') {
    return { kind: 'object', fields: new Map(Object.entries(value).map(([k, v]) => [k, shapeOf(v)])), open };
  }
  return SCALAR;
}

const SAMPLE_ARTICLE = `---
title: Sample
author: Sample Author
date: 2024-01-01
summary: Sample summary.
image: https://example.com/sample.png
imageAlt: Sample
url: https://example.com/sample
tags: [sample]
---
Sample body.
`;

/** The shape of the context every template sees, from a context in which every key is set. */
export function contextShape(config: ResolvedConfig, templates: TemplateSet): Shape {
  const article = parseMarkdownArticle(SAMPLE_ARTICLE, 'sample', 'sample.md');
  const issue: Issue = {
    slug: 'sample', file: 'sample.md', subject: 'Sample', preheader: 'Sample', date: '2024-01-01', template: 'digest', lead: 'full', draft: false,
    introHtml: '<p>Sample</p>', introText: 'Sample', articles: [article, { ...article, slug: 'sample-2' }], localImages: [], findings: [],
  };
  const theme = templates.theme;
  const fullTheme = {
    ...theme,
    darkColors: theme.darkColors ?? theme.colors,
    logo: theme.logo ?? { url: 'https://example.com/logo.png', alt: 'Logo', width: 160 },
    fonts: { ...theme.fonts, webFontUrl: theme.fonts.webFontUrl ?? 'https://example.com/font.css', webFontName: theme.fonts.webFontName ?? 'Sample' },
  };
  const sampleConfig = { ...config, utm: config.utm ?? { source: 's', medium: 'm', campaign: 'c', hosts: [] } };
  const sizes = new Map([['sample', { width: 600, height: 400 }], ['sample-2', { width: 600, height: 400 }]]);
  const context = withRecipient(buildIssueContext(issue, sampleConfig, fullTheme, sizes), config.sampleRecipient, 'https://example.com/unsubscribe', 'text');
  const shape = shapeOf(context) as Extract<Shape, { kind: 'object' }>;
  // Recipient columns come from the list: any name may be there.
  shape.fields.set('recipient', { ...(shapeOf(config.sampleRecipient) as Extract<Shape, { kind: 'object' }>), open: true });
  return shape;
}

/** Merge tags of other tools: Mailchimp's FNAME, `{{FirstName}}` of Campaign Monitor and others. */
const MERGE_TAG = /^(?:[A-Z][a-z]+(?:[A-Z][a-z]+)+|[A-Z_]{3,}|first_?name|last_?name|full_?name|email_?address|subscriber\w*|contact\w*)$/;

export function mergeTagHint(name: string): string | undefined {
  if (!MERGE_TAG.test(name)) return undefined;
  return `\`{{${name}}}\` looks like a merge tag of another tool: here a reader's data is \`{{recipient.name}}\`, \`{{recipient.email}}\` or \`{{recipient.<column>}}\`; to print the braces as text, write \`\\{{${name}}}\``;
}

interface Frame {
  shape: Shape;
  blockParams: Map<string, Shape>;
  inEach: boolean;
}

type Node = hbs.AST.Node & { loc?: hbs.AST.SourceLocation };
type Path = hbs.AST.PathExpression;

const BUILTIN_BLOCKS = new Set(['if', 'unless', 'each', 'with']);

class Linter {
  readonly problems: LintProblem[] = [];
  private readonly seen = new Set<string>();
  private readonly reported = new Set<string>();
  /** `{{#*inline "name"}}` partials, by template file and name. */
  private readonly inline = new Map<string, Program>();

  constructor(
    private readonly templates: TemplateSet,
    private readonly root: Shape,
  ) {}

  private problem(template: TemplateFile, node: Node, message: string, hint?: string): void {
    const line = node.loc?.start.line;
    const key = `${template.file}:${line}:${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.problems.push({ file: template.file, line, message, hint });
  }

  private isHelper(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.templates.env.helpers, name);
  }

  /** Shape of a path, or null after reporting it. */
  private resolve(path: Path, frames: readonly Frame[], template: TemplateFile): Shape | null {
    let shape: Shape;
    let parts = [...path.parts];
    if (path.data) {
      if (parts[0] === 'root') {
        shape = this.root;
        parts = parts.slice(1);
      } else {
        return SCALAR; // @index, @first, @last, @key
      }
    } else {
      const frame = frames[Math.max(0, frames.length - 1 - path.depth)]!;
      const param = parts.length ? frames.slice().reverse().find((f) => f.blockParams.has(parts[0]!))?.blockParams.get(parts[0]!) : undefined;
      if (param && path.depth === 0) {
        shape = param;
        parts = parts.slice(1);
      } else {
        shape = frame.shape;
      }
    }
    const walked: string[] = [];
    for (const part of parts) {
      walked.push(part);
      if (shape.kind === 'any') return ANY;
      if (shape.kind === 'array') {
        if (part === 'length') {
          shape = SCALAR;
          continue;
        }
        if (/^\d+$/.test(part)) {
          shape = shape.of;
          continue;
        }
      }
      if (shape.kind === 'object') {
        const next = shape.fields.get(part);
        if (next) {
          shape = next;
          continue;
        }
        if (shape.open) return ANY;
      }
      const expression = path.original;
      this.problem(template, path, `unknown variable \`${expression}\` (not in the template data, checked in every branch)`, mergeTagHint(expression) ?? 'check the spelling against the template data listed in docs/templates.md ("What templates see")');
      return null;
    }
    return shape;
  }

  private expression(node: hbs.AST.Expression, frames: readonly Frame[], template: TemplateFile): Shape | null {
    if (node.type === 'PathExpression') return this.resolve(node as Path, frames, template);
    if (node.type === 'SubExpression') {
      const sub = node as hbs.AST.SubExpression;
      this.call(sub, frames, template);
      if ((sub.path as Path).original === 'chunk' && sub.params[0]) {
        // Rows of the list's items: the grid's inner `{{#each this}}` sees articles.
        const list = this.expression(sub.params[0], frames, template);
        return list?.kind === 'array' ? { kind: 'array', of: list } : ANY;
      }
      return ANY;
    }
    return SCALAR;
  }

  private call(node: hbs.AST.MustacheStatement | hbs.AST.SubExpression, frames: readonly Frame[], template: TemplateFile): void {
    const path = node.path as Path;
    const name = path.type === 'PathExpression' ? path.original : '';
    const isCall = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (path.type === 'PathExpression' && !path.data && path.depth === 0 && path.parts.length === 1 && this.isHelper(name)) {
      // A helper: its arguments are what names variables.
    } else if (isCall) {
      this.problem(template, node, `unknown helper \`${name}\``, `helpers here: ${Object.keys(this.templates.env.helpers).filter((h) => !h.startsWith('helperMissing') && h !== 'blockHelperMissing').join(', ')}`);
    } else if (path.type === 'PathExpression') {
      this.resolve(path, frames, template);
    }
    for (const param of node.params) this.expression(param, frames, template);
    for (const pair of node.hash?.pairs ?? []) this.expression(pair.value, frames, template);
  }

  private block(node: hbs.AST.BlockStatement, frames: readonly Frame[], template: TemplateFile): void {
    const path = node.path as Path;
    const name = path.original;
    if (BUILTIN_BLOCKS.has(name) || (this.isHelper(name) && !BUILTIN_BLOCKS.has(name))) {
      const shapes = node.params.map((param) => this.expression(param, frames, template));
      for (const pair of node.hash?.pairs ?? []) this.expression(pair.value, frames, template);
      const target = shapes[0] ?? ANY;
      if (name === 'each') {
        const item = target === null ? ANY : target.kind === 'array' ? target.of : target.kind === 'object' ? ANY : ANY;
        const params = new Map<string, Shape>();
        const [itemName, indexName] = node.program.blockParams ?? [];
        if (itemName) params.set(itemName, item);
        if (indexName) params.set(indexName, SCALAR);
        this.program(node.program, [...frames, { shape: item, blockParams: params, inEach: true }], template);
      } else if (name === 'with') {
        const params = new Map<string, Shape>();
        const [asName] = node.program.blockParams ?? [];
        if (asName) params.set(asName, target ?? ANY);
        this.program(node.program, [...frames, { shape: target ?? ANY, blockParams: params, inEach: false }], template);
      } else if (BUILTIN_BLOCKS.has(name)) {
        this.program(node.program, frames, template);
      } else {
        // A custom block helper: its block sees what the helper gives it, which lint cannot know.
        this.program(node.program, [...frames, { shape: ANY, blockParams: new Map(), inEach: false }], template);
      }
      if (node.inverse) this.program(node.inverse, frames, template);
      return;
    }
    // `{{#articles}}…{{/articles}}`: a section over a variable, as `each` for a list, else `with`.
    const shape = this.resolve(path, frames, template);
    const inner = shape?.kind === 'array' ? shape.of : (shape ?? ANY);
    this.program(node.program, [...frames, { shape: inner, blockParams: new Map(), inEach: shape?.kind === 'array' }], template);
    if (node.inverse) this.program(node.inverse, frames, template);
  }

  private partial(node: hbs.AST.PartialStatement, frames: readonly Frame[], template: TemplateFile): void {
    const nameNode = node.name as Path;
    const name = nameNode.type === 'PathExpression' ? nameNode.original : String((nameNode as unknown as { value: unknown }).value);
    const inline = this.inline.get(`${template.file}\u0000${name}`);
    const partial = inline ? { ...template, ast: inline } : this.templates.partials.get(name);
    const brokenPartial = this.templates.brokenPartials.get(name);
    if (brokenPartial) {
      const key = `${brokenPartial.file}:${brokenPartial.line}:${brokenPartial.message}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.problems.push({ file: brokenPartial.file ?? template.file, line: brokenPartial.line, message: brokenPartial.message, hint: brokenPartial.hint, code: brokenPartial.code });
      }
      return;
    }
    if (!partial) {
      this.problem(template, node, `partial \`${name}\` does not exist (expected partials/${name}.mjml)`);
      return;
    }
    let shape: Shape = node.params[0] ? (this.expression(node.params[0], frames, template) ?? ANY) : frames[frames.length - 1]!.shape;
    const pairs = node.hash?.pairs ?? [];
    if (pairs.length) {
      const fields = new Map(shape.kind === 'object' ? shape.fields : []);
      for (const pair of pairs) fields.set(pair.key, this.expression(pair.value, frames, template) ?? ANY);
      shape = shape.kind === 'any' ? ANY : { kind: 'object', fields, open: shape.kind === 'object' && shape.open };
    }
    // Each partial once per calling shape (a card partial is called for every article alike).
    const key = `${partial.file}\u0000${name}\u0000${JSON.stringify(shape, (_, v) => (v instanceof Map ? [...v.keys()] : v))}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.program(partial.ast, [{ shape, blockParams: new Map(), inEach: false }], partial);
  }

  program(program: Program, frames: readonly Frame[], template: TemplateFile): void {
    for (const statement of program.body) {
      if (statement.type !== 'DecoratorBlock') continue;
      const decorator = statement as unknown as { path: Path; params: hbs.AST.StringLiteral[]; program: Program };
      if (decorator.path.original === 'inline' && decorator.params[0]?.type === 'StringLiteral') {
        this.inline.set(`${template.file}\u0000${decorator.params[0].value}`, decorator.program);
      }
    }
    for (const statement of program.body) {
      switch (statement.type) {
        case 'MustacheStatement':
          this.call(statement as hbs.AST.MustacheStatement, frames, template);
          break;
        case 'BlockStatement':
          this.block(statement as hbs.AST.BlockStatement, frames, template);
          break;
        case 'PartialStatement':
          this.partial(statement as hbs.AST.PartialStatement, frames, template);
          break;
        case 'PartialBlockStatement': {
          const block = statement as unknown as hbs.AST.PartialStatement & { program: Program };
          this.partial(block, frames, template);
          this.program(block.program, frames, template);
          break;
        }
        default:
          break;
      }
    }
  }

  lint(template: TemplateFile): void {
    this.program(template.ast, [{ shape: this.root, blockParams: new Map(), inEach: false }], template);
  }
}

/** The lint problems as one error: the first as the message, each further one on its own line. */
function problemsError(problems: readonly LintProblem[]): NewsletterError {
  const [first, ...rest] = problems;
  const more = rest.map((p) => `\n${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`).join('');
  return new NewsletterError(first!.code ?? 'TEMPLATE_VARIABLE', `${first!.message}${more}`, { file: first!.file, line: first!.line, hint: first!.hint });
}

/**
 * Lints each layout (HTML and text) on its own and marks the ones with problems broken, with
 * their problems as the error: an issue that uses one fails with it, the others still build.
 */
export function markLintProblems(templates: TemplateSet, config: ResolvedConfig): void {
  const shape = contextShape(config, templates);
  const layouts: [string, TemplateFile][] = [...[...templates.layouts].map(([n, t]): [string, TemplateFile] => [n, t]), ...[...templates.textLayouts].map(([n, t]): [string, TemplateFile] => [`${n}.txt`, t])];
  for (const [key, layout] of layouts) {
    const linter = new Linter(templates, shape);
    linter.lint(layout);
    if (linter.problems.length) templates.broken.set(key, problemsError(linter.problems));
  }
}

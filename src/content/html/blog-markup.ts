import { DomUtils } from 'htmlparser2';
import { Element, Text, isTag, type AnyNode, type Document, type ParentNode } from 'domhandler';
import { createRequire } from 'node:module';
import { embedCard } from './embeds.js';
import { titleOf } from '../generators/shortcode-forms.js';

/**
 * Blog markup that email shows differently, on the HTML Markdown made (before the allowlist):
 * callouts of every kind (shortcode callouts, theme classes `notice--info` / `prompt-tip`, GitHub
 * alerts `> [!NOTE]`) become one styled box with its title; task-list checkboxes become ☑/☐ (in
 * the text part too); emoji shortcodes (`:rocket:`, gemoji's names) become emoji outside code;
 * a Wistia embed, which is only scripts and a blurred placeholder, becomes a "watch" link card.
 */

export interface BlogMarkupResult {
  /** Code blocks of diagrams (`mermaid`) that are shown as their source. */
  diagrams: string[];
  /** Wistia videos (`id`) and gists (`gist:user/id`) made link cards. */
  videos: string[];
}

const CALLOUT_CLASS = /(?:^|\s)(?:notice(?:--(\w+))?|prompt-(\w+)|admonition|callout)(?=\s|$)/;
const ALERT = /^\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*\n?/i;
const KNOWN_TYPES = new Set(['note', 'tip', 'info', 'warning', 'danger', 'caution', 'important', 'success', 'error', 'primary']);

function el(name: string, attribs: Record<string, string>, children: AnyNode[]): Element {
  const node = new Element(name, attribs, children);
  for (const child of children) child.parent = node;
  return node;
}

/** Puts `replacements` where `node` was (prepare.ts uses it too). */
export function replaceWith(node: Element, replacements: AnyNode[]): void {
  const parent = node.parent as ParentNode | null;
  if (!parent) return;
  const index = parent.children.indexOf(node);
  for (const r of replacements) r.parent = parent;
  parent.children.splice(index, 1, ...replacements);
}

/** The box: a `<blockquote>` (a quoted block in the text part too) with the type's class and its title first. */
function makeCallout(node: Element, type: string, title: string | null): void {
  const kind = KNOWN_TYPES.has(type) ? type : type === 'warn' ? 'warning' : 'note';
  const children = [...node.children];
  if (title) children.unshift(el('p', { class: 'nl-callout-title' }, [el('strong', {}, [new Text(title)])]));
  replaceWith(node, [el('blockquote', { class: `nl-callout nl-callout-${kind}` }, children)]);
}

function calloutOf(node: Element): { type: string; title: string | null } | null {
  const marked = node.attribs['data-nl-callout'];
  if (marked !== undefined) return { type: marked || 'note', title: node.attribs['data-nl-title'] ?? null };
  const match = CALLOUT_CLASS.exec(node.attribs.class ?? '');
  if (!match || !['div', 'aside', 'section', 'p', 'blockquote'].includes(node.name)) return null;
  const type = (match[1] ?? match[2] ?? 'note').toLowerCase();
  // Chirpy's prompts carry their type as their title on the site (an icon); notices have none.
  return { type, title: match[2] ? titleOf(type) : null };
}

/** `> [!NOTE]` as its first line: GitHub's alert. */
function alertOf(node: Element): { type: string } | null {
  const first = node.children.find((c) => isTag(c) || (c instanceof Text && c.data.trim()));
  if (!first || !isTag(first) || first.name !== 'p') return null;
  const text = first.children[0];
  if (!(text instanceof Text)) return null;
  const match = ALERT.exec(text.data);
  if (!match) return null;
  text.data = text.data.slice(match[0].length);
  if (!DomUtils.textContent(first).trim() && !first.children.some(isTag)) first.parent!.children.splice(first.parent!.children.indexOf(first), 1);
  return { type: match[1]!.toLowerCase() };
}

const NO_EMOJI = new Set(['code', 'pre', 'kbd', 'samp', 'script', 'style']);

const SHORTCODE = /:([a-z0-9_+-]+):/gi;
let names: Record<string, string> | null = null;

/**
 * gemoji's names (GitHub's list), loaded on the first text that has a `:name:` (4 MB that a post
 * without one does not pay for); `require` of the ES module is synchronous on Node >= 20.19.
 */
function emojiNames(): Record<string, string> {
  names ??= (createRequire(import.meta.url)('gemoji') as typeof import('gemoji')).nameToEmoji;
  return names;
}

/** `:rocket:` → 🚀 for every name gemoji knows; anything else (`10:30:00`, `:not-a-name:`) stays. */
export function emojify(text: string): string {
  SHORTCODE.lastIndex = 0;
  if (!text.includes(':') || !SHORTCODE.test(text)) return text;
  return text.replace(SHORTCODE, (whole, name: string) => emojiNames()[name.toLowerCase()] ?? whole);
}

export function rewriteBlogMarkup(document: Document): BlogMarkupResult {
  const result: BlogMarkupResult = { diagrams: [], videos: [] };
  const walk = (nodes: AnyNode[], inCode: boolean) => {
    for (const node of [...nodes]) {
      if (node instanceof Text) {
        if (!inCode) node.data = emojify(node.data);
        continue;
      }
      if (!isTag(node)) continue;
      const name = node.name.toLowerCase();
      if (name === 'input' && node.attribs.type === 'checkbox') {
        const next = node.next;
        const spaced = next instanceof Text && /^\s/.test(next.data);
        replaceWith(node, [new Text(`${'checked' in node.attribs ? '☑' : '☐'}${spaced ? '' : ' '}`)]);
        continue;
      }
      if (name === 'code' && /(?:^|\s)language-mermaid(?:\s|$)/.test(node.attribs.class ?? '')) result.diagrams.push(DomUtils.textContent(node));
      // A GitHub gist's `<script>`: only the site runs it; the gist itself is one link away.
      const gist = name === 'script' ? /^https:\/\/gist\.github\.com\/([\w-]+\/\w+)\.js$/.exec(node.attribs.src ?? '') : null;
      if (gist) {
        result.videos.push(`gist:${gist[1]}`);
        replaceWith(node, embedCard({ page: `https://gist.github.com/${gist[1]}`, thumbnail: null, label: 'Open the gist on GitHub' }, null));
        continue;
      }
      const wistia = /(?:^|\s)wistia_async_(\w+)/.exec(node.attribs.class ?? '');
      if (wistia) {
        result.videos.push(wistia[1]!);
        replaceWith(node, embedCard({ page: `https://fast.wistia.net/embed/iframe/${wistia[1]}`, thumbnail: null, label: 'Watch on Wistia' }, null));
        continue;
      }
      walk(node.children, inCode || NO_EMOJI.has(name));
      const callout = calloutOf(node);
      const alert = callout || name !== 'blockquote' || node.attribs.class ? null : alertOf(node);
      if (callout) makeCallout(node, callout.type, callout.title);
      else if (alert) makeCallout(node, alert.type, titleOf(alert.type));
    }
  };
  walk(document.children, false);
  return result;
}

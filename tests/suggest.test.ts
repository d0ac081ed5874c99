import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, editDistance } from '../src/suggest.js';
import { knownKeysAt, zodToError } from '../src/schema-errors.js';
import { configSchema } from '../src/config/schema.js';
import { issueFrontMatterSchema } from '../src/content/schemas.js';
import { parseConfigText } from '../src/config/load-config.js';
import { parseFrontMatter } from '../src/content/front-matter.js';

describe('editDistance and closestMatch', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('artciles', 'articles')).toBe(1);
    expect(editDistance('sumary', 'summary')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests within two edits only, case-insensitively', () => {
    expect(closestMatch('artciles', ['subject', 'articles', 'template'])).toBe('articles');
    expect(closestMatch('Subjet', ['subject', 'articles'])).toBe('subject');
    expect(closestMatch('colour', ['subject', 'articles'])).toBeUndefined();
    expect(didYouMean('tempalte', ['template'])).toBe(' (did you mean `template`?)');
    expect(didYouMean('zzz', ['template'])).toBe('');
  });
});

describe('zodToError', () => {
  it('finds the keys a nested object accepts, through optional and union wrappers', () => {
    expect(knownKeysAt(configSchema, ['theme', 'colors'])).toContain('background');
    expect(knownKeysAt(issueFrontMatterSchema, ['articles', 0])).toEqual(expect.arrayContaining(['slug', 'title', 'url']));
  });

  it('names a misspelt config key at its line with the key it was meant to be', () => {
    const text = '{\n  "name": "X",\n  "theme": {\n    "colors": { "backgorund": "#fff" }\n  }\n}\n';
    const error = (() => {
      try {
        parseConfigText(text, 'newsletter.config.json');
      } catch (e) {
        return e as Error & { line?: number };
      }
      throw new Error('no error');
    })();
    expect(error.message).toBe('unknown key `theme.colors.backgorund` (did you mean `background`?)');
    expect(error.line).toBe(4);
  });

  it('prefers the unknown key to the missing key it leaves behind', () => {
    const source = '---\nsubject: Hi\nartciles:\n  - a\n---\n';
    const front = parseFrontMatter(source, 'issue.md');
    const result = issueFrontMatterSchema.safeParse(front.data);
    expect(result.success).toBe(false);
    const error = zodToError(result.error!, front.yaml, 'issue.md', 'CONTENT_INVALID', 0, issueFrontMatterSchema);
    expect(error.message).toBe('unknown key `artciles` (did you mean `articles`?)');
    expect(error.line).toBe(3);
  });

  it('says which list entry lacks a slug, at that entry', () => {
    const source = '---\nsubject: Hi\narticles:\n  - one\n  - title: Two\n    url: https://example.com/\n---\n';
    const front = parseFrontMatter(source, 'issue.md');
    const result = issueFrontMatterSchema.safeParse(front.data);
    const error = zodToError(result.error!, front.yaml, 'issue.md', 'CONTENT_INVALID', 0, issueFrontMatterSchema);
    expect(error.message).toBe('`articles.1` (entry 2 of `articles`) has no `slug`, which is required');
    expect(error.line).toBe(5);
  });
});

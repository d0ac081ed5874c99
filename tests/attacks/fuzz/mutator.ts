/**
 * A small seeded mutator for the content fuzzer: the same seed gives the same inputs on every
 * machine, so a failure found in CI is reproduced with `FUZZ_SEED=<seed>`. No dependency: the
 * generator is mulberry32, the mutations are the ones that broke this tool before (repeated
 * nesting tokens, YAML aliases, CDATA ends, control characters, lone surrogates, truncation).
 */

export type Random = () => number;

/** mulberry32: a 32-bit seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (random: Random, below: number) => Math.floor(random() * below);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

/** Tokens of the syntaxes the loaders read, and of the attacks on them. */
export const DICTIONARY: readonly string[] = [
  '---\n', '+++\n', '{', '}', '[', ']', '{"', '":', ']]>', '<![CDATA[', '&a ', '*a', '<<: *a\n', '- ', '> ', '  ', '\t',
  '* ', '1. ', '<div>', '</div>', '<span>', '<table><tr><td>', '<!--', '-->', '<!--more-->', '<script>', '<img src=x onerror=1>',
  '[x](', ')', '](javascript:alert(1))', '![a](', '**', '__', '`', '```\n', '~~~\n', '|', '#', '\n', '\r\n', '\\', '"', "'", ':',
  ': ', '=', ' = ', '{{<', '>}}', '{{%', '%}}', '{{', '}}', '[^1]', '[^1]: ', '$$', '\\(', 'By ', 'email', ',', ';', '\u0000',
  '\u000b', '\u000c', '\u001b', '\u001e', '\u001f', '\u007f', '\u0085', '\u2028', '\ufeff', '\ufffe', '\ud800', '\udfff', '😀',
  'title: ', 'date: 2024-02-30\n', 'draft: true\n', 'tags: ', '!!js/function ', '!!binary ', '%YAML 1.2\n', '? ', '&', '&#0;',
];

/** Inputs stay below this: the fuzzer looks for crashes and blow-ups, not for slow large files. */
export const MAX_INPUT = 64 * 1024;

function insertAt(text: string, at: number, piece: string): string {
  return text.slice(0, at) + piece + text.slice(at);
}

/** One to four mutations of `seed`, some of them splicing in `other`. */
export function mutate(seed: string, other: string, random: Random): string {
  let text = seed;
  const rounds = 1 + int(random, 4);
  for (let round = 0; round < rounds; round++) {
    const at = int(random, text.length + 1);
    switch (int(random, 8)) {
      case 0: // a token, once
        text = insertAt(text, at, pick(random, DICTIONARY));
        break;
      case 1: // a token repeated: nesting, long runs, alias chains
        text = insertAt(text, at, pick(random, DICTIONARY).repeat(1 + int(random, random() < 0.2 ? 6000 : 60)));
        break;
      case 2: {
        // a range deleted
        const end = at + int(random, 40);
        text = text.slice(0, at) + text.slice(end);
        break;
      }
      case 3: {
        // a range duplicated
        const end = Math.min(text.length, at + 1 + int(random, 80));
        text = insertAt(text, end, text.slice(at, end).repeat(1 + int(random, 20)));
        break;
      }
      case 4: // a character replaced by any code unit
        text = text.slice(0, at) + String.fromCharCode(int(random, 0x10000)) + text.slice(at + 1);
        break;
      case 5: {
        // spliced with another seed
        const from = int(random, other.length + 1);
        text = text.slice(0, at) + other.slice(from, from + int(random, 200));
        break;
      }
      case 6: // truncated
        text = text.slice(0, at);
        break;
      default: // the YAML alias chain that once took 4 GB
        text = insertAt(text, at, Array.from({ length: 1 + int(random, 30) }, (_, i) => (i ? `k${i}: &a${i} [*a${i - 1}, *a${i - 1}]\n` : 'k0: &a0 [x]\n')).join(''));
    }
  }
  return text.slice(0, MAX_INPUT);
}

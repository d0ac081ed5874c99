import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrontMatter } from '../../src/content/front-matter.js';
import { parseMarkdownArticle, parseWireCopy } from '../../src/content/load-article.js';
import { isNewsletterError } from '../../src/errors.js';
import { openList } from '../../src/send/recipients.js';
import { mutate, seededRandom, type Random } from './fuzz/mutator.js';
import { ARTICLE_SEEDS, LIST_SEEDS, WIRE_SEEDS } from './fuzz/seeds.js';

/**
 * The content loaders under a seeded fuzzer, for a bounded number of inputs (a few seconds):
 * front matter in its three syntaxes, Markdown, wire copy and subscriber lists. Every input ends
 * in a result or a NewsletterError: never another exception (a crash), a stack overflow, a hang
 * (the test's timeout) or a heap past MAX_HEAP. A result carries no control character.
 *
 * Reproduce or go further: FUZZ_SEED=<n> FUZZ_RUNS=<n> npx vitest run tests/attacks/fuzz.test.ts
 */

const SEED = Number(process.env.FUZZ_SEED ?? 19);
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** The heap a loader may leave in use after any input of up to 64 KB. */
const MAX_HEAP = 512 * 1024 * 1024;
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Runs `target` on `RUNS` mutations of the seeds; the first input that breaks the promise fails the test, saved for replay. */
async function fuzz(name: string, seeds: readonly string[], target: (input: string) => unknown, random: Random, runs = RUNS): Promise<number> {
  let refused = 0;
  for (let run = 0; run < runs; run++) {
    const input = mutate(seeds[run % seeds.length]!, seeds[Math.floor(random() * seeds.length)]!, random);
    try {
      await target(input);
    } catch (error) {
      if (isNewsletterError(error)) {
        refused++;
        continue;
      }
      const saved = path.join(await mkdtemp(path.join(tmpdir(), 'nl-fuzz-')), `${name}-${run}.txt`);
      await writeFile(saved, input);
      throw new Error(`${name}: input ${run} of seed ${SEED} (saved as ${saved}) ended in ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    }
    expect(process.memoryUsage().heapUsed, `${name}: heap after input ${run} of seed ${SEED}`).toBeLessThan(MAX_HEAP);
  }
  return refused;
}

function noControls(...texts: (string | null)[]): void {
  const found = texts.find((text): text is string => text !== null && CONTROLS.test(text));
  if (found !== undefined) throw new Error(`a control character reached the output: ${JSON.stringify(found.slice(0, 200))}`);
}

describe('attacks: fuzzing the content loaders', () => {
  it(`front matter (YAML, TOML, JSON): ${RUNS} inputs of seed ${SEED}`, async () => {
    const random = seededRandom(SEED);
    await fuzz('front-matter', ARTICLE_SEEDS, (input) => parseFrontMatter(input, 'fuzz.md'), random);
  });

  it(`Markdown articles: ${RUNS} inputs of seed ${SEED}`, async () => {
    const random = seededRandom(SEED + 1);
    await fuzz(
      'markdown',
      ARTICLE_SEEDS,
      (input) => {
        const article = parseMarkdownArticle(input, 'fuzz', 'fuzz.md');
        noControls(article.html, article.text, article.title, article.summary, article.author);
      },
      random,
    );
  });

  it(`wire copy: ${RUNS} inputs of seed ${SEED}`, async () => {
    const random = seededRandom(SEED + 2);
    await fuzz(
      'wire',
      WIRE_SEEDS,
      (input) => {
        const article = parseWireCopy(input, 'fuzz', 'fuzz.txt');
        noControls(article.html, article.text, article.author);
      },
      random,
    );
  });

  it(`subscriber lists (CSV, JSON, JSON lines): ${RUNS} inputs of seed ${SEED}`, async () => {
    const random = seededRandom(SEED + 3);
    const dir = await mkdtemp(path.join(tmpdir(), 'nl-fuzz-lists-'));
    let n = 0;
    for (const ext of ['csv', 'json', 'jsonl']) {
      const seeds = LIST_SEEDS.filter((seed) => seed.ext === ext).map((seed) => seed.text);
      await fuzz(
        `list-${ext}`,
        seeds,
        async (input) => {
          const file = path.join(dir, `list-${n++}.${ext}`);
          await writeFile(file, input);
          const list = await openList(file, dir);
          for await (const entry of list.entries()) if (entry.kind === 'recipient') expect(typeof entry.recipient.email).toBe('string');
        },
        random,
        Math.ceil(RUNS / 3),
      );
    }
  }, 120_000);
});

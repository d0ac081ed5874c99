/**
 * Issue 19 targets: hostile content is refused "in well under a second and a few MB". Each input
 * below is refused by the content loader (lib/, in this process) and timed; the heap it leaves
 * allocated (median, before any collection) and the process's peak memory are printed next to the
 * targets: under 100 ms (median) and under 8 MB allocated per refusal.
 *
 *  - the YAML alias bomb of the attack run (30 keys of aliases of aliases: 2^30 values expanded)
 *  - JSON and TOML front matter nested 5,000 deep
 *  - Markdown lists nested 1,000 deep, `>` 2,000 deep, `<div>` 5,000 deep
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument, isMain, median, ms } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const aliasBomb = `---\ntitle: Bomb\nk0: &a0 [x]\n${Array.from({ length: 29 }, (_, i) => `k${i + 1}: &a${i + 1} [*a${i}, *a${i}]`).join('\n')}\n---\nBody.\n`;
const INPUTS = {
  'YAML alias bomb': aliasBomb,
  'JSON nested 5,000 deep': `{"title": "x", "extra": ${'['.repeat(5000)}${']'.repeat(5000)}}\nBody\n`,
  'TOML nested 5,000 deep': `+++\ntitle = "x"\nextra = ${'['.repeat(5000)}${']'.repeat(5000)}\n+++\nBody\n`,
  'list nested 1,000 deep': `---\ntitle: x\n---\n${Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i)}- x`).join('\n')}\n`,
  '> nested 2,000 deep': `---\ntitle: x\n---\n${'>'.repeat(2000)} x\n`,
  '<div> nested 5,000 deep': `---\ntitle: x\n---\n${'<div>'.repeat(5000)}x${'</div>'.repeat(5000)}\n`,
};

export async function run({ rounds = 20 } = {}) {
  const { parseMarkdownArticle } = await import(path.join(ROOT, 'lib/content/load-article.js'));
  const results = [];
  for (const [name, source] of Object.entries(INPUTS)) {
    const times = [];
    const growth = [];
    let code = null;
    for (let i = 0; i < rounds; i++) {
      globalThis.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const t = performance.now();
      try {
        parseMarkdownArticle(source, 'bench', 'bench.md');
      } catch (error) {
        code = error.code ?? error.name;
      }
      times.push(performance.now() - t);
      // Garbage included: what one refusal allocates before any collection.
      growth.push(process.memoryUsage().heapUsed - heapBefore);
    }
    results.push({ name, code, inputKB: Buffer.byteLength(source) / 1024, medianMs: median(times), maxMs: Math.max(...times), heapGrowthMB: median(growth) / 2 ** 20 });
  }
  return { rounds, results, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

if (isMain(import.meta.url)) {
  const r = await run({ rounds: argument('rounds', 20) });
  console.log(`each input refused ${r.rounds} times in one process (run with --expose-gc for the heap figures):`);
  for (const x of r.results) {
    console.log(`  ${x.name.padEnd(26)} ${`${x.inputKB.toFixed(0)} KB`.padStart(8)}  ${String(x.code).padEnd(16)} median ${ms(x.medianMs)}, max ${ms(x.maxMs)}, heap +${x.heapGrowthMB.toFixed(1)} MB`);
  }
  console.log(`peak memory of the process (Node and the loaders included): ${r.maxRssMB.toFixed(0)} MB`);
  const met = r.results.every((x) => x.code && x.code !== 'RangeError' && x.medianMs < 100 && x.heapGrowthMB < 8);
  console.log(`target: refused with a NewsletterError in under 100 ms and 8 MB each -> ${met ? 'met' : 'NOT met'}`);
}

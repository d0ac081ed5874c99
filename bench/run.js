/**
 * `npm run bench`: every benchmark under bench/, one after another in fresh processes (so one
 * benchmark's warm caches or heap do not flatter the next), then one summary.
 * Each bench/<name>.js can also be run alone: `node bench/render.js`.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(HERE)
  .filter((name) => name.endsWith('.js') && !['run.js', 'stats.js'].includes(name))
  .map((name) => name.slice(0, -3))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const m = await machine();
console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}`);
console.log(`benchmarks: ${benches.join(', ')}\n`);
let failed = false;
for (const name of benches) {
  console.log(`── ${name} ${'─'.repeat(Math.max(0, 60 - name.length))}`);
  try {
    execFileSync(process.execPath, ['--expose-gc', path.join(HERE, `${name}.js`)], { stdio: 'inherit' });
  } catch {
    failed = true;
    console.log(`(${name} failed)`);
  }
  console.log('');
}
process.exitCode = failed ? 1 : 0;

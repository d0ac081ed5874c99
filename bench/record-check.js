/**
 * The worker's per-message call to Redis (src/store/redis/redis-store.ts, recordAndCheck): an
 * acceptance recorded and the next address checked against the suppressions and the accepted set.
 * Measured both ways against a real redis-server, five calls in flight as a worker's five slots:
 * the one script call it makes now (RECORD_AND_CHECK) and the pipeline of the same three commands
 * it made before. Figures: client CPU and Redis CPU per call, medians of alternated rounds.
 *   node bench/record-check.js [--calls 30000] [--rounds 5]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, startRedis } from './queue.js';
import { argument, isMain, median } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function run({ calls = 30_000, rounds = 5 } = {}) {
  const { RECORD_AND_CHECK } = await import(path.join(ROOT, 'lib/store/redis/redis-store.js'));
  const redis = await startRedis();
  const client = redis.client;
  client.defineCommand('benchRecordAndCheck', { numberOfKeys: 3, lua: RECORD_AND_CHECK });
  const keys = ['bench:accepted', 'bench:suppressed', 'bench:accepted'];
  const ways = {
    script: (i) => client.benchRecordAndCheck(...keys, `r${i}@example.com`, `r${i + 1}@example.com`),
    pipeline: (i) => client.pipeline().sadd(keys[0], `r${i}@example.com`).sismember(keys[1], `r${i + 1}@example.com`).sismember(keys[2], `r${i + 1}@example.com`).exec(),
  };
  const result = { script: { client: [], redis: [] }, pipeline: { client: [], redis: [] } };
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const [name, call] of Object.entries(ways)) {
        await client.flushall();
        const cpu = process.cpuUsage();
        const redisBefore = cpuSeconds(redis.pid);
        let next = 0;
        await Promise.all(Array.from({ length: 5 }, async () => {
          while (next < calls) await call(next++);
        }));
        const used = process.cpuUsage(cpu);
        // Round 0 warms both (the JIT, the script cache).
        if (round === 0) continue;
        result[name].client.push((used.user + used.system) / calls);
        result[name].redis.push(((cpuSeconds(redis.pid) - redisBefore) * 1e6) / calls);
      }
    }
  } finally {
    await redis.stop();
  }
  return { calls, rounds, result };
}

if (isMain(import.meta.url)) {
  const { calls, rounds, result } = await run({ calls: argument('calls', 30_000), rounds: argument('rounds', 5) });
  console.log(`a worker's record-and-check, ${calls.toLocaleString('en-GB')} calls, 5 in flight, median of ${rounds} alternated rounds:`);
  for (const name of ['script', 'pipeline']) {
    console.log(`  ${name.padEnd(9)} client ${median(result[name].client).toFixed(1)} µs/call, Redis ${median(result[name].redis).toFixed(1)} µs/call`);
  }
  const saved = median(result.pipeline.client) - median(result.script.client);
  console.log(`  the script saves the worker ${saved.toFixed(1)} µs of CPU a message (${(median(result.pipeline.client) / median(result.script.client)).toFixed(2)}× less client CPU)`);
}

/** Small statistics shared by the benchmarks: medians and spreads over repeated runs. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function ms(value) {
  return `${value.toFixed(2)} ms`;
}

export function machine() {
  return import('node:os').then((os) => ({
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  }));
}

/** True when the file is run directly (`node bench/x.js`) rather than imported by bench/run.js. */
export function isMain(importMetaUrl) {
  return process.argv[1] && new URL(importMetaUrl).pathname === (process.argv[1].startsWith('/') ? process.argv[1] : `${process.cwd()}/${process.argv[1]}`);
}

/** `--name N` on the command line as a number, else `fallback`. */
export function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

/** A TCP port on 127.0.0.1 free a moment ago, for a peer a benchmark starts. */
export function freePort() {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address();
          server.close(() => resolve(port));
        });
      }),
  );
}

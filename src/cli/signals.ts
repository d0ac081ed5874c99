/** Resolves on Ctrl-C or SIGTERM; a second signal falls through to Node's default and kills. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: string) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

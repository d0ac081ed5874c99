/**
 * Runs a task per key once the key has been quiet for `delayMs`, one task at a time. Used for the
 * checks: a burst of saves to one issue is checked once, after the last of them.
 */
export class DebouncedQueue {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly delayMs: number,
    private readonly task: (key: string) => Promise<void>,
  ) {}

  schedule(keys: Iterable<string>): void {
    if (this.closed) return;
    for (const key of keys) {
      clearTimeout(this.timers.get(key));
      const timer = setTimeout(() => {
        this.timers.delete(key);
        this.running = this.running.then(() => (this.closed ? undefined : this.task(key))).catch(() => undefined);
      }, this.delayMs);
      this.timers.set(key, timer);
    }
  }

  /** Drops what has not started and resolves when the running task is done. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.running;
  }
}

import type { RateLimiter } from './types.js';

/**
 * Fixed-window counters in this process's memory, bounded: past `maxKeys` the oldest windows are
 * dropped first (a Map keeps insertion order), so a flood of distinct keys costs at most
 * `maxKeys` entries. Used by the files store; the Redis store shares its counters instead.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(private readonly maxKeys: number) {}

  async take(key: string, max: number, windowMs: number): Promise<boolean> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      this.windows.delete(key);
      window = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
      this.trim(now);
    }
    if (window.count >= max) return false;
    window.count++;
    return true;
  }

  async give(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (!window || window.endsAt <= Date.now() || window.count <= 0) return;
    // The last one back removes the window: the next take opens a new one (as in Redis).
    if (--window.count === 0) this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }

  private trim(now: number): void {
    if (this.windows.size <= this.maxKeys) return;
    for (const [key, window] of this.windows) {
      if (this.windows.size <= this.maxKeys && window.endsAt > now) break;
      this.windows.delete(key);
    }
  }
}

/**
 * A value read when first needed and again once older than `maxAgeMs`. A read that fails is not
 * kept: the next caller reads again instead of failing for the rest of the run.
 */
export function readAgainAfter<T>(load: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let held: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (!held || performance.now() - held.at > maxAgeMs) {
      const value = load();
      const entry = { at: performance.now(), value };
      held = entry;
      value.catch(() => {
        if (held === entry) held = null;
      });
    }
    return held.value;
  };
}

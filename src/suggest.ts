/**
 * "Did you mean …?" for every place that rejects a name the user typed: config keys, front-matter
 * keys, rule ids, layouts. One distance and one threshold, so every command suggests alike.
 */

/** Levenshtein distance, where a swap of two neighbours (`artciles`) counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** Typos farther than this from every candidate get no suggestion: a wrong guess misleads. */
export const SUGGEST_MAX_DISTANCE = 2;

/**
 * The candidate closest to `value` (case-insensitively) within `maxDistance` edits, or undefined.
 * Ties go to the candidate listed first, so callers order candidates by how common they are.
 */
export function closestMatch(value: string, candidates: Iterable<string>, maxDistance = SUGGEST_MAX_DISTANCE): string | undefined {
  const needle = value.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === value) continue;
    const d = editDistance(needle, candidate.toLowerCase());
    if (d <= maxDistance && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean \`articles\`?)`, or an empty string when nothing is close enough. */
export function didYouMean(value: string, candidates: Iterable<string>, maxDistance = SUGGEST_MAX_DISTANCE): string {
  const match = closestMatch(value, candidates, maxDistance);
  return match === undefined ? '' : ` (did you mean \`${match}\`?)`;
}

/**
 * "Did you mean …?" suggestions for misspelled keys, keywords and column names.
 */

/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts as one edit). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows suffice for the optimal-string-alignment variant (adjacent transpositions).
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2] + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length];
}

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a plausible typo:
 * at most 1 edit for words up to 3 characters, else at most max(2, a third of the length), or the
 * word is a prefix of the candidate (`contr` → `contract`). Case differences are free. Ties go to
 * the earlier candidate, so the order of `candidates` decides deterministically.
 */
export function suggestClosest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const other = candidate.toLowerCase();
    let score = levenshtein(lower, other);
    // A truncated word is a typo too, however many characters are missing.
    if (word.length >= 3 && other.startsWith(lower)) score = Math.min(score, 1);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return bestScore <= limit ? best : undefined;
}

/**
 * ` Did you mean "x"?` when a close candidate exists, else an empty string: ready to append to a
 * sentence that ends with a period.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const suggestion = suggestClosest(word, candidates);
  return suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`;
}

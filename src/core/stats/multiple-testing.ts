/**
 * Adjusted p-values for a family of tests, as `statsmodels.stats.multitest.multipletests`:
 * testing 30 columns at 0.05 each flags at least one in 1 − 0.95³⁰ ≈ 78 % of comparisons of two
 * samples from one distribution; the adjusted p-values keep that rate (or the share of false
 * discoveries) at the chosen level.
 */

/** The corrections, by the names configs and reports use (statsmodels' names in comments). */
export const P_VALUE_CORRECTIONS = {
  /** Holm's step-down method (`holm`): controls the family-wise error rate, never less powerful than Bonferroni. */
  holm: 'holm',
  /** Benjamini–Hochberg (`fdr_bh`): controls the false discovery rate (independent or positively dependent tests). */
  benjaminiHochberg: 'benjamini-hochberg',
  /** Bonferroni (`bonferroni`): p × m, the simplest family-wise control. */
  bonferroni: 'bonferroni',
  /** No correction: each test at the level on its own. */
  none: 'none',
} as const;
export type PValueCorrection = (typeof P_VALUE_CORRECTIONS)[keyof typeof P_VALUE_CORRECTIONS];
export const P_VALUE_CORRECTION_NAMES = Object.values(P_VALUE_CORRECTIONS) as readonly PValueCorrection[];

/**
 * The adjusted p-values of `pValues` (same order), each in [0, 1]:
 * - `holm`: sort ascending; the i-th smallest (1-based) becomes max over j ≤ i of (m − j + 1)·p₍ⱼ₎;
 * - `benjamini-hochberg`: the i-th smallest becomes min over j ≥ i of (m / j)·p₍ⱼ₎;
 * - `bonferroni`: m·p; `none`: p unchanged;
 * each capped at 1 (statsmodels `multipletests(p, method=…)[1]` for holm, fdr_bh, bonferroni).
 * A test is rejected at level α when its adjusted p-value is below α. NaN entries stay NaN and do
 * not count in m. Ties keep their input order (the result does not depend on it).
 */
export function adjustPValues(pValues: readonly number[], correction: PValueCorrection): number[] {
  const indices: number[] = [];
  for (let i = 0; i < pValues.length; i++) {
    const p = pValues[i];
    if (Number.isNaN(p)) continue;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`adjustPValues: p-value ${p} at ${i} is not in [0, 1]`);
    indices.push(i);
  }
  const adjusted = pValues.map(() => Number.NaN);
  const m = indices.length;
  // Stryker disable next-line ConditionalExpression: an optimization; with no p-value every branch below loops over nothing and returns the same all-NaN array.
  if (m === 0) return adjusted;
  if (correction === 'none' || correction === 'bonferroni') {
    const factor = correction === 'none' ? 1 : m;
    for (const i of indices) adjusted[i] = Math.min(1, factor * pValues[i]);
    return adjusted;
  }
  // Stable sort by p-value. The tie-break only orders equal p-values, which get equal adjusted
  // values whatever their order (Holm's running max, Benjamini–Hochberg's running min).
  // Stryker disable next-line ArithmeticOperator: a + b reorders only ties, which end up equal (see above).
  const order = [...indices].sort((a, b) => pValues[a] - pValues[b] || a - b);
  if (correction === 'holm') {
    let running = 0;
    for (let rank = 0; rank < m; rank++) {
      const i = order[rank];
      running = Math.max(running, Math.min(1, (m - rank) * pValues[i]));
      adjusted[i] = running;
    }
    return adjusted;
  }
  // Benjamini–Hochberg: from the largest down, the running minimum of m/rank · p.
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const i = order[rank - 1];
    running = Math.min(running, (m / rank) * pValues[i]);
    adjusted[i] = Math.min(1, running);
  }
  return adjusted;
}

/**
 * The two-sided two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp` (scipy 1.10):
 * the same statistic, the same choice between the exact and the asymptotic p-value, and the same
 * lattice-path algorithms for the exact one, so the p-values agree with scipy to rounding.
 */
import { kolmogorovSurvival } from './kolmogorov-distribution.ts';
import { greatestCommonDivisor, roundHalfEven } from './special-functions.ts';

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** sup_x |F_a(x) − F_b(x)| (with method `exact`, snapped to the lattice h/lcm(n_a, n_b) as scipy does). */
  statistic: number;
  /** Two-sided p-value, in [0, 1]; NaN only where scipy's is (asymptotic with n_a = n_b = 1). */
  pValue: number;
  /** The method that produced the p-value (`auto` resolved; `exact` falls back to `asymp` when it fails). */
  method: 'exact' | 'asymp';
}

/** scipy's MAX_AUTO_N: `auto` tries the exact p-value when both samples are at most this large. */
export const KS_MAX_AUTO_N = 10_000;
/**
 * The largest lcm(n_a, n_b) for which `exact` counts paths. scipy leaves for `asymp` when
 * n_a/g ≥ INT32_MAX/(n_b/g), i.e. lcm ≥ 2³¹ − 1; that is a prime, so no lcm of two sample sizes
 * equals it and the bound is lcm ≤ 2³¹ − 2 = 42966 × 49981 (coprime): a value a test reaches.
 */
const MAX_EXACT_LCM = 2_147_483_646;

/**
 * Proportion of lattice paths from (0,0) to (n,n) that leave the band |x − y| < h, i.e.
 * P(D_{n,n} ≥ h/n), by the alternating reflection sum evaluated Horner-style
 * (scipy `_compute_prob_outside_square`; Hodges 1958).
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let P = 0;
  // Stryker disable next-line MethodExpression: Math.ceil starts at most one term higher, and the k = ⌊n/h⌋ term is 0 (its factor n − kh − j reaches 0 at j = n − kh < h), which resets P, so any higher start gives the same sum
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that do not stay strictly inside
 * |x/m − y/n| < h/lcm(m,n), by Hodges' inside method with Viehmann's recursion for 1 − p
 * (scipy `_compute_outer_prob_inside_method`, arXiv:2102.08037), keeping one sliding column.
 */
function probabilityOutsideBand(n1: number, n2: number, g: number, h: number): number {
  // The count is symmetric in the two sizes; the recursion runs over the larger one.
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj;
  // One column of n + 1 entries: no window is longer (scipy allocates min(2·maxj + 2, n + 1), which
  // holds every window it uses; entries past that are never read, so the results are the same).
  const A = new Float64Array(n + 1).fill(1);
  A.fill(0, 0, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    // No special case for an empty window (maxj ≤ minj, where scipy returns 1: no path stays
    // inside): A refills with 1 below, and a column computed from 1s is all 1s, so the result is 1
    // all the same, after at most m steps of an empty or short window.
    // The entry below the window is 1 (those paths have left the band); at minj = 0 it is
    // multiplied by j = 0, so it is never used there.
    let val = 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    // Entries the last window held past the new one go back to 1 (nothing when it did not shrink).
    A.fill(1, curlen, lastlen);
  }
  return A[maxj - minj - 1];
}

/**
 * scipy `_attempt_exact_2kssamp` (two-sided): the lattice statistic and its exact p-value, or failure.
 * scipy fails when p is outside [0, 1]; both counts are ≥ 0 by construction (products of ratios in
 * [0, 1], averages of non-negative entries), so what fails is p > 1 by rounding (n1 = n2 = 23 with
 * h = 1 gives 1.0000000000000002) or NaN.
 */
function attemptExact(
  n1: number,
  n2: number,
  g: number,
  lcm: number,
  d: number,
): { ok: boolean; d: number; p: number } {
  const h = roundHalfEven(d * lcm);
  d = h / lcm;
  if (h === 0) return { ok: true, d, p: 1 };
  const p = n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideBand(n1, n2, g, h);
  if (!(p <= 1)) return { ok: false, d, p };
  return { ok: true, d, p };
}

/**
 * The largest |ECDF_a − ECDF_b| over the pooled values, computed exactly as scipy does
 * (`searchsorted(side='right')/n` on each side, then the difference), so ties are handled and the
 * floating-point value is identical. Both arrays must be non-empty and sorted ascending.
 */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  // Once a sample is used up, the gap only moves back toward 0 (1 − j/n2 ≥ 0 falling, or
  // i/n1 − 1 ≤ 0 rising), so the walk stops there: the rest cannot change the largest |gap|.
  while (i < n1 && j < n2) {
    const value = Math.min(a[i], b[j]);
    // Past every copy of the value; past the end a[i] is undefined, and undefined <= value is false.
    while (a[i] <= value) i++;
    while (b[j] <= value) j++;
    const diff = i / n1 - j / n2;
    maxDiff = Math.max(maxDiff, diff);
    minDiff = Math.min(minDiff, diff);
  }
  // scipy's max(clip(−min, 0, 1), max): one of the two is ≥ 0 and neither exceeds 1, so no clip.
  return Math.max(maxDiff, -minDiff);
}

function sortedCopy(x: Float64Array, name: string): Float64Array {
  if (x.length === 0) throw new RangeError(`ksTwoSample: sample ${name} is empty`);
  const copy = Float64Array.from(x).sort();
  if (Number.isNaN(copy[copy.length - 1])) throw new RangeError(`ksTwoSample: sample ${name} contains NaN`);
  return copy;
}

/**
 * Two-sided two-sample Kolmogorov–Smirnov test, as
 * `scipy.stats.ks_2samp(a, b, alternative='two-sided', method=method)` in scipy 1.10.
 *
 * - statistic: D = sup_x |F_a(x) − F_b(x)| of the empirical CDFs (ties allowed);
 * - `exact`: P(D ≥ d) under H0 by counting lattice paths (Hodges 1958; Viehmann 2021), with the
 *   statistic snapped to h/lcm(n_a, n_b); falls back to `asymp` if the count fails numerically or,
 *   when asked for explicitly, if lcm(n_a, n_b) ≥ 2³¹ − 1 (as scipy, which also warns);
 * - `asymp`: `kstwo.sf(D, round(n_a·n_b/(n_a+n_b)))`, the finite-n two-sided Kolmogorov distribution
 *   (Simard & L'Ecuyer 2011), with numpy's round-half-to-even;
 * - `auto` (default): `exact` when max(n_a, n_b) ≤ 10000, else `asymp`.
 *
 * Throws RangeError on an empty sample or NaN values.
 */
export function ksTwoSample(a: Float64Array, b: Float64Array, method: KsMethod = 'auto'): KsResult {
  const sa = sortedCopy(a, 'a');
  const sb = sortedCopy(b, 'b');
  return ksTwoSampleSorted(sa, sb, method);
}

/** {@link ksTwoSample} on samples already sorted ascending (no copy, no NaN check). */
export function ksTwoSampleSorted(a: Float64Array, b: Float64Array, method: KsMethod = 'auto'): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample: samples must not be empty');
  let d = ksStatisticSorted(a, b);
  const g = greatestCommonDivisor(n1, n2);
  const lcm = (n1 / g) * n2;
  let mode: 'exact' | 'asymp';
  if (method === 'auto') mode = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  else if (method === 'exact') mode = lcm <= MAX_EXACT_LCM ? 'exact' : 'asymp';
  else mode = 'asymp';
  let p = Number.NaN;
  if (mode === 'exact') {
    const exact = attemptExact(n1, n2, g, lcm, d);
    d = exact.d;
    if (exact.ok) p = exact.p;
    else mode = 'asymp';
  }
  if (mode === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    p = kolmogorovSurvival(roundHalfEven(en), d);
  }
  // scipy clips p to [0, 1] here; both p-values already are (the exact one is checked, kstwo.sf
  // is clipped), or NaN, so there is nothing to clip.
  return { statistic: d, pValue: p, method: mode };
}

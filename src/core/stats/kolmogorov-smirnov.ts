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
const INT32_MAX = 2147483647;

/**
 * Proportion of lattice paths from (0,0) to (n,n) that leave the band |x − y| < h, i.e.
 * P(D_{n,n} ≥ h/n), by the alternating reflection sum evaluated Horner-style
 * (scipy `_compute_prob_outside_square`; Hodges 1958).
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let P = 0;
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
function probabilityOutsideBand(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, Math.min(maxj - minj + (lastlen - curlen), lenA));
  }
  return A[maxj - minj - 1];
}

/** scipy `_attempt_exact_2kssamp` (two-sided): the lattice statistic and its exact p-value, or failure. */
function attemptExact(n1: number, n2: number, g: number, d: number): { ok: boolean; d: number; p: number } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  d = h / lcm;
  if (h === 0) return { ok: true, d, p: 1 };
  const p = n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideBand(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return { ok: false, d, p };
  return { ok: true, d, p };
}

/**
 * The largest |ECDF_a − ECDF_b| over the pooled values, computed exactly as scipy does
 * (`searchsorted(side='right')/n` on each side, then the difference), so ties are handled and the
 * floating-point value is identical. Both arrays must be sorted ascending.
 */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= value) i++;
    while (j < n2 && b[j] <= value) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return Math.max(minS, maxDiff);
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
 *   when asked for explicitly, if lcm(n_a, n_b) would exceed 2³¹ (as scipy, which also warns);
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
  let mode: 'exact' | 'asymp';
  if (method === 'auto') mode = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  else if (method === 'exact') mode = n1 / g >= INT32_MAX / (n2 / g) ? 'asymp' : 'exact';
  else mode = 'asymp';
  let p = Number.NaN;
  if (mode === 'exact') {
    const exact = attemptExact(n1, n2, g, d);
    d = exact.d;
    if (exact.ok) p = exact.p;
    else mode = 'asymp';
  }
  if (mode === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    p = kolmogorovSurvival(roundHalfEven(en), d);
  }
  if (!Number.isNaN(p)) p = Math.min(Math.max(p, 0), 1);
  return { statistic: d, pValue: p, method: mode };
}

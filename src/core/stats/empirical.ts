/**
 * Empirical distribution helpers on kept samples: sorting, the ECDF, numpy's default quantile and
 * the sample standard deviation, defined exactly as the Python tools they are checked against.
 */

/** A sorted copy of the values (ascending). Throws RangeError on NaN, which has no place in an ECDF. */
export function sortSample(values: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length > 0 && Number.isNaN(sorted[sorted.length - 1])) {
    throw new RangeError('sortSample: the sample contains NaN');
  }
  return sorted;
}

/** Number of values ≤ x in an ascending array (numpy `searchsorted(sorted, x, side='right')`). */
export function countAtOrBelow(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The empirical CDF F(x) = #{values ≤ x}/n of an ascending, non-empty array. */
export function empiricalCdf(sorted: Float64Array): (x: number) => number {
  const n = sorted.length;
  return (x) => countAtOrBelow(sorted, x) / n;
}

/**
 * The q-quantile of an ascending, non-empty array as `numpy.quantile(values, q)` (method `linear`,
 * Hyndman & Fan type 7): linear interpolation at index q·(n − 1), with numpy's two-sided lerp so the
 * result is the same double.
 */
export function empiricalQuantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const index = (n - 1) * q;
  if (index >= n - 1) return sorted[n - 1];
  if (index <= 0) return sorted[0];
  const previous = Math.floor(index);
  const t = index - previous;
  const a = sorted[previous];
  const b = sorted[previous + 1];
  const diff = b - a;
  // numpy._lerp interpolates from the nearer end, which keeps the result monotone in t.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Sample standard deviation with n − 1 in the denominator (pandas `std`, numpy `std(ddof=1)`); 0 for n ≤ 1. */
export function sampleStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n <= 1) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

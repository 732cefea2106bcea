/**
 * Distances between two distributions, for drift on data too large for a test to be meaningful:
 * the population stability index, the Jensen–Shannon distance and the Wasserstein-1 distance.
 */
/** Shares are floored at this before PSI takes their log ratio (an empty bin would make it infinite). */
export const DEFAULT_PSI_EPSILON = 1e-4;
/** Bins of the PSI: the reference deciles. */
export const DEFAULT_PSI_BINS = 10;

/**
 * Population stability index, PSI = Σ_i (c_i − r_i)·ln(c_i / r_i), over bins with reference shares
 * r and current shares c (each summing to 1). Both shares are floored at `epsilon` first (without
 * renormalizing), so an empty bin contributes a large but finite term instead of infinity; the
 * usual reading is < 0.1 stable, 0.1–0.2 moderate shift, ≥ 0.2 significant shift.
 */
export function populationStabilityIndex(
  refShares: number[],
  curShares: number[],
  epsilon: number = DEFAULT_PSI_EPSILON,
): number {
  if (refShares.length !== curShares.length) {
    throw new RangeError(`populationStabilityIndex: ${refShares.length} vs ${curShares.length} bins`);
  }
  let psi = 0;
  for (let i = 0; i < refShares.length; i++) {
    const r = Math.max(refShares[i], epsilon);
    const c = Math.max(curShares[i], epsilon);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/**
 * Interior bin edges at the reference quantiles i/bins for i = 1 … bins − 1 (deciles by default),
 * with duplicates (from ties) and non-finite values removed, ascending. The outer bins extend to
 * −∞ and +∞, so `k` edges make `k + 1` bins.
 */
export function quantileBinEdges(quantile: (q: number) => number, bins: number = DEFAULT_PSI_BINS): number[] {
  const edges: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < bins; i++) {
    const edge = quantile(i / bins);
    // Finite, and above the edge before (ties give the same quantile twice).
    if (Number.isFinite(edge) && edge > last) {
      edges.push(edge);
      last = edge;
    }
  }
  return edges;
}

/**
 * Shares of the bins (−∞, e₁], (e₁, e₂], …, (e_k, +∞) from a CDF F(x) = P(X ≤ x):
 * F(e₁), F(e₂) − F(e₁), …, 1 − F(e_k).
 */
export function binSharesFromCdf(cdf: (x: number) => number, edges: number[]): number[] {
  const shares: number[] = [];
  let previous = 0;
  for (const edge of edges) {
    const value = cdf(edge);
    shares.push(Math.max(value - previous, 0));
    previous = value;
  }
  shares.push(Math.max(1 - previous, 0));
  return shares;
}

export interface PsiResult {
  statistic: number;
  edges: number[];
  referenceShares: number[];
  currentShares: number[];
}

/**
 * PSI of the current distribution against the reference on the bins cut at `edges` (usually
 * {@link quantileBinEdges} of the reference): shares from each side's CDF by
 * {@link binSharesFromCdf}, then {@link populationStabilityIndex}. Works the same on exact ECDFs
 * and on sketch CDFs, which is why it takes functions.
 */
export function psiOnQuantileBins(
  refCdf: (x: number) => number,
  curCdf: (x: number) => number,
  edges: number[],
  epsilon: number = DEFAULT_PSI_EPSILON,
): PsiResult {
  const referenceShares = binSharesFromCdf(refCdf, edges);
  const currentShares = binSharesFromCdf(curCdf, edges);
  return {
    statistic: populationStabilityIndex(referenceShares, currentShares, epsilon),
    edges,
    referenceShares,
    currentShares,
  };
}

/**
 * Jensen–Shannon distance in bits, as `scipy.spatial.distance.jensenshannon(p, q, base=2)`:
 * p and q are normalized to sum 1, m = (p + q)/2, and the result is
 * √((KL(p‖m) + KL(q‖m)) / 2) with log base 2, in [0, 1]. Terms with p_i = 0 contribute 0.
 * A rounding-level negative sum is clamped to 0 (scipy would return NaN there).
 * Throws RangeError on different lengths, negative entries or an all-zero vector.
 */
export function jensenShannonDistance(p: number[], q: number[]): number {
  if (p.length !== q.length)
    throw new RangeError(`jensenShannonDistance: ${p.length} vs ${q.length} entries`);
  let pSum = 0;
  let qSum = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0 && q[i] >= 0))
      throw new RangeError('jensenShannonDistance: entries must be non-negative');
    pSum += p[i];
    qSum += q[i];
  }
  if (!(pSum > 0 && qSum > 0)) throw new RangeError('jensenShannonDistance: a distribution sums to zero');
  let left = 0;
  let right = 0;
  // Stryker disable next-line EqualityOperator: one step past the end reads undefined, NaN after division, which adds nothing (NaN > 0 is false)
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / pSum;
    const qi = q[i] / qSum;
    const m = (pi + qi) / 2;
    if (pi > 0) left += pi * Math.log(pi / m);
    if (qi > 0) right += qi * Math.log(qi / m);
  }
  const js = (left + right) / Math.LN2;
  return Math.sqrt(Math.max(js, 0) / 2);
}

/**
 * Wasserstein-1 (earth mover's) distance between two samples, as
 * `scipy.stats.wasserstein_distance(u, v)`: ∫ |F_u(x) − F_v(x)| dx over the pooled sorted values.
 * Throws RangeError on an empty sample.
 */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  if (u.length === 0 || v.length === 0)
    throw new RangeError('wassersteinDistance: samples must not be empty');
  const su = Float64Array.from(u).sort();
  const sv = Float64Array.from(v).sort();
  return wassersteinDistanceSorted(su, sv);
}

/** {@link wassersteinDistance} on samples already sorted ascending. */
export function wassersteinDistanceSorted(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  // A typed array sorts NaN last: one there would stop the walk from ever reaching the end.
  if (Number.isNaN(u[nu - 1]) || Number.isNaN(v[nv - 1]))
    throw new RangeError('wassersteinDistance: samples must not hold NaN');
  let i = 0;
  let j = 0;
  let distance = 0;
  // Walk the pooled values; between consecutive ones both ECDFs are constant.
  let current = Math.min(u[0], v[0]);
  for (;;) {
    // Past every copy of the current value; past the end u[i] is undefined, and undefined <= x is false.
    while (u[i] <= current) i++;
    while (v[j] <= current) j++;
    if (i === nu && j === nv) return distance;
    // The next pooled value (a used-up sample has none: +∞).
    const next = Math.min(i < nu ? u[i] : Number.POSITIVE_INFINITY, j < nv ? v[j] : Number.POSITIVE_INFINITY);
    distance += Math.abs(i / nu - j / nv) * (next - current);
    current = next;
  }
}

/**
 * Wasserstein-1 distance from two quantile functions, ∫₀¹ |Q_u(q) − Q_v(q)| dq, by the midpoint rule
 * on `steps` points: the form that works on sketches, where only quantiles are known. On kept
 * samples prefer {@link wassersteinDistance}, which is exact; this converges to it as steps grow
 * (exactly equal when both quantile functions are constant on each step).
 */
export function wassersteinFromQuantiles(
  quantileU: (q: number) => number,
  quantileV: (q: number) => number,
  steps = 1000,
): number {
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const q = (k + 0.5) / steps;
    sum += Math.abs(quantileU(q) - quantileV(q));
  }
  return sum / steps;
}

/**
 * Wasserstein distance in units of the reference's spread: distance / std(reference), with the
 * sample standard deviation (ddof = 1). When that std is 0 or not finite (a constant reference),
 * the distance is divided by 1 instead, i.e. left in the column's units.
 */
export function normalizeWasserstein(distance: number, referenceStd: number): number {
  return distance / (Number.isFinite(referenceStd) && referenceStd > 0 ? referenceStd : 1);
}

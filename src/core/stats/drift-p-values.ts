/**
 * P-values for the drift measures that have no classical test of their own, so that every
 * column's comparison joins one family whose error rate the caller controls (see
 * multiple-testing.ts): the chi-square reading of the population stability index, and a
 * simulated null distribution of the Wasserstein distance. (The Jensen–Shannon distance goes
 * with the G-test, in chi-square.ts.)
 */
import { chiSquareSurvival } from './special-functions.ts';

export interface TestResult {
  statistic: number;
  pValue: number;
  dof: number;
}

/**
 * The p-value of a population stability index under "same distribution": for small differences
 * PSI = Σ (c − r)·ln(c / r) ≈ Σ (c − r)² / r, so PSI · n·m/(n + m) is approximately Pearson's
 * chi-square statistic of the 2 × bins table, with bins − 1 degrees of freedom (the reference's
 * quantile edges add the 1/n part of the variance). An approximation that is good when every
 * bin holds a few values on both sides, as on the deciles of samples of hundreds of values.
 */
export function psiPValue(
  psi: number,
  bins: number,
  referenceCount: number,
  currentCount: number,
): TestResult {
  const dof = bins - 1;
  if (dof <= 0 || !(referenceCount > 0 && currentCount > 0)) return { statistic: 0, pValue: 1, dof: 0 };
  const statistic = (psi * referenceCount * currentCount) / (referenceCount + currentCount);
  return { statistic, pValue: chiSquareSurvival(statistic, dof), dof };
}

/** Grid cells of the simulated Brownian bridge, and draws of the null distribution. */
export const WASSERSTEIN_NULL = { cells: 256, draws: 5000 } as const;

/**
 * The p-value of a Wasserstein-1 distance between samples of sizes n (reference) and m (current)
 * under "same distribution", from its large-sample null distribution: √(n·m/(n+m))·W₁ converges to
 * ∫ |B(F(x))| dx = ∫₀¹ |B(u)| dQ(u), a functional of a Brownian bridge B through the reference's
 * quantile function Q. It is simulated on `cells` steps of u (trapezoids of |B| against the
 * increments of Q), `draws` times, with a generator seeded by `seed`: deterministic for the same
 * inputs. The p-value is (1 + #draws ≥ observed) / (1 + draws), so it is never 0. Works the same
 * from kept values or a sketch, since it needs only quantiles; the distance must be in the
 * column's units (not normalized). A reference without spread gives p-value 1 when the distance
 * is 0, and the smallest p-value otherwise.
 */
export function wassersteinPValue(
  distance: number,
  quantile: (q: number) => number,
  referenceCount: number,
  currentCount: number,
  seed: number,
  options: { cells?: number; draws?: number } = {},
): TestResult {
  const cells = options.cells ?? WASSERSTEIN_NULL.cells;
  const draws = options.draws ?? WASSERSTEIN_NULL.draws;
  const statistic = Math.sqrt((referenceCount * currentCount) / (referenceCount + currentCount)) * distance;
  const steps = new Float64Array(cells);
  let spread = 0;
  let previous = quantile(0);
  for (let k = 0; k < cells; k++) {
    const next = quantile((k + 1) / cells);
    steps[k] = Number.isFinite(next - previous) ? Math.max(0, next - previous) : 0;
    spread += steps[k];
    previous = next;
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: without spread every simulated integral is 0, so simulating gives this same p-value; returning early only saves the work
  if (!(spread > 0)) {
    return { statistic, pValue: distance > 0 ? 1 / (draws + 1) : 1, dof: 0 };
  }
  const random = createGaussian(seed);
  const scale = Math.sqrt(1 / cells);
  const walk = new Float64Array(cells + 1);
  let atLeast = 0;
  for (let d = 0; d < draws; d++) {
    for (let k = 1; k <= cells; k++) {
      const before = walk[k - 1];
      const step = scale * random();
      // Stryker disable next-line ArithmeticOperator: subtracting the draws mirrors the bridge, and its absolute value is the same
      walk[k] = before + step;
    }
    const end = walk[cells];
    let integral = 0;
    let left = 0; // B(0) = 0
    for (let k = 1; k <= cells; k++) {
      const right = Math.abs(walk[k] - (k / cells) * end);
      integral += ((left + right) / 2) * steps[k - 1];
      left = right;
    }
    if (integral >= statistic) atLeast++;
  }
  return { statistic, pValue: (1 + atLeast) / (1 + draws), dof: 0 };
}

/** Standard normal draws (Box–Muller) from a mulberry32 generator: small, seeded, good enough for a null distribution. */
function createGaussian(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniform(); // (0, 1]: log is finite
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Special functions for the drift statistics: log-gamma, the regularized incomplete gamma
 * functions and the chi-square survival function, plus the rounding helpers that keep our
 * arithmetic aligned with numpy's.
 *
 * Accuracy target: about 1e-13 relative for the arguments the drift tests produce (shape up to a
 * few thousand), well inside the 1e-9 agreement with scipy the tests demand.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const DBL_EPSILON = 2 ** -52;
const MAX_ITERATIONS = 100_000;

/** Stirling series coefficients B_{2j}/(2j(2j-1)) for j = 1..8 (Bernoulli numbers). */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/**
 * The remainder of Stirling's series, `lgamma(x) - ((x - 0.5)·ln x - x + ln √(2π))`, for x ≥ 10,
 * where eight terms leave an error below 1e-19.
 */
function stirlingCorrection(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  let sum = 0;
  for (let j = STIRLING.length - 1; j >= 0; j--) sum = sum * r2 + STIRLING[j];
  return sum * r;
}

/**
 * Natural log of the gamma function for x > 0 (as `scipy.special.gammaln` on positive reals).
 * Stirling's series for x ≥ 10; below that, the recurrence Γ(x) = Γ(x + k) / (x(x+1)…(x+k−1)) lifts
 * the argument first. Absolute error about 1e-14.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x) || x <= 0) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  let shift = 1;
  while (x < 10) {
    shift *= x;
    x += 1;
  }
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + stirlingCorrection(x) - Math.log(shift);
}

/** ln(1 + t) − t, accurate also for small |t| (a series there, since the difference cancels). */
function log1pMinusX(t: number): number {
  if (Math.abs(t) > 0.25) return Math.log1p(t) - t;
  // −t²/2 + t³/3 − …: terms fall by at least 4× each, 60 terms are far more than enough.
  let term = t;
  let sum = 0;
  for (let k = 2; k < 200; k++) {
    term *= -t;
    const add = term / k;
    sum += add;
    if (Math.abs(add) <= Math.abs(sum) * DBL_EPSILON) break;
  }
  return sum;
}

/**
 * ln( x^a e^(−x) / Γ(a) ), the common factor of the incomplete gamma functions. For a ≥ 10 it is
 * rewritten as a·(ln(1+t) − t) + ½ln(a/2π) − stirlingCorrection(a) with t = (x − a)/a, which avoids
 * the cancellation between a·ln x and ln Γ(a) (both ~ a ln a) when a is large.
 */
function logGammaPrefactor(a: number, x: number): number {
  if (a < 10) return a * Math.log(x) - x - logGamma(a);
  const t = (x - a) / a;
  return a * log1pMinusX(t) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingCorrection(a);
}

/** Power series for P(a, x) (Cephes `igam`): converges fast for x < a + 1. */
function lowerGammaSeries(a: number, x: number): number {
  const logFactor = logGammaPrefactor(a, x);
  if (logFactor < -745) return 0;
  let r = a;
  let c = 1;
  let sum = 1;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    r += 1;
    c *= x / r;
    sum += c;
    if (c <= sum * DBL_EPSILON) break;
  }
  return (sum * Math.exp(logFactor)) / a;
}

/** Continued fraction for Q(a, x) (Cephes `igamc`): converges for x > a, keeps relative accuracy as Q → 0. */
function upperGammaContinuedFraction(a: number, x: number): number {
  const logFactor = logGammaPrefactor(a, x);
  if (logFactor < -745) return 0;
  const big = 2 ** 52;
  const bigInverse = 2 ** -52;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let t = 1;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > big) {
      pkm2 *= bigInverse;
      pkm1 *= bigInverse;
      qkm2 *= bigInverse;
      qkm1 *= bigInverse;
    }
    if (t <= DBL_EPSILON) break;
  }
  return ans * Math.exp(logFactor);
}

/**
 * Regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), as `scipy.special.gammainc`
 * (Cephes `igam`), for a > 0, x ≥ 0.
 */
export function regularizedGammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  if (x > 1 && x > a) return 1 - upperGammaContinuedFraction(a, x);
  return lowerGammaSeries(a, x);
}

/**
 * Regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x), as
 * `scipy.special.gammaincc` (Cephes `igamc`), for a > 0, x ≥ 0. The continued fraction is used where
 * Q is small (x > a), so tiny p-values keep their relative accuracy.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  if (x < 1 || x < a) return 1 - lowerGammaSeries(a, x);
  return upperGammaContinuedFraction(a, x);
}

/**
 * Survival function of the chi-square distribution, P(X > x) for X ~ χ²(dof), as
 * `scipy.stats.chi2.sf(x, dof)` (= Cephes `chdtrc(dof, x)` = Q(dof/2, x/2)).
 */
export function chiSquareSurvival(x: number, dof: number): number {
  if (Number.isNaN(x) || !(dof > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(dof / 2, x / 2);
}

/** Rounds half to even, as `numpy.round` / Python's `round` on floats (2.5 → 2, 3.5 → 4). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends halves up; pull odd results of an exact half back down to the even neighbour.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Greatest common divisor of two non-negative integers. */
export function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

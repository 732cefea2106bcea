/**
 * The finite-n Kolmogorov distributions the two-sample KS test needs for its asymptotic p-value:
 * the two-sided D_n (`scipy.stats.kstwo`) and the one-sided D_n⁺ (`scipy.special.smirnov`).
 *
 * Ported from scipy 1.10 (`scipy/stats/_ksstats.py`, `scipy/special/cephes/kolmogorov.c`), which
 * follow Simard & L'Ecuyer (2011), "Computing the Two-Sided Kolmogorov-Smirnov Distribution",
 * J. Stat. Softw. 39(11): the same method is chosen for the same (n, x), so results agree with
 * scipy to rounding. scipy evaluates the one-sided sum in double-double arithmetic; here each term
 * is formed in log space from exactly-split n·x, which keeps ~1e-12 relative accuracy for the n
 * a two-sample test produces (≤ 10⁶).
 */
const DBL_EPSILON = 2 ** -52;
/** Cephes MINLOG: log of the smallest normal double. */
const MIN_LOG = -708.3964185322641;
const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG_EXP = -708;
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
/** scipy's SMIRNOV_MAX_COMPUTE_N: beyond it the one-sided tail is approximated. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;

/** Stirling coefficients B_{2j}/(2j)/(2j−1) for j = 8…1 (highest power first, as numpy.polyval). */
const STIRLING_COEFFS = [
  -3617 / 122400,
  1 / 156,
  -691 / 360360,
  1 / 1188,
  -1 / 1680,
  1 / 1260,
  -1 / 360,
  1 / 12,
];

const clip01 = (p: number): number => Math.min(Math.max(p, 0), 1);

/** Dekker's split of a double into two 26-bit halves, for the exact product below. */
function split(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const hi = c - (c - a);
  return [hi, a - hi];
}

/** The exact product a·b as hi + lo (Dekker's two-product). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const e = ah * bh - p + ah * bl + al * bh + al * bl;
  return [p, e];
}

/** ln(n!/nⁿ) by Stirling's series with n·ln n removed up front (scipy `_log_nfactorial_div_n_pow_n`). */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/**
 * Survival function of the one-sided Kolmogorov–Smirnov statistic, P(D_n⁺ ≥ x), as
 * `scipy.special.smirnov(n, x)`: Birnbaum & Tingey's sum
 * x·Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v).
 * scipy switches to the alternating upper sum when x ≤ 0.5/√n and at most three terms remain; that
 * regime is never reached from {@link kolmogorovSurvival} (which calls this only for n·x² > 2.2 or
 * x ≥ 0.5), and the lower sum used here is exact there too, only slower.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1) || !Number.isInteger(n)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its fractional part, from the exact product.
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxFloor = Math.floor(nxHi);
  if (nxFloor === nxHi && nxLo < 0) nxFloor -= 1;
  let alpha = nxHi - nxFloor + nxLo;
  if (alpha >= 1) {
    nxFloor += 1;
    alpha = 0;
  }
  if (alpha < 0) alpha = 0;
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    return clip01(1 - x * Math.exp((n - 1) * Math.log1p(x)));
  }
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return clip01(Math.exp(n * Math.log1p(-x)));
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // Terms v = 0 … n − ⌊nx⌋ − 1 (the v with 1 − x − v/n = 0 contributes nothing).
  const nTerms = n - nxFloor;
  const vMid = Math.floor(n / 2);
  // The binomial coefficient as mantissa·2^exponent: it overflows doubles for n > 1020.
  let cMantissa = 1;
  let cExponent = 0;
  let sum = 0;
  for (let v = 0; v < nTerms; v++) {
    // ln(x + v/n) and ln(1 − x − v/n), from n·x split exactly so the small factor near the end keeps its digits.
    const upper = (v + nxHi + nxLo) / n;
    const lowerLog = upper < 0.5 ? Math.log1p(-upper) : Math.log((n - v - nxHi - nxLo) / n);
    const logTerm =
      Math.log(cMantissa) + cExponent * Math.LN2 + (v - 1) * Math.log(upper) + (n - v) * lowerLog;
    const term = Math.exp(logTerm);
    if (Number.isFinite(term) && term !== 0) sum += term;
    if (term !== 0) {
      // Safe to stop early: the remaining terms cannot move the sum (scipy's criterion).
      if (4 * (nTerms - v) * term < DBL_EPSILON * sum && v !== nTerms - 1) break;
    } else if (v > vMid) {
      break;
    }
    cMantissa *= (n - v) / (v + 1);
    if (cMantissa >= 2 ** 512 || cMantissa < 2 ** -512) {
      const e = Math.floor(Math.log2(cMantissa));
      cMantissa /= 2 ** e;
      cExponent += e;
    }
  }
  return clip01(x * sum);
}

/**
 * P(D_n ≤ d) by Marsaglia, Tsang & Wang's evaluation of Durbin's matrix (scipy `_kolmogn_DMTW`):
 * the k-th diagonal element of Hⁿ·n!/nⁿ, with H of size 2k−1, k = ⌈nd⌉, and scaling to avoid overflow.
 */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let nn = n;
  let exponent = 0;
  let hExponent = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = multiplyMatrices(power, H, m);
      exponent += hExponent;
    }
    H = multiplyMatrices(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] /= EP128;
      hExponent += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      exponent -= E128;
    }
  }
  if (exponent !== 0) p *= 2 ** exponent;
  return clip01(p);
}

function multiplyMatrices(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l];
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += ail * b[l * m + j];
    }
  }
  return out;
}

/** Endpoints of the non-zero interval of row i in Pomeranz's recursion (scipy `_pomeranz_compute_j1j2`). */
function pomeranzInterval(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(D_n ≤ x) by Pomeranz's recursion (1974), as scipy `_kolmogn_Pomeranz`. */
function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let exponent = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzInterval(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzInterval(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[k1−V0s : k1−V0s+ln2], pwrs[:ln2]), of which entries [j1−k1, j2−k1] are kept.
      const aStart = k1 - V0s;
      const aLen = Math.max(0, Math.min(ln2, npwrs - aStart));
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < convLen; c++) {
        const idx = convStart + c;
        let s = 0;
        const lo = Math.max(0, idx - bLen + 1);
        const hi = Math.min(idx, aLen - 1);
        for (let a = lo; a <= hi; a++) s += V0[aStart + a] * pwrs[idx - a];
        V1[c] = s;
        if (s > max) max = s;
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < V1.length; c++) V1[c] *= EP128;
        exponent -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      exponent += E128;
    }
    ans *= m;
  }
  if (exponent !== 0) ans *= 2 ** exponent;
  return clip01(ans);
}

/** Pelz & Good's (1976) approximation to P(D_n ≤ x), as scipy `_kolmogn_PelzGood`. */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z * z;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < MIN_LOG_EXP) return 0;
  let q = Math.exp(qlog);
  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m * m;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * msquared,
      k2a + k2b * msquared + k2c * mfour,
      k3a + k3b * msquared + k3c * mfour + k3d * msix,
    ];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qpower + coeffs[i];
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT_2PI) / divisors[i];
  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksquared = k * k;
    const qpwr = q ** ksquared;
    const kspi = Math.PI * k;
    k2extra += ksquared * qpwr;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwr;
  }
  K[2] += (k2extra * PI_SQUARED * SQRT_2PI) / (-36 * zthree);
  K[3] += (k3extra * PI_SQUARED * SQRT_2PI) / (216 * zsix);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / n ** (i / 2);
  return sum;
}

/**
 * Survival function of the two-sided Kolmogorov–Smirnov statistic for a sample of size n,
 * P(D_n > x), as `scipy.stats.kstwo.sf(x, n)` (scipy `_kolmogn(n, x, cdf=False)`), choosing the
 * method as Simard & L'Ecuyer (2011): Ruben–Gambino closed forms at the ends, 2·smirnov for x ≥ 0.5
 * or a large n·x², Durbin's matrix (MTW) or Pomeranz's recursion for small n, Pelz–Good otherwise.
 * Returns NaN unless n is a positive integer.
 */
export function kolmogorovSurvival(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSurvival(n, x));
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1 - kolmogorovCdfDurbin(n, x));
    if (nxsquared <= 4) return clip01(1 - kolmogorovCdfPomeranz(n, x));
    return clip01(2 * smirnovSurvival(n, x));
  }
  if (nxsquared >= 370) return 0;
  if (nxsquared >= 2.2) return clip01(2 * smirnovSurvival(n, x));
  let cdf: number;
  if (nxsquared >= 18) cdf = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdf = kolmogorovCdfDurbin(n, x);
  else cdf = kolmogorovCdfPelzGood(n, x);
  return clip01(1 - cdf);
}

/** Exposed for tests: the individual CDF methods, to compare with scipy's private functions. */
export const kolmogorovMethods = {
  durbin: kolmogorovCdfDurbin,
  pomeranz: kolmogorovCdfPomeranz,
  pelzGood: kolmogorovCdfPelzGood,
};

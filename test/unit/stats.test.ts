import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chiSquareHomogeneity, gTestHomogeneity } from '../../src/core/stats/chi-square.ts';
import {
  binSharesFromCdf,
  jensenShannonDistance,
  normalizeWasserstein,
  populationStabilityIndex,
  psiOnQuantileBins,
  quantileBinEdges,
  wassersteinDistance,
  wassersteinFromQuantiles,
} from '../../src/core/stats/distances.ts';
import { empiricalCdf, empiricalQuantile, sampleStd, sortSample } from '../../src/core/stats/empirical.ts';
import { kolmogorovSurvival, smirnovSurvival } from '../../src/core/stats/kolmogorov-distribution.ts';
import { type KsMethod, ksTwoSample } from '../../src/core/stats/kolmogorov-smirnov.ts';
import {
  chiSquareSurvival,
  logGamma,
  regularizedGammaP,
  regularizedGammaQ,
  roundHalfEven,
} from '../../src/core/stats/special-functions.ts';

interface KsExpected {
  statistic: number;
  pValue: number | null;
  method: 'exact' | 'asymp';
}
interface Fixture {
  versions: Record<string, string>;
  psi: { bins: number; epsilon: number };
  samples: Record<string, { source: string; values: number[] }>;
  ks: { case: string; a: string; b: string; results: Record<KsMethod, KsExpected> }[];
  wasserstein: {
    case: string;
    a: string;
    b: string;
    distance: number;
    referenceStd: number;
    normalized: number;
  }[];
  psiCases: {
    case: string;
    a: string;
    b: string;
    edges: number[];
    referenceShares: number[];
    currentShares: number[];
    psi: number;
  }[];
  chiSquare: {
    case: string;
    reference: number[];
    current: number[];
    statistic: number;
    pValue: number;
    dof: number;
  }[];
  jensenShannon: { case: string; reference: number[]; current: number[]; distance: number }[];
  distributions: { kstwoSf: number[][]; smirnov: number[][]; chi2Sf: number[][] };
}

const fixture: Fixture = JSON.parse(
  readFileSync(new URL('../fixtures/drift/reference-values.json', import.meta.url), 'utf8'),
);
const sample = (name: string) => Float64Array.from(fixture.samples[name].values);

/**
 * Agreement with scipy to 1e-9: relative for ordinary values, absolute (1e-15 floor) near 0, where
 * a relative bound on values like 1e-300 would test rounding noise rather than the algorithm.
 */
const TOLERANCE = 1e-9;
const worst = { absolute: 0, relative: 0 };
function expectClose(actual: number, expected: number | null, label: string): void {
  if (expected === null || Number.isNaN(expected)) {
    expect(actual, label).toBeNaN();
    return;
  }
  const diff = Math.abs(actual - expected);
  worst.absolute = Math.max(worst.absolute, diff);
  if (Math.abs(expected) > 1e-300) worst.relative = Math.max(worst.relative, diff / Math.abs(expected));
  expect(diff, `${label}: got ${actual}, scipy ${expected}`).toBeLessThanOrEqual(
    TOLERANCE * Math.abs(expected) + 1e-15,
  );
}

describe('ksTwoSample against scipy.stats.ks_2samp', () => {
  for (const c of fixture.ks) {
    for (const method of ['auto', 'exact', 'asymp'] as const) {
      it(`${c.case} (${c.a} vs ${c.b}, ${method})`, () => {
        const want = c.results[method];
        const got = ksTwoSample(sample(c.a), sample(c.b), method);
        expect(got.method).toBe(want.method);
        expectClose(got.statistic, want.statistic, 'statistic');
        expectClose(got.pValue, want.pValue, 'p-value');
      });
    }
  }

  it('uses the asymptotic p-value in auto mode above 10000 values', () => {
    const big = sample('cancer-radius-resample-12000');
    expect(ksTwoSample(big, sample('cancer-radius-half-1')).method).toBe('asymp');
    expect(ksTwoSample(big.subarray(0, 10000), sample('cancer-radius-half-1')).method).toBe('exact');
  });

  it('gives statistic 0 and p-value 1 for identical samples, with ties', () => {
    const a = Float64Array.from([3, 1, 2, 2, 5, 5, 5]);
    for (const method of ['auto', 'exact', 'asymp'] as const) {
      expect(ksTwoSample(a, a.slice().reverse(), method)).toMatchObject({ statistic: 0, pValue: 1 });
    }
  });

  it('gives statistic 1 for disjoint samples, and the exact p-value 2/C(n1+n2, n1)', () => {
    const r = ksTwoSample(Float64Array.from([1, 2, 3]), Float64Array.from([10, 11, 12, 13]));
    expect(r.statistic).toBe(1);
    expect(r.pValue).toBeCloseTo(2 / 35, 15);
  });

  it('handles n = 1 on both sides (exact p 1; asymptotic NaN, as scipy)', () => {
    const r = ksTwoSample(Float64Array.of(1), Float64Array.of(2));
    expect(r).toEqual({ statistic: 1, pValue: 1, method: 'exact' });
    expect(ksTwoSample(Float64Array.of(1), Float64Array.of(2), 'asymp').pValue).toBeNaN();
  });

  it('measures the ECDF gap at tied values correctly', () => {
    // F_a jumps to 1 at 1; F_b is 1/2 there.
    expect(ksTwoSample(Float64Array.of(1, 1, 1, 1), Float64Array.of(1, 2)).statistic).toBe(0.5);
  });

  it('rejects empty samples and NaN', () => {
    expect(() => ksTwoSample(new Float64Array(0), Float64Array.of(1))).toThrow(RangeError);
    expect(() => ksTwoSample(Float64Array.of(Number.NaN), Float64Array.of(1))).toThrow(/NaN/);
  });

  it('does not modify its inputs', () => {
    const a = Float64Array.of(3, 1, 2);
    ksTwoSample(a, Float64Array.of(0, 5));
    expect([...a]).toEqual([3, 1, 2]);
  });
});

describe('Kolmogorov distributions against scipy', () => {
  it('kstwo.sf on every branch', () => {
    for (const [n, x, want] of fixture.distributions.kstwoSf) {
      expectClose(kolmogorovSurvival(n, x), want, `kstwo.sf(${x}, ${n})`);
    }
  });
  it('scipy.special.smirnov', () => {
    for (const [n, x, want] of fixture.distributions.smirnov) {
      expectClose(smirnovSurvival(n, x), want, `smirnov(${n}, ${x})`);
    }
  });
  it('edge values', () => {
    expect(kolmogorovSurvival(10, 0)).toBe(1);
    expect(kolmogorovSurvival(10, 1)).toBe(0);
    expect(kolmogorovSurvival(0, 0.5)).toBeNaN();
    expect(kolmogorovSurvival(2.5, 0.5)).toBeNaN();
    expect(smirnovSurvival(1, 0.25)).toBe(0.75);
  });
});

describe('chi-square', () => {
  it('chi2.sf against scipy', () => {
    for (const [x, dof, want] of fixture.distributions.chi2Sf) {
      expectClose(chiSquareSurvival(x, dof), want, `chi2.sf(${x}, ${dof})`);
    }
  });

  for (const c of fixture.chiSquare) {
    it(`chi2_contingency: ${c.case}`, () => {
      const got = chiSquareHomogeneity(c.reference, c.current);
      expect(got.dof).toBe(c.dof);
      expectClose(got.statistic, c.statistic, 'statistic');
      expectClose(got.pValue, c.pValue, 'p-value');
    });
  }

  it('drops categories empty in both rows', () => {
    const a = chiSquareHomogeneity([5, 0, 3, 0], [2, 0, 6, 0]);
    const b = chiSquareHomogeneity([5, 3], [2, 6]);
    expect(a).toEqual(b);
    expect(a.dof).toBe(1);
  });

  it('gives statistic 0, p 1 for proportional rows and for a single category', () => {
    const r = chiSquareHomogeneity([10, 20, 30], [1, 2, 3]);
    expect(r.statistic).toBeCloseTo(0, 12);
    expect(r.pValue).toBeCloseTo(1, 12);
    expect(chiSquareHomogeneity([4], [9])).toEqual({ statistic: 0, pValue: 1, dof: 0 });
  });

  it('rejects bad tables', () => {
    expect(() => chiSquareHomogeneity([1, 2], [1])).toThrow(RangeError);
    expect(() => chiSquareHomogeneity([1, -2], [1, 2])).toThrow(RangeError);
    expect(() => chiSquareHomogeneity([0, 0], [1, 2])).toThrow(/no counts/);
  });

  it('names the test and the category in its errors, for the G-test too', () => {
    const error = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        return (e as Error).message;
      }
      throw new Error('expected a RangeError');
    };
    expect(error(() => gTestHomogeneity([1, 2], [1]))).toBe(
      'gTestHomogeneity: rows differ in length (2 vs 1)',
    );
    expect(error(() => chiSquareHomogeneity([1, Number.NaN], [1, 2]))).toBe(
      'chiSquareHomogeneity: counts must be finite and non-negative (category 1)',
    );
    expect(error(() => gTestHomogeneity([Number.POSITIVE_INFINITY, 1], [1, 2]))).toBe(
      'gTestHomogeneity: counts must be finite and non-negative (category 0)',
    );
    expect(error(() => gTestHomogeneity([1, 1], [-0.5, 2]))).toBe(
      'gTestHomogeneity: counts must be finite and non-negative (category 0)',
    );
    expect(error(() => gTestHomogeneity([1, 2], [0, 0]))).toBe(
      'gTestHomogeneity: a row has no counts, so its expected frequencies are zero',
    );
    expect(error(() => chiSquareHomogeneity([0, 0], [0, 0]))).toBe(
      'chiSquareHomogeneity: a row has no counts, so its expected frequencies are zero',
    );
  });

  it('G-test: drops categories empty in both rows, 0 for proportional rows and one category (scipy lambda_="log-likelihood")', () => {
    // scipy.stats.chi2_contingency([[5, 3], [2, 6]], correction=False, lambda_="log-likelihood").
    const g = gTestHomogeneity([5, 0, 3, 0], [2, 0, 6, 0]);
    expect(g).toEqual(gTestHomogeneity([5, 3], [2, 6]));
    expect(g.dof).toBe(1);
    expect(g.statistic).toBeCloseTo(2.3476805084180166, 13);
    expect(g.pValue).toBeCloseTo(0.1254695731716617, 13);
    // Proportional rows: G = 0 exactly (never a negative rounding residue), p = 1.
    expect(gTestHomogeneity([10, 20, 30], [1, 2, 3])).toEqual({ statistic: 0, pValue: 1, dof: 2 });
    expect(gTestHomogeneity([7, 13], [14, 26])).toEqual({ statistic: 0, pValue: 1, dof: 1 });
    expect(gTestHomogeneity([4], [9])).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    // scipy.stats.chi2_contingency([[5, 3], [2, 6]], correction=False): 2.2857142857142856, p 0.13057001811573693.
    const chi = chiSquareHomogeneity([5, 3], [2, 6]);
    expect(chi.statistic).toBeCloseTo(2.2857142857142856, 13);
    expect(chi.pValue).toBeCloseTo(0.13057001811573693, 13);
  });
});

describe('special functions', () => {
  it('logGamma matches log((n−1)!) and Γ(1/2) = √π', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      expect(Math.abs(logGamma(n) - logFactorial)).toBeLessThan(1e-13 * Math.max(1, logFactorial));
      logFactorial += Math.log(n);
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(logGamma(0)).toBeNaN();
  });

  it('P + Q = 1 and the closed form for a = 1', () => {
    for (const a of [0.5, 1, 3.5, 30, 700]) {
      for (const x of [0.1, 1, a, 2 * a + 3]) {
        expect(regularizedGammaP(a, x) + regularizedGammaQ(a, x)).toBeCloseTo(1, 13);
      }
    }
    expect(regularizedGammaQ(1, 2.5)).toBeCloseTo(Math.exp(-2.5), 15);
  });

  it('chi-square critical values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 14);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, 2.4999, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, 2, 3]);
  });
});

describe('distances against scipy and numpy', () => {
  for (const c of fixture.jensenShannon) {
    it(`jensenshannon(base=2): ${c.case}`, () => {
      expectClose(jensenShannonDistance(c.reference, c.current), c.distance, 'distance');
    });
  }

  for (const c of fixture.wasserstein) {
    it(`wasserstein_distance: ${c.case}`, () => {
      const a = sample(c.a);
      const distance = wassersteinDistance(a, sample(c.b));
      expectClose(distance, c.distance, 'distance');
      expectClose(sampleStd(a), c.referenceStd, 'std');
      expectClose(normalizeWasserstein(distance, sampleStd(a)), c.normalized, 'normalized');
    });
  }

  for (const c of fixture.psiCases) {
    it(`PSI on reference deciles: ${c.case}`, () => {
      const a = sortSample(sample(c.a));
      const b = sortSample(sample(c.b));
      const edges = quantileBinEdges((q) => empiricalQuantile(a, q), fixture.psi.bins);
      expect(edges.length).toBe(c.edges.length);
      for (const [i, e] of edges.entries()) expectClose(e, c.edges[i], `edge ${i}`);
      const got = psiOnQuantileBins(empiricalCdf(a), empiricalCdf(b), edges, fixture.psi.epsilon);
      for (const [i, s] of got.referenceShares.entries())
        expectClose(s, c.referenceShares[i], `reference share ${i}`);
      for (const [i, s] of got.currentShares.entries())
        expectClose(s, c.currentShares[i], `current share ${i}`);
      expectClose(got.statistic, c.psi, 'psi');
    });
  }

  it('Jensen–Shannon: 0 for equal shares, 1 for disjoint support, scale-free', () => {
    expect(jensenShannonDistance([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 5])).toBeCloseTo(1, 15);
    expect(() => jensenShannonDistance([0, 0], [1, 1])).toThrow(RangeError);
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(RangeError);
  });

  it('PSI: 0 for equal shares, epsilon floor keeps empty bins finite', () => {
    expect(populationStabilityIndex([0.5, 0.5], [0.5, 0.5])).toBe(0);
    const psi = populationStabilityIndex([1, 0], [0, 1]);
    expect(psi).toBeCloseTo(2 * (1 - 1e-4) * Math.log(1 / 1e-4), 12);
    expect(binSharesFromCdf((x) => Math.min(Math.max(x, 0), 1), [0.25, 0.5])).toEqual([0.25, 0.25, 0.5]);
  });

  it('quantile edges drop duplicates from ties', () => {
    const a = sortSample([1, 1, 1, 1, 1, 1, 1, 2, 3, 4]);
    // numpy.unique(numpy.quantile(a, numpy.arange(1, 10) / 10))
    expect(quantileBinEdges((q) => empiricalQuantile(a, q))).toEqual([
      1, 1.2999999999999998, 2.2, 3.0999999999999996,
    ]);
  });

  it('numpy linear quantile', () => {
    const a = sortSample([4, 1, 3, 2]);
    expect([0, 0.25, 0.5, 1 / 3, 1].map((q) => empiricalQuantile(a, q))).toEqual([1, 1.75, 2.5, 2, 4]);
  });

  it('Wasserstein from quantile functions converges to the sample distance', () => {
    const u = sortSample(sample('cancer-radius-benign'));
    const v = sortSample(sample('cancer-radius-malignant'));
    const exact = wassersteinDistance(u, v);
    const approx = wassersteinFromQuantiles(
      (q) => u[Math.min(u.length - 1, Math.floor(q * u.length))],
      (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))],
      u.length * v.length,
    );
    expect(approx).toBeCloseTo(exact, 10);
    expect(wassersteinDistance(Float64Array.of(0), Float64Array.of(2.5))).toBe(2.5);
    expect(normalizeWasserstein(3, 0)).toBe(3);
  });
});

describe('summary', () => {
  it('reports the worst difference from scipy', () => {
    // Printed so the agreement can be quoted; the per-case checks above are the gate.
    console.log(`worst difference from scipy/numpy: absolute ${worst.absolute}, relative ${worst.relative}`);
    expect(worst.relative).toBeLessThan(TOLERANCE);
  });
});

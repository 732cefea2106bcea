import { describe, expect, it } from 'vitest';
import {
  binSharesFromCdf,
  DEFAULT_PSI_BINS,
  DEFAULT_PSI_EPSILON,
  jensenShannonDistance,
  normalizeWasserstein,
  populationStabilityIndex,
  psiOnQuantileBins,
  quantileBinEdges,
  wassersteinDistance,
  wassersteinDistanceSorted,
  wassersteinFromQuantiles,
} from '../../src/core/stats/distances.ts';

/** |actual − expected| within 1e-14 relative: the references below are the same sums in numpy. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `got ${actual}, want ${expected}`).toBeLessThanOrEqual(
    1e-14 * Math.abs(expected) + 1e-16,
  );
}

describe('populationStabilityIndex', () => {
  it('matches the formula computed in numpy', () => {
    // numpy: r, c = maximum(r, eps), maximum(c, eps); sum((c - r) * log(c / r)), eps = 1e-4.
    expectClose(populationStabilityIndex([0.2, 0.3, 0.5], [0.3, 0.3, 0.4]), 0.06286086594223739);
    expectClose(populationStabilityIndex([0.1, 0.9], [0.5, 0.5]), 0.8788898309344878);
    // An empty reference bin is floored at epsilon: finite.
    expectClose(populationStabilityIndex([0, 1], [0.5, 0.5]), 4.60431846666895);
    // A share below epsilon is floored too (5e-5 counts as 1e-4, so the same as 0 would).
    expectClose(populationStabilityIndex([0.00005, 0.99995], [0.5, 0.5]), 4.604258811184963);
    // Epsilon as given: 0.01 on an empty current bin.
    expectClose(populationStabilityIndex([0.5, 0.5], [0, 1], 0.01), 2.263464862939764);
    expect(DEFAULT_PSI_EPSILON).toBe(1e-4);
  });

  it('is 0 for equal shares and symmetric in its arguments', () => {
    expect(populationStabilityIndex([0.25, 0.75], [0.25, 0.75])).toBe(0);
    expect(populationStabilityIndex([0.5, 0.5], [0.1, 0.9])).toBe(
      populationStabilityIndex([0.1, 0.9], [0.5, 0.5]),
    );
    expect(populationStabilityIndex([], [])).toBe(0);
  });

  it('refuses shares over different bins, naming the counts', () => {
    expect(() => populationStabilityIndex([0.5, 0.5], [1])).toThrow(
      new RangeError('populationStabilityIndex: 2 vs 1 bins'),
    );
    expect(() => populationStabilityIndex([1], [0.5, 0.5])).toThrow(
      new RangeError('populationStabilityIndex: 1 vs 2 bins'),
    );
  });
});

describe('quantileBinEdges', () => {
  it('cuts at i/bins for i = 1 … bins − 1 (deciles by default)', () => {
    const asked: number[] = [];
    const edges = quantileBinEdges((q) => {
      asked.push(q);
      return 10 * q;
    });
    expect(DEFAULT_PSI_BINS).toBe(10);
    expect(asked).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(edges).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(quantileBinEdges((q) => q, 4)).toEqual([0.25, 0.5, 0.75]);
    expect(quantileBinEdges((q) => q, 1)).toEqual([]);
  });

  it('drops repeated edges (ties) and non-finite ones, keeping the rest ascending', () => {
    // Quartiles 1, 1, 3: the tie gives one edge.
    const values: Record<number, number> = { 0.25: 1, 0.5: 1, 0.75: 3 };
    expect(quantileBinEdges((q) => values[q], 4)).toEqual([1, 3]);
    // A heavy tail at ±∞ (a sample holding infinities): those quantiles are no edges.
    const tails: Record<number, number> = {
      0.25: Number.NEGATIVE_INFINITY,
      0.5: 2,
      0.75: Number.POSITIVE_INFINITY,
    };
    expect(quantileBinEdges((q) => tails[q], 4)).toEqual([2]);
    expect(quantileBinEdges(() => Number.NaN, 4)).toEqual([]);
    // A first edge at 0 or below is kept (the bound starts at −∞).
    expect(quantileBinEdges((q) => (q < 0.5 ? -5 : 0), 4)).toEqual([-5, 0]);
  });
});

describe('binSharesFromCdf and psiOnQuantileBins', () => {
  it('takes F(e₁), F(e₂) − F(e₁), …, 1 − F(e_k)', () => {
    const uniform = (x: number) => Math.min(Math.max(x, 0), 1);
    expect(binSharesFromCdf(uniform, [0.25, 0.5])).toEqual([0.25, 0.25, 0.5]);
    expect(binSharesFromCdf(uniform, [])).toEqual([1]);
    // A CDF that falls back (a sketch's rounding) gives an empty bin, not a negative share.
    const wobbly: Record<number, number> = { 1: 0.5, 2: 0.25, 3: 1.25 };
    expect(binSharesFromCdf((x) => wobbly[x], [1, 2, 3])).toEqual([0.5, 0, 1, 0]);
  });

  it('PSI of the two CDFs on the given edges, with the shares it used', () => {
    const ref = (x: number) => Math.min(Math.max(x / 10, 0), 1);
    const cur = (x: number) => Math.min(Math.max(x / 5, 0), 1);
    const got = psiOnQuantileBins(ref, cur, [2, 5]);
    expect(got.edges).toEqual([2, 5]);
    expect(got.referenceShares).toEqual([0.2, 0.3, 0.5]);
    expect(got.currentShares).toEqual([0.4, 0.6, 0]);
    // numpy, as above with eps = 1e-4: psi([0.2, 0.3, 0.5], [0.4, 0.6, 0]).
    expectClose(got.statistic, populationStabilityIndex([0.2, 0.3, 0.5], [0.4, 0.6, 0]));
    expectClose(got.statistic, 0.2 * Math.log(2) + 0.3 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5));
    // The epsilon is passed on.
    expectClose(
      psiOnQuantileBins(ref, cur, [2, 5], 0.01).statistic,
      0.2 * Math.log(2) + 0.3 * Math.log(2) + (0.01 - 0.5) * Math.log(0.01 / 0.5),
    );
  });
});

describe('jensenShannonDistance against scipy.spatial.distance.jensenshannon(p, q, base=2)', () => {
  // scipy 1.10.1 (Debian python3-scipy): jensenshannon(p, q, base=2) on these vectors.
  const cases: [number[], number[], number][] = [
    [[1, 2, 3], [3, 2, 1], 0.354703515198132],
    [[0, 1, 1], [1, 1, 0], Math.SQRT1_2], // = 0.7071067811865476
    [[0.5, 0.5, 0], [0.25, 0.25, 0.5], 0.5579230452841438],
    [[1, 0, 0, 3], [0, 2, 2, 0], 1.0],
    [[2, 0], [1, 1], 0.5579230452841438],
    [[0, 3], [1, 2], 0.43689186833942056],
  ];
  for (const [p, q, want] of cases) {
    it(`${JSON.stringify(p)} vs ${JSON.stringify(q)}`, () => {
      expectClose(jensenShannonDistance(p, q), want);
      // Symmetric.
      expectClose(jensenShannonDistance(q, p), want);
    });
  }

  it('is 0 for proportional vectors, zeros included', () => {
    expect(jensenShannonDistance([1, 0, 3], [2, 0, 6])).toBe(0);
  });

  it('refuses what is not a distribution, saying why', () => {
    expect(() => jensenShannonDistance([1, 2], [1])).toThrow(
      new RangeError('jensenShannonDistance: 2 vs 1 entries'),
    );
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(
      new RangeError('jensenShannonDistance: 1 vs 2 entries'),
    );
    const negative = new RangeError('jensenShannonDistance: entries must be non-negative');
    expect(() => jensenShannonDistance([1, -1, 2], [1, 1, 1])).toThrow(negative);
    expect(() => jensenShannonDistance([1, 1, 1], [1, -1, 2])).toThrow(negative);
    expect(() => jensenShannonDistance([1, Number.NaN], [1, 1])).toThrow(negative);
    expect(() => jensenShannonDistance([1, 1], [Number.NaN, 1])).toThrow(negative);
    const zero = new RangeError('jensenShannonDistance: a distribution sums to zero');
    expect(() => jensenShannonDistance([0, 0], [1, 1])).toThrow(zero);
    expect(() => jensenShannonDistance([1, 1], [0, 0])).toThrow(zero);
    expect(() => jensenShannonDistance([], [])).toThrow(zero);
  });
});

describe('wassersteinDistance against scipy.stats.wasserstein_distance', () => {
  // scipy 1.10.1: wasserstein_distance(u, v) on these samples (unsorted ones on purpose).
  const cases: [number[], number[], number][] = [
    [[0, 1, 3], [5, 6, 8], 5.0],
    [[3, 1, 0], [8, 5, 6], 5.0],
    [[1, 2, 3, 4], [2, 2], 1.0],
    [[0, 0, 10], [5], 5.0],
    [[1, 2], [1, 2, 3, 10], 2.5],
    [[5, 1, 2, 10], [1], 3.5],
    [[2, 2, 2], [2, 2], 0.0],
    [[1, 3, 3, 7], [2, 3, 3, 3, 9], 0.9000000000000001],
  ];
  for (const [u, v, want] of cases) {
    it(`${JSON.stringify(u)} vs ${JSON.stringify(v)}`, () => {
      expectClose(wassersteinDistance(Float64Array.from(u), Float64Array.from(v)), want);
      expectClose(wassersteinDistance(Float64Array.from(v), Float64Array.from(u)), want);
    });
  }

  it('on sorted input directly, and without touching the input', () => {
    const u = Float64Array.of(3, 1, 0);
    expect(wassersteinDistance(u, Float64Array.of(8, 5, 6))).toBe(5);
    expect([...u]).toEqual([3, 1, 0]);
    expect(wassersteinDistanceSorted(Float64Array.of(1, 2), Float64Array.of(1, 2, 3, 10))).toBe(2.5);
  });

  it('refuses an empty sample', () => {
    const empty = new RangeError('wassersteinDistance: samples must not be empty');
    expect(() => wassersteinDistance(new Float64Array(0), Float64Array.of(1))).toThrow(empty);
    expect(() => wassersteinDistance(Float64Array.of(1), new Float64Array(0))).toThrow(empty);
  });

  it('refuses NaN in either sample instead of walking forever', () => {
    const nan = new RangeError('wassersteinDistance: samples must not hold NaN');
    expect(() => wassersteinDistance(Float64Array.of(1, Number.NaN, 0), Float64Array.of(1))).toThrow(nan);
    expect(() => wassersteinDistance(Float64Array.of(1), Float64Array.of(Number.NaN))).toThrow(nan);
    expect(() => wassersteinDistanceSorted(Float64Array.of(0, 1), Float64Array.of(2, Number.NaN))).toThrow(
      nan,
    );
  });
});

describe('wassersteinFromQuantiles', () => {
  it('is the midpoint rule on `steps` points of |Q_u − Q_v|', () => {
    const asked: number[] = [];
    const got = wassersteinFromQuantiles(
      (q) => {
        asked.push(q);
        return q;
      },
      () => 0,
      4,
    );
    expect(asked).toEqual([0.125, 0.375, 0.625, 0.875]);
    // (0.125 + 0.375 + 0.625 + 0.875) / 4
    expect(got).toBe(0.5);
    // |Q_u − Q_v|, not Q_u − Q_v.
    expect(
      wassersteinFromQuantiles(
        (q) => (q < 0.5 ? 0 : 2),
        (q) => (q < 0.5 ? 2 : 0),
        2,
      ),
    ).toBe(2);
  });

  it('takes 1000 steps by default', () => {
    let calls = 0;
    wassersteinFromQuantiles(
      () => {
        calls++;
        return 0;
      },
      () => 1,
    );
    expect(calls).toBe(1000);
  });
});

describe('normalizeWasserstein', () => {
  it('divides by a positive, finite reference std; otherwise leaves the column units', () => {
    expect(normalizeWasserstein(3, 2)).toBe(1.5);
    expect(normalizeWasserstein(3, 0.5)).toBe(6);
    expect(normalizeWasserstein(3, 0)).toBe(3);
    expect(normalizeWasserstein(3, -2)).toBe(3);
    expect(normalizeWasserstein(3, Number.POSITIVE_INFINITY)).toBe(3);
    expect(normalizeWasserstein(3, Number.NaN)).toBe(3);
  });
});

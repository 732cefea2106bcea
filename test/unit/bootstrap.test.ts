import { describe, expect, it } from 'vitest';
import type { BootstrapOptions } from '../../src/core/model/bootstrap.ts';
import {
  bootstrapIntervals,
  drawBootstrapWeights,
  percentileInterval,
} from '../../src/core/model/bootstrap.ts';

const options = (overrides: Partial<BootstrapOptions> = {}): BootstrapOptions => ({
  resamples: 20,
  seed: 0,
  level: 0.95,
  ...overrides,
});

/** Every resample's weights, copied (the generator reuses one array). */
function collect(n: number, opts: BootstrapOptions): Uint32Array[] {
  const all: Uint32Array[] = [];
  drawBootstrapWeights(n, opts, (weights) => all.push(weights.slice()));
  return all;
}

const sum = (values: ArrayLike<number>) => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
};

/** A fixed, uniform-looking sample in [0, 1) (the classic sin hash), so no test depends on Math.random. */
const sample = (n: number, salt = 0) =>
  Float64Array.from({ length: n }, (_, i) => {
    const s = Math.sin((i + 1 + salt * 7919) * 12.9898) * 43758.5453;
    return s - Math.floor(s);
  });

const weightedMean = (weights: Uint32Array, x: Float64Array) => {
  let total = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    total += weights[i] * x[i];
    count += weights[i];
  }
  return total / count;
};

describe('drawBootstrapWeights', () => {
  it('draws the same weights for the same seed, and pins them across versions and platforms', () => {
    expect(collect(500, options({ seed: 42 }))).toEqual(collect(500, options({ seed: 42 })));
    // Pinned: a change here changes every published interval. xoshiro128** + Lemire, seed 0.
    expect(collect(10, options({ resamples: 3 })).map((weights) => [...weights])).toEqual([
      [0, 2, 1, 0, 1, 1, 2, 1, 1, 1],
      [1, 1, 1, 0, 1, 1, 1, 2, 1, 1],
      [2, 0, 1, 0, 3, 0, 1, 2, 1, 0],
    ]);
    const strata = Int32Array.of(0, 0, 0, 1, 1, 1, 1, 2, 2, 2);
    expect(collect(10, options({ resamples: 2, strata })).map((weights) => [...weights])).toEqual([
      [1, 2, 0, 1, 0, 2, 1, 1, 0, 2],
      [1, 1, 1, 0, 0, 1, 3, 2, 1, 0],
    ]);
  });

  it('draws different weights for different seeds, and different resamples within a run', () => {
    const a = collect(500, options({ seed: 1 }));
    const b = collect(500, options({ seed: 2 }));
    expect(a[0]).not.toEqual(b[0]);
    expect(a[0]).not.toEqual(a[1]);
    // Seeds beyond 32 bits count too.
    expect(collect(500, options({ seed: 2 ** 40 }))[0]).not.toEqual(collect(500, options({ seed: 0 }))[0]);
  });

  it('draws n rows per resample', () => {
    for (const n of [1, 2, 7, 1000]) {
      let calls = 0;
      drawBootstrapWeights(n, options({ resamples: 30 }), (weights, r) => {
        expect(r).toBe(calls++);
        expect(weights.length).toBe(n);
        expect(sum(weights)).toBe(n);
      });
      expect(calls).toBe(30);
    }
  });

  it('preserves the size of every stratum exactly', () => {
    const n = 1000;
    // Unbalanced classes, interleaved, with an unused class index (2).
    const strata = Int32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 3 : i % 3 === 0 ? 1 : 0));
    const sizes = [0, 0, 0, 0];
    for (const s of strata) sizes[s]++;
    drawBootstrapWeights(n, options({ resamples: 50, strata }), (weights) => {
      const drawn = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) drawn[strata[i]] += weights[i];
      expect(drawn).toEqual(sizes);
    });
  });

  it('keeps a stratum of one row at weight 1', () => {
    const strata = Int32Array.of(0, 0, 0, 1, 0);
    drawBootstrapWeights(5, options({ resamples: 10, strata }), (weights) => expect(weights[3]).toBe(1));
  });

  it('draws every row with probability 1/n (mean weight 1, variance 1 − 1/n)', () => {
    const n = 40;
    const resamples = 5000;
    const totals = new Float64Array(n);
    const squares = new Float64Array(n);
    drawBootstrapWeights(n, options({ resamples, seed: 3 }), (weights) => {
      for (let i = 0; i < n; i++) {
        totals[i] += weights[i];
        squares[i] += weights[i] ** 2;
      }
    });
    // Fixed seed: deterministic. Standard error of a mean weight is about 0.014.
    for (let i = 0; i < n; i++) {
      const mean = totals[i] / resamples;
      expect(Math.abs(mean - 1)).toBeLessThan(0.06);
      expect(Math.abs(squares[i] / resamples - mean ** 2 - (1 - 1 / n))).toBeLessThan(0.12);
    }
  });

  it('handles strata above 2^21 rows (the wide multiplication) reproducibly', () => {
    const n = 2 ** 21 + 5;
    const first: number[] = [];
    for (let round = 0; round < 2; round++) {
      drawBootstrapWeights(n, options({ resamples: 1, seed: 9 }), (weights) => {
        expect(sum(weights)).toBe(n);
        first.push(weights[0], weights[n - 1], weights[n >> 1]);
      });
    }
    expect(first.slice(0, 3)).toEqual(first.slice(3));
  });

  it('rejects invalid arguments', () => {
    const visit = () => {};
    expect(() => drawBootstrapWeights(3, options({ strata: Int32Array.of(0, 1) }), visit)).toThrow(
      /strata has 2/,
    );
    expect(() => drawBootstrapWeights(2, options({ strata: Int32Array.of(0, -1) }), visit)).toThrow(/≥ 0/);
    expect(() => drawBootstrapWeights(3, options({ resamples: 0 }), visit)).toThrow(/resamples/);
    expect(() => drawBootstrapWeights(3, options({ seed: 0.5 }), visit)).toThrow(/seed/);
    expect(() => drawBootstrapWeights(-1, options(), visit)).toThrow(/non-negative/);
  });
});

describe('percentileInterval', () => {
  // Expected values from numpy 1.24.2 (default "linear" method):
  //   /usr/bin/python3 -c 'import numpy as np; print(np.percentile(a, [2.5, 97.5]).tolist())'
  const a = Float64Array.of(3.5, 1.25, 9.0, -2.0, 4.75, 0.5, 7.25, 2.0, 5.5, 6.0);
  const close = (actual: [number, number] | null, expected: [number, number]) => {
    expect(actual).not.toBeNull();
    expect(actual![0]).toBeCloseTo(expected[0], 12);
    expect(actual![1]).toBeCloseTo(expected[1], 12);
  };

  it('matches numpy.percentile', () => {
    close(percentileInterval(a, 0.95), [-1.4375, 8.606250000000001]); // np.percentile(a, [2.5, 97.5])
    close(percentileInterval(a, 0.9), [-0.875, 8.212499999999999]); // [5, 95]
    close(percentileInterval(a, 0.5), [1.4375, 5.875]); // [25, 75]
    close(percentileInterval(a, 0.8), [0.25000000000000006, 7.424999999999999]); // [10, 90]
    const b = Float64Array.of(0.91, 0.93, 0.925, 0.94, 0.9, 0.935, 0.92);
    close(percentileInterval(b, 0.95), [0.9015000000000001, 0.9392499999999999]);
    close(percentileInterval(b, 0.9), [0.903, 0.9385]);
    // np.percentile(np.arange(1000) ** 1.5 / 1000, [2.5, 97.5])
    const c = Float64Array.from({ length: 1000 }, (_, i) => i ** 1.5 / 1000);
    close(percentileInterval(c, 0.95), [0.12481438769133982, 30.39871040570252]);
  });

  it('does not depend on the order of the samples, nor change them', () => {
    const copy = a.slice();
    close(percentileInterval(a.slice().reverse(), 0.95), [-1.4375, 8.606250000000001]);
    percentileInterval(a, 0.95);
    expect(a).toEqual(copy);
  });

  it('ignores NaNs, unless more than half are NaN', () => {
    const withNaN = Float64Array.from([...a, Number.NaN, Number.NaN]);
    close(percentileInterval(withNaN, 0.95), [-1.4375, 8.606250000000001]);
    const half = Float64Array.of(1, 2, Number.NaN, Number.NaN);
    expect(percentileInterval(half, 0.5)).not.toBeNull();
    expect(percentileInterval(Float64Array.of(1, Number.NaN, Number.NaN), 0.5)).toBeNull();
    expect(percentileInterval(new Float64Array(0), 0.95)).toBeNull();
    expect(percentileInterval(Float64Array.of(4), 0.95)).toEqual([4, 4]);
  });

  it('rejects a level outside (0, 1)', () => {
    expect(() => percentileInterval(a, 95)).toThrow(/level/);
    expect(() => percentileInterval(a, 0)).toThrow(/level/);
  });
});

describe('bootstrapIntervals', () => {
  const n = 400;
  const x = sample(n);
  const mean = sum(x) / n;
  let squares = 0;
  for (const value of x) squares += (value - mean) ** 2;
  const halfWidth = (1.96 * Math.sqrt(squares / (n - 1))) / Math.sqrt(n);

  it('covers about mean ± 1.96·sd/√n for the mean', () => {
    const [interval] = bootstrapIntervals(n, 1, options({ resamples: 2000, seed: 7 }), (weights) =>
      Float64Array.of(weightedMean(weights, x)),
    );
    expect(interval).not.toBeNull();
    // Fixed seed, so deterministic; over seeds 0–7 the ratio stays within 0.95–1.03.
    expect((mean - interval![0]) / halfWidth).toBeGreaterThan(0.9);
    expect((mean - interval![0]) / halfWidth).toBeLessThan(1.1);
    expect((interval![1] - mean) / halfWidth).toBeGreaterThan(0.9);
    expect((interval![1] - mean) / halfWidth).toBeLessThan(1.1);
  });

  it('is paired: the difference of two related statistics has a narrow interval', () => {
    // y = x + small noise: each alone varies with the resample, their difference hardly does.
    const noise = sample(n, 1);
    const y = Float64Array.from(x, (value, i) => value + 0.01 + 0.02 * (noise[i] - 0.5));
    const [candidate, baseline, difference] = bootstrapIntervals(
      n,
      3,
      options({ resamples: 1000 }),
      (weights) => {
        const a = weightedMean(weights, y);
        const b = weightedMean(weights, x);
        return Float64Array.of(a, b, a - b);
      },
    );
    const width = (interval: [number, number] | null) => interval![1] - interval![0];
    expect(width(difference)).toBeLessThan(width(candidate) / 20);
    expect(width(difference)).toBeLessThan(width(baseline) / 20);
    // The difference is 0.01 on average, and its interval says so.
    expect(difference![0]).toBeLessThan(0.01);
    expect(difference![1]).toBeGreaterThan(0.01);
    expect(difference![0]).toBeGreaterThan(0.008);
  });

  it('gives the same intervals for the same seed and null for a mostly undefined statistic', () => {
    const statistics = (weights: Uint32Array) =>
      Float64Array.of(weightedMean(weights, x), weights[0] > 0 ? Number.NaN : 1);
    const first = bootstrapIntervals(n, 2, options({ resamples: 200, seed: 5 }), statistics);
    expect(bootstrapIntervals(n, 2, options({ resamples: 200, seed: 5 }), statistics)).toEqual(first);
    expect(first[0]).not.toBeNull();
    // weights[0] > 0 in about 63% of resamples: mostly NaN.
    expect(first[1]).toBeNull();
  });

  it('checks the number of statistics', () => {
    expect(() => bootstrapIntervals(10, 2, options(), () => Float64Array.of(1))).toThrow(/expected 2/);
  });
});

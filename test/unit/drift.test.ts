import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ColumnDistribution,
  categoricalDistribution,
  compareDistributions,
  DRIFT_TESTS,
  type DriftOptions,
  MAX_UNSEEN_CATEGORIES,
  numericDistribution,
} from '../../src/core/data/drift.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { chiSquareHomogeneity } from '../../src/core/stats/chi-square.ts';
import { ksTwoSample } from '../../src/core/stats/kolmogorov-smirnov.ts';

const OPTIONS: DriftOptions = {
  smallSampleMax: 1000,
  pValue: 0.05,
  psi: 0.2,
  jensenShannon: 0.1,
  wasserstein: 0.1,
};

/** Deterministic standard normals (mulberry32 + Box–Muller), so the thresholds are tested on fixed data. */
function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

/** A numeric distribution whose values were not kept: only the CDF and quantiles, as from a sketch. */
function sketchOnly(values: Float64Array): ColumnDistribution {
  const exact = numericDistribution(values);
  if (exact.kind !== 'numeric') throw new Error('numeric expected');
  return { ...exact, sorted: null };
}

function counts(entries: Record<string, number>): ColumnDistribution {
  const map = new Map(Object.entries(entries));
  let count = 0;
  for (const c of map.values()) count += c;
  return { kind: 'categorical', count, counts: map };
}

describe('compareDistributions: numeric test choice', () => {
  it('uses KS when both samples are small and kept', () => {
    const r = compareDistributions(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(200, 2)),
      OPTIONS,
    );
    expect(r.test).toBe(DRIFT_TESTS.ks);
    expect(r.threshold).toBe(0.05);
    expect(r.pValue).toBeGreaterThan(0.05);
    expect(r.drifted).toBe(false);
    expect(r).toMatchObject({ referenceCount: 300, currentCount: 200 });
  });

  it('KS flags a half-sd shift', () => {
    const r = compareDistributions(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(200, 2, 0.5)),
      OPTIONS,
    );
    expect(r.test).toBe(DRIFT_TESTS.ks);
    expect(r.pValue).toBeLessThan(0.01);
    expect(r.drifted).toBe(true);
  });

  it('gives the same KS result as ksTwoSample on real data', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../fixtures/drift/reference-values.json', import.meta.url), 'utf8'),
    );
    const a = Float64Array.from(fixture.samples['cancer-radius-benign'].values as number[]);
    const b = Float64Array.from(fixture.samples['cancer-radius-malignant'].values as number[]);
    const r = compareDistributions('mean radius', numericDistribution(a), numericDistribution(b), OPTIONS);
    const direct = ksTwoSample(a, b);
    expect(r).toMatchObject({
      test: 'kolmogorov-smirnov',
      statistic: direct.statistic,
      pValue: direct.pValue,
      drifted: true,
    });
  });

  it('uses PSI above smallSampleMax', () => {
    const same = compareDistributions(
      'x',
      numericDistribution(normals(5000, 3)),
      numericDistribution(normals(4000, 4)),
      OPTIONS,
    );
    expect(same.test).toBe(DRIFT_TESTS.psi);
    expect(same.pValue).toBeUndefined();
    expect(same.threshold).toBe(0.2);
    expect(same.statistic).toBeLessThan(0.02);
    expect(same.drifted).toBe(false);
    const shifted = compareDistributions(
      'x',
      numericDistribution(normals(5000, 3)),
      numericDistribution(normals(4000, 4, 0.5)),
      OPTIONS,
    );
    expect(shifted.statistic).toBeGreaterThanOrEqual(0.2);
    expect(shifted.drifted).toBe(true);
  });

  it('uses PSI when values were not kept, even for small samples, and it equals the kept-value PSI', () => {
    const ref = normals(300, 5);
    const cur = normals(300, 6, 0.3);
    const sketched = compareDistributions('x', sketchOnly(ref), numericDistribution(cur), OPTIONS);
    expect(sketched.test).toBe(DRIFT_TESTS.psi);
    const forced = compareDistributions('x', numericDistribution(ref), numericDistribution(cur), {
      ...OPTIONS,
      columns: { x: { test: 'psi' } },
    });
    expect(forced.statistic).toBe(sketched.statistic);
  });

  it('PSI handles a constant reference (all mass in one bin)', () => {
    const r = compareDistributions(
      'x',
      numericDistribution(new Float64Array(2000).fill(5)),
      numericDistribution(new Float64Array(2000).fill(7)),
      OPTIONS,
    );
    expect(r.test).toBe('psi');
    expect(r.drifted).toBe(true);
    const same = compareDistributions(
      'x',
      numericDistribution(new Float64Array(2000).fill(5)),
      numericDistribution(new Float64Array(1500).fill(5)),
      OPTIONS,
    );
    expect(same.statistic).toBe(0);
  });

  it('respects a lower smallSampleMax', () => {
    const r = compareDistributions(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(200, 2)),
      { ...OPTIONS, smallSampleMax: 250 },
    );
    expect(r.test).toBe('psi');
  });
});

describe('compareDistributions: overrides', () => {
  it('Wasserstein on kept values, normalized by the reference std', () => {
    const ref = normals(400, 7);
    const cur = normals(300, 8, 0.5);
    const r = compareDistributions('x', numericDistribution(ref), numericDistribution(cur), {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' } },
    });
    expect(r.test).toBe('wasserstein');
    expect(r.threshold).toBe(0.1);
    expect(r.statistic).toBeGreaterThan(0.3);
    expect(r.statistic).toBeLessThan(0.7);
    expect(r.drifted).toBe(true);
    expect(r.note).toBeUndefined();
  });

  it('Wasserstein from sketches approximates the exact value and says so', () => {
    const ref = normals(3000, 9);
    const cur = normals(3000, 10, 0.2);
    const options = { ...OPTIONS, columns: { x: { test: 'wasserstein' as const } } };
    const exact = compareDistributions('x', numericDistribution(ref), numericDistribution(cur), options);
    const approx = compareDistributions('x', sketchOnly(ref), sketchOnly(cur), options);
    expect(approx.note).toMatch(/quantile sketches/);
    expect(Math.abs(approx.statistic - exact.statistic)).toBeLessThan(0.01);
  });

  it('Wasserstein on a constant reference is left in column units, with a note', () => {
    const r = compareDistributions('x', numericDistribution([2, 2, 2]), numericDistribution([2, 3, 4]), {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' } },
    });
    expect(r.statistic).toBe(1);
    expect(r.note).toMatch(/std 0/);
  });

  it('a threshold override applies to the chosen test', () => {
    const ref = numericDistribution(normals(300, 1));
    const cur = numericDistribution(normals(200, 2, 0.2));
    const base = compareDistributions('x', ref, cur, OPTIONS);
    const strict = compareDistributions('x', ref, cur, { ...OPTIONS, columns: { x: { threshold: 0.999 } } });
    expect(strict.threshold).toBe(0.999);
    expect(strict.statistic).toBe(base.statistic);
    expect(strict.drifted).toBe(base.pValue! < 0.999);
    const other = compareDistributions('y', ref, cur, { ...OPTIONS, columns: { x: { threshold: 0.999 } } });
    expect(other.threshold).toBe(0.05);
  });

  it('rejects inapplicable tests and bad thresholds with a clear ConfigurationError', () => {
    const num = numericDistribution([1, 2, 3]);
    const cat = categoricalDistribution(['a', 'b']);
    expect(() =>
      compareDistributions('n', num, num, { ...OPTIONS, columns: { n: { test: 'chi-square' } } }),
    ).toThrow(/"chi-square" does not apply to numeric column "n"/);
    expect(() =>
      compareDistributions('c', cat, cat, { ...OPTIONS, columns: { c: { test: 'psi' } } }),
    ).toThrow(ConfigurationError);
    expect(() =>
      compareDistributions('n', sketchOnly(Float64Array.of(1, 2)), num, {
        ...OPTIONS,
        columns: { n: { test: 'kolmogorov-smirnov' } },
      }),
    ).toThrow(/needs every value/);
    expect(() =>
      compareDistributions('n', num, num, {
        ...OPTIONS,
        columns: { n: { test: 'kolmogorov-smirnov', threshold: 2 } },
      }),
    ).toThrow(/p-value and must be below 1/);
    expect(() =>
      compareDistributions('n', num, num, { ...OPTIONS, columns: { n: { threshold: -1 } } }),
    ).toThrow(ConfigurationError);
  });

  it('throws when the kinds differ', () => {
    expect(() =>
      compareDistributions('m', numericDistribution([1]), categoricalDistribution(['a']), OPTIONS),
    ).toThrow(TypeError);
  });
});

describe('compareDistributions: categorical', () => {
  it('chi-square on the union of categories for small samples', () => {
    const r = compareDistributions(
      'c',
      counts({ a: 50, b: 30, c: 20 }),
      counts({ a: 40, b: 35, d: 5 }),
      OPTIONS,
    );
    expect(r.test).toBe(DRIFT_TESTS.chiSquare);
    const direct = chiSquareHomogeneity([50, 30, 20, 0], [40, 35, 0, 5]);
    expect(r.statistic).toBe(direct.statistic);
    expect(r.pValue).toBe(direct.pValue);
    expect(r.drifted).toBe(true);
    expect(r.unseenCategories).toEqual([{ value: 'd', count: 5 }]);
  });

  it('chi-square: same shares do not drift', () => {
    const r = compareDistributions(
      'c',
      counts({ a: 50, b: 30, c: 20 }),
      counts({ a: 26, b: 14, c: 10 }),
      OPTIONS,
    );
    expect(r.pValue).toBeGreaterThan(0.5);
    expect(r.drifted).toBe(false);
    expect(r.unseenCategories).toBeUndefined();
  });

  it('Jensen–Shannon for large samples', () => {
    const ref = counts({ a: 5000, b: 3000, c: 2000 });
    const same = compareDistributions('c', ref, counts({ a: 2600, b: 1400, c: 1000 }), OPTIONS);
    expect(same.test).toBe(DRIFT_TESTS.jensenShannon);
    expect(same.threshold).toBe(0.1);
    expect(same.statistic).toBeLessThan(0.1);
    expect(same.drifted).toBe(false);
    const moved = compareDistributions('c', ref, counts({ a: 1000, b: 1000, c: 3000 }), OPTIONS);
    expect(moved.statistic).toBeGreaterThanOrEqual(0.1);
    expect(moved.drifted).toBe(true);
  });

  it('lists unseen categories most frequent first, capped', () => {
    const cur: Record<string, number> = { seen: 10 };
    for (let i = 0; i < MAX_UNSEEN_CATEGORIES + 20; i++)
      cur[`new-${String(i).padStart(3, '0')}`] = 1 + (i % 7);
    const r = compareDistributions('c', counts({ seen: 100 }), counts(cur), OPTIONS);
    expect(r.unseenCategories).toHaveLength(MAX_UNSEEN_CATEGORIES);
    expect(r.unseenCategories![0]).toEqual({ value: 'new-006', count: 7 });
    expect(r.unseenCategories!.every((u, i, all) => i === 0 || all[i - 1].count >= u.count)).toBe(true);
    expect(r.note).toMatch(/120 categories are absent from the reference/);
  });

  it('categoricalDistribution counts raw values', () => {
    const r = compareDistributions(
      'c',
      categoricalDistribution(['x', 'y', 'y']),
      categoricalDistribution(['y', 'z', 'z']),
      OPTIONS,
    );
    expect(r.unseenCategories).toEqual([{ value: 'z', count: 2 }]);
    expect(r.test).toBe('chi-square');
  });
});

describe('compareDistributions: nothing to compare', () => {
  it('skips categorical columns without exact counts', () => {
    const r = compareDistributions(
      'id',
      { kind: 'categorical', count: 50_000, counts: null },
      counts({ a: 3 }),
      OPTIONS,
    );
    expect(r).toMatchObject({ drifted: false, statistic: 0, test: 'jensen-shannon' });
    expect(r.note).toMatch(/too many distinct values/);
    expect(r.pValue).toBeUndefined();
  });

  it('skips a side without values', () => {
    const empty = compareDistributions('x', numericDistribution([]), numericDistribution([1, 2]), OPTIONS);
    expect(empty).toMatchObject({ drifted: false, statistic: 0, referenceCount: 0, currentCount: 2 });
    expect(empty.note).toMatch(/no values in the reference/);
    const emptyCurrent = compareDistributions('c', counts({ a: 1 }), counts({}), OPTIONS);
    expect(emptyCurrent.note).toMatch(/no values in the current/);
    expect(emptyCurrent.drifted).toBe(false);
  });

  it('numericDistribution drops NaN', () => {
    const d = numericDistribution([1, Number.NaN, 3]);
    expect(d.count).toBe(2);
  });

  it('n = 1 on both sides: KS runs, p = 1, no drift', () => {
    const r = compareDistributions('x', numericDistribution([1]), numericDistribution([2]), OPTIONS);
    expect(r).toMatchObject({ test: 'kolmogorov-smirnov', statistic: 1, pValue: 1, drifted: false });
  });
});

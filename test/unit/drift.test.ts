import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ColumnComparison,
  type ColumnDistribution,
  categoricalDistribution,
  compareDistributions,
  DRIFT_TESTS,
  type DriftOptions,
  decideDrift,
  formatStatistic,
  MAX_UNSEEN_CATEGORIES,
  numericDistribution,
} from '../../src/core/data/drift.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { normals } from '../helpers/random.ts';

const OPTIONS: DriftOptions = {
  smallSampleMax: 1000,
  pValue: 0.05,
  correction: 'holm',
  ks: 0.1,
  psi: 0.1,
  jensenShannon: 0.1,
  wasserstein: 0.1,
};

/** One column compared and decided on its own (a family of one: no adjustment). */
function compare(
  column: string,
  reference: ColumnDistribution,
  current: ColumnDistribution,
  options: DriftOptions = OPTIONS,
) {
  return decideDrift([compareDistributions(column, reference, current, options)], options).columns[0];
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
    const r = compare(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(200, 2)),
      OPTIONS,
    );
    expect(r.test).toBe(DRIFT_TESTS.ks);
    expect(r.effectSize).toEqual({ measure: 'ks-statistic', value: r.statistic, floor: 0.1 });
    expect(r.pValue).toBeGreaterThan(0.05);
    expect(r.adjustedPValue).toBe(r.pValue);
    expect(r.decision).toBe('stable');
    expect(r.drifted).toBe(false);
    expect(r.rule).toMatch(/^Holm-adjusted p-value .* ≥ 0\.05: no significant change$/);
    expect(r).toMatchObject({ referenceCount: 300, currentCount: 200 });
  });

  it('KS flags a half-sd shift', () => {
    const r = compare(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(200, 2, 0.5)),
      OPTIONS,
    );
    expect(r.test).toBe(DRIFT_TESTS.ks);
    expect(r.pValue).toBeLessThan(0.01);
    expect(r.drifted).toBe(true);
  });

  it('gives scipy’s KS result on real data', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../fixtures/drift/reference-values.json', import.meta.url), 'utf8'),
    );
    const a = Float64Array.from(fixture.samples['cancer-radius-benign'].values as number[]);
    const b = Float64Array.from(fixture.samples['cancer-radius-malignant'].values as number[]);
    const r = compare('mean radius', numericDistribution(a), numericDistribution(b), OPTIONS);
    // scipy.stats.ks_2samp(a, b) (test/fixtures/drift/reference-values.json, "class-conditional, real drift").
    expect(r).toMatchObject({
      test: 'kolmogorov-smirnov',
      statistic: 0.728621637334179,
      pValue: 3.3822953151244096e-69,
      adjustedPValue: 3.3822953151244096e-69,
      decision: 'drifted',
      drifted: true,
    });
    expect(r.rule).toBe('Holm-adjusted p-value 3.382e-69 < 0.05 and KS D 0.7286 ≥ 0.1');
  });

  it('uses PSI above smallSampleMax', () => {
    const same = compare(
      'x',
      numericDistribution(normals(5000, 3)),
      numericDistribution(normals(4000, 4)),
      OPTIONS,
    );
    expect(same.test).toBe(DRIFT_TESTS.psi);
    expect(same.pValueMethod).toMatch(/PSI·nm\/\(n\+m\) as chi-square with 9 degrees of freedom/);
    expect(same.pValue).toBeGreaterThan(0.05);
    expect(same.effectSize.floor).toBe(0.1);
    expect(same.statistic).toBeLessThan(0.02);
    expect(same.drifted).toBe(false);
    const shifted = compare(
      'x',
      numericDistribution(normals(5000, 3)),
      numericDistribution(normals(4000, 4, 0.5)),
      OPTIONS,
    );
    expect(shifted.statistic).toBeGreaterThanOrEqual(0.2);
    expect(shifted.pValue).toBeLessThan(1e-10);
    expect(shifted.drifted).toBe(true);
  });

  it('uses PSI when values were not kept, even for small samples, and it equals the kept-value PSI', () => {
    const ref = normals(300, 5);
    const cur = normals(300, 6, 0.3);
    const sketched = compare('x', sketchOnly(ref), numericDistribution(cur), OPTIONS);
    expect(sketched.test).toBe(DRIFT_TESTS.psi);
    const forced = compare('x', numericDistribution(ref), numericDistribution(cur), {
      ...OPTIONS,
      columns: { x: { test: 'psi' } },
    });
    expect(forced.statistic).toBe(sketched.statistic);
  });

  it('PSI handles a constant reference (all mass in one bin)', () => {
    const r = compare(
      'x',
      numericDistribution(new Float64Array(2000).fill(5)),
      numericDistribution(new Float64Array(2000).fill(7)),
      OPTIONS,
    );
    expect(r.test).toBe('psi');
    expect(r.drifted).toBe(true);
    const same = compare(
      'x',
      numericDistribution(new Float64Array(2000).fill(5)),
      numericDistribution(new Float64Array(1500).fill(5)),
      OPTIONS,
    );
    expect(same.statistic).toBe(0);
  });

  it('respects a lower smallSampleMax', () => {
    const r = compare('x', numericDistribution(normals(300, 1)), numericDistribution(normals(200, 2)), {
      ...OPTIONS,
      smallSampleMax: 250,
    });
    expect(r.test).toBe('psi');
  });
});

describe('compareDistributions: overrides', () => {
  it('Wasserstein on kept values, normalized by the reference std', () => {
    const ref = normals(400, 7);
    const cur = normals(300, 8, 0.5);
    const r = compare('x', numericDistribution(ref), numericDistribution(cur), {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' } },
    });
    expect(r.test).toBe('wasserstein');
    expect(r.effectSize).toMatchObject({ measure: 'normalized-wasserstein', floor: 0.1 });
    expect(r.pValue).toBeLessThan(0.001);
    expect(r.statistic).toBeGreaterThan(0.3);
    expect(r.statistic).toBeLessThan(0.7);
    expect(r.drifted).toBe(true);
    expect(r.note).toBeUndefined();
  });

  it('Wasserstein from sketches approximates the exact value and says so', () => {
    const ref = normals(3000, 9);
    const cur = normals(3000, 10, 0.2);
    const options = { ...OPTIONS, columns: { x: { test: 'wasserstein' as const } } };
    const exact = compare('x', numericDistribution(ref), numericDistribution(cur), options);
    const approx = compare('x', sketchOnly(ref), sketchOnly(cur), options);
    expect(approx.note).toMatch(/quantile sketches/);
    expect(Math.abs(approx.statistic - exact.statistic)).toBeLessThan(0.01);
  });

  it('Wasserstein on a constant reference is left in column units, with a note', () => {
    const r = compare('x', numericDistribution([2, 2, 2]), numericDistribution([2, 3, 4]), {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' } },
    });
    expect(r.statistic).toBe(1);
    expect(r.note).toMatch(/std 0/);
  });

  it('a min-effect override applies to the chosen test of that column only', () => {
    const ref = numericDistribution(normals(300, 1));
    const cur = numericDistribution(normals(200, 2, 0.5));
    const base = compare('x', ref, cur);
    expect(base.drifted).toBe(true);
    const strict = compare('x', ref, cur, { ...OPTIONS, columns: { x: { minEffect: 0.9 } } });
    expect(strict.effectSize.floor).toBe(0.9);
    expect(strict.statistic).toBe(base.statistic);
    expect(strict.decision).toBe('negligible');
    expect(strict.rule).toMatch(/but KS D .* < 0\.9: significant but negligible/);
    const other = compare('y', ref, cur, { ...OPTIONS, columns: { x: { minEffect: 0.9 } } });
    expect(other.effectSize.floor).toBe(0.1);
  });

  it('rejects inapplicable tests and bad thresholds with a clear ConfigurationError', () => {
    const num = numericDistribution([1, 2, 3]);
    const cat = categoricalDistribution(['a', 'b']);
    expect(() => compare('n', num, num, { ...OPTIONS, columns: { n: { test: 'chi-square' } } })).toThrow(
      /"chi-square" does not apply to numeric column "n"/,
    );
    expect(() => compare('c', cat, cat, { ...OPTIONS, columns: { c: { test: 'psi' } } })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      compare('n', sketchOnly(Float64Array.of(1, 2)), num, {
        ...OPTIONS,
        columns: { n: { test: 'kolmogorov-smirnov' } },
      }),
    ).toThrow(/needs every value/);
    expect(() =>
      compare('n', num, num, {
        ...OPTIONS,
        columns: { n: { test: 'kolmogorov-smirnov', minEffect: 2 } },
      }),
    ).toThrow(/must be at most 1/);
    expect(() => compare('n', num, num, { ...OPTIONS, columns: { n: { minEffect: -1 } } })).toThrow(
      ConfigurationError,
    );
  });

  it('throws when the kinds differ', () => {
    expect(() => compare('m', numericDistribution([1]), categoricalDistribution(['a']), OPTIONS)).toThrow(
      TypeError,
    );
  });
});

describe('compareDistributions: categorical', () => {
  it('chi-square on the union of categories for small samples', () => {
    const r = compare('c', counts({ a: 50, b: 30, c: 20 }), counts({ a: 40, b: 35, d: 5 }), OPTIONS);
    expect(r.test).toBe(DRIFT_TESTS.chiSquare);
    // scipy.stats.chi2_contingency([[50, 30, 20, 0], [40, 35, 0, 5]], correction=False).
    expect(r.statistic).toBeCloseTo(24.57692307692308, 12);
    expect(r.pValue! / 1.8927490681118563e-5).toBeCloseTo(1, 10);
    expect(r.pValueMethod).toBe('Pearson chi-square with 3 degrees of freedom');
    expect(r.effectSize.measure).toBe('jensen-shannon');
    expect(r.drifted).toBe(true);
    expect(r.unseenCategories).toEqual([{ value: 'd', count: 5 }]);
  });

  it('chi-square: same shares do not drift', () => {
    const r = compare('c', counts({ a: 50, b: 30, c: 20 }), counts({ a: 26, b: 14, c: 10 }), OPTIONS);
    expect(r.pValue).toBeGreaterThan(0.5);
    expect(r.drifted).toBe(false);
    expect(r.unseenCategories).toBeUndefined();
  });

  it('Jensen–Shannon for large samples', () => {
    const ref = counts({ a: 5000, b: 3000, c: 2000 });
    const same = compare('c', ref, counts({ a: 2600, b: 1400, c: 1000 }), OPTIONS);
    expect(same.test).toBe(DRIFT_TESTS.jensenShannon);
    expect(same.pValueMethod).toBe('G-test with 2 degrees of freedom');
    expect(same.effectSize.floor).toBe(0.1);
    expect(same.statistic).toBeLessThan(0.1);
    expect(same.drifted).toBe(false);
    const moved = compare('c', ref, counts({ a: 1000, b: 1000, c: 3000 }), OPTIONS);
    expect(moved.statistic).toBeGreaterThanOrEqual(0.1);
    expect(moved.drifted).toBe(true);
  });

  it('lists unseen categories most frequent first, capped', () => {
    const cur: Record<string, number> = { seen: 10 };
    for (let i = 0; i < MAX_UNSEEN_CATEGORIES + 20; i++)
      cur[`new-${String(i).padStart(3, '0')}`] = 1 + (i % 7);
    const r = compare('c', counts({ seen: 100 }), counts(cur), OPTIONS);
    expect(r.unseenCategories).toHaveLength(MAX_UNSEEN_CATEGORIES);
    expect(r.unseenCategories![0]).toEqual({ value: 'new-006', count: 7 });
    expect(r.unseenCategories!.every((u, i, all) => i === 0 || all[i - 1].count >= u.count)).toBe(true);
    expect(r.note).toMatch(/120 categories are absent from the reference/);
  });

  it('categoricalDistribution counts raw values', () => {
    const r = compare(
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
    const r = compare('id', { kind: 'categorical', count: 50_000, counts: null }, counts({ a: 3 }), OPTIONS);
    expect(r).toMatchObject({
      drifted: false,
      statistic: 0,
      test: 'jensen-shannon',
      decision: 'not-compared',
    });
    expect(r.note).toMatch(/too many distinct values/);
    expect(r.pValue).toBeUndefined();
    expect(r.adjustedPValue).toBeUndefined();
  });

  it('skips a side without values', () => {
    const empty = compare('x', numericDistribution([]), numericDistribution([1, 2]), OPTIONS);
    expect(empty).toMatchObject({ drifted: false, statistic: 0, referenceCount: 0, currentCount: 2 });
    expect(empty.note).toMatch(/no values in the reference/);
    const emptyCurrent = compare('c', counts({ a: 1 }), counts({}), OPTIONS);
    expect(emptyCurrent.note).toMatch(/no values in the current/);
    expect(emptyCurrent.drifted).toBe(false);
  });

  it('numericDistribution drops NaN', () => {
    const d = numericDistribution([1, Number.NaN, 3]);
    expect(d.count).toBe(2);
  });

  it('n = 1 on both sides: KS runs, p = 1, no drift', () => {
    const r = compare('x', numericDistribution([1]), numericDistribution([2]), OPTIONS);
    expect(r).toMatchObject({ test: 'kolmogorov-smirnov', statistic: 1, pValue: 1, drifted: false });
  });
});

/** A comparison with the given raw p-value and effect, for the decision rules alone. */
function comparison(
  column: string,
  pValue: number | undefined,
  effect: number,
  floor = 0.1,
): ColumnComparison {
  return {
    column,
    test: 'kolmogorov-smirnov',
    statistic: effect,
    ...(pValue === undefined ? { note: 'no values in the reference data; nothing to compare.' } : { pValue }),
    effectSize: { measure: 'ks-statistic', value: effect, floor },
    referenceCount: 100,
    currentCount: 50,
  };
}

describe('decideDrift: one family of columns', () => {
  it('adjusts the p-values across the columns (Holm) and needs the effect floor too', () => {
    const decided = decideDrift(
      [
        comparison('a', 0.001, 0.4), // 0.001 × 4 = 0.004 < 0.05, D 0.4 ≥ 0.1: drifted
        comparison('b', 0.03, 0.3), // 0.03 × 2 = 0.06 ≥ 0.05: stable, though 0.03 < 0.05 on its own
        comparison('c', 0.0001, 0.05), // significant, D 0.05 < 0.1: negligible
        comparison('d', 0.5, 0.2),
      ],
      OPTIONS,
    );
    const byColumn = Object.fromEntries(decided.columns.map((c) => [c.column, c]));
    expect(byColumn.a).toMatchObject({ decision: 'drifted', drifted: true, adjustedPValue: 0.003 });
    expect(byColumn.b).toMatchObject({ decision: 'stable', drifted: false });
    expect(byColumn.b.adjustedPValue).toBeCloseTo(0.06, 12);
    expect(byColumn.c).toMatchObject({ decision: 'negligible', drifted: false, adjustedPValue: 0.0004 });
    expect(byColumn.d.decision).toBe('stable');
    expect(byColumn.a.rule).toBe('Holm-adjusted p-value 0.003 < 0.05 and KS D 0.4 ≥ 0.1');
    expect(decided).toMatchObject({ correction: 'holm', level: 0.05 });
    expect(decided.dataset).toBeUndefined();
  });

  it('decides at the boundaries: a p-value equal to the level is not significant, an effect equal to the floor counts', () => {
    const none = { ...OPTIONS, correction: 'none' as const };
    expect(decideDrift([comparison('x', 0.05, 0.5)], none).columns[0].decision).toBe('stable');
    expect(decideDrift([comparison('x', 0.0499999, 0.5)], none).columns[0].decision).toBe('drifted');
    expect(decideDrift([comparison('x', 0.01, 0.1)], none).columns[0].decision).toBe('drifted');
    expect(decideDrift([comparison('x', 0.01, 0.0999999)], none).columns[0].decision).toBe('negligible');
  });

  it('leaves columns without a comparison out of the family and marks them not compared', () => {
    const decided = decideDrift([comparison('gone', undefined, 0), comparison('x', 0.02, 0.5)], OPTIONS);
    expect(decided.columns[0]).toMatchObject({ decision: 'not-compared', drifted: false });
    expect(decided.columns[0].rule).toMatch(/^not compared: no values/);
    // One test in the family: 0.02 stays 0.02.
    expect(decided.columns[1]).toMatchObject({ adjustedPValue: 0.02, decision: 'drifted' });
  });

  it('dataset-level drift: the share of drifted columns decides, at or above the share', () => {
    const columns = [comparison('a', 1e-6, 0.5), comparison('b', 1e-6, 0.5), comparison('c', 0.9, 0.01)];
    const half = decideDrift(columns, { ...OPTIONS, datasetShare: 0.5 });
    expect(half.dataset).toMatchObject({ share: 0.5, drifted: 2, compared: 3, result: true });
    expect(half.dataset!.rule).toBe('2 of 3 compared columns drifted (66.67%) ≥ the dataset share 50%');
    const exactly = decideDrift(columns, { ...OPTIONS, datasetShare: 2 / 3 });
    expect(exactly.dataset!.result).toBe(true);
    const most = decideDrift(columns, { ...OPTIONS, datasetShare: 0.7 });
    expect(most.dataset!.result).toBe(false);
  });

  it('refuses a level or correction out of range, naming the key', () => {
    expect(() => decideDrift([], { ...OPTIONS, pValue: 1 })).toThrow(
      /drift\.p-value must be between 0 and 1/,
    );
    expect(() => decideDrift([], { ...OPTIONS, correction: 'sidak' as 'holm' })).toThrow(
      /drift\.correction must be one of/,
    );
    expect(() => decideDrift([], { ...OPTIONS, datasetShare: 0 })).toThrow(/dataset-share/);
  });

  it('keeps two samples of one distribution from flagging any of 30 columns in more than 5 % of runs', () => {
    // 200 runs × 30 columns of two normal samples each: with Holm, runs with any drifted column stay
    // near or below 5 %; uncorrected, about 1 − 0.95³⁰ ≈ 78 % of runs flag a column at p < 0.05.
    let flagged = 0;
    let uncorrected = 0;
    const runs = 200;
    for (let run = 0; run < runs; run++) {
      const comparisons = [];
      for (let c = 0; c < 30; c++) {
        const seed = 1 + run * 1000 + c * 2;
        comparisons.push(
          compareDistributions(
            `c${c}`,
            numericDistribution(normals(120, seed)),
            numericDistribution(normals(40, seed + 1)),
            OPTIONS,
          ),
        );
      }
      if (decideDrift(comparisons, OPTIONS).columns.some((c) => c.drifted)) flagged++;
      if (comparisons.some((c) => (c.pValue ?? 1) < 0.05)) uncorrected++;
    }
    expect(flagged / runs).toBeLessThanOrEqual(0.05);
    expect(uncorrected / runs).toBeGreaterThan(0.6);
  });
});

describe('p-values of the distance tests', () => {
  it('PSI and Wasserstein p-values hold their level under the null and are small under a shift', () => {
    const psiOptions = { ...OPTIONS, columns: { x: { test: 'psi' as const } } };
    const wOptions = { ...OPTIONS, columns: { x: { test: 'wasserstein' as const } } };
    const rate = (runs: number, options: DriftOptions) => {
      let flagged = 0;
      for (let run = 0; run < runs; run++) {
        const ref = numericDistribution(normals(300, 7 + run * 2));
        const cur = numericDistribution(normals(200, 8 + run * 2));
        if ((compareDistributions('x', ref, cur, options).pValue ?? 1) < 0.05) flagged++;
      }
      return flagged / runs;
    };
    // Nominal 5 %, within the sampling error of the runs; a little conservative is allowed.
    expect(rate(300, psiOptions)).toBeLessThan(0.085);
    const wasserstein = rate(50, wOptions);
    expect(wasserstein).toBeLessThan(0.13);
    expect(wasserstein).toBeGreaterThan(0);
    const ref = numericDistribution(normals(300, 1));
    const shifted = numericDistribution(normals(200, 2, 0.7));
    expect(compareDistributions('x', ref, shifted, psiOptions).pValue).toBeLessThan(0.001);
    expect(compareDistributions('x', ref, shifted, wOptions).pValue).toBeLessThan(0.001);
  });

  it('the Wasserstein simulation is deterministic for a column', () => {
    const wOptions = { ...OPTIONS, columns: { x: { test: 'wasserstein' as const } } };
    const ref = numericDistribution(normals(300, 1));
    const cur = numericDistribution(normals(200, 2, 0.1));
    const a = compareDistributions('x', ref, cur, wOptions);
    const b = compareDistributions('x', ref, cur, wOptions);
    expect(a.pValue).toBe(b.pValue);
    expect(a.pValueMethod).toMatch(/Brownian-bridge/);
  });
});

describe('drift decisions exactly at their thresholds (values from scipy, test/fixtures/drift)', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/drift/reference-values.json', import.meta.url), 'utf8'),
  );
  const sample = (name: string) =>
    numericDistribution(Float64Array.from(fixture.samples[name].values as number[]));
  const benign = sample('cancer-radius-benign'); // 357 values
  const malignant = sample('cancer-radius-malignant'); // 212 values

  it('smallSampleMax is "at most": a side with exactly that many values still gets KS, one more gets PSI', () => {
    // scipy.stats.ks_2samp(benign, malignant): D 0.728621637334179, p 3.3822953151244096e-69.
    const atMax = compareDistributions('x', benign, malignant, { ...OPTIONS, smallSampleMax: 357 });
    expect(atMax).toMatchObject({
      test: 'kolmogorov-smirnov',
      statistic: 0.728621637334179,
      pValue: 3.3822953151244096e-69,
      pValueMethod: 'two-sample KS, exact',
    });
    // The current side at the limit too.
    const currentAtMax = compareDistributions('x', malignant, benign, { ...OPTIONS, smallSampleMax: 357 });
    expect(currentAtMax.test).toBe('kolmogorov-smirnov');
    expect(currentAtMax.statistic).toBeCloseTo(0.728621637334179, 14);
    // One below the larger side: PSI on the reference deciles (psi 3.908826764121022 from the fixture
    // script; p-value scipy.stats.chi2.sf(psi·357·212/569, 9) = 3.110000616633313e-106).
    const below = compareDistributions('x', benign, malignant, { ...OPTIONS, smallSampleMax: 356 });
    expect(below.test).toBe('psi');
    expect(below.statistic).toBeCloseTo(3.908826764121022, 12);
    expect(below.pValue! / 3.110000616633313e-106).toBeCloseTo(1, 10);
    expect(compareDistributions('x', malignant, benign, { ...OPTIONS, smallSampleMax: 356 }).test).toBe(
      'psi',
    );
  });

  it('smallSampleMax is "at most" for categories too: chi-square at the limit, Jensen–Shannon above', () => {
    // Wine classes, shuffle halves: 89 rows each side.
    const ref = counts({ '0': 24, '1': 42, '2': 23 });
    const cur = counts({ '0': 35, '1': 29, '2': 25 });
    // scipy.stats.chi2_contingency(correction=False): χ² 4.5144624811012966, p 0.10463980649179179.
    const atMax = compareDistributions('c', ref, cur, { ...OPTIONS, smallSampleMax: 89 });
    expect(atMax.test).toBe('chi-square');
    expect(atMax.statistic).toBeCloseTo(4.5144624811012966, 12);
    expect(atMax.pValue).toBeCloseTo(0.10463980649179179, 12);
    // scipy.spatial.distance.jensenshannon(base 2) 0.13564101927704855; G-test p 0.1033112645567762.
    const above = compareDistributions('c', ref, cur, { ...OPTIONS, smallSampleMax: 88 });
    expect(above.test).toBe('jensen-shannon');
    expect(above.statistic).toBeCloseTo(0.13564101927704855, 12);
    expect(above.pValue).toBeCloseTo(0.1033112645567762, 12);
    // Only one side above the limit is enough.
    const oneAbove = counts({ '0': 24, '1': 42, '2': 24 });
    expect(compareDistributions('c', oneAbove, cur, { ...OPTIONS, smallSampleMax: 89 }).test).toBe(
      'jensen-shannon',
    );
    expect(compareDistributions('c', cur, oneAbove, { ...OPTIONS, smallSampleMax: 89 }).test).toBe(
      'jensen-shannon',
    );
  });

  it('PSI drifts "at or above" its floor: a PSI equal to the floor drifts, a hair below is negligible', () => {
    const psi = 3.908826764121022;
    const options = { ...OPTIONS, smallSampleMax: 100, psi };
    const at = decideDrift([compareDistributions('x', benign, malignant, options)], options).columns[0];
    expect(at).toMatchObject({ test: 'psi', statistic: psi, decision: 'drifted', drifted: true });
    expect(at.rule).toBe('Holm-adjusted p-value 3.110e-106 < 0.05 and PSI 3.909 ≥ 3.908826764121022');
    const above = { ...options, psi: psi * (1 + Number.EPSILON) }; // the next double up
    expect(above.psi).toBeGreaterThan(psi);
    const just = decideDrift([compareDistributions('x', benign, malignant, above)], above).columns[0];
    expect(just).toMatchObject({ decision: 'negligible', drifted: false });
    // The same through a per-column floor.
    const column = { ...OPTIONS, smallSampleMax: 100, columns: { x: { minEffect: psi } } };
    expect(
      decideDrift([compareDistributions('x', benign, malignant, column)], column).columns[0].decision,
    ).toBe('drifted');
  });

  it('significance is a p-value "below" the level: KS p = 0.028571428571428577 (scipy, n = 4 vs 4) at that level is stable', () => {
    const a = sample('wine-alcohol-class-0-first-4');
    const b = sample('wine-alcohol-class-2-first-4');
    const p = 0.028571428571428577;
    const at = { ...OPTIONS, correction: 'none' as const, pValue: p };
    const decided = decideDrift([compareDistributions('x', a, b, at)], at).columns[0];
    expect(decided).toMatchObject({ pValue: p, adjustedPValue: p, decision: 'stable', drifted: false });
    expect(decided.rule).toBe('unadjusted p-value 0.02857 ≥ 0.028571428571428577: no significant change');
    const above = { ...at, pValue: 0.02857142857142858 };
    expect(above.pValue).toBeGreaterThan(p);
    expect(decideDrift([compareDistributions('x', a, b, above)], above).columns[0]).toMatchObject({
      decision: 'drifted',
      drifted: true,
    });
  });
});

// Cases that mutation testing (issue #16) showed unguarded: each fails when the behaviour it names breaks.
describe('drift: refusals in full, with the key to fix', () => {
  const num = numericDistribution([1, 2, 3]);
  const cat = categoricalDistribution(['a', 'b']);
  function refusal(run: () => unknown): { message: string; key: unknown } {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return { message: (error as Error).message, key: (error as ConfigurationError).location?.key };
    }
    throw new Error('expected a ConfigurationError');
  }

  it('names the tests that apply, the side a sketch came from, and the floor’s key', () => {
    expect(
      refusal(() => compare('n', num, num, { ...OPTIONS, columns: { n: { test: 'chi-square' } } })),
    ).toEqual({
      message:
        'Drift test "chi-square" does not apply to numeric column "n"; use one of kolmogorov-smirnov, psi, wasserstein.',
      key: 'drift.columns.n.test',
    });
    expect(refusal(() => compare('c', cat, cat, { ...OPTIONS, columns: { c: { test: 'psi' } } }))).toEqual({
      message:
        'Drift test "psi" does not apply to categorical column "c"; use one of chi-square, jensen-shannon.',
      key: 'drift.columns.c.test',
    });
    const ks = { ...OPTIONS, columns: { n: { test: 'kolmogorov-smirnov' as const } } };
    expect(refusal(() => compare('n', sketchOnly(Float64Array.of(1, 2)), num, ks))).toEqual({
      message:
        'Drift test "kolmogorov-smirnov" on column "n" needs every value, but the reference data has 2 values and only a sketch of them was kept; use "psi" or "wasserstein", or raise the profile\'s exact-values limit.',
      key: 'drift.columns.n.test',
    });
    expect(refusal(() => compare('n', num, sketchOnly(Float64Array.of(1, 2, 3, 4)), ks)).message).toMatch(
      /but the current data has 4 values and only a sketch/,
    );
    // A side without values is not compared, sketch or not.
    expect(compare('n', sketchOnly(Float64Array.of()), num, ks).note).toBe(
      'no values in the reference data; nothing to compare.',
    );
    expect(compare('n', num, sketchOnly(Float64Array.of()), ks).note).toBe(
      'no values in the current data; nothing to compare.',
    );
    expect(refusal(() => compare('n', num, num, { ...OPTIONS, columns: { n: { minEffect: -1 } } }))).toEqual({
      message: 'The KS D floor for column "n" must be a number ≥ 0; got -1.',
      key: 'drift.columns.n.min-effect',
    });
    expect(refusal(() => compare('n', num, num, { ...OPTIONS, ks: Number.NaN }))).toEqual({
      message: 'The KS D floor for column "n" must be a number ≥ 0; got NaN.',
      key: 'drift',
    });
    expect(refusal(() => compare('c', cat, cat, { ...OPTIONS, columns: { c: { minEffect: 1.5 } } }))).toEqual(
      {
        message:
          'The Jensen–Shannon distance floor for column "c" must be at most 1 (the measure lies in [0, 1]); got 1.5.',
        key: 'drift.columns.c.min-effect',
      },
    );
    // The edges are allowed: 0 and 1.
    expect(compare('n', num, num, { ...OPTIONS, columns: { n: { minEffect: 0 } } }).effectSize.floor).toBe(0);
    expect(compare('n', num, num, { ...OPTIONS, columns: { n: { minEffect: 1 } } }).effectSize.floor).toBe(1);
  });

  it('refuses a level, a correction or a dataset share out of range, in full', () => {
    expect(refusal(() => decideDrift([], { ...OPTIONS, pValue: 0 }))).toEqual({
      message: 'drift.p-value must be between 0 and 1 (e.g. 0.05); got 0.',
      key: 'drift.p-value',
    });
    expect(refusal(() => decideDrift([], { ...OPTIONS, correction: 'sidak' as 'holm' }))).toEqual({
      message: 'drift.correction must be one of holm, benjamini-hochberg, bonferroni, none; got "sidak".',
      key: 'drift.correction',
    });
    expect(refusal(() => decideDrift([], { ...OPTIONS, datasetShare: 1.5 }))).toEqual({
      message: 'drift.dataset-share must be in (0, 1] (e.g. 0.5); got 1.5.',
      key: 'drift.dataset-share',
    });
    expect(decideDrift([], { ...OPTIONS, datasetShare: 1 }).dataset?.share).toBe(1);
  });

  it('says why the kinds differ', () => {
    expect(() => compare('m', numericDistribution([1]), categoricalDistribution(['a']), OPTIONS)).toThrow(
      'Column "m" is numeric in the reference but categorical in the current data; drift compares like with like.',
    );
  });
});

describe('drift: each measure, correction and floor by its own name', () => {
  it('takes each measure’s default floor', () => {
    const floors = { ...OPTIONS, ks: 0.11, psi: 0.12, jensenShannon: 0.13, wasserstein: 0.14 };
    const small = numericDistribution(normals(50, 1));
    expect(compare('x', small, small, floors).effectSize.floor).toBe(0.11);
    expect(compare('x', small, small, { ...floors, smallSampleMax: 10 }).effectSize.floor).toBe(0.12);
    expect(
      compare('x', small, small, { ...floors, columns: { x: { test: 'wasserstein' } } }).effectSize.floor,
    ).toBe(0.14);
    const cat = counts({ a: 50, b: 50 });
    expect(compare('c', cat, cat, { ...floors, smallSampleMax: 10 }).effectSize.floor).toBe(0.13);
  });

  it('names the correction and the measure in the rule', () => {
    const columns = [comparison('a', 0.01, 0.5), comparison('b', 0.02, 0.5)];
    expect(decideDrift(columns, { ...OPTIONS, correction: 'bonferroni' }).columns[0].rule).toBe(
      'Bonferroni-adjusted p-value 0.02 < 0.05 and KS D 0.5 ≥ 0.1',
    );
    expect(decideDrift(columns, { ...OPTIONS, correction: 'benjamini-hochberg' }).columns[1].rule).toBe(
      'Benjamini–Hochberg-adjusted p-value 0.02 < 0.05 and KS D 0.5 ≥ 0.1',
    );
    const ref = counts({ a: 5000, b: 3000, c: 2000 });
    expect(compare('c', ref, counts({ a: 1000, b: 1000, c: 3000 }), OPTIONS).rule).toMatch(
      /^Holm-adjusted p-value .* < 0\.05 and Jensen–Shannon distance 0\.\d+ ≥ 0\.1$/,
    );
    const shifted = compare(
      'x',
      numericDistribution(normals(300, 1)),
      numericDistribution(normals(300, 2, 1)),
      {
        ...OPTIONS,
        columns: { x: { test: 'wasserstein' } },
      },
    );
    expect(shifted.rule).toMatch(/ and normalized Wasserstein [\d.]+ ≥ 0\.1$/);
    expect(decideDrift([comparison('gone', undefined, 0)], OPTIONS).columns[0].rule).toBe(
      'not compared: no values in the reference data; nothing to compare.',
    );
    const noNote = { ...comparison('gone', undefined, 0), note: undefined };
    expect(decideDrift([noNote], OPTIONS).columns[0].rule).toBe('not compared: no values');
  });

  it('counts only compared columns in the dataset share', () => {
    const one = decideDrift([comparison('gone', undefined, 0), comparison('a', 1e-6, 0.5)], {
      ...OPTIONS,
      datasetShare: 1,
    });
    expect(one.dataset).toEqual({
      share: 1,
      drifted: 1,
      compared: 1,
      result: true,
      rule: '1 of 1 compared columns drifted (100%) ≥ the dataset share 100%',
    });
    const none = decideDrift([comparison('gone', undefined, 0)], { ...OPTIONS, datasetShare: 0.5 });
    expect(none.dataset).toEqual({
      share: 0.5,
      drifted: 0,
      compared: 0,
      result: false,
      rule: '0 of 0 compared columns drifted (0%) < the dataset share 50%',
    });
  });
});

describe('drift: sketches, counts and notes', () => {
  it('uses PSI when either side was sketched, and approximates Wasserstein then, saying both reasons', () => {
    const values = normals(100, 1);
    expect(compare('x', sketchOnly(values), numericDistribution(values), OPTIONS).test).toBe('psi');
    expect(compare('x', numericDistribution(values), sketchOnly(values), OPTIONS).test).toBe('psi');
    const wasserstein = { ...OPTIONS, columns: { x: { test: 'wasserstein' as const } } };
    expect(compare('x', sketchOnly(values), numericDistribution(values), wasserstein).note).toBe(
      'Approximated from quantile sketches (1000 steps).',
    );
    const constant = new Float64Array(50).fill(3);
    const approx = compare('x', numericDistribution(constant), sketchOnly(values), {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' } },
    });
    expect(approx.note).toBe(
      'Approximated from quantile sketches (1000 steps); the reference has no spread (std 0), so the distance is in the column’s own units.',
    );
  });

  it('names the side whose categories were not counted', () => {
    const uncounted = { kind: 'categorical' as const, count: 50_000, counts: null };
    const a = counts({ a: 3 });
    expect(compare('c', uncounted, uncounted, OPTIONS).note).toBe(
      'not compared: both data sets had too many distinct values to count each one exactly.',
    );
    expect(compare('c', uncounted, a, OPTIONS).note).toBe(
      'not compared: the reference had too many distinct values to count each one exactly.',
    );
    expect(compare('c', a, uncounted, OPTIONS).note).toBe(
      'not compared: the current data had too many distinct values to count each one exactly.',
    );
  });

  it('lists unseen categories by count, then by value; zero counts are not unseen; a note only above the cap', () => {
    const r = compare('c', counts({ a: 10 }), counts({ a: 5, d: 2, b: 2, c: 3, z: 0 }), OPTIONS);
    expect(r.unseenCategories).toEqual([
      { value: 'c', count: 3 },
      { value: 'b', count: 2 },
      { value: 'd', count: 2 },
    ]);
    const cur: Record<string, number> = { seen: 10 };
    for (let i = 0; i < MAX_UNSEEN_CATEGORIES; i++) cur[`new-${i}`] = 1;
    const capped = compare('c', counts({ seen: 100 }), counts(cur), OPTIONS);
    expect(capped.unseenCategories).toHaveLength(MAX_UNSEEN_CATEGORIES);
    expect(capped.note).toBeUndefined();
  });

  it('does not compare categories whose counts are all zero on a side', () => {
    const zero = { kind: 'categorical' as const, count: 3, counts: new Map([['a', 0]]) };
    const a = counts({ a: 3 });
    expect(compare('c', zero, a, OPTIONS).note).toBe(
      'no counted values in the reference data; nothing to compare.',
    );
    expect(compare('c', a, zero, OPTIONS).note).toBe(
      'no counted values in the current data; nothing to compare.',
    );
  });

  it('seeds the Wasserstein simulation by the column’s name', () => {
    const options = {
      ...OPTIONS,
      columns: { x: { test: 'wasserstein' as const }, y: { test: 'wasserstein' as const } },
    };
    const ref = numericDistribution(normals(200, 1));
    const cur = numericDistribution(normals(200, 2, 0.1));
    expect(compare('x', ref, cur, options).pValue).not.toBe(compare('y', ref, cur, options).pValue);
  });

  it('formats statistics compactly, scientific below 1e-4 and from 1e6', () => {
    expect(
      [0, Number.POSITIVE_INFINITY, 1e-4, 9.99e-5, 999_949, 1e6, -0.000123456].map(formatStatistic),
    ).toEqual(['0', 'Infinity', '0.0001', '9.990e-5', '999900', '1.000e+6', '-0.0001235']);
  });

  it('describes an empty sample: no values, CDF 0, quantile NaN; counts categories', () => {
    const empty = numericDistribution([]);
    if (empty.kind !== 'numeric') throw new Error('numeric expected');
    expect(empty.count).toBe(0);
    expect(empty.cdf(1)).toBe(0);
    expect(empty.quantile(0.5)).toBeNaN();
    expect(categoricalDistribution(['x', 'y', 'y']).count).toBe(3);
  });
});

/**
 * The p-values of the drift measures without a classical test (src/core/stats/drift-p-values.ts),
 * directly: PSI read as chi-square against scipy, and the simulated Wasserstein null against an
 * independent Python reimplementation of its generator and integral (wasserstein-null.json, written
 * by test/fixtures/drift/make-wasserstein-null.py with /usr/bin/python3).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { psiPValue, WASSERSTEIN_NULL, wassersteinPValue } from '../../src/core/stats/drift-p-values.ts';

const reference = JSON.parse(
  readFileSync(new URL('../fixtures/drift/wasserstein-null.json', import.meta.url), 'utf8'),
) as {
  cases: {
    quantile: string;
    seed: number;
    cells: number;
    draws: number;
    statistics: number[];
    pValues: number[];
  }[];
};

const QUANTILES: Record<string, (u: number) => number> = {
  'uniform-0-10': (u) => 10 * u,
  squared: (u) => 3 * u * u,
};

describe('psiPValue', () => {
  it('reads PSI·nm/(n+m) as chi-square with bins − 1 degrees of freedom (scipy.stats.chi2.sf)', () => {
    const result = psiPValue(0.2, 10, 300, 200);
    expect(result.dof).toBe(9);
    expect(result.statistic).toBeCloseTo(24, 12);
    expect(result.pValue).toBeCloseTo(0.004301310843500872, 15);
    const few = psiPValue(0.05, 5, 100, 100);
    expect(few).toMatchObject({ statistic: 2.5, dof: 4 });
    expect(few.pValue).toBeCloseTo(0.6446357929354278, 14);
  });

  it('gives p = 1 without degrees of freedom or without values on a side', () => {
    expect(psiPValue(3, 1, 100, 100)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    expect(psiPValue(3, 0, 100, 100)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    expect(psiPValue(3, 10, 0, 100)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    expect(psiPValue(3, 10, 100, 0)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    expect(psiPValue(3, 10, Number.NaN, 100)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    // Two bins are one degree of freedom.
    expect(psiPValue(0.5, 2, 10, 10)).toMatchObject({ statistic: 2.5, dof: 1 });
  });
});

describe('wassersteinPValue', () => {
  it('simulates the null exactly as the independent reimplementation does (generator, bridge, integral)', () => {
    for (const c of reference.cases) {
      c.statistics.forEach((statistic, i) => {
        // n = m = 2: √(n·m/(n+m)) = 1, so the statistic is the distance.
        const result = wassersteinPValue(statistic, QUANTILES[c.quantile], 2, 2, c.seed, {
          cells: c.cells,
          draws: c.draws,
        });
        expect(result, `${c.quantile} seed ${c.seed} statistic ${statistic}`).toEqual({
          statistic,
          pValue: c.pValues[i],
          dof: 0,
        });
      });
    }
  });

  it('counts a draw equal to the statistic as at least as large', () => {
    // The first simulated integral of the first case, as the reimplementation computed it (bit for bit).
    const c = reference.cases[0] as (typeof reference.cases)[0] & { firstIntegrals: number[] };
    const options = { cells: c.cells, draws: c.draws };
    const tie = c.firstIntegrals[0];
    const at = wassersteinPValue(tie, QUANTILES[c.quantile], 2, 2, c.seed, options).pValue;
    const above = wassersteinPValue(tie * (1 + 1e-12), QUANTILES[c.quantile], 2, 2, c.seed, options).pValue;
    expect(at - above).toBeCloseTo(1 / (c.draws + 1), 15);
  });

  it('drops a step between quantiles that overflows to infinity', () => {
    // −1e308 to 1e308 is no finite step: no spread is left, so a positive distance gets the smallest p-value.
    const huge = (u: number) => (u < 0.5 ? -1e308 : 1e308);
    expect(wassersteinPValue(1, huge, 2, 2, 1, { cells: 8, draws: 9 })).toEqual({
      statistic: 1,
      pValue: 0.1,
      dof: 0,
    });
  });

  it('scales the distance by √(n·m/(n+m)) and never gives p = 0', () => {
    const result = wassersteinPValue(1, QUANTILES['uniform-0-10'], 300, 200, 7, { cells: 8, draws: 20 });
    expect(result.statistic).toBeCloseTo(Math.sqrt(120), 12);
    // Far above every draw: (1 + 0) / (1 + 20).
    expect(result.pValue).toBe(1 / 21);
    // Zero distance: every draw is at least 0.
    expect(wassersteinPValue(0, QUANTILES['uniform-0-10'], 300, 200, 7, { cells: 8, draws: 20 }).pValue).toBe(
      1,
    );
  });

  it('uses 256 cells and 5000 draws by default', () => {
    expect(WASSERSTEIN_NULL).toEqual({ cells: 256, draws: 5000 });
    const defaults = wassersteinPValue(1e9, QUANTILES['uniform-0-10'], 2, 2, 1);
    expect(defaults.pValue).toBe(1 / 5001);
  });

  it('gives p = 1 for no distance and the smallest p-value otherwise when the reference has no spread', () => {
    const constant = () => 4;
    expect(wassersteinPValue(0, constant, 10, 10, 1, { draws: 99 })).toEqual({
      statistic: 0,
      pValue: 1,
      dof: 0,
    });
    expect(wassersteinPValue(0.5, constant, 8, 8, 1, { draws: 99 })).toEqual({
      statistic: 1,
      pValue: 0.01,
      dof: 0,
    });
    // Infinite or decreasing quantiles add no spread either.
    const infinite = (u: number) => (u === 0 ? Number.NEGATIVE_INFINITY : 4);
    expect(wassersteinPValue(0.5, infinite, 8, 8, 1, { draws: 9 }).pValue).toBe(0.1);
    const decreasing = (u: number) => -u;
    expect(wassersteinPValue(0.5, decreasing, 8, 8, 1, { draws: 9 }).pValue).toBe(0.1);
  });

  it('leaves out an infinite first step and counts only the finite increments', () => {
    // quantile(0) = −∞ then 10·u: the first step is dropped, the rest is the uniform reference's.
    const uniform = QUANTILES['uniform-0-10'];
    const tail = (u: number) => (u === 0 ? Number.NEGATIVE_INFINITY : uniform(u));
    const a = wassersteinPValue(1.5, tail, 2, 2, 3, { cells: 8, draws: 200 });
    const b = wassersteinPValue(1.5, (u) => (u <= 1 / 8 ? 10 / 8 : uniform(u)), 2, 2, 3, {
      cells: 8,
      draws: 200,
    });
    expect(a).toEqual(b);
    expect(a.pValue).toBeGreaterThan(0.005);
    expect(a.pValue).toBeLessThan(1);
  });
});

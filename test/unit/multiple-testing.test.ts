import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gTestHomogeneity } from '../../src/core/stats/chi-square.ts';
import { psiPValue } from '../../src/core/stats/drift-p-values.ts';
import { adjustPValues, type PValueCorrection } from '../../src/core/stats/multiple-testing.ts';
import { chiSquareSurvival } from '../../src/core/stats/special-functions.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/drift/reference-values.json', import.meta.url), 'utf8'),
) as {
  multipleTests: ({ case: string; pValues: number[] } & Record<PValueCorrection, number[]>)[];
  gTest: {
    case: string;
    reference: number[];
    current: number[];
    statistic: number;
    pValue: number;
    dof: number;
  }[];
};

describe('adjustPValues matches statsmodels multipletests', () => {
  for (const family of fixture.multipleTests) {
    for (const correction of ['holm', 'benjamini-hochberg', 'bonferroni'] as const) {
      it(`${correction}: ${family.case}`, () => {
        const adjusted = adjustPValues(family.pValues, correction);
        expect(adjusted).toHaveLength(family.pValues.length);
        adjusted.forEach((value, i) => {
          expect(Math.abs(value - family[correction][i])).toBeLessThanOrEqual(1e-12);
        });
      });
    }
  }

  it('none returns the p-values; NaN stays NaN and does not count in the family', () => {
    expect(adjustPValues([0.2, 0.01], 'none')).toEqual([0.2, 0.01]);
    const adjusted = adjustPValues([0.01, Number.NaN, 0.02], 'bonferroni');
    expect(adjusted[0]).toBeCloseTo(0.02, 15);
    expect(adjusted[1]).toBeNaN();
    expect(adjusted[2]).toBeCloseTo(0.04, 15);
    expect(() => adjustPValues([1.5], 'holm')).toThrow(RangeError);
  });

  it('rejects a p-value below 0 or above 1, naming it and its position', () => {
    for (const correction of ['holm', 'benjamini-hochberg', 'bonferroni', 'none'] as const) {
      expect(() => adjustPValues([0.2, -0.01], correction)).toThrow(
        new RangeError('adjustPValues: p-value -0.01 at 1 is not in [0, 1]'),
      );
      expect(() => adjustPValues([1.5, 0.2], correction)).toThrow(
        new RangeError('adjustPValues: p-value 1.5 at 0 is not in [0, 1]'),
      );
      expect(() => adjustPValues([Number.POSITIVE_INFINITY], correction)).toThrow(RangeError);
    }
    // The ends of the interval are p-values.
    expect(adjustPValues([0, 1], 'holm')).toEqual([0, 1]);
  });

  it('returns exactly one entry per input, nothing more (values exact in binary)', () => {
    // Holm: sorted 0.125, 0.25, 0.5 → 3·0.125, max(0.375, 2·0.25), max(0.5, 1·0.5).
    expect(adjustPValues([0.25, 0.5, 0.125], 'holm')).toEqual([0.5, 0.5, 0.375]);
    // Benjamini–Hochberg: from the largest down, min of 3/3·0.5, 3/2·0.25, 3/1·0.125.
    expect(adjustPValues([0.25, 0.5, 0.125], 'benjamini-hochberg')).toEqual([0.375, 0.5, 0.375]);
    expect(adjustPValues([0.25, 0.5, 0.125], 'bonferroni')).toEqual([0.75, 1, 0.375]);
    expect(adjustPValues([0.25, Number.NaN, 0.125], 'holm')).toEqual([0.25, Number.NaN, 0.25]);
    expect(adjustPValues([], 'holm')).toEqual([]);
    expect(adjustPValues([Number.NaN, Number.NaN], 'benjamini-hochberg')).toEqual([Number.NaN, Number.NaN]);
  });
});

describe('gTestHomogeneity matches scipy (lambda_="log-likelihood")', () => {
  for (const c of fixture.gTest) {
    it(c.case, () => {
      const result = gTestHomogeneity(c.reference, c.current);
      expect(result.dof).toBe(c.dof);
      expect(Math.abs(result.statistic - c.statistic)).toBeLessThanOrEqual(1e-9 * Math.max(1, c.statistic));
      expect(Math.abs(result.pValue - c.pValue)).toBeLessThanOrEqual(1e-9);
    });
  }
});

describe('psiPValue', () => {
  it('reads PSI·nm/(n+m) as chi-square with bins − 1 degrees of freedom', () => {
    const result = psiPValue(0.05, 10, 400, 100);
    expect(result.statistic).toBeCloseTo(4, 12);
    expect(result.dof).toBe(9);
    expect(result.pValue).toBe(chiSquareSurvival(4, 9));
    expect(psiPValue(0.3, 1, 400, 100)).toEqual({ statistic: 0, pValue: 1, dof: 0 });
  });
});

/**
 * Tests of homogeneity for two rows of category counts: Pearson's chi-square and the G-test.
 */
import { chiSquareSurvival } from './special-functions.ts';

export interface ChiSquareResult {
  /** Pearson's statistic Σ (observed − expected)² / expected over the 2×K table. */
  statistic: number;
  /** P(χ²(dof) ≥ statistic); 1 when dof is 0. */
  pValue: number;
  /** Degrees of freedom, K − 1 for the K categories left after dropping empty ones. */
  dof: number;
}

/**
 * Chi-square test that two samples of a categorical variable come from the same distribution, as
 * `scipy.stats.chi2_contingency([reference, current], correction=False)` on the 2×K table of
 * counts (`reference[k]`, `current[k]` are the counts of category k in each sample).
 *
 * Categories with a zero count in both rows are dropped first (scipy would reject their zero
 * expected frequency; they carry no information). With one category left, dof = 0 and the result
 * is statistic 0, p-value 1, as scipy. Expected counts are rowTotal·columnTotal/total and the
 * p-value is the chi-square survival function (`scipy.stats.chi2.sf`).
 *
 * Throws RangeError when the rows differ in length, a count is negative or not finite, or a row
 * sums to zero (scipy's "expected frequency has a zero element").
 */
export function chiSquareHomogeneity(reference: number[], current: number[]): ChiSquareResult {
  const table = twoRowTable(reference, current, 'chiSquareHomogeneity');
  if (table.dof === 0) return { statistic: 0, pValue: 1, dof: 0 };
  const { ref, cur, refTotal, curTotal, dof } = table;
  const total = refTotal + curTotal;
  // numpy sums the table row by row; the order only changes the last bits.
  let statistic = 0;
  for (const [row, rowTotal] of [
    [ref, refTotal],
    [cur, curTotal],
  ] as const) {
    for (let k = 0; k < row.length; k++) {
      const expected = (rowTotal * (ref[k] + cur[k])) / total;
      const diff = row[k] - expected;
      statistic += (diff * diff) / expected;
    }
  }
  return { statistic, pValue: chiSquareSurvival(statistic, dof), dof };
}

/**
 * The likelihood-ratio (G) test of homogeneity of the same 2×K table, as
 * `scipy.stats.chi2_contingency([reference, current], correction=False, lambda_="log-likelihood")`:
 * G = 2 Σ O·ln(O / E), K − 1 degrees of freedom. G is 2·N times the Jensen–Shannon divergence (in
 * nats) weighted by the two sample sizes, which is why it is the test that goes with that
 * distance. Same table handling and errors as {@link chiSquareHomogeneity}.
 */
export function gTestHomogeneity(reference: number[], current: number[]): ChiSquareResult {
  const table = twoRowTable(reference, current, 'gTestHomogeneity');
  if (table.dof === 0) return { statistic: 0, pValue: 1, dof: 0 };
  const { ref, cur, refTotal, curTotal, dof } = table;
  const total = refTotal + curTotal;
  let g = 0;
  for (const [row, rowTotal] of [
    [ref, refTotal],
    [cur, curTotal],
  ] as const) {
    for (let k = 0; k < row.length; k++) {
      if (row[k] === 0) continue;
      g += row[k] * Math.log(row[k] / ((rowTotal * (ref[k] + cur[k])) / total));
    }
  }
  const statistic = Math.max(0, 2 * g);
  return { statistic, pValue: chiSquareSurvival(statistic, dof), dof };
}

/** The two rows without the categories empty in both, their totals and K − 1; throws RangeError on bad counts. */
function twoRowTable(
  reference: number[],
  current: number[],
  caller: string,
): { ref: number[]; cur: number[]; refTotal: number; curTotal: number; dof: number } {
  if (reference.length !== current.length) {
    throw new RangeError(`${caller}: rows differ in length (${reference.length} vs ${current.length})`);
  }
  const ref: number[] = [];
  const cur: number[] = [];
  let refTotal = 0;
  let curTotal = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k];
    const c = current[k];
    if (!(Number.isFinite(r) && Number.isFinite(c) && r >= 0 && c >= 0)) {
      throw new RangeError(`${caller}: counts must be finite and non-negative (category ${k})`);
    }
    if (r === 0 && c === 0) continue;
    ref.push(r);
    cur.push(c);
    refTotal += r;
    curTotal += c;
  }
  if (refTotal === 0 || curTotal === 0) {
    throw new RangeError(`${caller}: a row has no counts, so its expected frequencies are zero`);
  }
  return { ref, cur, refTotal, curTotal, dof: ref.length - 1 };
}

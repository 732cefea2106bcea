/**
 * Per-column drift: does a column's distribution in the current data differ from the reference?
 *
 * Decoupled from the profile: callers describe each side as a {@link ColumnDistribution} (kept
 * values when there are few, CDF/quantile functions from sketches otherwise, category counts), and
 * {@link compareDistributions} picks the test, runs it and says whether the column drifted.
 */
import { ConfigurationError } from '../errors.ts';
import { chiSquareHomogeneity } from '../stats/chi-square.ts';
import {
  jensenShannonDistance,
  normalizeWasserstein,
  psiOnQuantileBins,
  quantileBinEdges,
  wassersteinDistanceSorted,
  wassersteinFromQuantiles,
} from '../stats/distances.ts';
import { empiricalCdf, empiricalQuantile, sampleStd, sortSample } from '../stats/empirical.ts';
import { ksTwoSampleSorted } from '../stats/kolmogorov-smirnov.ts';

/** One side of a drift comparison. */
export type ColumnDistribution =
  | {
      kind: 'numeric';
      /** Non-missing values. */
      count: number;
      /** Every value, sorted ascending, when they were kept; null when only sketches exist. */
      sorted: Float64Array | null;
      /** P(X ≤ x). */
      cdf(x: number): number;
      /** The q-quantile, 0 ≤ q ≤ 1. */
      quantile(q: number): number;
      /** Sample standard deviation (ddof = 1). */
      std: number;
    }
  | {
      kind: 'categorical';
      /** Non-missing values. */
      count: number;
      /** Exact count of each category (as text); null when there were too many to count exactly. */
      counts: Map<string, number> | null;
    };

/** Names of the drift tests, as they appear in configs and reports. */
export const DRIFT_TESTS = {
  ks: 'kolmogorov-smirnov',
  chiSquare: 'chi-square',
  psi: 'psi',
  jensenShannon: 'jensen-shannon',
  wasserstein: 'wasserstein',
} as const;
export type DriftTestName = (typeof DRIFT_TESTS)[keyof typeof DRIFT_TESTS];

const NUMERIC_TESTS: readonly DriftTestName[] = [DRIFT_TESTS.ks, DRIFT_TESTS.psi, DRIFT_TESTS.wasserstein];
const CATEGORICAL_TESTS: readonly DriftTestName[] = [DRIFT_TESTS.chiSquare, DRIFT_TESTS.jensenShannon];
const P_VALUE_TESTS: readonly DriftTestName[] = [DRIFT_TESTS.ks, DRIFT_TESTS.chiSquare];

export interface DriftOptions {
  /** Samples up to this size (on both sides) get a statistical test (KS, chi-square); default 1000. */
  smallSampleMax: number;
  /** A test's p-value below this means drift; default 0.05. */
  pValue: number;
  /** PSI at or above this means drift; default 0.2. */
  psi: number;
  /** Jensen–Shannon distance (base 2) at or above this means drift; default 0.1. */
  jensenShannon: number;
  /** Normalized Wasserstein distance (distance / reference std) at or above this means drift; default 0.1. */
  wasserstein: number;
  /** Per-column overrides: another applicable test, and/or another threshold. */
  columns?: Record<string, { test?: DriftTestName; threshold?: number }>;
}

export interface ColumnDrift {
  column: string;
  test: DriftTestName;
  /** KS D, chi-square χ², PSI, Jensen–Shannon distance, or normalized Wasserstein; 0 when skipped (see `note`). */
  statistic: number;
  /** For the KS and chi-square tests. */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  referenceCount: number;
  currentCount: number;
  /** Categories of the current data absent from the reference, most frequent first. */
  unseenCategories?: { value: string; count: number }[];
  /** Why the comparison was skipped or approximated, when it was. */
  note?: string;
}

/** At most this many unseen categories are listed (the most frequent); the note gives the total. */
export const MAX_UNSEEN_CATEGORIES = 100;
/** Quantile steps for the Wasserstein distance when only sketches are available. */
const WASSERSTEIN_QUANTILE_STEPS = 1000;

/**
 * Compares one column's current distribution with the reference's.
 *
 * Test choice (the chosen test is named in the result):
 * - numeric, both sides with at most `smallSampleMax` values and every value kept → two-sample
 *   Kolmogorov–Smirnov (`scipy.stats.ks_2samp`, method auto); drifted when p < `pValue`;
 * - numeric otherwise → PSI on the reference deciles (10 bins, interior edges at the reference's
 *   quantiles 0.1…0.9, duplicates removed, shares floored at 1e-4); drifted when PSI ≥ `psi`;
 * - categorical, both sides with at most `smallSampleMax` values → chi-square test of homogeneity on
 *   the union of categories (`scipy.stats.chi2_contingency`, no continuity correction); drifted when
 *   p < `pValue`;
 * - categorical otherwise → Jensen–Shannon distance, base 2, on the union of categories; drifted when
 *   ≥ `jensenShannon`.
 *
 * `options.columns[column]` may pick another test applicable to the column's kind (numeric: KS,
 * PSI, Wasserstein; categorical: chi-square, Jensen–Shannon) and/or another threshold, which then
 * applies to whichever test runs. Wasserstein is normalized by the reference's sample std (by 1
 * when that is 0) and, without kept values, integrated from the quantile functions (noted).
 * An inapplicable test (wrong kind, or KS without kept values) or an invalid threshold throws a
 * {@link ConfigurationError} naming the column.
 *
 * Not compared (drifted false, statistic 0, with a `note`): a side without values, or categorical
 * counts that were not kept exactly (too many categories) — better no answer than a guessed one.
 * Categories present in the current data but not in the reference are listed in `unseenCategories`.
 * Throws a TypeError when one side is numeric and the other categorical (the caller decides kinds).
 */
export function compareDistributions(
  column: string,
  reference: ColumnDistribution,
  current: ColumnDistribution,
  options: DriftOptions,
): ColumnDrift {
  if (reference.kind !== current.kind) {
    throw new TypeError(
      `Column "${column}" is ${reference.kind} in the reference but ${current.kind} in the current data; drift compares like with like.`,
    );
  }
  const override = options.columns?.[column];
  const test = chooseTest(column, reference, current, options, override?.test);
  const threshold = override?.threshold ?? defaultThreshold(test, options);
  checkThreshold(column, test, threshold, override?.threshold !== undefined);
  const base = { column, test, threshold, referenceCount: reference.count, currentCount: current.count };

  if (reference.count === 0 || current.count === 0) {
    const side = reference.count === 0 ? 'reference' : 'current';
    return {
      ...base,
      statistic: 0,
      drifted: false,
      note: `no values in the ${side} data; nothing to compare.`,
    };
  }
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    return compareNumeric(base, reference, current);
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    return compareCategorical(base, reference, current);
  }
  throw new TypeError('unreachable');
}

type NumericDistribution = Extract<ColumnDistribution, { kind: 'numeric' }>;
type CategoricalDistribution = Extract<ColumnDistribution, { kind: 'categorical' }>;
type DriftBase = Pick<ColumnDrift, 'column' | 'test' | 'threshold' | 'referenceCount' | 'currentCount'>;

function chooseTest(
  column: string,
  reference: ColumnDistribution,
  current: ColumnDistribution,
  options: DriftOptions,
  requested: DriftTestName | undefined,
): DriftTestName {
  const small = reference.count <= options.smallSampleMax && current.count <= options.smallSampleMax;
  const key = `drift.columns.${column}.test`;
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    const kept = reference.sorted !== null && current.sorted !== null;
    if (requested === undefined) return small && kept ? DRIFT_TESTS.ks : DRIFT_TESTS.psi;
    if (!NUMERIC_TESTS.includes(requested)) {
      throw new ConfigurationError(
        `Drift test "${requested}" does not apply to numeric column "${column}"; use one of ${NUMERIC_TESTS.join(', ')}.`,
        { key },
      );
    }
    if (requested === DRIFT_TESTS.ks && !kept && reference.count > 0 && current.count > 0) {
      const side = reference.sorted === null ? 'reference' : 'current';
      const count = side === 'reference' ? reference.count : current.count;
      throw new ConfigurationError(
        `Drift test "kolmogorov-smirnov" on column "${column}" needs every value, but the ${side} data has ${count} values and only a sketch of them was kept; use "psi" or "wasserstein", or raise the profile's exact-values limit.`,
        { key },
      );
    }
    return requested;
  }
  if (requested === undefined) return small ? DRIFT_TESTS.chiSquare : DRIFT_TESTS.jensenShannon;
  if (!CATEGORICAL_TESTS.includes(requested)) {
    throw new ConfigurationError(
      `Drift test "${requested}" does not apply to categorical column "${column}"; use one of ${CATEGORICAL_TESTS.join(', ')}.`,
      { key },
    );
  }
  return requested;
}

function defaultThreshold(test: DriftTestName, options: DriftOptions): number {
  switch (test) {
    case DRIFT_TESTS.ks:
    case DRIFT_TESTS.chiSquare:
      return options.pValue;
    case DRIFT_TESTS.psi:
      return options.psi;
    case DRIFT_TESTS.jensenShannon:
      return options.jensenShannon;
    case DRIFT_TESTS.wasserstein:
      return options.wasserstein;
  }
}

function checkThreshold(column: string, test: DriftTestName, threshold: number, overridden: boolean): void {
  const key = overridden ? `drift.columns.${column}.threshold` : 'drift';
  if (!(Number.isFinite(threshold) && threshold > 0)) {
    throw new ConfigurationError(
      `The ${test} drift threshold for column "${column}" must be a positive number; got ${threshold}.`,
      { key },
    );
  }
  if (P_VALUE_TESTS.includes(test) && threshold >= 1) {
    throw new ConfigurationError(
      `The ${test} drift threshold for column "${column}" is a p-value and must be below 1; got ${threshold}. (A threshold without a "test" applies to the test chosen automatically: set "test" too.)`,
      { key },
    );
  }
}

function compareNumeric(
  base: DriftBase,
  reference: NumericDistribution,
  current: NumericDistribution,
): ColumnDrift {
  switch (base.test) {
    case DRIFT_TESTS.ks: {
      // chooseTest guarantees kept values for KS.
      const result = ksTwoSampleSorted(reference.sorted!, current.sorted!, 'auto');
      return withPValue(base, result.statistic, result.pValue);
    }
    case DRIFT_TESTS.wasserstein: {
      const exact = reference.sorted !== null && current.sorted !== null;
      const distance = exact
        ? wassersteinDistanceSorted(reference.sorted!, current.sorted!)
        : wassersteinFromQuantiles(reference.quantile, current.quantile, WASSERSTEIN_QUANTILE_STEPS);
      const statistic = normalizeWasserstein(distance, reference.std);
      const notes: string[] = [];
      if (!exact) notes.push(`approximated from quantile sketches (${WASSERSTEIN_QUANTILE_STEPS} steps)`);
      if (!(Number.isFinite(reference.std) && reference.std > 0)) {
        notes.push('the reference has no spread (std 0), so the distance is in the column’s own units');
      }
      return {
        ...base,
        statistic,
        drifted: statistic >= base.threshold,
        ...(notes.length ? { note: `${capitalize(notes.join('; '))}.` } : {}),
      };
    }
    default: {
      const edges = quantileBinEdges(reference.quantile);
      const { statistic } = psiOnQuantileBins(reference.cdf, current.cdf, edges);
      return { ...base, statistic, drifted: statistic >= base.threshold };
    }
  }
}

function compareCategorical(
  base: DriftBase,
  reference: CategoricalDistribution,
  current: CategoricalDistribution,
): ColumnDrift {
  if (reference.counts === null || current.counts === null) {
    const side =
      reference.counts === null && current.counts === null
        ? 'both data sets'
        : reference.counts === null
          ? 'the reference'
          : 'the current data';
    return {
      ...base,
      statistic: 0,
      drifted: false,
      note: `not compared: ${side} had too many distinct values to count each one exactly.`,
    };
  }
  const categories = [...new Set([...reference.counts.keys(), ...current.counts.keys()])].sort();
  const refCounts = categories.map((c) => reference.counts!.get(c) ?? 0);
  const curCounts = categories.map((c) => current.counts!.get(c) ?? 0);
  const unseen = [...current.counts]
    .filter(([value, count]) => count > 0 && !((reference.counts!.get(value) ?? 0) > 0))
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const extra: Partial<ColumnDrift> = {};
  if (unseen.length > 0) {
    extra.unseenCategories = unseen.slice(0, MAX_UNSEEN_CATEGORIES);
    if (unseen.length > MAX_UNSEEN_CATEGORIES) {
      extra.note = `${unseen.length} categories are absent from the reference; the ${MAX_UNSEEN_CATEGORIES} most frequent are listed.`;
    }
  }
  const refTotal = refCounts.reduce((s, c) => s + c, 0);
  const curTotal = curCounts.reduce((s, c) => s + c, 0);
  if (refTotal === 0 || curTotal === 0) {
    const side = refTotal === 0 ? 'reference' : 'current';
    return {
      ...base,
      statistic: 0,
      drifted: false,
      ...extra,
      note: `no counted values in the ${side} data; nothing to compare.`,
    };
  }
  if (base.test === DRIFT_TESTS.chiSquare) {
    const result = chiSquareHomogeneity(refCounts, curCounts);
    return { ...withPValue(base, result.statistic, result.pValue), ...extra };
  }
  const statistic = jensenShannonDistance(refCounts, curCounts);
  return { ...base, statistic, drifted: statistic >= base.threshold, ...extra };
}

function withPValue(base: DriftBase, statistic: number, pValue: number): ColumnDrift {
  return { ...base, statistic, pValue, drifted: pValue < base.threshold };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * A {@link ColumnDistribution} from kept numeric values (NaN dropped): the exact ECDF, numpy's
 * default (linear) quantile and the sample std. For callers and tests that hold raw values.
 */
export function numericDistribution(values: ArrayLike<number>): ColumnDistribution {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept.push(values[i]);
  const sorted = sortSample(kept);
  const n = sorted.length;
  return {
    kind: 'numeric',
    count: n,
    sorted,
    cdf: n > 0 ? empiricalCdf(sorted) : () => 0,
    quantile: (q) => (n > 0 ? empiricalQuantile(sorted, q) : Number.NaN),
    std: sampleStd(sorted),
  };
}

/** A categorical {@link ColumnDistribution} from raw values (counted exactly). */
export function categoricalDistribution(values: Iterable<string>): ColumnDistribution {
  const counts = new Map<string, number>();
  let count = 0;
  for (const value of values) {
    counts.set(value, (counts.get(value) ?? 0) + 1);
    count++;
  }
  return { kind: 'categorical', count, counts };
}

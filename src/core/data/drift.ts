/**
 * Per-column drift: does a column's distribution in the current data differ from the reference?
 *
 * Decoupled from the profile: callers describe each side as a {@link ColumnDistribution} (kept
 * values when there are few, CDF/quantile functions from sketches otherwise, category counts);
 * {@link compareDistributions} picks the test and measures a statistic, its p-value and an effect
 * size; {@link decideDrift} then decides for all columns of a run together, with p-values adjusted
 * for the number of columns and an effect-size floor, so that a large sample's negligible shift
 * is not called drift and 30 columns do not multiply the false alarms by 30.
 */
import { ConfigurationError } from '../errors.ts';
import { chiSquareHomogeneity, gTestHomogeneity } from '../stats/chi-square.ts';
import {
  jensenShannonDistance,
  normalizeWasserstein,
  psiOnQuantileBins,
  quantileBinEdges,
  wassersteinDistanceSorted,
  wassersteinFromQuantiles,
} from '../stats/distances.ts';
import { psiPValue, WASSERSTEIN_NULL, wassersteinPValue } from '../stats/drift-p-values.ts';
import { empiricalCdf, empiricalQuantile, sampleStd, sortSample } from '../stats/empirical.ts';
import { ksTwoSampleSorted } from '../stats/kolmogorov-smirnov.ts';
import { adjustPValues, P_VALUE_CORRECTION_NAMES, type PValueCorrection } from '../stats/multiple-testing.ts';

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

/** The effect-size measure each test is judged by against its floor. */
export const EFFECT_MEASURES = {
  [DRIFT_TESTS.ks]: 'ks-statistic',
  [DRIFT_TESTS.psi]: 'psi',
  [DRIFT_TESTS.wasserstein]: 'normalized-wasserstein',
  [DRIFT_TESTS.chiSquare]: 'jensen-shannon',
  [DRIFT_TESTS.jensenShannon]: 'jensen-shannon',
} as const satisfies Record<DriftTestName, string>;
export type EffectMeasure = (typeof EFFECT_MEASURES)[DriftTestName];

/** How each column's comparison ended. */
export const DRIFT_DECISIONS = {
  /** Significant after the correction and at least the effect floor: drift. */
  drifted: 'drifted',
  /** Significant after the correction but below the effect floor: reported as info. */
  negligible: 'negligible',
  /** Not significant after the correction. */
  stable: 'stable',
  /** Nothing to compare (no values on one side, too many categories to count). */
  notCompared: 'not-compared',
} as const;
export type DriftDecision = (typeof DRIFT_DECISIONS)[keyof typeof DRIFT_DECISIONS];

const NUMERIC_TESTS: readonly DriftTestName[] = [DRIFT_TESTS.ks, DRIFT_TESTS.psi, DRIFT_TESTS.wasserstein];
const CATEGORICAL_TESTS: readonly DriftTestName[] = [DRIFT_TESTS.chiSquare, DRIFT_TESTS.jensenShannon];

export interface DriftOptions {
  /** Samples up to this size (on both sides) get KS or chi-square; larger ones PSI or Jensen–Shannon; default 1000. */
  smallSampleMax: number;
  /** A column is significant when its adjusted p-value is below this (the family's error rate); default 0.05. */
  pValue: number;
  /** How p-values are adjusted across the columns of one run; default Holm. */
  correction: PValueCorrection;
  /** Effect floors: the smallest effect that counts as drift, per measure (defaults 0.1). */
  ks: number;
  psi: number;
  jensenShannon: number;
  wasserstein: number;
  /**
   * Dataset-level drift: when set, the data set drifts when at least this share of the compared
   * columns drifted (Evidently's "share of drifted columns"); drifted columns are then warnings.
   */
  datasetShare?: number;
  /** Per-column overrides: another applicable test, and/or another effect floor. */
  columns?: Record<string, { test?: DriftTestName; minEffect?: number; threshold?: number }>;
}

/** One column's comparison before the family's decision: statistic, raw p-value, effect size. */
export interface ColumnComparison {
  column: string;
  test: DriftTestName;
  /** KS D, chi-square χ², PSI, Jensen–Shannon distance, or normalized Wasserstein; 0 when not compared. */
  statistic: number;
  /** The test's own p-value (not adjusted); absent when not compared. */
  pValue?: number;
  /** How the p-value was obtained. */
  pValueMethod?: string;
  effectSize: { measure: EffectMeasure; value: number; floor: number };
  referenceCount: number;
  currentCount: number;
  /** Categories of the current data absent from the reference, most frequent first. */
  unseenCategories?: { value: string; count: number }[];
  /** Why the comparison was skipped or approximated, when it was. */
  note?: string;
}

/** One column's comparison with the family's decision. */
export interface ColumnDrift extends ColumnComparison {
  /** The p-value adjusted across the columns of this run (see `correction`). */
  adjustedPValue?: number;
  decision: DriftDecision;
  /** True when `decision` is `drifted`. */
  drifted: boolean;
  /** The rule that decided, with its numbers. */
  rule: string;
}

/** The decision over all columns of one comparison. */
export interface DriftDecisions {
  columns: ColumnDrift[];
  /** How the p-values were adjusted, and the level. */
  correction: PValueCorrection;
  level: number;
  /** Present when dataset-level drift is on. */
  dataset?: { share: number; drifted: number; compared: number; result: boolean; rule: string };
}

/** At most this many unseen categories are listed (the most frequent); the note gives the total. */
export const MAX_UNSEEN_CATEGORIES = 100;
/** Quantile steps for the Wasserstein distance when only sketches are available. */
const WASSERSTEIN_QUANTILE_STEPS = 1000;

/**
 * Compares one column's current distribution with the reference's: a statistic, its p-value under
 * "same distribution", and an effect size. Whether the column drifted is decided for all columns
 * together by {@link decideDrift}, which adjusts the p-values for the number of columns.
 *
 * Test choice (the chosen test is named in the result):
 * - numeric, both sides with at most `smallSampleMax` values and every value kept → two-sample
 *   Kolmogorov–Smirnov (`scipy.stats.ks_2samp`, method auto); effect: D;
 * - numeric otherwise → PSI on the reference deciles (10 bins, interior edges at the reference's
 *   quantiles 0.1…0.9, duplicates removed, shares floored at 1e-4); p-value from PSI·nm/(n+m) as
 *   chi-square with bins − 1 degrees of freedom; effect: PSI;
 * - categorical, both sides with at most `smallSampleMax` values → chi-square test of homogeneity
 *   (`scipy.stats.chi2_contingency`, no continuity correction); effect: Jensen–Shannon distance;
 * - categorical otherwise → Jensen–Shannon distance (base 2), p-value from the G-test on the
 *   same counts; effect: the distance;
 * - Wasserstein (on request): normalized by the reference's std, p-value simulated from its
 *   Brownian-bridge limit through the reference's quantiles; effect: the normalized distance.
 *
 * `options.columns[column]` may pick another test applicable to the column's kind and/or another
 * effect floor. An inapplicable test (wrong kind, or KS without kept values) or an invalid floor
 * throws a {@link ConfigurationError} naming the column.
 *
 * Not compared (no p-value, with a `note`): a side without values, or categorical counts that
 * were not kept exactly (too many categories). Throws a TypeError when one side is numeric and the
 * other categorical (the caller decides kinds).
 */
export function compareDistributions(
  column: string,
  reference: ColumnDistribution,
  current: ColumnDistribution,
  options: DriftOptions,
): ColumnComparison {
  if (reference.kind !== current.kind) {
    throw new TypeError(
      `Column "${column}" is ${reference.kind} in the reference but ${current.kind} in the current data; drift compares like with like.`,
    );
  }
  const override = options.columns?.[column];
  const test = chooseTest(column, reference, current, options, override?.test);
  const measure = EFFECT_MEASURES[test];
  const floor = override?.minEffect ?? defaultFloor(measure, options);
  checkFloor(column, measure, floor, override?.minEffect !== undefined);
  const base: DriftBase = {
    column,
    test,
    referenceCount: reference.count,
    currentCount: current.count,
    measure,
    floor,
  };

  if (reference.count === 0 || current.count === 0) {
    const side = reference.count === 0 ? 'reference' : 'current';
    return notCompared(base, `no values in the ${side} data; nothing to compare.`);
  }
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    return compareNumeric(base, reference, current);
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    return compareCategorical(base, reference, current);
  }
  // Stryker disable next-line StringLiteral: unreachable (the kinds are equal, and numeric or categorical)
  throw new TypeError('unreachable');
}

/**
 * Decides drift for the columns of one run together: the raw p-values are adjusted by
 * `options.correction` (Holm by default, so that two samples from one distribution flag any
 * column in at most `pValue` of runs, however many columns there are); a column is `drifted`
 * when its adjusted p-value is below `pValue` and its effect size is at least its floor,
 * `negligible` when significant but below the floor, `stable` otherwise. With `datasetShare`,
 * the data set drifts when at least that share of the compared columns drifted.
 */
export function decideDrift(comparisons: readonly ColumnComparison[], options: DriftOptions): DriftDecisions {
  checkLevel(options);
  const raw = comparisons.map((c) => (c.pValue === undefined ? Number.NaN : c.pValue));
  const adjusted = adjustPValues(raw, options.correction);
  const name = CORRECTION_LABELS[options.correction];
  const level = options.pValue;
  const columns = comparisons.map((comparison, i): ColumnDrift => {
    if (comparison.pValue === undefined) {
      return {
        ...comparison,
        decision: DRIFT_DECISIONS.notCompared,
        drifted: false,
        rule: `not compared: ${comparison.note ?? 'no values'}`,
      };
    }
    const p = adjusted[i];
    const { measure, value, floor } = comparison.effectSize;
    const effect = `${EFFECT_LABELS[measure]} ${formatStatistic(value)}`;
    const pText = `${name} p-value ${formatStatistic(p)}`;
    let decision: DriftDecision;
    let rule: string;
    if (!(p < level)) {
      decision = DRIFT_DECISIONS.stable;
      rule = `${pText} ≥ ${level}: no significant change`;
    } else if (value >= floor) {
      decision = DRIFT_DECISIONS.drifted;
      rule = `${pText} < ${level} and ${effect} ≥ ${floor}`;
    } else {
      decision = DRIFT_DECISIONS.negligible;
      rule = `${pText} < ${level}, but ${effect} < ${floor}: significant but negligible`;
    }
    return { ...comparison, adjustedPValue: p, decision, drifted: decision === 'drifted', rule };
  });
  const result: DriftDecisions = { columns, correction: options.correction, level };
  if (options.datasetShare !== undefined) {
    const compared = columns.filter((c) => c.decision !== DRIFT_DECISIONS.notCompared).length;
    const drifted = columns.filter((c) => c.drifted).length;
    const share = options.datasetShare;
    const observed = compared === 0 ? 0 : drifted / compared;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with nothing compared the observed share is 0, below any share (> 0)
    const drifts = compared > 0 && observed >= share;
    result.dataset = {
      share,
      drifted,
      compared,
      result: drifts,
      rule: `${drifted} of ${compared} compared columns drifted (${formatStatistic(observed * 100)}%) ${drifts ? '≥' : '<'} the dataset share ${formatStatistic(share * 100)}%`,
    };
  }
  return result;
}

const CORRECTION_LABELS: Record<PValueCorrection, string> = {
  holm: 'Holm-adjusted',
  'benjamini-hochberg': 'Benjamini–Hochberg-adjusted',
  bonferroni: 'Bonferroni-adjusted',
  none: 'unadjusted',
};

const EFFECT_LABELS: Record<EffectMeasure, string> = {
  'ks-statistic': 'KS D',
  psi: 'PSI',
  'normalized-wasserstein': 'normalized Wasserstein',
  'jensen-shannon': 'Jensen–Shannon distance',
};

type NumericDistribution = Extract<ColumnDistribution, { kind: 'numeric' }>;
type CategoricalDistribution = Extract<ColumnDistribution, { kind: 'categorical' }>;
interface DriftBase {
  column: string;
  test: DriftTestName;
  referenceCount: number;
  currentCount: number;
  measure: EffectMeasure;
  floor: number;
}

function result(
  base: DriftBase,
  statistic: number,
  test: { pValue: number; method: string },
  effect: number,
  extra: Partial<ColumnComparison> = {},
): ColumnComparison {
  const { measure, floor, ...rest } = base;
  return {
    ...rest,
    statistic,
    pValue: test.pValue,
    pValueMethod: test.method,
    effectSize: { measure, value: effect, floor },
    ...extra,
  };
}

function notCompared(base: DriftBase, note: string, extra: Partial<ColumnComparison> = {}): ColumnComparison {
  const { measure, floor, ...rest } = base;
  return { ...rest, statistic: 0, effectSize: { measure, value: 0, floor }, ...extra, note };
}

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

function defaultFloor(measure: EffectMeasure, options: DriftOptions): number {
  switch (measure) {
    case 'ks-statistic':
      return options.ks;
    case 'psi':
      return options.psi;
    case 'jensen-shannon':
      return options.jensenShannon;
    case 'normalized-wasserstein':
      return options.wasserstein;
  }
}

function checkFloor(column: string, measure: EffectMeasure, floor: number, overridden: boolean): void {
  const key = overridden ? `drift.columns.${column}.min-effect` : 'drift';
  if (!(Number.isFinite(floor) && floor >= 0)) {
    throw new ConfigurationError(
      `The ${EFFECT_LABELS[measure]} floor for column "${column}" must be a number ≥ 0; got ${floor}.`,
      { key },
    );
  }
  if ((measure === 'ks-statistic' || measure === 'jensen-shannon') && floor > 1) {
    throw new ConfigurationError(
      `The ${EFFECT_LABELS[measure]} floor for column "${column}" must be at most 1 (the measure lies in [0, 1]); got ${floor}.`,
      { key },
    );
  }
}

function checkLevel(options: DriftOptions): void {
  if (!(options.pValue > 0 && options.pValue < 1)) {
    throw new ConfigurationError(
      `drift.p-value must be between 0 and 1 (e.g. 0.05); got ${options.pValue}.`,
      {
        key: 'drift.p-value',
      },
    );
  }
  if (!P_VALUE_CORRECTION_NAMES.includes(options.correction)) {
    throw new ConfigurationError(
      `drift.correction must be one of ${P_VALUE_CORRECTION_NAMES.join(', ')}; got "${options.correction}".`,
      { key: 'drift.correction' },
    );
  }
  const share = options.datasetShare;
  if (share !== undefined && !(share > 0 && share <= 1)) {
    throw new ConfigurationError(`drift.dataset-share must be in (0, 1] (e.g. 0.5); got ${share}.`, {
      key: 'drift.dataset-share',
    });
  }
}

function compareNumeric(
  base: DriftBase,
  reference: NumericDistribution,
  current: NumericDistribution,
): ColumnComparison {
  switch (base.test) {
    case DRIFT_TESTS.ks: {
      // chooseTest guarantees kept values for KS.
      const ks = ksTwoSampleSorted(reference.sorted!, current.sorted!, 'auto');
      return result(
        base,
        ks.statistic,
        { pValue: ks.pValue, method: `two-sample KS, ${ks.method}` },
        ks.statistic,
      );
    }
    case DRIFT_TESTS.wasserstein: {
      const exact = reference.sorted !== null && current.sorted !== null;
      const distance = exact
        ? wassersteinDistanceSorted(reference.sorted!, current.sorted!)
        : wassersteinFromQuantiles(reference.quantile, current.quantile, WASSERSTEIN_QUANTILE_STEPS);
      const statistic = normalizeWasserstein(distance, reference.std);
      const test = wassersteinPValue(
        distance,
        reference.quantile,
        reference.count,
        current.count,
        seedOf(base.column),
      );
      const notes: string[] = [];
      if (!exact) notes.push(`approximated from quantile sketches (${WASSERSTEIN_QUANTILE_STEPS} steps)`);
      if (!(Number.isFinite(reference.std) && reference.std > 0)) {
        notes.push('the reference has no spread (std 0), so the distance is in the column’s own units');
      }
      return result(
        base,
        statistic,
        {
          pValue: test.pValue,
          method: `Brownian-bridge limit through the reference's quantiles, ${WASSERSTEIN_NULL.draws} simulated draws`,
        },
        statistic,
        notes.length ? { note: `${capitalize(notes.join('; '))}.` } : {},
      );
    }
    default: {
      const edges = quantileBinEdges(reference.quantile);
      const { statistic } = psiOnQuantileBins(reference.cdf, current.cdf, edges);
      const test = psiPValue(statistic, edges.length + 1, reference.count, current.count);
      return result(
        base,
        statistic,
        { pValue: test.pValue, method: `PSI·nm/(n+m) as chi-square with ${test.dof} degrees of freedom` },
        statistic,
      );
    }
  }
}

function compareCategorical(
  base: DriftBase,
  reference: CategoricalDistribution,
  current: CategoricalDistribution,
): ColumnComparison {
  if (reference.counts === null || current.counts === null) {
    const side =
      reference.counts === null && current.counts === null
        ? 'both data sets'
        : reference.counts === null
          ? 'the reference'
          : 'the current data';
    return notCompared(base, `not compared: ${side} had too many distinct values to count each one exactly.`);
  }
  // Sorted for a stable order in reports; the statistics do not depend on the order of categories.
  // Stryker disable next-line MethodExpression: see above
  const categories = [...new Set([...reference.counts.keys(), ...current.counts.keys()])].sort();
  const refCounts = categories.map((c) => reference.counts!.get(c) ?? 0);
  const curCounts = categories.map((c) => current.counts!.get(c) ?? 0);
  const unseen = [...current.counts]
    .filter(([value, count]) => count > 0 && !((reference.counts!.get(value) ?? 0) > 0))
    .map(([value, count]) => ({ value, count }))
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the values are distinct keys, so one not below another is above it (the first comparison's mutants are killed by the tie test)
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const extra: Partial<ColumnComparison> = {};
  if (unseen.length > 0) {
    extra.unseenCategories = unseen.slice(0, MAX_UNSEEN_CATEGORIES);
    if (unseen.length > MAX_UNSEEN_CATEGORIES) {
      extra.note = `${unseen.length} categories are absent from the reference; the ${MAX_UNSEEN_CATEGORIES} most frequent are listed.`;
    }
  }
  // Stryker disable next-line ArithmeticOperator: only "is it 0" is asked, and counts are ≥ 0: a difference is 0 exactly when the sum is
  const refTotal = refCounts.reduce((s, c) => s + c, 0);
  // Stryker disable next-line ArithmeticOperator: only "is it 0" is asked, and counts are ≥ 0: a difference is 0 exactly when the sum is
  const curTotal = curCounts.reduce((s, c) => s + c, 0);
  if (refTotal === 0 || curTotal === 0) {
    const side = refTotal === 0 ? 'reference' : 'current';
    return notCompared(base, `no counted values in the ${side} data; nothing to compare.`, extra);
  }
  const distance = jensenShannonDistance(refCounts, curCounts);
  if (base.test === DRIFT_TESTS.chiSquare) {
    const chi = chiSquareHomogeneity(refCounts, curCounts);
    return result(
      base,
      chi.statistic,
      { pValue: chi.pValue, method: `Pearson chi-square with ${chi.dof} degrees of freedom` },
      distance,
      extra,
    );
  }
  const g = gTestHomogeneity(refCounts, curCounts);
  return result(
    base,
    distance,
    { pValue: g.pValue, method: `G-test with ${g.dof} degrees of freedom` },
    distance,
    extra,
  );
}

/** A 32-bit FNV-1a hash of the column name: the Wasserstein simulation's seed, stable across runs. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  // Stryker disable next-line EqualityOperator: a step past the end mixes in one more multiplication: another seed, as stable and as good
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Compact number formatting for rules (4 significant digits, scientific when tiny). */
export function formatStatistic(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e6) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
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

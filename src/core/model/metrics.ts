/**
 * The model gate's metric engine. Metrics are computed from outcomes (per-row labels and
 * probabilities, or targets and predictions), so shards evaluated on matrix jobs merge exactly by
 * concatenation (`mergeOutcomes`), and the bootstrap evaluates resampled rows as integer weights
 * (`computeMetrics(prepared, weights)`), never re-running the model nor re-sorting.
 *
 * Definitions are scikit-learn 1.2's (`sklearn.metrics`); tests compare with its values on real
 * models' predictions, weighted (`sample_weight`) and unweighted. Deviations, all deliberate:
 * - NaN with a reason where sklearn raises or returns a convention: ROC AUC and average precision
 *   when a class of the model is absent from the labels, r2 on constant targets, all metrics of
 *   zero rows.
 * - A weight of 0 removes the row entirely (the bootstrap did not draw it), so its class does not
 *   enter the label set of the macro averages, where sklearn would still count it.
 * - Multiclass ROC AUC does not check that probability rows sum to 1 (sklearn raises); the log loss
 *   renormalises rows after clipping, as sklearn.
 * - Multiclass average precision is the macro mean of the one-vs-rest binary average precisions
 *   (sklearn 1.2's average_precision_score on label-binarised labels).
 */

import {
  computeRocPoints,
  evaluateClassification,
  type PreparedClassification,
  prepareClassification,
} from './classification-metrics.ts';
import { METRIC_NAMES, type MetricName, type MetricValues, metricsOfTask } from './metric-names.ts';
import type { ClassificationOutcomes, Outcomes, RegressionOutcomes } from './outcomes.ts';
import { evaluateRegression, type PreparedRegression, prepareRegression } from './regression-metrics.ts';

export interface PerClassMetrics {
  class: string | number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface MetricResult {
  /** Every metric of the task (metricsOfTask(task)); NaN where it cannot be computed. */
  values: MetricValues;
  /** Why a metric is NaN, e.g. { roc_auc: 'only one class (1) is present in the labels' }. */
  undefinedReasons: Partial<Record<MetricName, string>>;
  /** Classification: rows = true class, columns = predicted class, in `classes` order (weighted counts). */
  confusion?: number[][];
  /** Classification: every class of the model, in `classes` order (zero_division = 0). */
  perClass?: PerClassMetrics[];
  /** Regression: rows whose target is 0 (MAPE divides by max(|y|, eps) there, as sklearn). */
  zeroTargets?: number;
  /** Sum of weights (rows counted with multiplicity). */
  n: number;
}

/**
 * Outcomes with what every metric call can share precomputed (per-row losses, predicted classes,
 * and on first use of ROC AUC / average precision, the rows sorted by score per class). The
 * outcomes must not change afterwards.
 */
export interface PreparedOutcomes {
  readonly outcomes: Outcomes;
}

type Internal =
  | { task: 'classification'; state: PreparedClassification; values: Float64Array }
  | { task: 'regression'; state: PreparedRegression; values: Float64Array };

/** The precomputed state behind each prepared handle, invisible to callers. */
const internals = new WeakMap<PreparedOutcomes, Internal>();

const RANKED: readonly MetricName[] = ['roc_auc', 'roc_auc_weighted', 'average_precision'];

/**
 * Validates outcomes and precomputes what every metric call shares. Throws a RangeError naming
 * the row on a label outside the classes, a probability outside [0, 1], or a non-finite
 * regression value.
 */
export function prepareOutcomes(outcomes: Outcomes): PreparedOutcomes {
  const prepared: PreparedOutcomes = Object.freeze({ outcomes });
  const values = new Float64Array(METRIC_NAMES.length);
  internals.set(
    prepared,
    outcomes.task === 'regression'
      ? { task: 'regression', state: prepareRegression(outcomes), values }
      : { task: 'classification', state: prepareClassification(outcomes), values },
  );
  return prepared;
}

/**
 * Binary ROC curve points (from (0, 0), one per distinct score), reusing the ROC AUC's sort.
 * Undefined for other tasks and when a class is absent.
 */
export function computeRocCurve(
  prepared: PreparedOutcomes,
): { fpr: Float64Array; tpr: Float64Array } | undefined {
  const internal = internals.get(prepared);
  if (internal?.task !== 'classification' || !internal.state.binary) return undefined;
  const { labels } = internal.state.outcomes;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  if (positives === 0 || positives === labels.length) return undefined;
  return computeRocPoints(internal.state);
}

/**
 * Every metric of the task on the prepared outcomes. `weights[i]` is how many times row i counts
 * (bootstrap multiplicities; undefined = all 1; 0 = the row is absent): the result equals sklearn's
 * with `sample_weight=weights`, and the unweighted result on the rows replicated. O(n·K) per call.
 */
export function computeMetrics(prepared: PreparedOutcomes, weights?: Uint32Array): MetricResult {
  const internal = internalOf(prepared, weights);
  const { values } = internal;
  const task = prepared.outcomes.task;
  const undefinedReasons: Partial<Record<MetricName, string>> = {};
  values.fill(Number.NaN);
  let n: number;
  let extra: Pick<MetricResult, 'confusion' | 'perClass' | 'zeroTargets'>;
  if (internal.task === 'regression') {
    const totals = evaluateRegression(internal.state, weights, true, values, undefinedReasons);
    n = totals.total;
    extra = { zeroTargets: totals.zeroTargets };
  } else {
    const state = internal.state;
    n = evaluateClassification(state, weights, true, values, undefinedReasons);
    const k = state.classCount;
    const { confusion, precision, recall, f1, trueCount } = state.scratch;
    const classes = state.outcomes.classes;
    extra = {
      confusion: Array.from({ length: k }, (_, t) => Array.from(confusion.subarray(t * k, (t + 1) * k))),
      perClass: classes.map((name, c) => ({
        class: name,
        precision: precision[c],
        recall: recall[c],
        f1: f1[c],
        support: trueCount[c],
      })),
    };
  }
  const result: MetricValues = {};
  for (const name of metricsOfTask(task)) {
    result[name] = values[METRIC_NAMES.indexOf(name)];
    if (n === 0) undefinedReasons[name] = 'there are no rows (the weights sum to 0)';
  }
  return { values: result, undefinedReasons, ...extra, n };
}

/**
 * The values of `names` only, in that order (NaN where undefined), without the reasons, confusion
 * matrix and per-class objects: the bootstrap's inner loop. Skips the per-class passes of ROC AUC and
 * average precision (classification) and the second pass of r2 (regression) unless named. Equals
 * computeMetrics' values. Throws a RangeError on a name that is not a metric of the task.
 */
export function computeMetricValues(
  prepared: PreparedOutcomes,
  weights: Uint32Array | undefined,
  names: readonly MetricName[],
): Float64Array {
  const internal = internalOf(prepared, weights);
  const task = prepared.outcomes.task;
  const available = metricsOfTask(task);
  for (const name of names)
    if (!available.includes(name)) throw new RangeError(`${name} is not a metric of ${task} models`);
  const { values } = internal;
  values.fill(Number.NaN);
  if (internal.task === 'regression')
    evaluateRegression(internal.state, weights, names.includes('r2'), values, undefined);
  else
    evaluateClassification(
      internal.state,
      weights,
      names.some((name) => RANKED.includes(name)),
      values,
      undefined,
    );
  const result = new Float64Array(names.length);
  for (let i = 0; i < names.length; i++) result[i] = values[METRIC_NAMES.indexOf(names[i])];
  return result;
}

function internalOf(prepared: PreparedOutcomes, weights: Uint32Array | undefined): Internal {
  const internal = internals.get(prepared);
  if (internal === undefined) throw new TypeError('outcomes must be prepared with prepareOutcomes()');
  if (weights !== undefined && weights.length !== internal.state.rows)
    throw new RangeError(`${weights.length} weights for ${internal.state.rows} rows`);
  return internal;
}

/**
 * The outcomes of two shards as one (concatenated rows: metrics of the merge are exactly those of
 * the whole). Throws a RangeError when the tasks, the classes (and their order) or, for binary
 * outcomes, the thresholds differ.
 */
export function mergeOutcomes(a: Outcomes, b: Outcomes): Outcomes {
  if (a.task !== b.task) throw new RangeError(`cannot merge ${a.task} outcomes with ${b.task} outcomes`);
  if (a.task === 'regression') {
    const other = b as RegressionOutcomes; // same task, checked above
    return {
      task: 'regression',
      targets: concatenate(a.targets, other.targets),
      predictions: concatenate(a.predictions, other.predictions),
    };
  }
  const other = b as ClassificationOutcomes;
  if (a.classes.length !== other.classes.length || a.classes.some((name, c) => name !== other.classes[c]))
    throw new RangeError(
      `cannot merge outcomes of classes [${a.classes.join(', ')}] with outcomes of classes [${other.classes.join(', ')}]`,
    );
  // The threshold only decides binary predictions (multiclass ones are the argmax).
  if (a.task === 'binary' && a.threshold !== other.threshold)
    throw new RangeError(`cannot merge outcomes with thresholds ${a.threshold} and ${other.threshold}`);
  const labels = new Int32Array(a.labels.length + other.labels.length);
  labels.set(a.labels);
  labels.set(other.labels, a.labels.length);
  return {
    task: a.task,
    classes: [...a.classes],
    labels,
    probabilities: concatenate(a.probabilities, other.probabilities),
    threshold: a.threshold,
  };
}

function concatenate(a: Float64Array, b: Float64Array): Float64Array {
  const joined = new Float64Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

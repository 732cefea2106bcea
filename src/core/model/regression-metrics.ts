/**
 * Regression metrics over weighted rows, as scikit-learn 1.2 defines them (except r2 on constant
 * targets: NaN with a reason, where sklearn returns 1 or 0). Internal to `metrics.ts`.
 */
import { METRIC_NAMES, type MetricName } from './metric-names.ts';
import type { RegressionOutcomes } from './outcomes.ts';

/** sklearn's mean_absolute_percentage_error divides by max(|y|, ε), ε = float64 machine epsilon. */
const MAPE_EPSILON = Number.EPSILON;

/** What every evaluation of the same outcomes shares. */
export interface PreparedRegression {
  readonly outcomes: RegressionOutcomes;
  readonly rows: number;
  /** |ŷ − y| / max(|y|, ε) per row: the division is the costly part of MAPE, done once. */
  readonly rowPercentageError: Float64Array;
}

const slot = (name: MetricName) => METRIC_NAMES.indexOf(name);
const MAE = slot('mae');
const MSE = slot('mse');
const RMSE = slot('rmse');
const R2 = slot('r2');
const MAPE = slot('mape');

/** Validates regression outcomes (same lengths, finite numbers; the row is named) and precomputes MAPE terms. */
export function prepareRegression(outcomes: RegressionOutcomes): PreparedRegression {
  const { targets, predictions } = outcomes;
  const rows = targets.length;
  if (predictions.length !== rows)
    throw new RangeError(`${rows} targets but ${predictions.length} predictions`);
  const rowPercentageError = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const y = targets[i];
    const prediction = predictions[i];
    if (!Number.isFinite(y)) throw new RangeError(`target ${y} at row ${i} is not a finite number`);
    if (!Number.isFinite(prediction))
      throw new RangeError(`prediction ${prediction} at row ${i} is not a finite number`);
    rowPercentageError[i] = Math.abs(prediction - y) / Math.max(Math.abs(y), MAPE_EPSILON);
  }
  return { outcomes, rows, rowPercentageError };
}

/** Weighted sums of one evaluation. */
export interface RegressionTotals {
  /** Sum of weights. */
  total: number;
  /** Weight of the rows whose target is 0. */
  zeroTargets: number;
}

/**
 * Computes every regression metric into `values` (indexed as METRIC_NAMES; other slots untouched),
 * NaN with a reason in `reasons` (when given) where undefined. r2 (a second pass over the rows, for
 * the exact weighted mean) is skipped unless `withR2`.
 */
export function evaluateRegression(
  prepared: PreparedRegression,
  weights: Uint32Array | undefined,
  withR2: boolean,
  values: Float64Array,
  reasons: Partial<Record<MetricName, string>> | undefined,
): RegressionTotals {
  const { rows, rowPercentageError } = prepared;
  const { targets, predictions } = prepared.outcomes;
  // Constant targets are detected against the first counted row's target: no data-dependent branch
  // in the loop (zero weights are frequent and random in a bootstrap, so branches mispredict).
  // (A read past the end of a Uint32Array is undefined, which ends the skip at `rows`; then no row
  // counts, the total is 0 and the function returns before the reference is read.)
  let first = 0;
  if (weights !== undefined) while (weights[first] === 0) first++;
  const reference = targets[first];
  let total = 0;
  let zeroTargets = 0;
  let differing = 0;
  let absolute = 0;
  let squared = 0;
  let percentage = 0;
  let targetSum = 0;
  for (let i = 0; i < rows; i++) {
    const w = weights === undefined ? 1 : weights[i];
    const y = targets[i];
    const error = y - predictions[i];
    total += w;
    absolute += w * Math.abs(error);
    squared += w * error * error;
    percentage += w * rowPercentageError[i];
    targetSum += w * y;
    zeroTargets += y === 0 ? w : 0;
    // Only whether it is 0 is read: an OR of the weights of rows off the reference.
    differing |= y === reference ? 0 : w;
  }
  if (total === 0) return { total, zeroTargets };
  values[MAE] = absolute / total;
  values[MSE] = squared / total;
  values[RMSE] = Math.sqrt(squared / total);
  values[MAPE] = percentage / total;
  if (differing === 0) {
    if (reasons) reasons.r2 = `the targets are constant (all ${reference}), so r2 has no variance to explain`;
  } else if (withR2) {
    // Two passes: the weighted mean first, then squared deviations from it, as sklearn's r2_score.
    const mean = targetSum / total;
    let variance = 0;
    for (let i = 0; i < rows; i++) {
      const w = weights === undefined ? 1 : weights[i];
      const deviation = targets[i] - mean;
      variance += w * deviation * deviation;
    }
    values[R2] = 1 - squared / variance;
  }
  return { total, zeroTargets };
}

/**
 * What an evaluation keeps per row: the true value and the model's prediction, in typed arrays.
 * Metric states are these columns: shards evaluated on matrix jobs merge exactly by
 * concatenation, and the bootstrap resamples rows of them (never re-running the model).
 */

/** Classification outcomes (binary or multiclass). */
export interface ClassificationOutcomes {
  task: 'binary' | 'multiclass';
  /** Class labels in the order of the probability columns (binary: [negative, positive]). */
  classes: readonly (string | number)[];
  /** The true class of each row, as an index into `classes`. */
  labels: Int32Array;
  /** `labels.length × classes.length` probabilities, row-major. */
  probabilities: Float64Array;
  /** Binary only: P(positive) at or above it predicts the positive class (default 0.5). */
  threshold: number;
}

/** Regression outcomes. */
export interface RegressionOutcomes {
  task: 'regression';
  targets: Float64Array;
  predictions: Float64Array;
}

export type Outcomes = ClassificationOutcomes | RegressionOutcomes;

/** Number of rows of outcomes. */
export function countOutcomes(outcomes: Outcomes): number {
  return outcomes.task === 'regression' ? outcomes.targets.length : outcomes.labels.length;
}

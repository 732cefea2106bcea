/**
 * Binary-classification metrics from a mergeable state: evaluate shards on matrix jobs, merge the
 * states, and get exactly the metrics of the whole holdout. Definitions follow scikit-learn's
 * (`sklearn.metrics`), and tests compare with its values on a real model's predictions.
 */

/** Bins of the expected calibration error (equal width on [0, 1]). */
export const CALIBRATION_BINS = 10;
/** Probabilities are clipped to [ε, 1 − ε] for the log loss, as sklearn's `eps='auto'` for float64. */
const LOG_LOSS_EPSILON = 2.220446049250313e-16;

/** Everything the metrics need, and nothing that cannot be merged by addition or concatenation. */
export interface BinaryMetricState {
  kind: 'binary';
  /** Scores at or above the threshold predict the positive class. */
  threshold: number;
  n: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  logLossSum: number;
  brierSum: number;
  calibration: { count: number[]; sumScore: number[]; sumLabel: number[] };
  /** Every (score, label) pair, for the exact ROC AUC and average precision. */
  scores: number[];
  labels: number[];
}

export interface BinaryMetrics {
  accuracy: number;
  balancedAccuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  averagePrecision: number;
  logLoss: number;
  brier: number;
  expectedCalibrationError: number;
  /** [[TN, FP], [FN, TP]], as sklearn's `confusion_matrix`. */
  confusion: [[number, number], [number, number]];
}

/** An empty state. */
export function createBinaryState(threshold = 0.5): BinaryMetricState {
  return {
    kind: 'binary',
    threshold,
    n: 0,
    truePositives: 0,
    falsePositives: 0,
    trueNegatives: 0,
    falseNegatives: 0,
    logLossSum: 0,
    brierSum: 0,
    calibration: {
      count: new Array(CALIBRATION_BINS).fill(0),
      sumScore: new Array(CALIBRATION_BINS).fill(0),
      sumLabel: new Array(CALIBRATION_BINS).fill(0),
    },
    scores: [],
    labels: [],
  };
}

/**
 * Adds labels (0/1) and positive-class probabilities. Throws on a label other than 0/1 or a
 * probability outside [0, 1] (the caller names the row).
 */
export function addBinaryPredictions(
  state: BinaryMetricState,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): void {
  if (labels.length !== scores.length)
    throw new RangeError(`${labels.length} labels but ${scores.length} scores`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const p = scores[i];
    if (y !== 0 && y !== 1) throw new RangeError(`label ${y} at position ${i} is not 0 or 1`);
    if (!(p >= 0 && p <= 1))
      throw new RangeError(`score ${p} at position ${i} is not a probability in [0, 1]`);
    const positive = p >= state.threshold;
    if (y === 1) {
      if (positive) state.truePositives++;
      else state.falseNegatives++;
    } else if (positive) state.falsePositives++;
    else state.trueNegatives++;
    const clipped = Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    state.logLossSum -= y === 1 ? Math.log(clipped) : Math.log(1 - clipped);
    state.brierSum += (p - y) ** 2;
    const bin = Math.min(Math.floor(p * CALIBRATION_BINS), CALIBRATION_BINS - 1);
    state.calibration.count[bin]++;
    state.calibration.sumScore[bin] += p;
    state.calibration.sumLabel[bin] += y;
    state.scores.push(p);
    state.labels.push(y);
    state.n++;
  }
}

/** The state of the union of two disjoint sets of predictions (same threshold). */
export function mergeBinaryStates(a: BinaryMetricState, b: BinaryMetricState): BinaryMetricState {
  if (a.threshold !== b.threshold)
    throw new RangeError(`cannot merge states with thresholds ${a.threshold} and ${b.threshold}`);
  const add = (x: number[], y: number[]) => x.map((value, i) => value + y[i]);
  return {
    kind: 'binary',
    threshold: a.threshold,
    n: a.n + b.n,
    truePositives: a.truePositives + b.truePositives,
    falsePositives: a.falsePositives + b.falsePositives,
    trueNegatives: a.trueNegatives + b.trueNegatives,
    falseNegatives: a.falseNegatives + b.falseNegatives,
    logLossSum: a.logLossSum + b.logLossSum,
    brierSum: a.brierSum + b.brierSum,
    calibration: {
      count: add(a.calibration.count, b.calibration.count),
      sumScore: add(a.calibration.sumScore, b.calibration.sumScore),
      sumLabel: add(a.calibration.sumLabel, b.calibration.sumLabel),
    },
    scores: [...a.scores, ...b.scores],
    labels: [...a.labels, ...b.labels],
  };
}

/** The metrics of a state. ROC AUC and average precision are NaN when one class is absent. */
export function computeBinaryMetrics(state: BinaryMetricState): BinaryMetrics {
  const { n, truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = state;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const specificity = tn + fp === 0 ? 0 : tn / (tn + fp);
  let ece = 0;
  for (let bin = 0; bin < CALIBRATION_BINS; bin++) {
    const count = state.calibration.count[bin];
    if (count > 0)
      ece +=
        (Math.abs(state.calibration.sumLabel[bin] / count - state.calibration.sumScore[bin] / count) *
          count) /
        n;
  }
  const { rocAuc, averagePrecision } = rankMetrics(state.scores, state.labels);
  return {
    accuracy: (tp + tn) / n,
    balancedAccuracy: (recall + specificity) / 2,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    rocAuc,
    averagePrecision,
    logLoss: state.logLossSum / n,
    brier: state.brierSum / n,
    expectedCalibrationError: ece,
    confusion: [
      [tn, fp],
      [fn, tp],
    ],
  };
}

/**
 * ROC AUC (trapezoids over the ROC curve, tied scores form one step, as `roc_auc_score`) and
 * average precision (Σ (Rₖ − Rₖ₋₁) Pₖ over distinct thresholds, as `average_precision_score`).
 */
function rankMetrics(scores: number[], labels: number[]): { rocAuc: number; averagePrecision: number } {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = labels.reduce((total, y) => total + y, 0);
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return { rocAuc: Number.NaN, averagePrecision: Number.NaN };
  let tp = 0;
  let fp = 0;
  let area = 0;
  let averagePrecision = 0;
  let previousRecall = 0;
  for (let k = 0; k < order.length; ) {
    const score = scores[order[k]];
    const tpBefore = tp;
    const fpBefore = fp;
    while (k < order.length && scores[order[k]] === score) {
      if (labels[order[k]] === 1) tp++;
      else fp++;
      k++;
    }
    area += ((fp - fpBefore) * (tp + tpBefore)) / 2;
    const recall = tp / positives;
    averagePrecision += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return { rocAuc: area / (positives * negatives), averagePrecision };
}

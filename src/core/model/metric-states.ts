/**
 * Mergeable metric states of blocks of rows, for the block bootstrap (`block-bootstrap.ts`).
 *
 * A block's state is a vector of sums over its rows such that every metric of the task is a
 * function of the SUM of the states of the rows counted: a resample that counts block s `w_s`
 * times has the state Σ w_s · state_s, and its metrics follow in O(state size), whatever the number
 * of rows. Per task:
 * - classification (blocks never mix classes, so a block's row of the confusion matrix is its
 *   class's): predicted-class counts (K), log-loss sum, Brier sum (binary), calibration weight per
 *   bin and correctness (10 × 2) and confidence sum per bin (10), and, when ROC AUC or average
 *   precision is wanted, a histogram of each one-vs-rest score (binary: P(positive) only) on B
 *   bins. Per-row quantities come from the metric code itself (`prepareClassification`), so the
 *   threshold, first-maximum argmax, log-loss clipping and renormalisation and the calibration bins
 *   are exactly the metric code's.
 * - regression: count, Σ|e|, Σe², Σ|e|/max(|y|, ε) (the metric code's per-row term), Σd and Σd²
 *   with d = y − ȳ (ȳ the mean of all rows: centring keeps r2's variance Σd² − (Σd)²/W accurate
 *   when the targets are far from 0), and the minimum and maximum target (merged by min/max over
 *   the blocks drawn: r2 is undefined when the counted targets are all equal, as in the metric code).
 *
 * Approximation: ROC AUC and average precision see the scores through their bins, one threshold
 * per bin instead of per distinct score (`sweepBins`: rows within a bin are taken in random order,
 * which for ROC AUC is the metric code's tie rule). Bin edges are quantiles of the model's score
 * (from a random sample of the rows), so each bin holds ~n/B rows and equal scores always share a
 * bin; when every distinct score has a bin of its own, both are exact. Every other metric of the
 * merged state of all blocks equals the metric code's on all rows (up to the float rounding of
 * the summation order).
 * Internal to the block bootstrap; it imports the metric code's internal per-row preparation on
 * purpose, so that no per-row definition exists twice.
 */

import { CALIBRATION_BINS, prepareClassification, writeConfusionMetrics } from './classification-metrics.ts';
import { METRIC_NAMES, type MetricName } from './metric-names.ts';
import type { ClassificationOutcomes, Outcomes, RegressionOutcomes } from './outcomes.ts';
import { prepareRegression } from './regression-metrics.ts';

/** Rows cut into blocks: blocks of stratum g are `offsets[g] .. offsets[g+1]`, and never mix strata. */
export interface BlockPartition {
  /** Block of each row. */
  readonly blockOf: Int32Array;
  /** Block ranges per stratum (classification: stratum = class index; regression: one stratum). */
  readonly offsets: Int32Array;
}

/** Per-block states of one model's outcomes. */
export interface MetricStates {
  readonly task: Outcomes['task'];
  /** Classes (0 for regression). */
  readonly classCount: number;
  /** Strata, as the partition's (classification: the class count). */
  readonly strata: number;
  /** Block ranges per stratum (the partition's). */
  readonly offsets: Int32Array;
  /** Numbers per block. */
  readonly width: number;
  /** Bins per ranked score histogram (0 when ROC AUC and average precision are not wanted). */
  readonly bins: number;
  /** `blocks × width` sums, block-major. */
  readonly states: Float64Array;
  /** Each block's state, a view of `states` (V8 runs the merge's inner loop faster on views). */
  readonly blockStates: readonly Float64Array[];
  /**
   * Per ranked class and bin (`ranked × bins`): 1 when the bin's rows all have one score, a true
   * tie group, whose average-precision step is the metric code's; 0 for a bin of several scores.
   */
  readonly tied: Uint8Array;
  /** Evaluation scratch, reused (evaluations are synchronous). */
  readonly scratch: Float64Array;
}

/** Classification layout: predicted-class counts first (K), then these offsets past K. */
const LOG_LOSS = 0;
const BRIER = 1;
/** CALIBRATION_BINS × 2: weight per calibration bin and correctness (the metric code's `code`). */
const CALIBRATION = 2;
/** CALIBRATION_BINS: Σ confidence per calibration bin. */
const CONFIDENCE = CALIBRATION + 2 * CALIBRATION_BINS;
/** Then the score histograms, `ranked classes × bins`. */
const HISTOGRAMS = CONFIDENCE + CALIBRATION_BINS;

/** Regression layout. */
const COUNT = 0;
const ABSOLUTE = 1;
const SQUARED = 2;
const PERCENTAGE = 3;
const DEVIATION = 4;
const DEVIATION_SQUARED = 5;
const MINIMUM = 6;
const MAXIMUM = 7;
const REGRESSION_WIDTH = 8;

/** Metrics whose merged value is approximate (scores seen through bins). */
export const BINNED_METRICS: readonly MetricName[] = ['roc_auc', 'roc_auc_weighted', 'average_precision'];

const slot = (name: MetricName) => METRIC_NAMES.indexOf(name);

/** Options of `buildMetricStates`. */
export interface MetricStateOptions {
  /** Bins of the ranked-score histograms; 0 leaves them out (no ROC AUC / average precision). */
  bins: number;
  /** Rows whose scores set the bin edges (quantiles); undefined: every row. */
  quantileRows?: Int32Array;
}

/**
 * The per-block states of `outcomes` for `partition`. Validates the outcomes as the metric code
 * does (RangeError naming the row). O(n·K·log B).
 */
export function buildMetricStates(
  outcomes: Outcomes,
  partition: BlockPartition,
  options: MetricStateOptions,
): MetricStates {
  return outcomes.task === 'regression'
    ? buildRegressionStates(outcomes, partition)
    : buildClassificationStates(outcomes, partition, options);
}

function buildClassificationStates(
  outcomes: ClassificationOutcomes,
  partition: BlockPartition,
  options: MetricStateOptions,
): MetricStates {
  const prepared = prepareClassification(outcomes);
  const { rows, classCount: k, cell, rowLogLoss, calibration, confidence, binary } = prepared;
  const { labels, probabilities } = outcomes;
  const { blockOf, offsets } = partition;
  if (blockOf.length !== rows) throw new RangeError(`${blockOf.length} block indices for ${rows} rows`);
  if (offsets.length !== k + 1) throw new RangeError(`${offsets.length - 1} strata for ${k} classes`);
  const bins = options.bins;
  const ranked = bins === 0 ? 0 : binary ? 1 : k;
  const width = k + HISTOGRAMS + ranked * bins;
  const blocks = offsets[k];
  const states = new Float64Array(blocks * width);
  // Bin edges per ranked class, and each row's bin, precomputed so the accumulation is one pass.
  const tied = new Uint8Array(ranked * bins);
  const rowBins = Array.from({ length: ranked }, (_, r) => {
    const c = binary ? 1 : r;
    const edges = computeBinEdges(probabilities, k, c, bins, options.quantileRows ?? rows);
    return assignBins(probabilities, k, c, edges, tied.subarray(r * bins, (r + 1) * bins));
  });
  for (let i = 0; i < rows; i++) {
    const label = labels[i];
    const block = blockOf[i];
    if (!(block >= offsets[label] && block < offsets[label + 1]))
      throw new RangeError(`row ${i} of class ${label} is in block ${block}, outside its class's blocks`);
    const base = block * width;
    states[base + cell[i] - label * k]++;
    const tail = base + k;
    states[tail + LOG_LOSS] += rowLogLoss[i];
    const code = calibration[i];
    if (binary) {
      // The confidence is P(positive) and bit 0 of the code the label: (p − y)², as the metric code.
      const miss = confidence[i] - (code & 1);
      states[tail + BRIER] += miss * miss;
    }
    states[tail + CALIBRATION + code]++;
    states[tail + CONFIDENCE + (code >> 1)] += confidence[i];
    for (let r = 0; r < ranked; r++) states[tail + HISTOGRAMS + r * bins + rowBins[r][i]]++;
  }
  // Scratch: true and predicted counts, precision, recall, f1 and true positives per class, then two histograms.
  const scratch = new Float64Array(6 * k + 2 * bins);
  return {
    task: outcomes.task,
    classCount: k,
    strata: k,
    offsets,
    width,
    bins,
    states,
    blockStates: viewBlocks(states, width),
    tied,
    scratch,
  };
}

function buildRegressionStates(outcomes: RegressionOutcomes, partition: BlockPartition): MetricStates {
  const { rows, rowPercentageError } = prepareRegression(outcomes);
  const { targets, predictions } = outcomes;
  const { blockOf, offsets } = partition;
  if (blockOf.length !== rows) throw new RangeError(`${blockOf.length} block indices for ${rows} rows`);
  const blocks = offsets[offsets.length - 1];
  const states = new Float64Array(blocks * REGRESSION_WIDTH);
  for (let s = 0; s < blocks; s++) {
    states[s * REGRESSION_WIDTH + MINIMUM] = Number.POSITIVE_INFINITY;
    states[s * REGRESSION_WIDTH + MAXIMUM] = Number.NEGATIVE_INFINITY;
  }
  let mean = 0;
  for (let i = 0; i < rows; i++) mean += targets[i];
  mean = rows === 0 ? 0 : mean / rows;
  for (let i = 0; i < rows; i++) {
    const block = blockOf[i];
    if (!(block >= 0 && block < blocks)) throw new RangeError(`row ${i} is in block ${block} of ${blocks}`);
    const base = block * REGRESSION_WIDTH;
    const y = targets[i];
    const error = y - predictions[i];
    const deviation = y - mean;
    states[base + COUNT]++;
    states[base + ABSOLUTE] += Math.abs(error);
    states[base + SQUARED] += error * error;
    states[base + PERCENTAGE] += rowPercentageError[i];
    states[base + DEVIATION] += deviation;
    states[base + DEVIATION_SQUARED] += deviation * deviation;
    if (y < states[base + MINIMUM]) states[base + MINIMUM] = y;
    if (y > states[base + MAXIMUM]) states[base + MAXIMUM] = y;
  }
  return {
    task: 'regression',
    classCount: 0,
    strata: offsets.length - 1,
    offsets,
    width: REGRESSION_WIDTH,
    bins: 0,
    states,
    blockStates: viewBlocks(states, REGRESSION_WIDTH),
    tied: new Uint8Array(0),
    scratch: new Float64Array(0),
  };
}

function viewBlocks(states: Float64Array, width: number): Float64Array[] {
  return Array.from({ length: states.length / width }, (_, s) => states.subarray(s * width, (s + 1) * width));
}

/**
 * Up to `bins − 1` distinct edges at the quantiles i/bins of class `c`'s score over `sample` (row
 * indices, or a row count meaning all rows): a row's bin is the number of edges at or below its
 * score, so equal scores share a bin.
 */
function computeBinEdges(
  probabilities: Float64Array,
  k: number,
  c: number,
  bins: number,
  sample: Int32Array | number,
): Float64Array {
  const size = typeof sample === 'number' ? sample : sample.length;
  const scores = new Float64Array(size);
  for (let j = 0; j < size; j++)
    scores[j] = probabilities[(typeof sample === 'number' ? j : sample[j]) * k + c];
  scores.sort();
  const edges = new Float64Array(bins - 1);
  let count = 0;
  for (let b = 1; b < bins && size > 0; b++) {
    const edge = scores[Math.floor((b * size) / bins)];
    // The lowest score needs no edge below it; duplicates would make empty bins.
    if (edge > scores[0] && (count === 0 || edge > edges[count - 1])) edges[count++] = edge;
  }
  return edges.slice(0, count);
}

/** Cells of the lookup grid over [0, 1] that narrows each row's binary search over the edges (a power of 2). */
const GRID = 4096;

/**
 * Each row's bin for class `c`'s score: the number of `edges` at or below it. A grid of GRID
 * cells on [0, 1] (scores are validated probabilities) gives the range of edges a score's cell can
 * hold, usually zero or one, so the binary search over them takes a step or two instead of log₂ B.
 * Sets `tied[b]` to 1 when the rows of bin b all have the same score.
 */
function assignBins(
  probabilities: Float64Array,
  k: number,
  c: number,
  edges: Float64Array,
  tied: Uint8Array,
): Uint16Array {
  // Cell g holds the scores in [g/GRID, (g+1)/GRID) (cell GRID: exactly 1). Edges below `first[g]`
  // are ≤ g/GRID, so at or below every score of the cell; edges from `first[g+1]` on are ≥ (g+1)/GRID,
  // so above all of them (multiplying by a power of 2 is exact, so the cells are exact too).
  const first = new Int32Array(GRID + 2);
  let e = 0;
  for (let g = 0; g <= GRID + 1; g++) {
    while (e < edges.length && edges[e] * GRID < g) e++;
    first[g] = e;
  }
  const above = new Int32Array(GRID + 1);
  for (let g = 0; g <= GRID; g++) {
    let count = first[g];
    while (count < edges.length && edges[count] * GRID <= g) count++;
    above[g] = count;
  }
  const rows = probabilities.length / k;
  const result = new Uint16Array(rows);
  const lowest = new Float64Array(edges.length + 1).fill(Number.POSITIVE_INFINITY);
  const highest = new Float64Array(edges.length + 1).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < rows; i++) {
    const score = probabilities[i * k + c];
    const cell = Math.floor(score * GRID);
    let low = above[cell];
    let high = first[cell + 1];
    while (low < high) {
      const middle = (low + high) >> 1;
      if (edges[middle] <= score) low = middle + 1;
      else high = middle;
    }
    result[i] = low;
    if (score < lowest[low]) lowest[low] = score;
    if (score > highest[low]) highest[low] = score;
  }
  for (let b = 0; b < tied.length; b++) tied[b] = lowest[b] === highest[b] ? 1 : 0;
  return result;
}

/**
 * Merges the blocks' states weighted by `counts` (one per block) into `merged`, one state per
 * stratum (`strata × width`): Σ counts[s] · state[s] over the blocks of each stratum (regression's
 * minimum and maximum: over the blocks counted at least once).
 */
export function mergeMetricStates(states: MetricStates, counts: Float64Array, merged: Float64Array): void {
  const { offsets, width, strata, blockStates } = states;
  merged.fill(0);
  const regression = states.task === 'regression';
  for (let g = 0; g < strata; g++) {
    const into = merged.subarray(g * width, (g + 1) * width);
    if (regression) {
      into[MINIMUM] = Number.POSITIVE_INFINITY;
      into[MAXIMUM] = Number.NEGATIVE_INFINITY;
    }
    for (let s = offsets[g]; s < offsets[g + 1]; s++) {
      const w = counts[s];
      // A third of the blocks are not drawn in a resample: skipping them saves a third of the work.
      if (w === 0) continue;
      const from = blockStates[s];
      if (regression) {
        for (let d = 0; d < MINIMUM; d++) into[d] += w * from[d];
        if (from[MINIMUM] < into[MINIMUM]) into[MINIMUM] = from[MINIMUM];
        if (from[MAXIMUM] > into[MAXIMUM]) into[MAXIMUM] = from[MAXIMUM];
      } else addScaled(into, from, w);
    }
  }
}

/** target += w · source: the merge's inner loop, in a function of its own so V8 optimises it alone. */
function addScaled(target: Float64Array, source: Float64Array, w: number): void {
  for (let d = 0; d < target.length; d++) target[d] += w * source[d];
}

/**
 * Every metric of the task from merged per-stratum states (`mergeMetricStates`), into `values`
 * indexed as METRIC_NAMES (NaN where undefined and in other tasks' slots). ROC AUC and average
 * precision stay NaN when the states have no histograms.
 */
export function evaluateMetricStates(states: MetricStates, merged: Float64Array, values: Float64Array): void {
  values.fill(Number.NaN);
  if (states.task === 'regression') evaluateRegressionState(states, merged, values);
  else evaluateClassificationState(states, merged, values);
}

const _ACCURACY = slot('accuracy');
const _BALANCED_ACCURACY = slot('balanced_accuracy');
const _PRECISION = slot('precision');
const _RECALL = slot('recall');
const _F1 = slot('f1');
const _PRECISION_MACRO = slot('precision_macro');
const _RECALL_MACRO = slot('recall_macro');
const _F1_MACRO = slot('f1_macro');
const _PRECISION_WEIGHTED = slot('precision_weighted');
const _RECALL_WEIGHTED = slot('recall_weighted');
const _F1_WEIGHTED = slot('f1_weighted');
const ROC_AUC = slot('roc_auc');
const ROC_AUC_WEIGHTED = slot('roc_auc_weighted');
const AVERAGE_PRECISION = slot('average_precision');
const LOG_LOSS_SLOT = slot('log_loss');
const BRIER_SLOT = slot('brier');
const ECE = slot('ece');
const MAE = slot('mae');
const MSE = slot('mse');
const RMSE = slot('rmse');
const R2 = slot('r2');
const MAPE = slot('mape');

/** The formulas of `evaluateClassification` (classification-metrics.ts), on sums instead of rows. */
function evaluateClassificationState(states: MetricStates, merged: Float64Array, values: Float64Array): void {
  const { classCount: k, width, bins, scratch } = states;
  const binary = states.task === 'binary';
  const trueCount = scratch.subarray(0, k);
  const predictedCount = scratch.subarray(k, 2 * k);
  const precision = scratch.subarray(2 * k, 3 * k);
  const recall = scratch.subarray(3 * k, 4 * k);
  const f1 = scratch.subarray(4 * k, 5 * k);
  const truePositives = scratch.subarray(5 * k, 6 * k);
  const confusionScratch = { trueCount, predictedCount, truePositives, precision, recall, f1 };
  trueCount.fill(0);
  predictedCount.fill(0);
  let total = 0;
  let correct = 0;
  let logLoss = 0;
  let brier = 0;
  for (let t = 0; t < k; t++) {
    const base = t * width;
    for (let p = 0; p < k; p++) {
      const count = merged[base + p];
      trueCount[t] += count;
      predictedCount[p] += count;
    }
    correct += merged[base + t];
    total += trueCount[t];
    logLoss += merged[base + k + LOG_LOSS];
    brier += merged[base + k + BRIER];
  }
  for (let c = 0; c < k; c++) truePositives[c] = merged[c * width + c];
  if (!writeConfusionMetrics(k, binary, confusionScratch, correct, total, values)) return;
  if (binary) values[BRIER_SLOT] = brier / total;
  values[LOG_LOSS_SLOT] = logLoss / total;
  let ece = 0;
  for (let bin = 0; bin < CALIBRATION_BINS; bin++) {
    let wrong = 0;
    let right = 0;
    let confidence = 0;
    for (let t = 0; t < k; t++) {
      const base = t * width + k;
      wrong += merged[base + CALIBRATION + 2 * bin];
      right += merged[base + CALIBRATION + 2 * bin + 1];
      confidence += merged[base + CONFIDENCE + bin];
    }
    const count = wrong + right;
    if (count > 0) ece += (Math.abs(right / count - confidence / count) * count) / total;
  }
  values[ECE] = ece;

  if (bins === 0) return;
  for (let c = 0; c < k; c++) if (trueCount[c] === 0) return; // one-vs-rest needs every class
  const positives = scratch.subarray(6 * k, 6 * k + bins);
  const negatives = scratch.subarray(6 * k + bins, 6 * k + 2 * bins);
  const ranked = binary ? 1 : k;
  let aucMacro = 0;
  let aucWeighted = 0;
  let apMacro = 0;
  for (let r = 0; r < ranked; r++) {
    const c = binary ? 1 : r;
    // Rows of class c are the positives of its histogram; every other class's rows its negatives.
    positives.fill(0);
    negatives.fill(0);
    for (let t = 0; t < k; t++) {
      const from = t * width + k + HISTOGRAMS + r * bins;
      const into = t === c ? positives : negatives;
      for (let b = 0; b < bins; b++) into[b] += merged[from + b];
    }
    const [auc, ap] = sweepBins(positives, negatives, states.tied.subarray(r * bins, (r + 1) * bins));
    aucMacro += auc;
    aucWeighted += auc * trueCount[c];
    apMacro += ap;
  }
  if (binary) {
    values[ROC_AUC] = aucMacro;
    values[AVERAGE_PRECISION] = apMacro;
  } else {
    values[ROC_AUC] = aucMacro / k;
    values[ROC_AUC_WEIGHTED] = aucWeighted / total;
    values[AVERAGE_PRECISION] = apMacro / k;
  }
}

/**
 * ROC AUC and average precision from score histograms, bins from the highest score down: the
 * metric code's sweep (trapezoids of the ROC curve, steps Σ ΔTP · precision of the precision-recall
 * curve) with a bin as a threshold. Within a bin of several scores the rows' order is unknown and
 * taken as random: the ROC curve's trapezoid is then its expectation (a within-bin pair counts ½),
 * and the precision-recall curve is integrated along the straight path through the bin,
 * Σ ∫₀¹ p · (T + p·x) / (S + s·x) dx (T, S: positives and rows above the bin; p, s: in it), which
 * the step at the bin's end would underestimate by ~½ ΔR·ΔP per bin. A bin of one score (`tied`)
 * is a true tie group and takes the metric code's step.
 */
function sweepBins(positives: Float64Array, negatives: Float64Array, tied: Uint8Array): [number, number] {
  let tp = 0;
  let seen = 0;
  let area = 0;
  let precisionSum = 0;
  for (let b = positives.length - 1; b >= 0; b--) {
    const p = positives[b];
    const s = p + negatives[b];
    // The trapezoid (Δfp)·(tp before + tp after), in weight units as the metric code.
    area += negatives[b] * (2 * tp + p);
    if (p > 0) {
      if (tied[b] === 1) precisionSum += (p * (tp + p)) / (seen + s);
      else if (seen === 0) precisionSum += (p * p) / s;
      else precisionSum += p * (p / s + ((tp - (p * seen) / s) * Math.log1p(s / seen)) / s);
    }
    tp += p;
    seen += s;
  }
  return [area / (2 * tp * (seen - tp)), precisionSum / tp];
}

/** The formulas of `evaluateRegression` (regression-metrics.ts), on sums instead of rows. */
function evaluateRegressionState(states: MetricStates, merged: Float64Array, values: Float64Array): void {
  const { width, strata } = states;
  let total = 0;
  let absolute = 0;
  let squared = 0;
  let percentage = 0;
  let deviation = 0;
  let deviationSquared = 0;
  let minimum = Number.POSITIVE_INFINITY;
  let maximum = Number.NEGATIVE_INFINITY;
  for (let g = 0; g < strata; g++) {
    const base = g * width;
    total += merged[base + COUNT];
    absolute += merged[base + ABSOLUTE];
    squared += merged[base + SQUARED];
    percentage += merged[base + PERCENTAGE];
    deviation += merged[base + DEVIATION];
    deviationSquared += merged[base + DEVIATION_SQUARED];
    minimum = Math.min(minimum, merged[base + MINIMUM]);
    maximum = Math.max(maximum, merged[base + MAXIMUM]);
  }
  if (total === 0) return;
  values[MAE] = absolute / total;
  values[MSE] = squared / total;
  values[RMSE] = Math.sqrt(squared / total);
  values[MAPE] = percentage / total;
  // Σ(y − m)² about the counted rows' mean m, from sums of d = y − ȳ: Σd² − (Σd)²/W.
  if (minimum !== maximum) values[R2] = 1 - squared / (deviationSquared - (deviation * deviation) / total);
}

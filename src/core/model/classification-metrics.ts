/**
 * Classification metrics (binary and multiclass) over weighted rows, as scikit-learn 1.2 defines
 * them. Everything that does not depend on the weights is computed once: per row in
 * `prepareClassification` (predicted class, log loss, calibration bin), and the rows' order by
 * score per one-vs-rest class on the first evaluation that needs ROC AUC or average precision. One
 * evaluation is then a pass over the rows plus, for those two, a pass per class over its order:
 * O(n·K), no sorting, no allocation but the result.
 * Internal to `metrics.ts`, which is the public API.
 */
import { METRIC_NAMES, type MetricName } from './metric-names.ts';
import type { ClassificationOutcomes } from './outcomes.ts';

/** Bins of the expected calibration error (equal width on [0, 1], the last closed). */
export const CALIBRATION_BINS = 10;
/** The confusion matrix is K×K float64s: 1024 classes make 8 MB. */
const MAX_CLASSES = 1024;
/** sklearn 1.2's log_loss clips probabilities to [ε, 1 − ε] with ε = float64 machine epsilon. */
const LOG_LOSS_EPSILON = Number.EPSILON;

/** Rows in descending order of one class's score, for the one-vs-rest ROC AUC and average precision. */
interface Ranking {
  /** Row indices, highest score first (tied rows in any order: ties form one step of the curves). */
  readonly order: Int32Array;
  /** Per position of `order`: bit 0 = the row's label is the class, bit 1 = last row of its tie group. */
  readonly flags: Uint8Array;
}

/** What every evaluation of the same outcomes shares. */
export interface PreparedClassification {
  readonly outcomes: ClassificationOutcomes;
  readonly rows: number;
  readonly classCount: number;
  /** Confusion-matrix cell of each row: label · K + predicted class. */
  readonly cell: Int32Array;
  /** −log of the clipped, row-renormalised probability of the true class (sklearn's log_loss). */
  readonly rowLogLoss: Float64Array;
  /** Binary: predictions by threshold on P(positive), calibration and Brier on it. */
  readonly binary: boolean;
  /** Calibration bin · 2 + correct (binary: label is positive; multiclass: argmax is the label). */
  readonly calibration: Uint8Array;
  /** Binary: P(positive); multiclass: the top probability. */
  readonly confidence: Float64Array;
  /** Per one-vs-rest class (binary: only the positive class, at index 1), made on first use. */
  rankings: (Ranking | undefined)[];
  /** Per-evaluation sums, reused across calls (evaluations are synchronous, never interleaved). */
  readonly scratch: {
    readonly confusion: Float64Array;
    /** Total weight, log-loss sum, Brier sum. */
    readonly sums: Float64Array;
    readonly calibrationWeight: Float64Array;
    readonly calibrationConfidence: Float64Array;
    readonly truePositives: Float64Array;
    readonly trueCount: Float64Array;
    readonly predictedCount: Float64Array;
    readonly precision: Float64Array;
    readonly recall: Float64Array;
    readonly f1: Float64Array;
    readonly rocAuc: Float64Array;
    readonly averagePrecision: Float64Array;
    /** sweepCurves' output. */
    readonly curves: Float64Array;
    /** The weights in one class's score order (n float64), allocated on first use of the rankings. */
    sortedWeights: Float64Array | undefined;
  };
}

const slot = (name: MetricName) => METRIC_NAMES.indexOf(name);
const ACCURACY = slot('accuracy');
const BALANCED_ACCURACY = slot('balanced_accuracy');
const PRECISION = slot('precision');
const RECALL = slot('recall');
const F1 = slot('f1');
const PRECISION_MACRO = slot('precision_macro');
const RECALL_MACRO = slot('recall_macro');
const F1_MACRO = slot('f1_macro');
const PRECISION_WEIGHTED = slot('precision_weighted');
const RECALL_WEIGHTED = slot('recall_weighted');
const F1_WEIGHTED = slot('f1_weighted');
const ROC_AUC = slot('roc_auc');
const ROC_AUC_WEIGHTED = slot('roc_auc_weighted');
const AVERAGE_PRECISION = slot('average_precision');
const LOG_LOSS = slot('log_loss');
const BRIER = slot('brier');
const ECE = slot('ece');

/**
 * Validates classification outcomes and precomputes their per-row quantities. Throws a RangeError
 * naming the row on a label outside the classes or a probability outside [0, 1].
 */
export function prepareClassification(outcomes: ClassificationOutcomes): PreparedClassification {
  const { task, classes, labels, probabilities, threshold } = outcomes;
  const k = classes.length;
  const rows = labels.length;
  if (task === 'binary' && k !== 2) throw new RangeError(`binary outcomes need 2 classes, not ${k}`);
  // Stryker disable next-line ConditionalExpression: binary outcomes with fewer than 2 classes are refused one line up
  if (task === 'multiclass' && k < 2)
    throw new RangeError(`multiclass outcomes need 2 or more classes, not ${k}`);
  if (k > MAX_CLASSES)
    throw new RangeError(
      `${k} classes are more than the ${MAX_CLASSES} the metrics support (K×K confusion matrix)`,
    );
  if (probabilities.length !== rows * k)
    throw new RangeError(
      `${rows} rows of ${k} classes need ${rows * k} probabilities, not ${probabilities.length}`,
    );
  if (task === 'binary' && !(threshold >= 0 && threshold <= 1))
    throw new RangeError(`threshold ${threshold} is not in [0, 1]`);
  const cell = new Int32Array(rows);
  const rowLogLoss = new Float64Array(rows);
  const binary = task === 'binary';
  const calibration = new Uint8Array(rows);
  const confidence = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const label = labels[i];
    if (!(label >= 0 && label < k))
      throw new RangeError(`label ${label} at row ${i} is not a class index in [0, ${k})`);
    const base = i * k;
    let sum = 0;
    let top = 0;
    for (let j = 0; j < k; j++) {
      const p = probabilities[base + j];
      if (!(p >= 0 && p <= 1))
        throw new RangeError(`probability ${p} of class ${String(classes[j])} at row ${i} is not in [0, 1]`);
      sum += clip(p);
      // Strictly greater: the first maximum wins, as numpy's argmax.
      if (p > probabilities[base + top]) top = j;
    }
    // sklearn clips every column, then divides each row by its sum before taking the log.
    rowLogLoss[i] = -Math.log(clip(probabilities[base + label]) / sum);
    let score: number;
    let correct: number;
    let predicted: number;
    if (binary) {
      score = probabilities[base + 1];
      predicted = score >= threshold ? 1 : 0;
      correct = label;
    } else {
      score = probabilities[base + top];
      predicted = top;
      correct = top === label ? 1 : 0;
    }
    cell[i] = label * k + predicted;
    confidence[i] = score;
    calibration[i] = Math.min(Math.floor(score * CALIBRATION_BINS), CALIBRATION_BINS - 1) * 2 + correct;
  }
  return {
    outcomes,
    rows,
    classCount: k,
    cell,
    rowLogLoss,
    binary,
    calibration,
    confidence,
    // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index alike
    rankings: new Array(k).fill(undefined),
    scratch: {
      confusion: new Float64Array(k * k),
      sums: new Float64Array(3),
      calibrationWeight: new Float64Array(CALIBRATION_BINS * 2),
      calibrationConfidence: new Float64Array(CALIBRATION_BINS),
      truePositives: new Float64Array(k),
      trueCount: new Float64Array(k),
      predictedCount: new Float64Array(k),
      precision: new Float64Array(k),
      recall: new Float64Array(k),
      f1: new Float64Array(k),
      rocAuc: new Float64Array(k),
      averagePrecision: new Float64Array(k),
      curves: new Float64Array(4),
      sortedWeights: undefined,
    },
  };
}

function clip(p: number): number {
  // Stryker disable next-line EqualityOperator,ArithmeticOperator,ConditionalExpression: at the bound itself either branch returns the bound; leaving p = 1 unclipped changes the log by about 2e-16
  return p < LOG_LOSS_EPSILON ? LOG_LOSS_EPSILON : p > 1 - LOG_LOSS_EPSILON ? 1 - LOG_LOSS_EPSILON : p;
}

/** Per-class counts and scores of a confusion matrix, filled by the caller and by {@link writeConfusionMetrics}. */
export interface ConfusionScratch {
  /** Weighted count of rows per true class, per predicted class, and on the diagonal. */
  trueCount: Float64Array;
  predictedCount: Float64Array;
  truePositives: Float64Array;
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
}

/**
 * The metrics of a confusion matrix, as sklearn defines them (zero_division=0; macro and
 * weighted averages over the classes present in the labels or the predictions): per-class
 * precision, recall and F1 into `scratch`, and accuracy, balanced accuracy, binary precision,
 * recall and F1, macro and weighted averages into `values` (by metric slot). Shared by the
 * row-level metrics and the block bootstrap's merged states, so both compute them alike.
 * Returns false (writing nothing) when the total weight is 0.
 */
export function writeConfusionMetrics(
  k: number,
  binary: boolean,
  scratch: ConfusionScratch,
  correct: number,
  total: number,
  values: Float64Array,
): boolean {
  const { trueCount, predictedCount, truePositives, precision, recall, f1 } = scratch;
  // Per class with zero_division=0; f1 from precision and recall as sklearn (0 when both are 0).
  // Stryker disable next-line EqualityOperator: one class too many writes past the end of typed arrays, which ignore it
  for (let c = 0; c < k; c++) {
    precision[c] = predictedCount[c] === 0 ? 0 : truePositives[c] / predictedCount[c];
    recall[c] = trueCount[c] === 0 ? 0 : truePositives[c] / trueCount[c];
    const denominator = precision[c] + recall[c];
    f1[c] = denominator === 0 ? 0 : (2 * precision[c] * recall[c]) / denominator;
  }
  if (total === 0) return false;

  // Macro and weighted averages over sklearn's labels: the classes in the labels or the predictions.
  let present = 0;
  let labelled = 0;
  let recallOfLabelled = 0;
  let precisionMacro = 0;
  let recallMacro = 0;
  let f1Macro = 0;
  let precisionWeighted = 0;
  let recallWeighted = 0;
  let f1Weighted = 0;
  for (let c = 0; c < k; c++) {
    if (trueCount[c] > 0) {
      labelled++;
      recallOfLabelled += recall[c];
    }
    if (trueCount[c] === 0 && predictedCount[c] === 0) continue;
    present++;
    precisionMacro += precision[c];
    recallMacro += recall[c];
    f1Macro += f1[c];
    precisionWeighted += precision[c] * trueCount[c];
    recallWeighted += recall[c] * trueCount[c];
    f1Weighted += f1[c] * trueCount[c];
  }
  values[ACCURACY] = correct / total;
  values[BALANCED_ACCURACY] = recallOfLabelled / labelled;
  // Stryker disable next-line ConditionalExpression: a multiclass model's precision, recall and f1 slots are never read
  if (binary) {
    values[PRECISION] = precision[1];
    values[RECALL] = recall[1];
    values[F1] = f1[1];
  }
  values[PRECISION_MACRO] = precisionMacro / present;
  values[RECALL_MACRO] = recallMacro / present;
  values[F1_MACRO] = f1Macro / present;
  values[PRECISION_WEIGHTED] = precisionWeighted / total;
  values[RECALL_WEIGHTED] = recallWeighted / total;
  values[F1_WEIGHTED] = f1Weighted / total;
  return true;
}

/**
 * Computes every metric of the task into `values` (indexed as METRIC_NAMES; other slots untouched),
 * NaN with a reason in `reasons` (when given) where undefined. ROC AUC and average precision are
 * skipped (left NaN, no reason) unless `ranked`. Returns the total weight. Afterwards the scratch
 * arrays hold the confusion matrix and the per-class metrics of this evaluation.
 */
export function evaluateClassification(
  prepared: PreparedClassification,
  weights: Uint32Array | undefined,
  ranked: boolean,
  values: Float64Array,
  reasons: Partial<Record<MetricName, string>> | undefined,
): number {
  const { classCount: k, binary, scratch } = prepared;
  sumRows(prepared, weights);
  const { confusion, calibrationWeight, calibrationConfidence, sums } = scratch;
  const total = sums[0];
  const logLoss = sums[1];
  const brier = sums[2];

  const { truePositives, trueCount, predictedCount } = scratch;
  trueCount.fill(0);
  predictedCount.fill(0);
  let correct = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const count = confusion[t * k + p];
      trueCount[t] += count;
      predictedCount[p] += count;
    }
    truePositives[t] = confusion[t * k + t];
    correct += truePositives[t];
  }
  if (!writeConfusionMetrics(k, binary, scratch, correct, total, values)) return 0;
  // Stryker disable next-line ConditionalExpression: a multiclass model has no brier slot that is ever read
  if (binary) values[BRIER] = brier / total;
  values[LOG_LOSS] = logLoss / total;
  let ece = 0;
  // Stryker disable next-line EqualityOperator: one bin too many reads undefined counts (NaN > 0 is false) and adds nothing
  for (let bin = 0; bin < CALIBRATION_BINS; bin++) {
    const count = calibrationWeight[2 * bin] + calibrationWeight[2 * bin + 1];
    if (count > 0)
      ece +=
        (Math.abs(calibrationWeight[2 * bin + 1] / count - calibrationConfidence[bin] / count) * count) /
        total;
  }
  values[ECE] = ece;

  if (binary) {
    if (trueCount[0] === 0 || trueCount[1] === 0) {
      const only = String(prepared.outcomes.classes[trueCount[0] === 0 ? 1 : 0]);
      if (reasons) {
        reasons.roc_auc = `only one class (${only}) is present in the labels`;
        reasons.average_precision = reasons.roc_auc;
      }
    } else {
      // Stryker disable next-line ConditionalExpression: ranking when not asked only costs time; ROC AUC is read only by callers that asked for it
      if (ranked) {
        rankClass(prepared, 1, weights);
        values[ROC_AUC] = scratch.rocAuc[1];
        values[AVERAGE_PRECISION] = scratch.averagePrecision[1];
      }
    }
    return total;
  }
  const absent: string[] = [];
  // Stryker disable next-line EqualityOperator: classes[k] is past the end: trueCount[k] is undefined, never 0
  for (let c = 0; c < k; c++) if (trueCount[c] === 0) absent.push(String(prepared.outcomes.classes[c]));
  if (absent.length > 0) {
    if (reasons) {
      const which =
        absent.length === 1 ? `class ${absent[0]} is absent` : `classes ${absent.join(', ')} are absent`;
      const reason = `${which} from the labels (one-vs-rest needs every class of the model)`;
      reasons.roc_auc = reason;
      reasons.roc_auc_weighted = reason;
      reasons.average_precision = reason;
    }
  } else {
    // Stryker disable next-line ConditionalExpression: ranking when not asked only costs time; ROC AUC is read only by callers that asked for it
    if (ranked) {
      let aucMacro = 0;
      let aucWeighted = 0;
      let apMacro = 0;
      for (let c = 0; c < k; c++) {
        rankClass(prepared, c, weights);
        aucMacro += scratch.rocAuc[c];
        aucWeighted += scratch.rocAuc[c] * trueCount[c];
        apMacro += scratch.averagePrecision[c];
      }
      values[ROC_AUC] = aucMacro / k;
      values[ROC_AUC_WEIGHTED] = aucWeighted / total;
      values[AVERAGE_PRECISION] = apMacro / k;
    }
  }
  return total;
}

/**
 * The pass over the rows: weighted confusion matrix, calibration bins, and the sums of log loss and
 * Brier terms, into the scratch arrays. Its own small function so V8 optimises the loop as a whole
 * (inside a larger function it ran through on-stack replacement on every call).
 */
function sumRows(prepared: PreparedClassification, weights: Uint32Array | undefined): void {
  const { rows, cell, rowLogLoss, binary, calibration, confidence, scratch } = prepared;
  const { confusion, calibrationWeight, calibrationConfidence, sums } = scratch;
  confusion.fill(0);
  calibrationWeight.fill(0);
  calibrationConfidence.fill(0);
  let total = 0;
  let logLoss = 0;
  let brier = 0;
  // No skip of zero weights: a row of weight 0 adds exact zeros (every per-row term is finite), and
  // a data-dependent branch there costs more than the whole loop body (mispredictions).
  for (let i = 0; i < rows; i++) {
    const w = weights === undefined ? 1 : weights[i];
    total += w;
    confusion[cell[i]] += w;
    logLoss += w * rowLogLoss[i];
    const code = calibration[i];
    // Binary: the confidence is P(positive) and bit 0 of the code the label, so this is (p − y)².
    const miss = confidence[i] - (code & 1);
    // Stryker disable next-line ConditionalExpression: brier is read only for binary models
    if (binary) brier += w * miss * miss;
    calibrationWeight[code] += w;
    calibrationConfidence[code >> 1] += w * confidence[i];
  }
  sums[0] = total;
  sums[1] = logLoss;
  sums[2] = brier;
}

/**
 * One-vs-rest ROC AUC and average precision of class `c`, into scratch.rocAuc[c] and
 * scratch.averagePrecision[c]. Needs both classes present (the caller checks).
 */
/** The ranking of class `c`, sorted on first use and cached. */
function rankingOf(prepared: PreparedClassification, c: number): Ranking {
  let ranking = prepared.rankings[c];
  // Stryker disable next-line ConditionalExpression: a cache; ranking again gives the same ranking
  if (ranking === undefined) {
    ranking = rankRows(prepared.outcomes, c);
    prepared.rankings[c] = ranking;
  }
  return ranking;
}

/**
 * The binary ROC curve (false and true positive rates, from (0, 0), one point per distinct score),
 * from the same ranking as the ROC AUC, so it costs one pass once the metrics have been computed.
 */
export function computeRocPoints(prepared: PreparedClassification): { fpr: Float64Array; tpr: Float64Array } {
  const { flags } = rankingOf(prepared, 1);
  let positives = 0;
  // Stryker disable next-line EqualityOperator: flags past the end read undefined, and undefined & 1 is 0
  for (let i = 0; i < flags.length; i++) positives += flags[i] & 1;
  const negatives = flags.length - positives;
  let points = 1;
  // Stryker disable next-line EqualityOperator: flags past the end read undefined, and undefined >> 1 & 1 is 0
  for (let i = 0; i < flags.length; i++) points += (flags[i] >> 1) & 1;
  const fpr = new Float64Array(points);
  const tpr = new Float64Array(points);
  let tp = 0;
  let fp = 0;
  // Stryker disable next-line EqualityOperator: a flag past the end counts a false positive that no point records
  for (let i = 0, point = 1; i < flags.length; i++) {
    if (flags[i] & 1) tp++;
    else fp++;
    if (flags[i] & 2) {
      fpr[point] = fp / negatives;
      tpr[point] = tp / positives;
      point++;
    }
  }
  return { fpr, tpr };
}

function rankClass(prepared: PreparedClassification, c: number, weights: Uint32Array | undefined): void {
  const { order, flags } = rankingOf(prepared, c);
  const { scratch } = prepared;
  scratch.sortedWeights ??= new Float64Array(order.length);
  const sorted = scratch.sortedWeights;
  // The weights in score order, as float64, in a loop of their own: a bare gather keeps many cache
  // misses in flight, and the sweep then does float64 arithmetic (V8 is ~2x slower on uint32 values).
  if (weights === undefined) sorted.fill(1);
  else {
    // Stryker disable next-line EqualityOperator: one position too many writes past the end of a typed array, which ignores it
    for (let position = 0; position < order.length; position++) sorted[position] = weights[order[position]];
  }
  sweepCurves(flags, sorted, scratch.curves);
  const [area, precisionSum, positives, negatives] = scratch.curves;
  scratch.rocAuc[c] = area / (2 * positives * negatives);
  scratch.averagePrecision[c] = precisionSum / positives;
}

/**
 * Walks the rows by decreasing score; each group of tied scores is one threshold: the ROC curve
 * gets a trapezoid (roc_auc_score), the precision-recall curve a step Σ (Rₖ − Rₖ₋₁)·Pₖ
 * (average_precision_score). Sums stay in weight units (exact integers), normalised by the caller.
 * Writes [2 × area under the ROC curve in weight², Σ ΔTP·precision, positives, negatives] to `out`.
 */
function sweepCurves(flags: Uint8Array, weights: Float64Array, out: Float64Array): void {
  let tp = 0;
  let seen = 0;
  let tpBefore = 0;
  let fpBefore = 0;
  let area = 0;
  let precisionSum = 0;
  // Branch-free on the labels (they alternate unpredictably); the tie-group branch is almost always
  // taken with continuous scores, so it predicts well.
  for (let position = 0; position < flags.length; position++) {
    const w = weights[position];
    const flag = flags[position];
    tp += (flag & 1) * w;
    seen += w;
    if (flag & 2) {
      const fp = seen - tp;
      area += (fp - fpBefore) * (tp + tpBefore);
      // Adds 0 when the group holds no positive; max(…, 1) keeps a weightless start from 0/0.
      precisionSum += ((tp - tpBefore) * tp) / Math.max(seen, 1);
      tpBefore = tp;
      fpBefore = fp;
    }
  }
  out[0] = area;
  out[1] = precisionSum;
  out[2] = tp;
  out[3] = seen - tp;
}

/**
 * Orders the rows by decreasing probability of class `c`, with their tie groups and labels. The
 * probabilities are in [0, 1] (validated), and the bit patterns of non-negative float64s sort as
 * unsigned integers: an LSD radix sort on them is ~3x faster than a comparison sort and needs no
 * comparator calls.
 */
function rankRows(outcomes: ClassificationOutcomes, c: number): Ranking {
  const { labels, probabilities } = outcomes;
  const k = outcomes.classes.length;
  const n = labels.length;
  const score = new Float64Array(1);
  const scoreBits = new Uint32Array(score.buffer);
  const low = littleEndian ? 0 : 1;
  let keyLow = new Uint32Array(n);
  let keyHigh = new Uint32Array(n);
  let rows = new Int32Array(n);
  // Stryker disable next-line EqualityOperator: one row too many writes past the end of typed arrays, which ignore it
  for (let i = 0; i < n; i++) {
    // + 0 turns −0 into +0, whose bit pattern would otherwise sort above every other score.
    score[0] = probabilities[i * k + c] + 0;
    keyLow[i] = scoreBits[low];
    // Stryker disable next-line ArithmeticOperator: on little-endian hosts low is 0, and 1 + 0 = 1 - 0
    keyHigh[i] = scoreBits[1 - low];
    rows[i] = i;
  }
  let nextLow = new Uint32Array(n);
  let nextHigh = new Uint32Array(n);
  let nextRows = new Int32Array(n);
  // Stryker disable next-line EqualityOperator: shift steps from 55 to 66, never 64
  const start = new Int32Array(RADIX);
  for (let shift = 0; shift < 64; shift += RADIX_BITS) {
    start.fill(0);
    for (let i = 0; i < n; i++) start[radixDigit(keyLow[i], keyHigh[i], shift)]++;
    // Float32-born probabilities leave low mantissa bits zero: those passes would not move anything.
    // Stryker disable next-line ConditionalExpression,LogicalOperator: skipping a pass that moves nothing only saves time
    if (n === 0 || start[radixDigit(keyLow[0], keyHigh[0], shift)] === n) continue;
    let sum = 0;
    // Stryker disable next-line EqualityOperator: one digit too many writes past the end of the counts (a typed array)
    for (let d = 0; d < RADIX; d++) {
      const count = start[d];
      start[d] = sum;
      sum += count;
    }
    for (let i = 0; i < n; i++) {
      const to = start[radixDigit(keyLow[i], keyHigh[i], shift)]++;
      nextLow[to] = keyLow[i];
      nextHigh[to] = keyHigh[i];
      nextRows[to] = rows[i];
    }
    [keyLow, nextLow] = [nextLow, keyLow];
    [keyHigh, nextHigh] = [nextHigh, keyHigh];
    [rows, nextRows] = [nextRows, rows];
  }
  // Ascending (stable) now; stored reversed for a descending order.
  const order = new Int32Array(n);
  const flags = new Uint8Array(n);
  // Stryker disable next-line EqualityOperator: one position too many writes past the end of typed arrays, which ignore it
  for (let position = 0; position < n; position++) {
    const ascending = n - 1 - position;
    order[position] = rows[ascending];
    // Stryker disable next-line ConditionalExpression: at 0, keyLow[-1] is undefined, unequal to any key, so the next line decides alike
    const last =
      ascending === 0 ||
      keyLow[ascending - 1] !== keyLow[ascending] ||
      keyHigh[ascending - 1] !== keyHigh[ascending];
    flags[position] = (labels[rows[ascending]] === c ? 1 : 0) | (last ? 2 : 0);
  }
  return { order, flags };
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
// Stryker disable next-line ConditionalExpression: every host this runs on is little-endian
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bits [shift, shift + RADIX_BITS) of the 64-bit key high:low. */
function radixDigit(low: number, high: number, shift: number): number {
  // Stryker disable next-line EqualityOperator: shifts are multiples of 11, so shift + 11 is never 32
  if (shift + RADIX_BITS <= 32) return (low >>> shift) & (RADIX - 1);
  // Stryker disable next-line EqualityOperator,ArithmeticOperator: shift is never 32; and a shift count is taken mod 32, so shift + 32 shifts as shift - 32
  if (shift >= 32) return (high >>> (shift - 32)) & (RADIX - 1);
  return ((low >>> shift) | (high << (32 - shift))) & (RADIX - 1);
}

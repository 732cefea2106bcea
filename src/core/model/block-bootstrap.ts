/**
 * Paired, stratified, seeded bootstrap over blocks of rows, for large holdouts.
 *
 * The row-level bootstrap (`bootstrap.ts`) draws a multiplicity per row and recomputes every metric
 * over all rows: O(n) per resample, ~35 s for 1000 resamples of 1M rows. Here the rows are cut once
 * into S random blocks (default 400), each block is summarised by a mergeable metric state
 * (`metric-states.ts`: confusion counts, loss sums, calibration bins, score histograms, regression
 * sums), and a resample draws blocks instead of rows: its state is Σ count_s · state_s and its
 * metrics follow from that state. A resample then costs O(S · state size), independent of n.
 *
 * Why it is valid: with i.i.d. rows and blocks formed at random, a block's sum is the sum of m
 * random rows, so drawing S blocks with replacement gives every summed quantity the variance
 * S · Var(block sum) ≈ S · m · σ² = n · σ², the row-level bootstrap's; the metrics are smooth
 * functions of these sums (ratios; the rank metrics are sums of products of histogram counts), so
 * their resampling distribution matches too (delta method). Block sums of thousands of rows are
 * close to normal, as the row-level bootstrap's sums are at this n.
 *
 * Like the row-level bootstrap it is:
 * - stratified: classification rows are blocked per class (blocks never mix classes) and each
 *   resample draws as many blocks of each class as it has, so class counts are preserved up to the
 *   size difference of one row between blocks of a class. Blocks per class are proportional to its
 *   rows, with a floor (max(20, S / 2K)) so a minority class's variance is still estimated from
 *   enough blocks; a class with fewer rows than that gets one block per row (its resampling is then
 *   exactly the row-level one);
 * - paired: the candidate's and the baseline's states are built on the same blocks and merged with
 *   the same counts, so a difference's interval excludes the noise the models share;
 * - seeded: blocks and counts come from bootstrap.ts's generator (xoshiro128**), same seed, same
 *   intervals on every platform.
 *
 * Approximations, both small at the sizes this is used for (≥ BLOCK_BOOTSTRAP_MIN_ROWS rows):
 * - block granularity: the variance is estimated from S block sums instead of n rows, so it
 *   carries a relative noise of ~√(2/S_g) per stratum of S_g blocks (a few percent of the interval
 *   width at S = 400, comparable to the Monte Carlo noise of 1000 resamples) and is low by the
 *   factor 1 − 1/S_g (the row-level bootstrap's is 1 − 1/n_g);
 * - binned rank metrics: ROC AUC and average precision see each model's scores through B quantile
 *   bins (default 256; rows within a bin count as tied for ROC AUC, and are taken in random order
 *   for average precision, see metric-states.ts), so their value on all blocks, θ₀, differs from
 *   the exact θ (by ~1e-5 for ROC AUC and ~2e-4 for average precision on realistic scores). The
 *   interval is shifted by θ − θ₀ (for a difference, by the difference of the shifts) so it is
 *   centred where the exact metric is; every other metric has θ₀ = θ up to float rounding.
 */

import { drawIndex, percentileInterval, seedState } from './bootstrap.ts';
import { METRIC_NAMES, type MetricName, metricsOfTask } from './metric-names.ts';
import {
  BINNED_METRICS,
  type BlockPartition,
  buildMetricStates,
  evaluateMetricStates,
  type MetricStates,
  mergeMetricStates,
} from './metric-states.ts';
import { computeMetricValues, prepareOutcomes } from './metrics.ts';
import { countOutcomes, type Outcomes } from './outcomes.ts';

/** The caller switches from the row-level to the block bootstrap at or above this many rows. */
export const BLOCK_BOOTSTRAP_MIN_ROWS = 100_000;

/** How to resample blocks. */
export interface BlockBootstrapOptions {
  /** Number of resamples. */
  resamples: number;
  /** Seed of the generator (a safe integer): same seed, same blocks and resamples. */
  seed: number;
  /** Confidence level of the percentile intervals, in (0, 1). */
  level: number;
  /** Target number of blocks (default 400; per-class floors may add some, small classes take fewer). */
  blocks?: number;
  /** Bins of the ROC AUC / average precision score histograms (default 256). */
  bins?: number;
}

/** Intervals of the block bootstrap. */
export interface BlockBootstrapResult {
  /** Percentile interval of each metric of the candidate, in the order of the names (null: mostly undefined). */
  candidate: ([number, number] | null)[];
  /** Interval of each candidate − baseline difference (empty without a baseline). */
  delta: ([number, number] | null)[];
  /** Blocks the rows were cut into. */
  blocks: number;
  /** Bins of the score histograms. */
  bins: number;
}

export const DEFAULT_BLOCKS = 400;
export const DEFAULT_BINS = 256;
/** A class gets at least this many blocks (when it has that many rows). */
const MIN_BLOCKS_PER_CLASS = 20;
/** Rows sampled per bin to place the bin edges: ±1/√128 ≈ 9% noise on a bin's share of the rows. */
const QUANTILE_SAMPLE_PER_BIN = 128;
/** Bin indices are stored as 16-bit integers. */
const MAX_BINS = 65536;

/**
 * Intervals for `names` (metrics of the outcomes' task), in that order; `delta` empty without a
 * baseline. Baseline outcomes must have the same rows/labels (paired). Throws a RangeError on a
 * name that is not a metric of the task, baseline outcomes that are not paired with the candidate's,
 * invalid options, or invalid outcomes (as the metric code).
 */
export function blockBootstrapIntervals(
  names: readonly MetricName[],
  candidate: Outcomes,
  baseline: Outcomes | undefined,
  options: BlockBootstrapOptions,
): BlockBootstrapResult {
  const { resamples, level } = options;
  const targetBlocks = options.blocks ?? DEFAULT_BLOCKS;
  const bins = options.bins ?? DEFAULT_BINS;
  if (!Number.isSafeInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer; got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1; got ${level}`);
  if (!Number.isSafeInteger(targetBlocks) || targetBlocks < 1)
    throw new RangeError(`blocks must be a positive integer; got ${targetBlocks}`);
  if (!Number.isInteger(bins) || bins < 2 || bins > MAX_BINS)
    throw new RangeError(`bins must be an integer in [2, ${MAX_BINS}]; got ${bins}`);
  const available = metricsOfTask(candidate.task);
  for (const name of names)
    if (!available.includes(name))
      throw new RangeError(`${name} is not a metric of ${candidate.task} models`);
  if (baseline) checkPaired(candidate, baseline);

  const binned = names.filter((name) => BINNED_METRICS.includes(name));
  const generator = seedState(options.seed);
  const { partition, quantileRows } = partitionRows(candidate, targetBlocks, bins, generator);
  const stateOptions = { bins: binned.length > 0 ? bins : 0, quantileRows };
  const candidateStates = buildMetricStates(candidate, partition, stateOptions);
  const baselineStates = baseline ? buildMetricStates(baseline, partition, stateOptions) : undefined;

  const slots = names.map((name) => METRIC_NAMES.indexOf(name));
  const blockCount = partition.offsets[partition.offsets.length - 1];
  const counts = new Float64Array(blockCount);
  const evaluate = createEvaluator(candidateStates, slots);
  const evaluateBaseline = baselineStates ? createEvaluator(baselineStates, slots) : undefined;

  // Binning bias: θ − θ₀ per binned metric (0 elsewhere), θ₀ being the value on all blocks once.
  counts.fill(1);
  const candidateShift = computeShifts(names, binned, candidate, evaluate(counts));
  const baselineShift =
    baseline && evaluateBaseline ? computeShifts(names, binned, baseline, evaluateBaseline(counts)) : [];

  const k = names.length;
  const candidateSamples = Array.from({ length: k }, () => new Float64Array(resamples));
  const deltaSamples = baseline ? Array.from({ length: k }, () => new Float64Array(resamples)) : [];
  for (let r = 0; r < resamples; r++) {
    drawBlockCounts(counts, partition.offsets, generator);
    const c = evaluate(counts);
    for (let m = 0; m < k; m++) candidateSamples[m][r] = c[m];
    if (evaluateBaseline) {
      const b = evaluateBaseline(counts);
      for (let m = 0; m < k; m++) deltaSamples[m][r] = c[m] - b[m];
    }
  }
  const shifted = (samples: Float64Array, shift: number): [number, number] | null => {
    const interval = percentileInterval(samples, level);
    return interval && [interval[0] + shift, interval[1] + shift];
  };
  return {
    candidate: candidateSamples.map((samples, m) => shifted(samples, candidateShift[m])),
    delta: deltaSamples.map((samples, m) => shifted(samples, candidateShift[m] - baselineShift[m])),
    blocks: blockCount,
    bins,
  };
}

/** Throws a RangeError unless `baseline` has the candidate's task, classes, rows and labels (or targets). */
function checkPaired(candidate: Outcomes, baseline: Outcomes): void {
  if (baseline.task !== candidate.task)
    throw new RangeError(`baseline outcomes are ${baseline.task}, the candidate's ${candidate.task}`);
  const n = countOutcomes(candidate);
  if (countOutcomes(baseline) !== n)
    throw new RangeError(`baseline outcomes have ${countOutcomes(baseline)} rows, the candidate's ${n}`);
  if (
    candidate.task !== 'regression' &&
    baseline.task !== 'regression' &&
    (baseline.classes.length !== candidate.classes.length ||
      baseline.classes.some((name, c) => name !== candidate.classes[c]))
  )
    throw new RangeError(
      `baseline outcomes have classes [${baseline.classes.join(', ')}], the candidate's [${candidate.classes.join(', ')}]`,
    );
  const truth = candidate.task === 'regression' ? candidate.targets : candidate.labels;
  const other = baseline.task === 'regression' ? baseline.targets : baseline.labels;
  if (truth === other) return;
  for (let i = 0; i < n; i++)
    // NaN targets pass here, to be rejected by the metric code's validation with its message.
    if (truth[i] !== other[i] && !(Number.isNaN(truth[i]) && Number.isNaN(other[i])))
      throw new RangeError(`baseline outcomes differ from the candidate's at row ${i} (not paired)`);
}

/**
 * A function of block counts returning the metrics at `slots` (a reused array): merges the states
 * with the counts and evaluates them.
 */
function createEvaluator(states: MetricStates, slots: number[]): (counts: Float64Array) => Float64Array {
  const merged = new Float64Array(states.strata * states.width);
  const values = new Float64Array(METRIC_NAMES.length);
  const result = new Float64Array(slots.length);
  return (counts) => {
    mergeMetricStates(states, counts, merged);
    evaluateMetricStates(states, merged, values);
    for (let m = 0; m < slots.length; m++) result[m] = values[slots[m]];
    return result;
  };
}

/**
 * θ − θ₀ for each of `names` that is binned (θ exact, from the metric code on all rows; θ₀ =
 * `onAllBlocks[m]`, from the merged states of all blocks), 0 for the others (their θ₀ is θ) and
 * where either is undefined.
 */
function computeShifts(
  names: readonly MetricName[],
  binned: readonly MetricName[],
  outcomes: Outcomes,
  onAllBlocks: Float64Array,
): number[] {
  const shifts = names.map(() => 0);
  if (binned.length === 0) return shifts;
  const exact = computeMetricValues(prepareOutcomes(outcomes), undefined, binned);
  for (let m = 0; m < names.length; m++) {
    const b = binned.indexOf(names[m]);
    if (b < 0) continue;
    const shift = exact[b] - onAllBlocks[m];
    shifts[m] = Number.isFinite(shift) ? shift : 0;
  }
  return shifts;
}

/**
 * Cuts the rows into random blocks, per class for classification (one stratum for regression):
 * each stratum's rows are shuffled (Fisher–Yates) and cut into blocks whose sizes differ by at
 * most one. Also returns a random sample of the rows (the first ones of each shuffled stratum, in
 * proportion) for the histograms' bin edges, or undefined when every row fits in the sample.
 */
function partitionRows(
  outcomes: Outcomes,
  targetBlocks: number,
  bins: number,
  generator: Uint32Array,
): { partition: BlockPartition; quantileRows: Int32Array | undefined } {
  const n = countOutcomes(outcomes);
  const strata = outcomes.task === 'regression' ? 1 : outcomes.classes.length;
  const stratum = new Int32Array(n);
  if (outcomes.task !== 'regression') {
    for (let i = 0; i < n; i++) {
      const label = outcomes.labels[i];
      if (!(label >= 0 && label < strata))
        throw new RangeError(`label ${label} at row ${i} is not a class index in [0, ${strata})`);
      stratum[i] = label;
    }
  }
  // Rows grouped by stratum (counting sort), then shuffled within each.
  const starts = new Int32Array(strata + 1);
  for (let i = 0; i < n; i++) starts[stratum[i] + 1]++;
  for (let g = 0; g < strata; g++) starts[g + 1] += starts[g];
  const next = starts.slice(0, strata);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[next[stratum[i]]++] = i;
  const nonEmpty = Array.from({ length: strata }, (_, g) => starts[g + 1] > starts[g]).filter(Boolean).length;
  // The floor keeps a minority class's variance from resting on a handful of block sums.
  const floor = strata === 1 ? 1 : Math.max(MIN_BLOCKS_PER_CLASS, Math.floor(targetBlocks / (2 * nonEmpty)));
  const offsets = new Int32Array(strata + 1);
  const blockOf = new Int32Array(n);
  const sampleSize = QUANTILE_SAMPLE_PER_BIN * bins;
  const sample: number[] = [];
  for (let g = 0; g < strata; g++) {
    const start = starts[g];
    const size = starts[g + 1] - start;
    const blocks = Math.min(size, Math.max(floor, Math.round((targetBlocks * size) / n)));
    offsets[g + 1] = offsets[g] + blocks;
    for (let p = size - 1; p > 0; p--) {
      const j = drawIndex(generator, p + 1);
      const row = order[start + p];
      order[start + p] = order[start + j];
      order[start + j] = row;
    }
    for (let p = 0; p < size; p++) blockOf[order[start + p]] = offsets[g] + Math.floor((p * blocks) / size);
    if (n > sampleSize) {
      const take = Math.min(size, Math.ceil((sampleSize * size) / n));
      for (let p = 0; p < take; p++) sample.push(order[start + p]);
    }
  }
  return {
    partition: { blockOf, offsets },
    quantileRows: n > sampleSize ? Int32Array.from(sample) : undefined,
  };
}

/** One resample's block counts: within each stratum of S blocks, S draws with replacement. */
function drawBlockCounts(counts: Float64Array, offsets: Int32Array, generator: Uint32Array): void {
  counts.fill(0);
  for (let g = 0; g + 1 < offsets.length; g++) {
    const start = offsets[g];
    const size = offsets[g + 1] - start;
    for (let t = 0; t < size; t++) counts[start + drawIndex(generator, size)]++;
  }
}

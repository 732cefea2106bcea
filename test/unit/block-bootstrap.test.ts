import { describe, expect, it } from 'vitest';
import {
  BLOCK_BOOTSTRAP_MIN_ROWS,
  type BlockBootstrapResult,
  blockBootstrapIntervals,
} from '../../src/core/model/block-bootstrap.ts';
import { drawBootstrapWeights, drawIndex, seedState } from '../../src/core/model/bootstrap.ts';
import { bootstrapMetricIntervals } from '../../src/core/model/decide.ts';
import { METRIC_NAMES, type MetricName, metricsOfTask } from '../../src/core/model/metric-names.ts';
import {
  BINNED_METRICS,
  buildMetricStates,
  evaluateMetricStates,
  mergeMetricStates,
} from '../../src/core/model/metric-states.ts';
import { computeMetrics, prepareOutcomes } from '../../src/core/model/metrics.ts';
import type { ClassificationOutcomes, Outcomes, RegressionOutcomes } from '../../src/core/model/outcomes.ts';
import { createRandom } from '../helpers/random.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

type Pair<T extends Outcomes> = { candidate: T; baseline: T };

/**
 * Binary outcomes from a logistic model (~30% positives): the candidate sees the signal with a
 * little noise, the baseline a weaker version of it with more noise (correlated, slightly worse).
 */
function makeBinary(n: number, seed: number): Pair<ClassificationOutcomes> {
  const { uniform, normal } = createRandom(seed);
  const labels = new Int32Array(n);
  const candidate = new Float64Array(2 * n);
  const baseline = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x = normal();
    const z = normal();
    labels[i] = uniform() < sigmoid(-1 + 1.6 * x + 0.8 * z) ? 1 : 0;
    const c = sigmoid(-1 + 1.5 * x + 0.6 * z + 0.3 * normal());
    const b = sigmoid(-0.9 + 1.4 * x + 0.4 * z + 0.5 * normal());
    candidate.set([1 - c, c], 2 * i);
    baseline.set([1 - b, b], 2 * i);
  }
  const outcomes = (probabilities: Float64Array): ClassificationOutcomes => ({
    task: 'binary',
    classes: [0, 1],
    labels,
    probabilities,
    threshold: 0.5,
  });
  return { candidate: outcomes(candidate), baseline: outcomes(baseline) };
}

/** Three classes from a softmax of two features; the models see the logits with noise. */
function makeMulticlass(n: number, seed: number): Pair<ClassificationOutcomes> {
  const { uniform, normal } = createRandom(seed);
  const k = 3;
  const labels = new Int32Array(n);
  const candidate = new Float64Array(k * n);
  const baseline = new Float64Array(k * n);
  const softmax = (logits: number[], into: Float64Array, at: number) => {
    const top = Math.max(...logits);
    const exps = logits.map((logit) => Math.exp(logit - top));
    const sum = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, j) => {
      into[at + j] = e / sum;
    });
  };
  const truth = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const x1 = normal();
    const x2 = normal();
    const logits = [0.5 + 1.2 * x1, 0.2 * x1 + 1.1 * x2, -0.5 - 0.8 * x1 - 0.6 * x2];
    softmax(logits, truth, 0);
    let u = uniform();
    let label = 0;
    while (label < k - 1 && u >= truth[label]) u -= truth[label++];
    labels[i] = label;
    softmax(
      logits.map((logit) => logit + 0.4 * normal()),
      candidate,
      i * k,
    );
    softmax(
      logits.map((logit) => 0.85 * logit + 0.6 * normal()),
      baseline,
      i * k,
    );
  }
  const outcomes = (probabilities: Float64Array): ClassificationOutcomes => ({
    task: 'multiclass',
    classes: ['a', 'b', 'c'],
    labels,
    probabilities,
    threshold: 0.5,
  });
  return { candidate: outcomes(candidate), baseline: outcomes(baseline) };
}

/** Skewed targets around 20 (a squared-normal term); both models share most of their error. */
function makeRegression(n: number, seed: number): Pair<RegressionOutcomes> {
  const { normal } = createRandom(seed);
  const targets = new Float64Array(n);
  const candidate = new Float64Array(n);
  const baseline = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = normal();
    const e = normal();
    targets[i] = 20 + 4 * x + 2 * e + 0.5 * normal() ** 2;
    candidate[i] = 20.4 + 4 * x + 1.5 * e + 0.6 * normal();
    baseline[i] = 20.4 + 3.8 * x + 1.3 * e + 0.9 * normal();
  }
  return {
    candidate: { task: 'regression', targets, predictions: candidate },
    baseline: { task: 'regression', targets, predictions: baseline },
  };
}

/** The outcomes' predictions with noise of scale `noise` added (to logits for classification). */
function perturb<T extends Outcomes>(outcomes: T, noise: number): T {
  const { normal } = createRandom(99);
  if (outcomes.task === 'regression')
    return { ...outcomes, predictions: outcomes.predictions.map((p) => p + noise * normal()) };
  const k = outcomes.classes.length;
  const probabilities = new Float64Array(outcomes.probabilities.length);
  for (let i = 0; i < outcomes.labels.length; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = Math.exp(Math.log(outcomes.probabilities[i * k + j]) + noise * normal());
      probabilities[i * k + j] = p;
      sum += p;
    }
    for (let j = 0; j < k; j++) probabilities[i * k + j] /= sum;
  }
  return { ...outcomes, probabilities };
}

const ROWS = 200_000;
const datasets = {
  binary: makeBinary(ROWS, 1),
  multiclass: makeMulticlass(ROWS, 2),
  regression: makeRegression(ROWS, 3),
} as const;
/** Smaller sets for the tests that do not compare variances. */
const small = {
  binary: makeBinary(20_000, 4),
  multiclass: makeMulticlass(20_000, 5),
  regression: makeRegression(20_000, 6),
} as const;
const TASKS = ['binary', 'multiclass', 'regression'] as const;

const options = { resamples: 300, seed: 7, level: 0.95 };
const width = (interval: [number, number] | null) => interval![1] - interval![0];

/** The row-level paired bootstrap of validate-model (stratified by class), the reference. */
function rowLevelIntervals(pair: Pair<Outcomes>, resamples: number, seed: number) {
  const { candidate, baseline } = pair;
  return bootstrapMetricIntervals(
    metricsOfTask(candidate.task),
    prepareOutcomes(candidate),
    prepareOutcomes(baseline),
    {
      resamples,
      seed,
      level: 0.95,
      strata: candidate.task === 'regression' ? undefined : candidate.labels,
    },
  );
}

describe('blockBootstrapIntervals', () => {
  // The row-level bootstrap is the reference. Its Monte Carlo noise at 300 resamples (~4% of the
  // width per endpoint, and percentiles of 300 draws run a little narrow) and the block
  // bootstrap's own (block-sum variances from ~400 blocks, ~3%) made endpoints differ by up to 17%
  // of the width over 12 data and bootstrap seeds per task, and kept the mean width ratio
  // (block / row) within [0.93, 1.16]. A wrong variance moves every interval the same way, so the mean ratio
  // is the sharper check: drawing 2× the blocks per resample (half the variance) puts it near 0.71,
  // drawing ½× (double the variance) near 1.45, and either also breaks endpoints.
  for (const task of TASKS) {
    it(`agrees with the row-level bootstrap on ${task} metrics and differences (${ROWS} rows)`, () => {
      const pair = datasets[task];
      const names = metricsOfTask(task);
      const exact = rowLevelIntervals(pair, 300, 11);
      const blocks = blockBootstrapIntervals(names, pair.candidate, pair.baseline, {
        ...options,
        resamples: 2000,
      });
      expect(blocks.blocks).toBeGreaterThanOrEqual(400);
      expect(blocks.bins).toBe(256);
      const ratios: number[] = [];
      for (const [which, reference, ours] of [
        ['candidate', exact.candidate, blocks.candidate],
        ['delta', exact.delta, blocks.delta],
      ] as const) {
        names.forEach((name, m) => {
          const [low, high] = reference[m]!;
          const scale = high - low;
          expect(scale, `${which} ${name}`).toBeGreaterThan(0);
          expect(Math.abs(ours[m]![0] - low) / scale, `${which} ${name} low`).toBeLessThan(0.25);
          expect(Math.abs(ours[m]![1] - high) / scale, `${which} ${name} high`).toBeLessThan(0.25);
          ratios.push(width(ours[m]) / scale);
        });
      }
      const meanRatio = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      expect(meanRatio).toBeGreaterThan(0.85);
      expect(meanRatio).toBeLessThan(1.25);
    }, 20_000);
  }

  it('merges all blocks into the exact metrics (rank metrics within 1e-3: binned scores)', () => {
    for (const task of TASKS) {
      for (const outcomes of [datasets[task].candidate, datasets[task].baseline]) {
        // Any partition merges to the whole; blocks never mix classes.
        const blocks = task === 'regression' ? 400 : 100;
        const strata = outcomes.task === 'regression' ? 1 : outcomes.classes.length;
        const blockOf = new Int32Array(ROWS);
        for (let i = 0; i < ROWS; i++)
          blockOf[i] = (outcomes.task === 'regression' ? 0 : outcomes.labels[i] * blocks) + (i % blocks);
        const offsets = Int32Array.from({ length: strata + 1 }, (_, g) => g * blocks);
        const states = buildMetricStates(outcomes, { blockOf, offsets }, { bins: 256 });
        const merged = new Float64Array(strata * states.width);
        mergeMetricStates(states, new Float64Array(strata * blocks).fill(1), merged);
        const values = new Float64Array(METRIC_NAMES.length);
        evaluateMetricStates(states, merged, values);
        const exact = computeMetrics(prepareOutcomes(outcomes)).values;
        for (const name of metricsOfTask(task)) {
          const value = values[METRIC_NAMES.indexOf(name)];
          expect(Number.isFinite(value), name).toBe(true);
          const tolerance = BINNED_METRICS.includes(name) ? 1e-3 : 1e-9;
          expect(Math.abs(value - exact[name]!), `${task} ${name}`).toBeLessThan(tolerance);
        }
      }
    }
  });

  it('is exact on rank metrics when every distinct score gets its own bin, ties included', () => {
    const { uniform } = createRandom(5);
    const n = 20_000;
    const labels = new Int32Array(n);
    const probabilities = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const score = Math.round(uniform() * 100) / 100; // 101 tied values, each ~1% of the rows
      labels[i] = uniform() < score ? 1 : 0;
      probabilities.set([1 - score, score], 2 * i);
    }
    const outcomes: ClassificationOutcomes = {
      task: 'binary',
      classes: [0, 1],
      labels,
      probabilities,
      threshold: 0.5,
    };
    const states = buildMetricStates(
      outcomes,
      { blockOf: Int32Array.from(labels), offsets: Int32Array.of(0, 1, 2) },
      { bins: 256 },
    );
    const merged = new Float64Array(2 * states.width);
    mergeMetricStates(states, Float64Array.of(1, 1), merged);
    const values = new Float64Array(METRIC_NAMES.length);
    evaluateMetricStates(states, merged, values);
    const exact = computeMetrics(prepareOutcomes(outcomes)).values;
    for (const name of ['roc_auc', 'average_precision'] as const)
      expect(values[METRIC_NAMES.indexOf(name)]).toBeCloseTo(exact[name]!, 12);
  });

  it('centres binned metrics on the exact value', () => {
    // θ₀ (binned) is off by up to ~1e-3 on coarse bins; the shift moves the interval to θ.
    const { candidate } = datasets.binary;
    const names: MetricName[] = ['roc_auc', 'average_precision'];
    const exact = computeMetrics(prepareOutcomes(candidate)).values;
    for (const bins of [4, 256]) {
      const result = blockBootstrapIntervals(names, candidate, undefined, { ...options, bins });
      names.forEach((name, m) => {
        const [low, high] = result.candidate[m]!;
        expect(Math.abs((low + high) / 2 - exact[name]!)).toBeLessThan((high - low) / 4);
      });
    }
  });

  it('gives the same intervals for the same seed and different ones for another seed', () => {
    for (const task of TASKS) {
      const { candidate, baseline } = small[task];
      const names = metricsOfTask(task);
      const run = (seed: number) =>
        blockBootstrapIntervals(names, candidate, baseline, { ...options, resamples: 50, seed });
      const first = run(3);
      expect(run(3)).toEqual(first);
      const other = run(4);
      expect(other.candidate).not.toEqual(first.candidate);
      expect(other.delta).not.toEqual(first.delta);
    }
  });

  it('is paired: a model against itself differs by exactly 0, a close baseline by a narrow interval', () => {
    for (const task of TASKS) {
      const { candidate } = small[task];
      const names = metricsOfTask(task);
      const itself = blockBootstrapIntervals(names, candidate, structuredClone(candidate), options);
      for (const interval of itself.delta) expect(interval).toEqual([0, 0]);
      // A retrained model: the candidate's predictions with a little noise. Its metrics move with
      // the candidate's from resample to resample, so their difference varies far less than either.
      const paired = blockBootstrapIntervals(names, candidate, perturb(candidate, 0.1), options);
      names.forEach((name, m) => {
        // ECE sums |accuracy − confidence| per bin: shared noise does not cancel through |·|.
        if (name === 'ece') return;
        expect(width(paired.delta[m]), `${task} ${name}`).toBeLessThan(0.5 * width(paired.candidate[m]));
      });
    }
  });

  it("does not change the candidate's intervals when a baseline is added", () => {
    const { candidate, baseline } = datasets.binary;
    const names = metricsOfTask('binary');
    const alone = blockBootstrapIntervals(names, candidate, undefined, options);
    expect(alone.delta).toEqual([]);
    expect(blockBootstrapIntervals(names, candidate, baseline, options).candidate).toEqual(alone.candidate);
  });

  it('gives small classes one block per row and leaves undefined metrics null', () => {
    const { uniform } = createRandom(9);
    const n = BLOCK_BOOTSTRAP_MIN_ROWS;
    const labels = new Int32Array(n);
    const probabilities = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 20_000 === 0 ? 1 : 0; // 5 positives
      const p = labels[i] === 1 ? 0.5 + uniform() / 2 : uniform() / 1.5;
      probabilities.set([1 - p, p], 2 * i);
    }
    const outcomes: ClassificationOutcomes = {
      task: 'binary',
      classes: [0, 1],
      labels,
      probabilities,
      threshold: 0.5,
    };
    const names: MetricName[] = ['accuracy', 'recall', 'roc_auc'];
    const result = blockBootstrapIntervals(names, outcomes, undefined, options);
    expect(result.blocks).toBe(400 + 5); // negatives: their share; positives: one block each
    for (const interval of result.candidate) expect(interval).not.toBeNull();
    const negativesOnly = { ...outcomes, labels: new Int32Array(n) };
    const [accuracy, recall, auc] = blockBootstrapIntervals(
      names,
      negativesOnly,
      undefined,
      options,
    ).candidate;
    expect(accuracy).not.toBeNull();
    expect(recall).toEqual([0, 0]); // zero_division = 0, as the metric code
    expect(auc).toBeNull();
  });

  it('leaves r2 null on constant targets, and every metric null on zero rows', () => {
    const targets = new Float64Array(1000).fill(3);
    const predictions = targets.map((_, i) => 3 + (i % 7) / 10);
    const names = metricsOfTask('regression');
    const constant = blockBootstrapIntervals(
      names,
      { task: 'regression', targets, predictions },
      undefined,
      options,
    );
    expect(constant.candidate[names.indexOf('r2')]).toBeNull();
    expect(constant.candidate[names.indexOf('mae')]).not.toBeNull();
    const empty = {
      task: 'regression',
      targets: new Float64Array(0),
      predictions: new Float64Array(0),
    } as const;
    const none: BlockBootstrapResult = blockBootstrapIntervals(names, empty, empty, options);
    expect(none.candidate.every((interval) => interval === null)).toBe(true);
    expect(none.delta.every((interval) => interval === null)).toBe(true);
    expect(none.blocks).toBe(0);
  });

  it('rejects unknown metrics, unpaired baselines and invalid options', () => {
    const { candidate } = datasets.binary;
    expect(() => blockBootstrapIntervals(['mae'], candidate, undefined, options)).toThrow(RangeError);
    const shuffled = {
      ...candidate,
      labels: candidate.labels.map((label, i) => (i === 5 ? 1 - label : label)),
    };
    expect(() => blockBootstrapIntervals(['accuracy'], candidate, shuffled, options)).toThrow(/row 5/);
    const regression = datasets.regression.candidate;
    expect(() => blockBootstrapIntervals(['accuracy'], candidate, regression, options)).toThrow(RangeError);
    for (const bad of [{ resamples: 0 }, { level: 1 }, { blocks: 0 }, { bins: 1 }, { seed: 0.5 }])
      expect(() =>
        blockBootstrapIntervals(['accuracy'], candidate, undefined, { ...options, ...bad }),
      ).toThrow(RangeError);
  });
});

describe('drawIndex', () => {
  it('makes the draws of drawBootstrapWeights, one at a time (narrow and wide strata)', () => {
    for (const n of [10, 1000, 2 ** 21 + 5]) {
      const state = seedState(42);
      const counts = new Uint32Array(n);
      for (let t = 0; t < n; t++) counts[drawIndex(state, n)]++;
      let first: Uint32Array | undefined;
      drawBootstrapWeights(n, { resamples: 1, seed: 42, level: 0.95 }, (weights) => {
        first = weights.slice();
      });
      expect(counts).toEqual(first);
    }
  });
});

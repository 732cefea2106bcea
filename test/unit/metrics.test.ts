import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MetricName, metricsOfTask } from '../../src/core/model/metric-names.ts';
import {
  computeMetrics,
  computeMetricValues,
  computeRocCurve,
  type MetricResult,
  mergeOutcomes,
  prepareOutcomes,
} from '../../src/core/model/metrics.ts';
import type { ClassificationOutcomes, Outcomes, RegressionOutcomes } from '../../src/core/model/outcomes.ts';
import { repoRoot } from '../harness/run-action.ts';

interface ClassificationCase {
  name: string;
  task: 'binary' | 'multiclass';
  classes: (string | number)[];
  threshold: number;
  labels: number[];
  probabilities: number[][];
  weights?: number[];
  n: number;
  metrics: Record<string, number | null>;
  confusion: number[][];
  perClass: { class: string | number; precision: number; recall: number; f1: number; support: number }[];
}

interface RegressionCase {
  name: string;
  task: 'regression';
  targets: number[];
  predictions: number[];
  weights?: number[];
  n: number;
  zeroTargets: number;
  metrics: Record<string, number | null>;
}

type Case = ClassificationCase | RegressionCase;

// Made by scripts/fixtures/make-metric-fixtures.py with sklearn.metrics (1.2) on real models' predictions.
const load = async (name: string): Promise<Case[]> =>
  JSON.parse(await readFile(join(repoRoot, 'test/fixtures/metrics', `${name}.json`), 'utf8'));
const suites = {
  binary: await load('binary'),
  multiclass: await load('multiclass'),
  regression: await load('regression'),
};
const allCases = Object.values(suites).flat();

const close = (actual: number, expected: number, what: string) =>
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(expected)),
  );

function outcomesOf(reference: Case): Outcomes {
  if (reference.task === 'regression')
    return {
      task: 'regression',
      targets: Float64Array.from(reference.targets),
      predictions: Float64Array.from(reference.predictions),
    };
  return {
    task: reference.task,
    classes: reference.classes,
    labels: Int32Array.from(reference.labels),
    probabilities: Float64Array.from(reference.probabilities.flat()),
    threshold: reference.threshold,
  };
}

const weightsOf = (reference: Case) => (reference.weights ? Uint32Array.from(reference.weights) : undefined);
const rowsOf = (outcomes: Outcomes) =>
  outcomes.task === 'regression' ? outcomes.targets.length : outcomes.labels.length;

/** Deterministic weights 0..3 (a small LCG), as bootstrap multiplicities. */
function randomWeights(rows: number, seed: number): Uint32Array {
  const weights = new Uint32Array(rows);
  let state = seed >>> 0;
  for (let i = 0; i < rows; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    weights[i] = state >>> 30;
  }
  return weights;
}

/** Rows i..j of outcomes (a shard). */
function sliceOutcomes(outcomes: Outcomes, start: number, end: number): Outcomes {
  if (outcomes.task === 'regression')
    return {
      task: 'regression',
      targets: outcomes.targets.slice(start, end),
      predictions: outcomes.predictions.slice(start, end),
    };
  const k = outcomes.classes.length;
  return {
    ...outcomes,
    labels: outcomes.labels.slice(start, end),
    probabilities: outcomes.probabilities.slice(start * k, end * k),
  };
}

/** Every row repeated weights[i] times, in order. */
function replicate(outcomes: Outcomes, weights: Uint32Array): Outcomes {
  const picked: number[] = [];
  weights.forEach((w, i) => {
    for (let r = 0; r < w; r++) picked.push(i);
  });
  if (outcomes.task === 'regression')
    return {
      task: 'regression',
      targets: Float64Array.from(picked, (i) => outcomes.targets[i]),
      predictions: Float64Array.from(picked, (i) => outcomes.predictions[i]),
    };
  const k = outcomes.classes.length;
  return {
    ...outcomes,
    labels: Int32Array.from(picked, (i) => outcomes.labels[i]),
    probabilities: Float64Array.from(
      picked.flatMap((i) => [...outcomes.probabilities.subarray(i * k, (i + 1) * k)]),
    ),
  };
}

function expectSameResult(actual: MetricResult, expected: MetricResult, what: string) {
  expect(Object.keys(actual.values)).toEqual(Object.keys(expected.values));
  for (const [name, value] of Object.entries(expected.values) as [MetricName, number][]) {
    if (Number.isNaN(value)) expect(actual.values[name], `${what} ${name}`).toBeNaN();
    else close(actual.values[name]!, value, `${what} ${name}`);
  }
  expect(actual.undefinedReasons).toEqual(expected.undefinedReasons);
  expect(actual.confusion).toEqual(expected.confusion);
  expect(actual.n).toBe(expected.n);
  expect(actual.zeroTargets).toBe(expected.zeroTargets);
  expect(actual.perClass?.length).toBe(expected.perClass?.length);
  actual.perClass?.forEach((row, c) => {
    const other = expected.perClass![c];
    expect(row.class).toBe(other.class);
    expect(row.support).toBe(other.support);
    for (const key of ['precision', 'recall', 'f1'] as const)
      close(row[key], other[key], `${what} ${key}[${c}]`);
  });
}

describe.each(Object.entries(suites))('%s metrics', (task, cases) => {
  it('have fixtures covering every metric of the task, defined and undefined', () => {
    const names = metricsOfTask(task as Outcomes['task']);
    for (const reference of cases) expect(Object.keys(reference.metrics).sort()).toEqual([...names].sort());
    // Every metric has a defined reference value in some case (no vacuous comparisons).
    for (const name of names) expect(cases.some((reference) => reference.metrics[name] !== null)).toBe(true);
  });

  for (const reference of cases) {
    it(`match sklearn on ${reference.name}${reference.weights ? ' (sample_weight)' : ''}`, () => {
      const result = computeMetrics(prepareOutcomes(outcomesOf(reference)), weightsOf(reference));
      expect(Object.keys(result.values)).toEqual(metricsOfTask(reference.task));
      const undefinedNames: string[] = [];
      for (const [name, expected] of Object.entries(reference.metrics)) {
        const actual = result.values[name as MetricName]!;
        if (expected === null) {
          undefinedNames.push(name);
          expect(actual, name).toBeNaN();
          expect(result.undefinedReasons[name as MetricName], name).toMatch(/\w{3}/);
        } else close(actual, expected, name);
      }
      expect(Object.keys(result.undefinedReasons).sort()).toEqual(undefinedNames.sort());
      expect(result.n).toBe(reference.n);
      if (reference.task === 'regression') {
        expect(result.zeroTargets).toBe(reference.zeroTargets);
        expect(result.confusion).toBeUndefined();
        return;
      }
      expect(result.confusion).toEqual(reference.confusion);
      expect(result.perClass).toHaveLength(reference.classes.length);
      result.perClass!.forEach((row, c) => {
        const expected = reference.perClass[c];
        expect(row.class).toBe(expected.class);
        expect(row.support).toBe(expected.support);
        for (const key of ['precision', 'recall', 'f1'] as const)
          close(row[key], expected[key], `${key}[${c}]`);
      });
    });

    it(`merge shards exactly on ${reference.name}`, () => {
      const outcomes = outcomesOf(reference);
      const rows = rowsOf(outcomes);
      const cut = Math.floor(rows / 3);
      const merged = mergeOutcomes(
        mergeOutcomes(sliceOutcomes(outcomes, 0, cut), sliceOutcomes(outcomes, cut, 2 * cut)),
        sliceOutcomes(outcomes, 2 * cut, rows),
      );
      expect(merged).toEqual(outcomes);
      const weights = weightsOf(reference);
      expect(computeMetrics(prepareOutcomes(merged), weights)).toEqual(
        computeMetrics(prepareOutcomes(outcomes), weights),
      );
    });

    it(`count weighted rows as replicated rows on ${reference.name}`, () => {
      const outcomes = outcomesOf(reference);
      const weights = weightsOf(reference) ?? randomWeights(rowsOf(outcomes), reference.name.length);
      expect(weights.some((w) => w === 0) && weights.some((w) => w > 1)).toBe(true);
      const weighted = computeMetrics(prepareOutcomes(outcomes), weights);
      const replicated = computeMetrics(prepareOutcomes(replicate(outcomes, weights)));
      expectSameResult(weighted, replicated, reference.name);
    });

    it(`compute named values only, equal to the full result, on ${reference.name}`, () => {
      const prepared = prepareOutcomes(outcomesOf(reference));
      const weights = weightsOf(reference) ?? randomWeights(rowsOf(prepared.outcomes), 7);
      const names = metricsOfTask(reference.task);
      // Interleaved with full computations: scratch state must not leak between calls.
      const full = computeMetrics(prepared, weights).values;
      computeMetrics(prepared);
      const all = computeMetricValues(prepared, weights, names);
      names.forEach((name, i) => {
        expect(Object.is(all[i], full[name]), name).toBe(true);
      });
      for (const subset of [[names[0]], [names.at(-1)!, names[1]], names.filter((_, i) => i % 3 === 1)]) {
        const values = computeMetricValues(prepared, weights, subset);
        expect(values).toHaveLength(subset.length);
        subset.forEach((name, i) => {
          expect(Object.is(values[i], full[name]), name).toBe(true);
        });
      }
    });
  }
});

describe('metric edge cases', () => {
  const binary = (labels: number[], positive: number[], threshold = 0.5): ClassificationOutcomes => ({
    task: 'binary',
    classes: [0, 1],
    labels: Int32Array.from(labels),
    probabilities: Float64Array.from(positive.flatMap((p) => [1 - p, p])),
    threshold,
  });

  it('refuses labels outside the classes and probabilities outside [0, 1], naming the row', () => {
    expect(() => prepareOutcomes(binary([0, 2], [0.5, 0.5]))).toThrow(
      /label 2 at row 1 is not a class index in \[0, 2\)/,
    );
    expect(() =>
      prepareOutcomes({ ...binary([0, 1], [0.5, 0.5]), probabilities: Float64Array.of(0.5, 0.5, 0, 1.5) }),
    ).toThrow(/probability 1.5 of class 1 at row 1 is not in \[0, 1\]/);
    expect(() => prepareOutcomes({ ...binary([1], [0.5]), probabilities: new Float64Array(3) })).toThrow(
      /1 rows of 2 classes need 2 probabilities, not 3/,
    );
    expect(() =>
      prepareOutcomes({
        task: 'regression',
        targets: Float64Array.of(1, Number.NaN),
        predictions: new Float64Array(2),
      }),
    ).toThrow(/target NaN at row 1 is not a finite number/);
    expect(() =>
      computeMetrics(prepareOutcomes(binary([0, 1], [0.2, 0.7])), Uint32Array.of(1, 2, 3)),
    ).toThrow(/3 weights for 2 rows/);
    expect(() => computeMetrics({ outcomes: binary([0], [0.1]) })).toThrow(/prepareOutcomes/);
    expect(() => computeMetricValues(prepareOutcomes(binary([0], [0.1])), undefined, ['mae'])).toThrow(
      /mae is not a metric of binary models/,
    );
  });

  it('refuse class counts and thresholds the metrics cannot use', () => {
    const outcomes = (classes: number[], threshold = 0.5, task: 'binary' | 'multiclass' = 'multiclass') =>
      prepareOutcomes({
        task,
        classes,
        labels: Int32Array.of(0),
        probabilities: Float64Array.from(classes.map((_, j) => (j === 0 ? 1 : 0))),
        threshold,
      });
    expect(() => outcomes([0, 1, 2], 0.5, 'binary')).toThrow(
      new RangeError('binary outcomes need 2 classes, not 3'),
    );
    expect(() => outcomes([0], 0.5, 'multiclass')).toThrow(
      new RangeError('multiclass outcomes need 2 or more classes, not 1'),
    );
    expect(() => outcomes([0, 1], 0.5, 'multiclass')).not.toThrow();
    const many = Array.from({ length: 1025 }, (_, j) => j);
    expect(() => outcomes(many)).toThrow(
      new RangeError('1025 classes are more than the 1024 the metrics support (K×K confusion matrix)'),
    );
    expect(() => outcomes(many.slice(0, 1024))).not.toThrow();
    for (const threshold of [-0.01, 1.01, Number.NaN]) {
      expect(() => outcomes([0, 1], threshold, 'binary')).toThrow(
        new RangeError(`threshold ${threshold} is not in [0, 1]`),
      );
    }
    for (const threshold of [0, 1]) expect(() => outcomes([0, 1], threshold, 'binary')).not.toThrow();
    // A multiclass model has no threshold: none is checked.
    expect(() => outcomes([0, 1, 2], Number.NaN)).not.toThrow();
    expect(() => prepareOutcomes(binary([0, -1], [0.5, 0.5]))).toThrow(
      /label -1 at row 1 is not a class index/,
    );
    expect(() => prepareOutcomes(binary([0, 1], [0.5, Number.NaN]))).toThrow(
      /probability NaN of class 0 at row 1/,
    );
    expect(() =>
      prepareOutcomes({ ...binary([0, 1], [0.5, 0.5]), probabilities: Float64Array.of(0.5, 0.5, -0.5, 1) }),
    ).toThrow(/probability -0.5 of class 0 at row 1/);
  });

  it('draw the ROC curve as sklearn does, one point per distinct score', () => {
    // sklearn.metrics.roc_curve(y, s, drop_intermediate=False) on these rows.
    const curve = computeRocCurve(
      prepareOutcomes(binary([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.4, 0.4])),
    );
    expect(curve).toBeDefined();
    expect([...curve!.fpr]).toEqual([0, 0, 2 / 3, 2 / 3, 1]);
    expect([...curve!.tpr]).toEqual([0, 1 / 3, 2 / 3, 1, 1]);
    expect(computeRocCurve(prepareOutcomes(binary([1, 1], [0.2, 0.7])))).toBeUndefined();
  });

  it('rank full float64 scores exactly, ties only for equal scores', () => {
    // Random float64 scores use every bit the radix sort sorts on; the AUC is checked against its
    // definition, counted pair by pair.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 + Math.random() * 2 ** -40;
    };
    const n = 3000;
    const scores = Array.from({ length: n }, random);
    const labels = scores.map((p) => (random() < p ? 1 : 0));
    // The AUC by its definition: P(score of a positive > score of a negative) + ties / 2.
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== 1) continue;
      for (let j = 0; j < n; j++) {
        if (labels[j] !== 0) continue;
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    const values = computeMetricValues(prepareOutcomes(binary(labels, scores)), undefined, ['roc_auc']);
    expect(values[0]).toBeCloseTo(wins / pairs, 12);
    // A true class given probability 0 costs −log(ε) (sklearn clips at float64's ε), not infinity.
    expect(computeMetricValues(prepareOutcomes(binary([1], [0])), undefined, ['log_loss'])[0]).toBeCloseTo(
      -Math.log(Number.EPSILON),
      12,
    );
    // Scores that share their high 32 bits and differ below: only the low digits of the sort order them.
    const close = Array.from(
      { length: 400 },
      (_, i) => 0.5 + (((i * 2654435761) % 2 ** 32) + ((i * 40503) % 2) * 2 ** 32) * 2 ** -53,
    );
    const closeLabels = close.map((_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
    let closeWins = 0;
    let closePairs = 0;
    for (let i = 0; i < close.length; i++) {
      for (let j = 0; j < close.length; j++) {
        if (closeLabels[i] !== 1 || closeLabels[j] !== 0) continue;
        closePairs++;
        closeWins += close[i] > close[j] ? 1 : close[i] === close[j] ? 0.5 : 0;
      }
    }
    expect(
      computeMetricValues(prepareOutcomes(binary(closeLabels, close)), undefined, ['roc_auc'])[0],
    ).toBeCloseTo(closeWins / closePairs, 12);
    // Two scores apart only in their lowest bit, with bit 32 set in both (the lowest digit must not mix in the high word).
    const [low, high] = [0.5 + 2 ** 32 * 2 ** -53, 0.5 + (2 ** 32 + 1) * 2 ** -53];
    expect(computeMetricValues(prepareOutcomes(binary([0, 1], [high, low])), undefined, ['roc_auc'])[0]).toBe(
      0,
    );
    // Scores one ulp apart are not a tie; −0 ranks with 0.
    const ulp = 0.5 + 2 ** -53;
    expect(computeMetricValues(prepareOutcomes(binary([0, 1], [0.5, ulp])), undefined, ['roc_auc'])[0]).toBe(
      1,
    );
    expect(
      computeMetricValues(prepareOutcomes(binary([0, 1, 0], [-0, 0, 0.5])), undefined, ['roc_auc'])[0],
    ).toBe(0.25);
  });

  it('explain one-class binary labels and a class absent from multiclass labels', () => {
    const one = computeMetrics(prepareOutcomes(binary([1, 1], [0.9, 0.4])));
    expect(one.values.roc_auc).toBeNaN();
    expect(one.values.average_precision).toBeNaN();
    expect(one.undefinedReasons).toEqual({
      roc_auc: 'only one class (1) is present in the labels',
      average_precision: 'only one class (1) is present in the labels',
    });
    expect(one.values.accuracy).toBe(0.5);
    // The class that is present is named, whichever it is.
    expect(computeMetrics(prepareOutcomes(binary([0, 0], [0.9, 0.4]))).undefinedReasons.roc_auc).toBe(
      'only one class (0) is present in the labels',
    );
    const oneAbsent = computeMetrics(
      prepareOutcomes({
        task: 'multiclass',
        classes: ['a', 'b', 'c'],
        labels: Int32Array.of(0, 1),
        probabilities: Float64Array.of(0.7, 0.2, 0.1, 0.2, 0.5, 0.3),
        threshold: 0.5,
      }),
    );
    expect(oneAbsent.undefinedReasons.roc_auc).toBe(
      'class c is absent from the labels (one-vs-rest needs every class of the model)',
    );
    const absent = computeMetrics(
      prepareOutcomes({
        task: 'multiclass',
        classes: ['a', 'b', 'c', 'd'],
        labels: Int32Array.of(0, 1, 1),
        probabilities: Float64Array.of(0.7, 0.1, 0.1, 0.1, 0.2, 0.5, 0.2, 0.1, 0.25, 0.25, 0.25, 0.25),
        threshold: 0.5,
      }),
    );
    expect(absent.undefinedReasons.roc_auc).toBe(
      'classes c, d are absent from the labels (one-vs-rest needs every class of the model)',
    );
    expect(Object.keys(absent.undefinedReasons).sort()).toEqual([
      'average_precision',
      'roc_auc',
      'roc_auc_weighted',
    ]);
    // Argmax ties go to the first maximum (numpy): the last row predicts class a.
    expect(absent.confusion).toEqual([
      [1, 0, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(absent.values.accuracy).toBeCloseTo(2 / 3, 15);
  });

  it('predict the positive class at the threshold itself', () => {
    const result = computeMetrics(prepareOutcomes(binary([0, 1, 0, 1], [0.3, 0.3, 0.29, 0.31], 0.3)));
    expect(result.confusion).toEqual([
      [1, 1],
      [0, 2],
    ]);
  });

  it('make every metric NaN with a reason when no row counts', () => {
    const prepared = prepareOutcomes(binary([0, 1], [0.2, 0.7]));
    const result = computeMetrics(prepared, Uint32Array.of(0, 0));
    expect(result.n).toBe(0);
    expect(Object.values(result.values).every(Number.isNaN)).toBe(true);
    expect(Object.keys(result.undefinedReasons)).toEqual(metricsOfTask('binary'));
    expect(result.undefinedReasons.accuracy).toMatch(/no rows/);
    const empty = computeMetrics(
      prepareOutcomes({ task: 'regression', targets: new Float64Array(0), predictions: new Float64Array(0) }),
    );
    expect(Object.values(empty.values).every(Number.isNaN)).toBe(true);
    expect(empty.zeroTargets).toBe(0);
  });

  it('explain r2 on constant targets, as weights leave them', () => {
    const prepared = prepareOutcomes({
      task: 'regression',
      targets: Float64Array.of(3, 3, 5),
      predictions: Float64Array.of(2, 4, 5),
    });
    expect(computeMetrics(prepared).values.r2).toBeCloseTo(1 - 2 / (8 / 3), 14);
    const constant = computeMetrics(prepared, Uint32Array.of(1, 2, 0));
    expect(constant.values.r2).toBeNaN();
    expect(constant.undefinedReasons).toEqual({
      r2: 'the targets are constant (all 3), so r2 has no variance to explain',
    });
    expect(constant.values.mse).toBe(1);
  });

  it('refuse to merge outcomes of different tasks, classes or thresholds', () => {
    const a = binary([0, 1], [0.2, 0.7]);
    expect(() => mergeOutcomes(a, { ...a, threshold: 0.4 })).toThrow(RangeError);
    expect(() => mergeOutcomes(a, { ...a, threshold: 0.4 })).toThrow(/thresholds 0.5 and 0.4/);
    expect(() => mergeOutcomes(a, { ...a, classes: [1, 0] })).toThrow(
      /classes \[0, 1\] with outcomes of classes \[1, 0\]/,
    );
    expect(() => mergeOutcomes(a, { ...a, task: 'multiclass' })).toThrow(/binary outcomes with multiclass/);
    const regression: RegressionOutcomes = {
      task: 'regression',
      targets: Float64Array.of(1),
      predictions: Float64Array.of(2),
    };
    expect(() => mergeOutcomes(a, regression)).toThrow(/binary outcomes with regression/);
    expect(() => mergeOutcomes(regression, a)).toThrow(/regression outcomes with binary/);
    // Multiclass predictions are the argmax: the (unused) threshold does not block a merge.
    const m = { ...a, task: 'multiclass' as const };
    expect(mergeOutcomes(m, { ...m, threshold: 0.9 })).toMatchObject({
      task: 'multiclass',
      labels: Int32Array.of(0, 1, 0, 1),
    });
  });

  it('use all cases of the fixtures', () => {
    expect(allCases.length).toBeGreaterThanOrEqual(20);
  });
});

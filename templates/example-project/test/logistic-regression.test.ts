import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseNumericCsv, splitTarget } from '../src/features.ts';
import {
  fitLogisticRegression,
  logLoss,
  predictProba,
  sigmoid,
  solveCholesky,
  TrainingError,
  trainLogisticRegression,
} from '../src/logistic-regression.ts';

const close = (actual: number, expected: number, tolerance: number, what = 'value') =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );

/** One binary feature: P(y=1 | x=0) = 1/4 and P(y=1 | x=1) = 3/4. */
const tiny = {
  rows: [[0], [0], [0], [0], [1], [1], [1], [1]],
  labels: [0, 0, 0, 1, 0, 1, 1, 1],
};

async function loadTraining() {
  const text = await readFile(new URL('../data/train.csv', import.meta.url), 'utf8');
  return splitTarget(parseNumericCsv(text, 'data/train.csv'), 'target');
}

describe('fitLogisticRegression', () => {
  it('finds the maximum-likelihood solution of a tiny problem, known in closed form', () => {
    // Without a penalty the fitted probabilities equal the observed frequencies per group:
    // bias = logit(1/4) = −ln 3, weight = logit(3/4) − logit(1/4) = 2 ln 3.
    const fit = fitLogisticRegression(tiny.rows, tiny.labels, { l2: 0, maxIterations: 50 });
    assert.equal(fit.converged, true);
    close(fit.bias, -Math.log(3), 1e-9, 'bias');
    close(fit.weights[0], 2 * Math.log(3), 1e-9, 'weight');
  });

  it('solves the penalized optimality condition of a symmetric problem', () => {
    // x = ±1 with P(y=1) = 3/4 and 1/4: by symmetry the bias is 0 and the weight solves
    // σ(w) − 3/4 + λw = 0, found here by bisection, independently of Newton's method.
    const rows = [[1], [1], [1], [1], [-1], [-1], [-1], [-1]];
    const labels = [1, 1, 1, 0, 1, 0, 0, 0];
    const l2 = 0.3;
    let low = 0;
    let high = 5;
    for (let i = 0; i < 200; i++) {
      const middle = (low + high) / 2;
      if (sigmoid(middle) - 0.75 + l2 * middle > 0) high = middle;
      else low = middle;
    }
    const fit = fitLogisticRegression(rows, labels, { l2, maxIterations: 50 });
    close(fit.bias, 0, 1e-12, 'bias');
    close(fit.weights[0], low, 1e-9, 'weight');
    assert.ok(fit.weights[0] < Math.log(3), 'the penalty shrinks the weight below the unpenalized ln 3');
  });

  it('never increases the objective, and stops at the optimum or at maxIterations', async () => {
    const { features, labels } = await loadTraining();
    const trained = trainLogisticRegression(
      { featureNames: [], features, labels },
      { l2: 0.01, maxIterations: 100 },
    );
    const { objectives } = trained.fit;
    assert.equal(objectives.length, trained.fit.iterations + 1);
    for (let i = 1; i < objectives.length; i++) {
      assert.ok(objectives[i] <= objectives[i - 1], `objective rose at iteration ${i}: ${objectives}`);
    }
    close(objectives[0], Math.log(2), 1e-12, 'J at zero weights');
    assert.ok(objectives.at(-1)! < 0.2, `final objective ${objectives.at(-1)}`);
    assert.equal(trained.fit.converged, true);
    assert.ok(trained.fit.iterations < 30, `${trained.fit.iterations} iterations`);

    const one = trainLogisticRegression(
      { featureNames: [], features, labels },
      { l2: 0.01, maxIterations: 1 },
    );
    assert.equal(one.fit.iterations, 1);
    assert.equal(one.fit.converged, false);
    assert.ok(one.trainingLogLoss > trained.trainingLogLoss, 'one iteration leaves a weaker model');
  });

  it('is deterministic', async () => {
    const dataset = await loadTraining();
    const a = trainLogisticRegression(dataset, { l2: 0.01, maxIterations: 100 });
    const b = trainLogisticRegression(dataset, { l2: 0.01, maxIterations: 100 });
    assert.deepEqual(a.model, b.model);
  });

  it('separates the classes of the training data', async () => {
    const dataset = await loadTraining();
    const { model, trainingLogLoss } = trainLogisticRegression(dataset, { l2: 0.01, maxIterations: 100 });
    const probabilities = predictProba(model, dataset.features);
    const correct = probabilities.filter((p, i) => (p >= 0.5 ? 1 : 0) === dataset.labels[i]).length;
    assert.ok(correct / dataset.labels.length > 0.97, `training accuracy ${correct / dataset.labels.length}`);
    close(logLoss(probabilities, dataset.labels), trainingLogLoss, 1e-12, 'log-loss from probabilities');
  });

  it('refuses bad settings, and says what to do about a singular Hessian', () => {
    assert.throws(
      () => fitLogisticRegression(tiny.rows, tiny.labels, { l2: -1, maxIterations: 5 }),
      TrainingError,
    );
    assert.throws(
      () => fitLogisticRegression(tiny.rows, tiny.labels, { l2: 0, maxIterations: 0 }),
      TrainingError,
    );
    // Two identical columns and no penalty: no unique solution.
    assert.throws(
      () =>
        fitLogisticRegression(
          tiny.rows.map(([x]) => [x, x]),
          tiny.labels,
          { l2: 0, maxIterations: 5 },
        ),
      (error: Error) => error instanceof TrainingError && /--l2/.test(error.message),
    );
    // The same columns with a penalty: fine, and the weight is shared equally.
    const fit = fitLogisticRegression(
      tiny.rows.map(([x]) => [x, x]),
      tiny.labels,
      { l2: 0.01, maxIterations: 50 },
    );
    close(fit.weights[0], fit.weights[1], 1e-12, 'shared weight');
  });
});

describe('predictProba and logLoss', () => {
  it('standardizes raw rows with the model statistics before the linear score', () => {
    const model = {
      featureNames: ['a', 'b'],
      statistics: { mean: [10, 0], std: [2, 4] },
      bias: 0.5,
      weights: [1, -2],
    };
    // a: (14 − 10) / 2 = 2, b: 8 / 4 = 2 → z = 0.5 + 2 − 4 = −1.5.
    close(predictProba(model, [[14, 8]])[0], 1 / (1 + Math.exp(1.5)), 1e-15);
  });

  it('sigmoid does not overflow', () => {
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
    close(sigmoid(0), 0.5, 0);
  });

  it('matches hand-computed log-loss, clipping certain mistakes', () => {
    close(logLoss([0.8, 0.3], [1, 0]), -(Math.log(0.8) + Math.log(0.7)) / 2, 1e-15);
    assert.ok(Number.isFinite(logLoss([0], [1])));
    close(logLoss([0], [1]), -Math.log(Number.EPSILON), 1e-12);
  });

  it('solveCholesky solves a positive definite system', () => {
    const x = solveCholesky(
      [
        [4, 2],
        [2, 3],
      ],
      [2, 1],
    );
    assert.ok(x);
    close(x[0], 0.5, 1e-15);
    close(x[1], 0, 1e-15);
    assert.equal(
      solveCholesky(
        [
          [1, 1],
          [1, 1],
        ],
        [1, 1],
      ),
      undefined,
    );
  });
});

/**
 * L2-regularized logistic regression, trained by Newton's method (iteratively reweighted least
 * squares) with a backtracking line search. Deterministic: the same data and options give the
 * same weights, bit for bit, on any machine with IEEE doubles.
 *
 * Objective, for n rows with labels y ∈ {0, 1} and scores z = b + w·x:
 *   J(b, w) = (1/n) Σ [log(1 + e^z) − y·z] + (λ/2)·‖w‖²
 * The intercept b is not penalized (as in scikit-learn), so λ only shrinks the weights.
 */
import { type ColumnStatistics, columnStatistics, type Dataset, standardize } from './features.ts';

/** Training cannot proceed with these settings (the message says what to change). */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Training settings. */
export interface TrainingOptions {
  /** λ, the L2 penalty on the weights (≥ 0). Larger values give a simpler, weaker model. */
  l2: number;
  /** Newton iterations at most (≥ 1). One iteration already separates the classes, but is not the optimum. */
  maxIterations: number;
  /** Stop when every gradient component is below this (default 1e-9). */
  tolerance?: number;
}

/** What the optimizer found. */
export interface FitResult {
  bias: number;
  weights: number[];
  /** Newton iterations taken. */
  iterations: number;
  /** Whether the gradient fell below the tolerance (false: stopped by maxIterations). */
  converged: boolean;
  /** The objective J before the first iteration and after each one (never increases). */
  objectives: number[];
}

/** A trained model: the standardization of its inputs and the weights on standardized features. */
export interface LogisticRegressionModel {
  featureNames: string[];
  statistics: ColumnStatistics;
  bias: number;
  weights: number[];
}

/** A model with how it was trained, for the summary line and the ONNX metadata. */
export interface TrainedModel {
  model: LogisticRegressionModel;
  fit: FitResult;
  options: TrainingOptions;
  rows: number;
  /** Mean log-loss on the training rows (without the penalty). */
  trainingLogLoss: number;
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** 1 / (1 + e^−z) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

function scores(rows: readonly (readonly number[])[], bias: number, weights: readonly number[]): number[] {
  return rows.map((row) => {
    let z = bias;
    for (let j = 0; j < weights.length; j++) z += weights[j] * row[j];
    return z;
  });
}

/** Mean log-loss of scores z against 0/1 labels, computed from z so that it stays finite. */
function meanLogLossOfScores(z: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += softplus(z[i]) - labels[i] * z[i];
  return sum / z.length;
}

function objective(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  bias: number,
  weights: readonly number[],
  l2: number,
): number {
  let penalty = 0;
  for (const w of weights) penalty += w * w;
  return meanLogLossOfScores(scores(rows, bias, weights), labels) + (l2 / 2) * penalty;
}

/**
 * Solves A·x = b for a symmetric positive definite A by Cholesky decomposition. Returns undefined
 * when A is not positive definite (a singular Hessian: λ = 0 with constant or collinear features).
 */
export function solveCholesky(a: readonly (readonly number[])[], b: readonly number[]): number[] | undefined {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      if (i === j) {
        // Relative to the diagonal: rounding leaves tiny positive pivots on singular matrices.
        if (!(sum > 1e-12 * Math.max(1, Math.abs(a[i][i])))) return undefined;
        l[i][i] = Math.sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  }
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i][k] * y[k];
    y[i] = sum / l[i][i];
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k][i] * x[k];
    x[i] = sum / l[i][i];
  }
  return x;
}

/**
 * Fits bias and weights to `rows` (already standardized) by Newton's method from zero. Each
 * iteration solves H·d = −g (Cholesky) and halves the step until the objective decreases enough
 * (Armijo), so the objective never increases even far from the optimum.
 */
export function fitLogisticRegression(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: TrainingOptions,
): FitResult {
  const n = rows.length;
  if (n === 0) throw new Error('fitLogisticRegression: no rows.');
  if (labels.length !== n) throw new Error(`fitLogisticRegression: ${n} rows but ${labels.length} labels.`);
  if (!(options.l2 >= 0)) throw new TrainingError(`The L2 penalty must be ≥ 0; got ${options.l2}.`);
  if (!Number.isInteger(options.maxIterations) || options.maxIterations < 1) {
    throw new TrainingError(
      `The number of iterations must be a positive integer; got ${options.maxIterations}.`,
    );
  }
  const tolerance = options.tolerance ?? 1e-9;
  const f = rows[0].length;
  const size = f + 1; // index 0 is the bias
  let theta = new Array<number>(size).fill(0);
  const split = (t: readonly number[]) => ({ bias: t[0], weights: t.slice(1) });
  const evaluate = (t: readonly number[]) => {
    const { bias, weights } = split(t);
    return objective(rows, labels, bias, weights, options.l2);
  };
  let current = evaluate(theta);
  const objectives = [current];
  let iterations = 0;
  let converged = false;
  for (;;) {
    const { bias, weights } = split(theta);
    const z = scores(rows, bias, weights);
    const gradient = new Array<number>(size).fill(0);
    const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (let i = 0; i < n; i++) {
      const p = sigmoid(z[i]);
      const residual = p - labels[i];
      const weight = p * (1 - p);
      const row = rows[i];
      gradient[0] += residual;
      hessian[0][0] += weight;
      for (let j = 0; j < f; j++) {
        gradient[j + 1] += residual * row[j];
        hessian[j + 1][0] += weight * row[j];
        for (let k = 0; k <= j; k++) hessian[j + 1][k + 1] += weight * row[j] * row[k];
      }
    }
    for (let j = 0; j < size; j++) {
      gradient[j] /= n;
      for (let k = 0; k <= j; k++) hessian[j][k] /= n;
    }
    for (let j = 1; j < size; j++) {
      gradient[j] += options.l2 * theta[j];
      hessian[j][j] += options.l2;
    }
    for (let j = 0; j < size; j++) for (let k = j + 1; k < size; k++) hessian[j][k] = hessian[k][j];
    if (Math.max(...gradient.map(Math.abs)) < tolerance) {
      converged = true;
      break;
    }
    if (iterations >= options.maxIterations) break;
    const direction = solveCholesky(
      hessian,
      gradient.map((g) => -g),
    );
    if (!direction) {
      throw new TrainingError(
        'The Hessian became singular: without a penalty the weights of linearly separable classes grow without bound ' +
          '(and constant or collinear features have no unique weight). Train with an L2 penalty above 0 (--l2).',
      );
    }
    let slope = 0;
    for (let j = 0; j < size; j++) slope += gradient[j] * direction[j];
    let step = 1;
    let candidate = theta.map((t, j) => t + direction[j]);
    let value = evaluate(candidate);
    for (let halvings = 0; halvings < 60 && !(value <= current + 1e-4 * step * slope); halvings++) {
      step /= 2;
      candidate = theta.map((t, j) => t + step * direction[j]);
      value = evaluate(candidate);
    }
    iterations++;
    if (!(value <= current)) {
      // No step along the Newton direction lowers J: we are at the optimum to rounding.
      converged = true;
      objectives.push(current);
      break;
    }
    theta = candidate;
    current = value;
    objectives.push(current);
  }
  return { ...split(theta), iterations, converged, objectives };
}

/** Standardizes the features with their own statistics, then fits the model. */
export function trainLogisticRegression(dataset: Dataset, options: TrainingOptions): TrainedModel {
  const statistics = columnStatistics(dataset.features);
  const standardized = standardize(dataset.features, statistics);
  const fit = fitLogisticRegression(standardized, dataset.labels, options);
  const trainingLogLoss = meanLogLossOfScores(scores(standardized, fit.bias, fit.weights), dataset.labels);
  return {
    model: { featureNames: [...dataset.featureNames], statistics, bias: fit.bias, weights: fit.weights },
    fit,
    options,
    rows: dataset.features.length,
    trainingLogLoss,
  };
}

/** P(label = 1) for raw (unstandardized) feature rows, in the model's feature order. */
export function predictProba(model: LogisticRegressionModel, rows: readonly (readonly number[])[]): number[] {
  return scores(standardize(rows, model.statistics), model.bias, model.weights).map(sigmoid);
}

/**
 * Mean log-loss of P(1) against 0/1 labels, with probabilities clipped to [ε, 1 − ε] (ε = 2^−52,
 * as scikit-learn's `log_loss` does for float64) so that a confident mistake costs a lot, not infinity.
 */
export function logLoss(probabilities: readonly number[], labels: readonly number[]): number {
  if (probabilities.length !== labels.length || labels.length === 0) {
    throw new Error(`logLoss: ${probabilities.length} probabilities for ${labels.length} labels.`);
  }
  const epsilon = Number.EPSILON;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, probabilities[i]));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

/**
 * The regression metrics' own contract, below computeMetrics: what is refused and how it is named,
 * bootstrap weights (a zero weight is a row left out), constant targets, and that nothing is
 * written where nothing was measured. The values against scikit-learn are in metrics.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, type MetricName } from '../../src/core/model/metric-names.ts';
import { evaluateRegression, prepareRegression } from '../../src/core/model/regression-metrics.ts';

const at = (name: MetricName) => METRIC_NAMES.indexOf(name);
const SENTINEL = -12345;

function outcomes(targets: number[], predictions: number[]) {
  return {
    task: 'regression' as const,
    targets: Float64Array.from(targets),
    predictions: Float64Array.from(predictions),
  };
}

/** Evaluates into a values array filled with a sentinel, so untouched slots show. */
function evaluate(targets: number[], predictions: number[], weights?: number[], withR2 = true) {
  const values = new Float64Array(METRIC_NAMES.length).fill(SENTINEL);
  const reasons: Partial<Record<MetricName, string>> = {};
  const totals = evaluateRegression(
    prepareRegression(outcomes(targets, predictions)),
    weights ? Uint32Array.from(weights) : undefined,
    withR2,
    values,
    reasons,
  );
  const value = (name: MetricName) => values[at(name)];
  return { totals, value, reasons };
}

describe('prepareRegression', () => {
  it('refuses outcomes of different lengths and non-finite numbers, naming the row', () => {
    expect(() => prepareRegression(outcomes([1, 2, 3], [1, 2]))).toThrow(
      new RangeError('3 targets but 2 predictions'),
    );
    expect(() => prepareRegression(outcomes([1, Number.NaN], [1, 2]))).toThrow(
      new RangeError('target NaN at row 1 is not a finite number'),
    );
    expect(() => prepareRegression(outcomes([1, 2], [1, Number.POSITIVE_INFINITY]))).toThrow(
      new RangeError('prediction Infinity at row 1 is not a finite number'),
    );
  });
});

describe('evaluateRegression', () => {
  it('computes mae, mse, rmse, mape and r2 (sklearn: 0.5, 0.375, 0.612…, 0.2916…, 0.7)', () => {
    // y = 1, 2, 3, 4; ŷ = 1.5, 2, 2, 4.5: errors 0.5, 0, 1, 0.5.
    const { value, totals } = evaluate([1, 2, 3, 4], [1.5, 2, 2, 4.5]);
    expect(totals).toEqual({ total: 4, zeroTargets: 0 });
    expect(value('mae')).toBeCloseTo(0.5, 15);
    expect(value('mse')).toBeCloseTo(0.375, 15);
    expect(value('rmse')).toBeCloseTo(Math.sqrt(0.375), 15);
    expect(value('mape')).toBeCloseTo((0.5 + 0 + 1 / 3 + 0.125) / 4, 15);
    // 1 - SSE / SST = 1 - 1.5 / 5.
    expect(value('r2')).toBeCloseTo(0.7, 15);
  });

  it('leaves rows of weight 0 out, also when deciding whether the targets are constant', () => {
    // The first row (weight 0) differs; the rows that count have the constant target 1.
    const { value, reasons, totals } = evaluate([5, 1, 1], [0, 1.5, 0.5], [0, 2, 1]);
    expect(totals).toEqual({ total: 3, zeroTargets: 0 });
    expect(value('mae')).toBeCloseTo(0.5, 15);
    expect(value('r2')).toBe(SENTINEL);
    expect(reasons.r2).toBe('the targets are constant (all 1), so r2 has no variance to explain');
    // Weights count rows: weight 2 is the row twice.
    const twice = evaluate([1, 2, 3], [2, 2, 2], [2, 1, 1]);
    const listed = evaluate([1, 1, 2, 3], [2, 2, 2, 2]);
    expect(twice.value('mse')).toBeCloseTo(listed.value('mse'), 15);
    expect(twice.value('r2')).toBeCloseTo(listed.value('r2'), 15);
  });

  it('writes nothing when every weight is 0 (no row counted), and r2 only when asked', () => {
    const none = evaluate([1, 2], [1, 3], [0, 0]);
    expect(none.totals).toEqual({ total: 0, zeroTargets: 0 });
    for (const name of ['mae', 'mse', 'rmse', 'mape', 'r2'] as const) expect(none.value(name)).toBe(SENTINEL);
    expect(none.reasons).toEqual({});
    const withoutR2 = evaluate([1, 2, 3, 4], [1.5, 2, 2, 4.5], undefined, false);
    expect(withoutR2.value('mae')).toBeCloseTo(0.5, 15);
    expect(withoutR2.value('r2')).toBe(SENTINEL);
  });

  it('counts the weight of zero targets', () => {
    expect(evaluate([0, 1, 0], [0, 1, 1], [3, 1, 2]).totals).toEqual({ total: 6, zeroTargets: 5 });
  });
});

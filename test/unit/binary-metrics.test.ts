import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addBinaryPredictions,
  computeBinaryMetrics,
  createBinaryState,
  mergeBinaryStates,
} from '../../src/core/model/binary-metrics.ts';
import { repoRoot } from '../harness/run-action.ts';

// Made by scripts/fixtures/make-metric-fixtures.py with sklearn.metrics.
const cases: Record<string, number | number[] | number[][] | string>[] = JSON.parse(
  await readFile(join(repoRoot, 'test/fixtures/metrics/binary.json'), 'utf8'),
);

const close = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));

describe('binary metrics', () => {
  for (const reference of cases) {
    it(`match sklearn on ${reference.name}`, () => {
      const state = createBinaryState();
      addBinaryPredictions(state, reference.y as number[], reference.p as number[]);
      const metrics = computeBinaryMetrics(state);
      for (const key of [
        'accuracy',
        'balancedAccuracy',
        'precision',
        'recall',
        'f1',
        'rocAuc',
        'averagePrecision',
        'logLoss',
        'brier',
      ] as const) {
        close(metrics[key], reference[key] as number);
      }
      close(metrics.expectedCalibrationError, reference.ece as number);
      expect(metrics.confusion).toEqual(reference.confusion);
    });

    it(`merge shards exactly on ${reference.name}`, () => {
      const y = reference.y as number[];
      const p = reference.p as number[];
      const whole = createBinaryState();
      addBinaryPredictions(whole, y, p);
      const cut = Math.floor(y.length / 3);
      const first = createBinaryState();
      const second = createBinaryState();
      addBinaryPredictions(first, y.slice(0, cut), p.slice(0, cut));
      addBinaryPredictions(second, y.slice(cut), p.slice(cut));
      const merged = computeBinaryMetrics(mergeBinaryStates(first, second));
      const expected = computeBinaryMetrics(whole);
      for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
        if (key === 'confusion') expect(merged.confusion).toEqual(expected.confusion);
        else close(merged[key] as number, expected[key] as number);
      }
    });
  }

  it('refuses labels and scores that are not binary probabilities, and one-class data has no AUC', () => {
    expect(() => addBinaryPredictions(createBinaryState(), [2], [0.5])).toThrow(
      /label 2 at position 0 is not 0 or 1/,
    );
    expect(() => addBinaryPredictions(createBinaryState(), [1], [1.5])).toThrow(
      /score 1.5 at position 0 is not a probability/,
    );
    const state = createBinaryState();
    addBinaryPredictions(state, [1, 1], [0.9, 0.4]);
    expect(computeBinaryMetrics(state).rocAuc).toBeNaN();
  });
});

import { describe, expect, it } from 'vitest';
import { rocCurve } from '../../src/core/model/decide.ts';
import { prepareOutcomes } from '../../src/core/model/metrics.ts';
import type { ClassificationOutcomes } from '../../src/core/model/outcomes.ts';

function binary(labels: number[], scores: number[]): ClassificationOutcomes {
  return {
    task: 'binary',
    classes: [0, 1],
    labels: Int32Array.from(labels),
    probabilities: Float64Array.from(scores.flatMap((p) => [1 - p, p])),
    threshold: 0.5,
  };
}

describe('ROC curve for charts', () => {
  it('steps once per distinct threshold, tied scores together', () => {
    expect(rocCurve(prepareOutcomes(binary([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.3])))).toEqual({
      fpr: [0, 0, 0.5, 1],
      tpr: [0, 0.5, 1, 1],
    });
  });

  it('thins long curves to 50 points that keep both ends and stay monotone', () => {
    const n = 1000;
    const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const scores = labels.map((y, i) => ((i * 7919) % 1000) / 1000 / 2 + y * 0.25);
    const { fpr, tpr } = rocCurve(prepareOutcomes(binary(labels, scores)));
    expect(fpr).toHaveLength(50);
    expect([fpr[0], tpr[0], fpr.at(-1), tpr.at(-1)]).toEqual([0, 0, 1, 1]);
    for (let i = 1; i < 50; i++) {
      expect(fpr[i]).toBeGreaterThanOrEqual(fpr[i - 1]);
      expect(tpr[i]).toBeGreaterThanOrEqual(tpr[i - 1]);
    }
  });

  it('has no curve when one class is absent', () => {
    expect(rocCurve(prepareOutcomes(binary([1, 1], [0.2, 0.7])))).toEqual({ fpr: [0], tpr: [0] });
  });
});

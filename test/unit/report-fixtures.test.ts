/**
 * The committed gate reports (test/fixtures/reports/*.json) are made by our own CLI
 * (make-reports.js), so tests that read numbers from them would only check formatting. Here their
 * numbers are checked against independent references: scipy, statsmodels, pandas and scikit-learn on
 * the same inputs (references.json, written by make-references.py with /usr/bin/python3).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/run-action.ts';

const folder = join(repoRoot, 'test/fixtures/reports');
const read = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
const references = read('references.json');

interface DriftColumn {
  column: string;
  test: string;
  statistic: number;
  pValue: number;
  adjustedPValue: number;
  referenceCount: number;
  currentCount: number;
}
interface ProfileColumn {
  name: string;
  missing: number;
  count: number;
  numeric?: { min: number; max: number; mean: number; std: number; sum: number };
  topValues?: { value: string; count: number }[];
}
interface Finding {
  check: string;
  column?: string;
  rule?: string;
  count: number;
}

/** Relative closeness for p-values that span many orders of magnitude. */
function expectRelative(actual: number, expected: number, tolerance: number, what: string): void {
  if (expected === 0) expect(actual, what).toBe(0);
  else expect(Math.abs(actual / expected - 1), `${what}: ${actual} vs ${expected}`).toBeLessThan(tolerance);
}

describe.each(['data-passed', 'data-failed'])('%s.json against scipy, statsmodels and pandas', (name) => {
  const report = read(`${name}.json`);
  const reference = references[name];

  it('states scipy’s two-sample KS statistic and p-value per column, and statsmodels’ Holm adjustment', () => {
    const columns = report.drift.columns as DriftColumn[];
    expect(columns.map((c) => c.column).sort()).toEqual(Object.keys(reference.drift).sort());
    for (const column of columns) {
      const expected = reference.drift[column.column];
      expect(column.test).toBe('kolmogorov-smirnov');
      expect(column.statistic, column.column).toBeCloseTo(expected.statistic, 12);
      expectRelative(column.pValue, expected.pValue, 1e-9, `${column.column} p-value`);
      expectRelative(column.adjustedPValue, expected.adjustedPValue, 1e-9, `${column.column} adjusted`);
      expect(column.referenceCount).toBe(expected.referenceCount);
      expect(column.currentCount).toBe(expected.currentCount);
    }
  });

  it('profiles each column as pandas does: counts, missing values, extremes, mean, sample std, sum', () => {
    expect(report.summary.rows).toBe(reference.rows);
    const byName = new Map((report.profile.columns as ProfileColumn[]).map((c) => [c.name, c]));
    for (const [column, expected] of Object.entries(
      reference.profile as Record<
        string,
        { count: number; missing: number; min: number; max: number; mean: number; std: number; sum: number }
      >,
    )) {
      const actual = byName.get(column)!;
      expect(actual.count, column).toBe(expected.count);
      expect(actual.missing, column).toBe(expected.missing);
      expect(actual.numeric?.min, column).toBe(expected.min);
      expect(actual.numeric?.max, column).toBe(expected.max);
      expect(actual.numeric?.mean, column).toBeCloseTo(expected.mean, 12);
      expect(actual.numeric?.std, column).toBeCloseTo(expected.std, 12);
      expect(actual.numeric?.sum, column).toBeCloseTo(expected.sum, 10);
    }
    const classes = Object.fromEntries((byName.get('class')?.topValues ?? []).map((v) => [v.value, v.count]));
    expect(classes).toEqual(reference.classCounts);
  });

  it('counts the contract’s out-of-range values, the missing values and the repeated rows as pandas does', () => {
    const findings = report.findings as Finding[];
    const count = (check: string, column?: string, rule?: string) =>
      findings
        .filter((f) => f.check === check && f.column === column && (rule === undefined || f.rule === rule))
        .reduce((sum, f) => sum + f.count, 0);
    for (const [column, outside] of Object.entries(
      reference.outsideContract as Record<string, { belowMinimum: number; aboveMaximum: number }>,
    )) {
      expect(count('contract', column, 'minimum'), column).toBe(outside.belowMinimum);
      expect(count('contract', column, 'maximum'), column).toBe(outside.aboveMaximum);
    }
    // Missing numbers are contract findings of rule null (the contract's columns are not nullable).
    for (const [column, missing] of Object.entries(reference.missing as Record<string, number>))
      expect(count('contract', column, 'null'), column).toBe(missing);
    expect(count('duplicate-rows')).toBe(reference.duplicateRows);
  });
});

describe.each(['model-passed', 'model-failed'])('%s.json against scikit-learn', (name) => {
  const report = read(`${name}.json`);
  const reference = references[name];

  it('is about the models the references are about', () => {
    expect(report.candidate.path).toBe(reference.candidate);
    expect(report.baseline.path).toBe(reference.baseline);
  });

  it('states sklearn.metrics’ values for the candidate and the baseline, and their differences', () => {
    // log_loss and brier come from probabilities: the ONNX model's float32 against scikit-learn's own.
    const tolerance = (metric: string) => (metric === 'log_loss' || metric === 'brier' ? 1e-7 : 1e-12);
    for (const [metric, expected] of Object.entries(reference.metrics as Record<string, number>)) {
      expect(Math.abs(report.metrics[metric].value - expected), metric).toBeLessThan(tolerance(metric));
      expect(
        Math.abs(report.baselineMetrics[metric].value - reference.baselineMetrics[metric]),
        metric,
      ).toBeLessThan(tolerance(metric));
      expect(Math.abs(report.deltas[metric].value - reference.deltas[metric]), metric).toBeLessThan(
        2 * tolerance(metric),
      );
    }
  });

  it('states sklearn’s confusion matrix', () => {
    expect(report.confusionMatrix).toEqual({ classes: [0, 1], matrix: reference.confusionMatrix });
  });
});

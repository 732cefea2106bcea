/**
 * One format for numbers, counts, sizes, durations and budgets, used by the Markdown renderers
 * (job summary, check run, PR comment) and the CLI's text: the same report reads the same in both.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DataValidationReport } from '../../src/core/data/validate-data.ts';
import type { ModelValidationReport } from '../../src/core/model/validate-model.ts';
import {
  describeBudget,
  formatBudgetLimit,
  formatBytes,
  formatCount,
  formatMilliseconds,
  formatRows,
  formatThroughput,
} from '../../src/core/report/format.ts';
import type { GateReport } from '../../src/core/report/gate-reports.ts';
import { summarizeModelReport } from '../../src/core/report/model-summary.ts';
import { renderGateCheckRun } from '../../src/core/report/render-check-run.ts';
import { renderDataReport } from '../../src/core/report/render-data-report.ts';
import { renderDataReportText } from '../../src/core/report/render-data-text.ts';
import { renderModelReport } from '../../src/core/report/render-model-report.ts';
import { renderModelReportText } from '../../src/core/report/render-model-text.ts';
import { renderPullRequestReport } from '../../src/core/report/render-pr-report.ts';
import { repoRoot } from '../harness/run-action.ts';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/reports', `${name}.json`), 'utf8')) as T;
}

describe('the format module', () => {
  it('writes sizes in B, KiB, MiB and GiB with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1,023 B');
    expect(formatBytes(2474)).toBe('2.42 KiB');
    expect(formatBytes(1_000_000)).toBe('977 KiB');
    expect(formatBytes(1_574_912)).toBe('1.5 MiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GiB');
  });

  it('writes counts with thousands separators, and rows with their noun', () => {
    expect(formatCount(104_894)).toBe('104,894');
    expect(formatCount(412_345.6)).toBe('412,346');
    expect(formatCount(Number.NaN)).toBe('n/a');
    expect(formatCount(null)).toBe('n/a');
    expect(formatRows(1)).toBe('1 row');
    expect(formatRows(1000)).toBe('1,000 rows');
    expect(formatThroughput(104_894.3)).toBe('104,894 rows/s');
    expect(formatThroughput(null)).toBe('n/a');
    expect(formatMilliseconds(0.081)).toBe('0.081 ms');
  });

  it('writes budgets the same way for sizes and latencies, measured or not', () => {
    const size = { budget: 'size-bytes', limit: 1_000_000, value: 2474, passed: true, reason: '' } as const;
    expect(formatBudgetLimit(size)).toBe('≤ 977 KiB');
    expect(describeBudget(size)).toBe('size-bytes 2.42 KiB (budget ≤ 977 KiB)');
    const latency = { budget: 'latency-p95-ms', limit: 5, value: 0.081, passed: true, reason: '' } as const;
    expect(describeBudget(latency)).toBe('latency-p95-ms 0.081 ms (budget ≤ 5 ms)');
    // As a report.json holds an unmeasured value (NaN became null).
    expect(describeBudget({ ...latency, value: null as unknown as number })).toBe(
      'latency-p95-ms not measured (budget ≤ 5 ms)',
    );
  });
});

describe('CLI text and Markdown write the same report alike', () => {
  /** A real model report with large counts, a size budget (passed) and a latency budget (failed). */
  function modelReport(): ModelValidationReport {
    const report = fixture<ModelValidationReport>('model-failed');
    const latency = report.latency as NonNullable<ModelValidationReport['latency']>;
    report.data.rows = 104_894;
    report.minRows.rows = 104_894;
    report.size = { modelBytes: 2474, externalBytes: 0, totalBytes: 2474 };
    latency.throughputRowsPerSecond = 104_894.3;
    latency.runs = 1200;
    report.budgets = [
      {
        budget: 'size-bytes',
        limit: 1_000_000,
        value: 2474,
        passed: true,
        reason: 'size-bytes 2474 B ≤ budget 1000000 B',
      },
      {
        budget: 'latency-p99-ms',
        limit: 0.1,
        value: latency.p99Ms,
        passed: false,
        reason: `latency-p99-ms ${latency.p99Ms} ms > budget 0.1 ms`,
      },
    ];
    report.parity = {
      golden: 'models/golden.json',
      atol: 1e-5,
      rtol: 1e-4,
      rows: 1500,
      passed: false,
      maxAbsDiff: 0.02,
      mismatches: 1234,
      worst: [],
    };
    return report;
  }

  it('writes sizes, budgets, latencies, throughput and row counts with the same strings', () => {
    const report = modelReport();
    const latency = report.latency as NonNullable<ModelValidationReport['latency']>;
    const entry = { kind: 'model-validation', gate: 'model', file: 'model.json', report } as GateReport;
    const text = renderModelReportText(report);
    const markdown = [
      renderModelReport(report),
      renderPullRequestReport([entry], { title: 'CI', names: ['mlops / model'] }),
      renderGateCheckRun(entry, 'mlops / model').summary,
    ];
    const [size, p99] = report.budgets;
    const shared = [
      formatRows(104_894), // 104,894 rows
      formatBytes(2474), // 2.42 KiB
      formatBudgetLimit(size), // ≤ 977 KiB
      formatBudgetLimit(p99), // ≤ 0.1 ms
      formatMilliseconds(latency.p50Ms),
      formatMilliseconds(latency.p95Ms),
      formatMilliseconds(latency.p99Ms),
      formatThroughput(104_894.3), // 104,894 rows/s
      `${formatRows(4096)} per call`,
      '1,200 runs',
      '1,234 mismatches',
      formatRows(1500),
    ];
    expect(shared.slice(0, 4)).toEqual(['104,894 rows', '2.42 KiB', '≤ 977 KiB', '≤ 0.1 ms']);
    for (const expected of shared) {
      expect(text, `CLI text: ${expected}`).toContain(expected);
      markdown.forEach((md, i) => {
        // The PR comment collapses the costs; the job summary and the check run have them all.
        if (i === 1 && !md.includes('Latency, size and parity')) return;
        expect(md, `Markdown ${i}: ${expected}`).toContain(expected);
      });
    }
    // The failed budget is worded alike in the CLI's budget line and the comment's worst findings.
    expect(text).toContain(`budget    FAILED  ${describeBudget(p99)}`);
    expect(markdown[1]).toContain(`- ❌ mlops / model · ${describeBudget(p99)}`);
    // The raw forms the reports' reasons hold never show.
    for (const out of [text, ...markdown]) {
      expect(out).not.toContain('1000000');
      expect(out).not.toContain('2474 B');
      expect(out).not.toMatch(/\b104894\b/);
      expect(out).not.toContain('> budget');
    }
    // The one-line verdict (logs, errors, the job summary's first line) too.
    expect(summarizeModelReport(report)).toContain(`over budget: ${describeBudget(p99)}`);
  });

  it('writes the data gate’s row counts alike', () => {
    const report = fixture<DataValidationReport>('data-failed');
    report.summary.rows = 104_894;
    const text = renderDataReportText(report);
    const markdown = renderDataReport(report);
    for (const out of [text, markdown]) {
      expect(out).toContain('104,894 rows, 5 columns');
      expect(out).toContain('3 errors, 1 warning');
    }
  });
});

/**
 * The model gate's verdict in one line, from its report (logs, error messages, the CLI's text and
 * the job summary all say it the same way).
 */
import type { ModelValidationReport } from '../model/report-types.ts';
import { describeBudget, formatCount, formatRows } from './format.ts';

/** A one-line verdict for logs and errors. */
export function summarizeModelReport(report: ModelValidationReport): string {
  const failed = report.gates.filter((g) => g.status === 'failed' || g.status === 'error');
  const budgets = report.budgets.filter((b) => !b.passed);
  if (report.passed)
    return `Model gate passed: ${report.gates.filter((g) => g.status === 'passed').length} gate(s) passed.`;
  const reasons = [
    ...(report.nothingChecked ? [report.nothingChecked] : []),
    ...(!report.minRows.passed
      ? [
          `the holdout has ${formatRows(report.minRows.rows)}, fewer than the minimum ${formatCount(report.minRows.required)}`,
        ]
      : []),
    ...failed.map((g) => g.reason),
    // In the units the reports show (KiB, ms), not the raw reason the JSON keeps.
    ...budgets.map((b) => `over budget: ${describeBudget(b)}`),
    ...(report.parity && !report.parity.passed
      ? [
          `parity with ${report.parity.golden}: ${report.parity.mismatches} value(s) outside tolerance (max |diff| ${Number(report.parity.maxAbsDiff).toPrecision(3)})`,
        ]
      : []),
  ];
  return `Model gate failed: ${reasons.join('; ')}.`;
}

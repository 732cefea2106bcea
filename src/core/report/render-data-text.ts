/** A short plain-text rendering of a data report, for terminals. */
import type { DataValidationReport } from '../data/validate-data.ts';
import { formatQuantity, formatRows } from './format.ts';

/** How many findings the terminal shows before "… and N more". */
const VISIBLE = 15;

/** Verdict line, the worst findings with their lines, and the drifted columns. */
export function renderDataReportText(report: DataValidationReport, reportPath?: string): string {
  const { summary } = report;
  const lines = [
    `${report.passed ? 'PASSED' : 'FAILED'}  data gate on ${report.inputs.data.path}: ${formatRows(summary.rows)}, ${formatQuantity(summary.columns, 'column')}, ` +
      `${formatQuantity(summary.findings.error, 'error')}, ${formatQuantity(summary.findings.warning, 'warning')} (fail-on: ${report.failOn})`,
  ];
  for (const finding of report.findings.slice(0, VISIBLE)) {
    const where = finding.lines?.length
      ? ` [line${finding.lines.length > 1 ? 's' : ''} ${finding.lines.join(', ')}]`
      : '';
    lines.push(
      `  ${finding.severity.padEnd(7)} ${finding.check}${finding.rule ? `/${finding.rule}` : ''}: ${finding.message}${where}`,
    );
  }
  if (report.findings.length > VISIBLE)
    lines.push(`  … and ${report.findings.length - VISIBLE} more findings (see the report)`);
  if (report.drift) {
    const drifted = report.drift.columns.filter((c) => c.drifted);
    lines.push(
      `  drift vs ${report.drift.reference}: ${drifted.length} of ${report.drift.columns.length} columns drifted`,
    );
    for (const c of drifted.slice(0, VISIBLE)) {
      lines.push(`    ${c.column}: ${c.test}, ${c.rule}`);
    }
  }
  if (reportPath) lines.push(`  report: ${reportPath}`);
  return `${lines.join('\n')}\n`;
}

/**
 * A plain-text rendering of a model report for terminals: no colours and no Markdown, columns
 * aligned with spaces so it reads in any log viewer.
 */
import type { ModelValidationReport } from '../model/report-types.ts';
import {
  describeBudget,
  formatBytes,
  formatCount,
  formatInterval,
  formatMilliseconds,
  formatNumber,
  formatRows,
  formatSigned,
  formatThroughput,
  formatValue,
} from './format.ts';
import { describeMissingBaseline, type ModelReportNote, modelReportNotes } from './model-notes.ts';
import { summarizeModelReport } from './model-summary.ts';
import {
  describeChange,
  describeThreshold,
  formatGateValue,
  listMetricNames,
  sortGates,
} from './render-model-report.ts';

/** Columns are separated by this many spaces. */
const GAP = '  ';
/** Above this many classes the confusion matrix is left to the report file. */
const MAX_MATRIX_CLASSES = 12;

/** Verdict, gates (failures first), metrics vs baseline, confusion matrix, costs and where the report is. */
export function renderModelReportText(report: ModelValidationReport, reportPath?: string): string {
  const baseline = report.baseline ? ` vs ${oneLine(report.baseline.path)}` : '';
  const lines = [
    `${report.passed ? 'PASSED' : 'FAILED'}  model gate: ${oneLine(report.candidate.path)}${baseline} on ${oneLine(report.data.path)} ` +
      `(${report.task}, target ${oneLine(report.target)}, ${formatRows(report.data.rows)})`,
    `  ${oneLine(summarizeModelReport(report))}`,
  ];
  for (const note of modelReportNotes(report)) lines.push(`  note: ${renderNote(note)}`);

  lines.push('', 'Gates');
  if (report.gates.length === 0) lines.push('  none');
  const gateRows = sortGates(report.gates).map((gate) => [
    gate.status.toUpperCase(),
    gate.expression + (gate.slice === undefined ? '' : ` [${oneLine(gate.slice)}]`),
    gate.status === 'skipped' ? '' : formatGateValue(gate, gate.value),
    gate.interval
      ? `[${formatGateValue(gate, gate.interval[0])}, ${formatGateValue(gate, gate.interval[1])}]`
      : '',
    describeThreshold(gate, true),
    oneLine(gate.reason),
  ]);
  lines.push(...alignColumns(gateRows).map((line) => `  ${line}`));

  lines.push('', ...renderMetrics(report));

  if (report.confusionMatrix && report.confusionMatrix.classes.length <= MAX_MATRIX_CLASSES) {
    const { classes, matrix } = report.confusionMatrix;
    const labels = classes.map((c) => oneLine(String(c)));
    const rows = [
      ['true \\ predicted', ...labels],
      ...matrix.map((row, t) => [labels[t] ?? '', ...row.map((count) => formatCount(count))]),
    ];
    lines.push('', 'Confusion matrix (rows: true class, columns: predicted class)');
    // Counts are right-aligned so their digits line up; the label column is not.
    lines.push(...alignColumns(rows, (column) => column > 0).map((line) => `  ${line}`));
  }

  lines.push('', ...renderCosts(report));
  if (reportPath) lines.push('', `report: ${reportPath}`);
  return `${lines.join('\n')}\n`;
}

/** One row per metric: candidate, its interval, baseline, change, its interval, better or worse. */
function renderMetrics(report: ModelValidationReport): string[] {
  const names = listMetricNames(report);
  const level = report.bootstrap ? `${formatNumber(report.bootstrap.level * 100)}% interval` : 'interval';
  const withBaseline = report.baselineMetrics !== undefined;
  // Without the bootstrap no metric has an interval: an empty column would only push the rest right.
  const withIntervals = names.some((name) => report.metrics[name]?.interval !== undefined);
  const header = [
    'metric',
    'candidate',
    ...(withIntervals ? [level] : []),
    ...(withBaseline ? ['baseline', 'delta', 'delta interval', ''] : []),
  ];
  const rows = names.map((name) => {
    const entry = report.metrics[name];
    const row = [
      name,
      formatValue(entry?.value),
      ...(withIntervals ? [formatInterval(entry?.interval)] : []),
    ];
    if (withBaseline) {
      const delta = report.deltas?.[name];
      row.push(
        formatValue(report.baselineMetrics?.[name]?.value),
        formatSigned(delta?.value),
        formatInterval(delta?.interval, true),
        describeChange(name, delta?.value) ?? '',
      );
    }
    return row;
  });
  const lines = ['Metrics', ...alignColumns([header, ...rows]).map((line) => `  ${line}`)];
  for (const [name, reason] of Object.entries(report.undefinedMetrics)) {
    lines.push(`  ${name} is undefined: ${oneLine(reason ?? '')}`);
  }
  return lines;
}

/** Latency, size, budgets and parity, one line each. */
function renderCosts(report: ModelValidationReport): string[] {
  const lines: string[] = [];
  const { latency, size, parity } = report;
  if (latency) {
    const throughput = `${formatThroughput(latency.throughputRowsPerSecond)} at ${formatRows(latency.batchRows)} per call`;
    lines.push(
      `latency   p50 ${formatMilliseconds(latency.p50Ms)}, p95 ${formatMilliseconds(latency.p95Ms)}, p99 ${formatMilliseconds(latency.p99Ms)} ` +
        `(single row, ${formatCount(latency.runs)} runs); ${throughput}`,
    );
  } else {
    lines.push('latency   not measured');
  }
  lines.push(
    `size      ${formatBytes(size.totalBytes)}` +
      (size.externalBytes > 0
        ? ` (${formatBytes(size.modelBytes)} + ${formatBytes(size.externalBytes)} external data)`
        : ''),
  );
  for (const budget of report.budgets) {
    lines.push(`budget    ${budget.passed ? 'passed' : 'FAILED'}  ${describeBudget(budget)}`);
  }
  if (parity) {
    lines.push(
      `parity    ${parity.passed ? 'passed' : 'FAILED'}  ${oneLine(parity.golden)}: ${formatCount(parity.mismatches)} mismatches on ${formatRows(parity.rows)}, ` +
        `max |diff| ${formatValue(parity.maxAbsDiff)} (atol ${formatNumber(parity.atol)}, rtol ${formatNumber(parity.rtol)})`,
    );
  }
  return lines;
}

/** A note (see model-notes.ts) on one line of text; the Markdown report says the same. */
function renderNote(note: ModelReportNote): string {
  switch (note.kind) {
    case 'too-few-rows':
      return `the holdout has ${formatRows(note.rows)}, fewer than the required ${formatCount(note.required)}: the gate fails whatever the metrics`;
    case 'no-baseline':
      return `no baseline${note.why ? ` (${oneLine(note.why)})` : ''}; change gates follow on-missing-baseline: ${note.onMissingBaseline} (${describeMissingBaseline(note.onMissingBaseline)})`;
    case 'baseline-report':
      return note.sameData
        ? "the baseline's metrics come from a saved report on the same holdout: deltas are point values, without intervals"
        : "the baseline's metrics come from a saved report computed on a different holdout file: deltas compare different rows, without intervals";
    case 'no-bootstrap':
      return 'bootstrap off: no intervals, @interval gates cannot be checked';
    case 'dropped-rows':
      return `${formatRows(note.rows)} with missing features were dropped`;
  }
}

/**
 * Pads every column but the last to its widest cell, so columns start at the same position on
 * every line; `right` says which columns are right-aligned (numbers).
 */
function alignColumns(rows: string[][], right: (column: number) => boolean = () => false): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, c) => {
      widths[c] = Math.max(widths[c] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, c) => {
        if (c === row.length - 1 && !right(c)) return cell;
        return right(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]);
      })
      .join(GAP)
      .trimEnd(),
  );
}

/** User text on one line: a line break in a label or path would break the layout. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ');
}

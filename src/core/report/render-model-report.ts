/**
 * Renders a `model-validation` report as GitHub-flavoured Markdown for the job summary. Only the
 * report is read: nothing is recomputed here. The report may come straight from `validateModel`
 * (undefined numbers are NaN) or from a report.json (JSON wrote them as null): both render alike.
 */

import {
  escapeMarkdown,
  escapeName,
  renderCode,
  renderDetails,
  renderTable,
  shortenNames,
} from '../markdown.ts';
import type { GateEvaluation } from '../model/gates.ts';
import { METRIC_NAMES, METRICS, type MetricName, type Task } from '../model/metric-names.ts';
import type { BudgetResult, ModelIdentity, ModelValidationReport } from '../model/report-types.ts';
import { renderMetricBars, renderRocChart } from './charts.ts';
import {
  formatBudgetLimit,
  formatBytes,
  formatCount,
  formatInterval,
  formatMilliseconds,
  formatNumber,
  formatRows,
  formatSigned,
  formatThroughput,
  formatValue,
  isNumber,
  type ReportInterval,
  type ReportNumber,
} from './format.ts';
import { describeMissingBaseline, type ModelReportNote, modelReportNotes } from './model-notes.ts';
import { summarizeModelReport } from './model-summary.ts';

// The charts and the number formats moved to their own modules; importers of this one keep working.
export { renderMetricBars, renderRocChart, sampleRocCurve } from './charts.ts';
export { formatBytes, formatInterval, formatSigned, formatValue, isNumber } from './format.ts';

type ReportGate = GateEvaluation & { expression: string };

/** Slices shown before the rest is collapsed. */
const VISIBLE_SLICES = 20;
/** Above this many classes the confusion matrix and per-class table are collapsed. */
export const VISIBLE_CLASSES = 12;
/** Metrics shown per slice, besides those gated on slices. */
const HEADLINE_METRICS: Record<Task, MetricName[]> = {
  binary: ['roc_auc', 'f1', 'accuracy'],
  multiclass: ['accuracy', 'f1_macro', 'roc_auc'],
  regression: ['rmse', 'mae', 'r2'],
};
const MAX_SLICE_METRICS = 4;
/** Features or classes listed by name in the identity table; the rest are counted. */
const MAX_LISTED_NAMES = 50;

/** Errors and failures first, as reviewers read them (the same order `validateModel` writes). */
const GATE_ORDER = { error: 0, failed: 1, passed: 2, skipped: 3 } as const;
const GATE_STATUS = {
  error: '❌ error',
  failed: '❌ failed',
  passed: '✅ passed',
  skipped: '⏭️ skipped',
} as const;

/** Markdown for a model report: verdict, gates (failures first), metrics, curves, slices, costs, identity. */
export function renderModelReport(report: ModelValidationReport, reportPath?: string): string {
  const parts: string[] = [
    `## ${report.passed ? '✅ Model gate passed' : '❌ Model gate failed'}`,
    escapeMarkdown(summarizeModelReport(report)),
    renderOverview(report),
  ];
  const notes = collectNotes(report);
  if (notes.length > 0) parts.push(notes.map((note) => `> ℹ️ ${note}`).join('\n>\n'));
  parts.push('### Gates', renderGateTable(report.gates));
  parts.push(`### Metrics`, renderMetricTable(report));
  const bars = renderMetricBars(report);
  if (bars) parts.push(bars);
  const undefinedReasons = Object.entries(report.undefinedMetrics);
  if (undefinedReasons.length > 0) {
    parts.push(
      undefinedReasons
        .map(([name, reason]) => `- ${renderCode(name, false)} is undefined: ${escapeMarkdown(reason ?? '')}`)
        .join('\n'),
    );
  }
  if (report.roc) parts.push('### ROC curve', renderRocChart(report));
  if (report.confusionMatrix) {
    const title = 'Confusion matrix (rows: true class, columns: predicted class)';
    const table = renderConfusionMatrix(report.confusionMatrix);
    parts.push(
      report.confusionMatrix.classes.length > VISIBLE_CLASSES
        ? renderDetails(title, table)
        : `### ${title}\n\n${table}`,
    );
  }
  if (report.perClass && report.perClass.length > 0) {
    const table = renderPerClass(report.perClass);
    parts.push(
      report.perClass.length > VISIBLE_CLASSES
        ? renderDetails('Per class', table)
        : `### Per class\n\n${table}`,
    );
  }
  if (report.slices.length > 0) parts.push('### Slices', renderSlices(report));
  parts.push('### Latency, size and parity', renderCosts(report));
  parts.push(renderDetails('Data and models', renderIdentity(report)));
  if (reportPath) parts.push(`Full report: ${renderCode(reportPath, false)}`);
  return `${parts.join('\n\n')}\n`;
}

/** Precision, recall, F1 and support of each class. */
export function renderPerClass(perClass: NonNullable<ModelValidationReport['perClass']>): string {
  return renderTable(
    ['class', 'precision', 'recall', 'f1', 'support'],
    perClass.map((c) => [
      renderCode(String(c.class)),
      formatValue(c.precision),
      formatValue(c.recall),
      formatValue(c.f1),
      formatCount(c.support),
    ]),
    true,
  );
}

/** One line: what was evaluated on what, and how many gates passed. */
export function renderOverview(report: ModelValidationReport): string {
  const counted = report.gates.filter((g) => g.status !== 'skipped').length;
  const passed = report.gates.filter((g) => g.status === 'passed').length;
  const baseline = report.baseline ? ` vs baseline **${escapeName(report.baseline.path)}**` : '';
  return (
    `**${escapeName(report.candidate.path)}**${baseline} on **${escapeName(report.data.path)}**: ` +
    `${report.task}, target ${renderCode(report.target, false)}, ${formatRows(report.data.rows)} · ` +
    `${passed} of ${counted} gates passed` +
    (counted < report.gates.length ? `, ${report.gates.length - counted} skipped` : '')
  );
}

/** Things a reviewer must know to read the numbers right (see model-notes.ts), as Markdown. */
export function collectNotes(report: ModelValidationReport): string[] {
  return modelReportNotes(report).map(renderNote);
}

function renderNote(note: ModelReportNote): string {
  switch (note.kind) {
    case 'too-few-rows':
      return `The holdout has ${formatRows(note.rows)}, fewer than the required ${formatCount(note.required)}: the gate fails whatever the metrics.`;
    case 'no-baseline':
      return (
        `No baseline${note.why ? ` (${escapeMarkdown(note.why)})` : ''}: change gates (\`>= baseline …\`) follow \`on-missing-baseline: ${note.onMissingBaseline}\`` +
        ` (${describeMissingBaseline(note.onMissingBaseline)}).`
      );
    case 'baseline-report':
      return (
        `The baseline's metrics come from a saved report${note.sameData ? ' on the same holdout' : ''}: deltas are point values, without intervals.` +
        (note.sameData
          ? ''
          : ' **That report was computed on a different holdout file (its SHA-256 differs), so the deltas compare different rows.**')
      );
    case 'no-bootstrap':
      return 'The bootstrap is off: no confidence intervals, and `@interval` gates cannot be checked.';
    case 'dropped-rows':
      return `${formatCount(note.rows)} rows with missing features were dropped before evaluation.`;
  }
}

/** Gates in one table, errors and failures first. */
export function renderGateTable(gates: ReportGate[]): string {
  if (gates.length === 0) return 'No gates.';
  return renderTable(
    ['gate', 'value', 'interval', 'resolves', 'threshold', 'status', 'reason'],
    sortGates(gates).map((gate) => [
      renderCode(gate.expression) + (gate.slice === undefined ? '' : ` on ${renderCode(gate.slice)}`),
      // A skipped gate computed nothing: an empty cell, not `n/a`, which reads as a broken metric.
      gate.status === 'skipped' ? '' : formatGateValue(gate, gate.value),
      gate.interval
        ? `[${formatGateValue(gate, gate.interval[0])}, ${formatGateValue(gate, gate.interval[1])}]`
        : '',
      // The smallest change the holdout can tell apart: a margin below it can only be met by luck.
      gate.resolution === undefined ? '' : `±${formatResolution(gate)}`,
      escapeMarkdown(describeThreshold(gate)),
      GATE_STATUS[gate.status],
      escapeMarkdown(shortenNames(gate.reason, [gate.slice])),
    ]),
    true,
  );
}

/** Candidate vs baseline: values with intervals, the change with its interval, better or worse. */
export function renderMetricTable(report: ModelValidationReport): string {
  const names = listMetricNames(report);
  if (names.length === 0) return 'No metrics.';
  const level = report.bootstrap ? ` (${formatNumber(report.bootstrap.level * 100)}% interval)` : '';
  const baseline = report.baselineMetrics;
  const header = baseline
    ? ['metric', `candidate${level}`, 'baseline', `Δ${report.bootstrap?.paired ? level : ''}`, '']
    : ['metric', `candidate${level}`];
  const rows = names.map((name) => {
    const entry = report.metrics[name];
    const cells = [
      `\`${name}\` ${METRICS[name].direction === 'higher' ? '↑' : '↓'}`,
      withInterval(entry?.value, entry?.interval),
    ];
    if (baseline) {
      const delta = report.deltas?.[name];
      const change = describeChange(name, delta?.value);
      cells.push(
        formatValue(baseline[name]?.value),
        withInterval(delta?.value, delta?.interval, true),
        // The arrow is the sign of the change, the word what it means for this metric.
        change ? `${change === 'same' ? '=' : (delta?.value ?? 0) > 0 ? '▲' : '▼'} ${change}` : '',
      );
    }
    return cells;
  });
  return `${renderTable(header, rows, true)}\n\n↑ higher is better, ↓ lower is better.`;
}

function withInterval(value: ReportNumber, interval: ReportInterval, signed = false): string {
  const text = signed ? formatSigned(value) : formatValue(value);
  return interval ? `${text} ${formatInterval(interval, signed)}` : text;
}

/** The metric names a report holds, in registry order. */
export function listMetricNames(report: ModelValidationReport): MetricName[] {
  return METRIC_NAMES.filter(
    (name) => report.metrics[name] !== undefined || report.baselineMetrics?.[name] !== undefined,
  );
}

/** Whether a change of the metric is an improvement, by its direction; undefined when unknown. */
export function describeChange(
  name: MetricName,
  delta: ReportNumber,
): 'better' | 'worse' | 'same' | undefined {
  if (!isNumber(delta)) return undefined;
  if (delta === 0) return 'same';
  return delta > 0 === (METRICS[name].direction === 'higher') ? 'better' : 'worse';
}

/** Rows: true class; columns: predicted class; cells: counts as the report holds them. */
export function renderConfusionMatrix(
  confusion: NonNullable<ModelValidationReport['confusionMatrix']>,
): string {
  const labels = confusion.classes.map((c) => renderCode(String(c)));
  return renderTable(
    ['true \\ predicted', ...labels],
    confusion.matrix.map((row, t) => [labels[t] ?? '', ...row.map((count) => formatCount(count))]),
    true,
  );
}

/** The metrics that matter per slice: those gated on slices first, then the task's headline ones. */
function pickSliceMetrics(report: ModelValidationReport): MetricName[] {
  const gated = report.gates.filter((g) => g.slice !== undefined).map((g) => g.metric);
  const present = new Set(report.slices.flatMap((s) => Object.keys(s.metrics)));
  return [...new Set([...gated, ...HEADLINE_METRICS[report.task]])]
    .filter((name) => present.has(name))
    .slice(0, MAX_SLICE_METRICS);
}

export function renderSlices(report: ModelValidationReport): string {
  const names = pickSliceMetrics(report);
  const failing = new Set(
    report.gates
      .filter((g) => g.slice !== undefined && (g.status === 'failed' || g.status === 'error'))
      .map((g) => g.slice),
  );
  const rows = report.slices.map((slice) => {
    const label = `${slice.column}=${slice.value}`;
    return [
      renderCode(slice.column),
      renderCode(slice.value),
      formatCount(slice.rows),
      ...names.map((name) => {
        const value = slice.metrics[name];
        const base = slice.baselineMetrics?.[name];
        return slice.baselineMetrics && isNumber(value) && isNumber(base)
          ? `${formatValue(value)} (Δ ${formatSigned(value - base)})`
          : formatValue(value);
      }),
      [
        slice.tooSmall ? `fewer than ${report.minRows.sliceRequired ?? '?'} rows: not gated` : '',
        failing.has(label) ? '❌ gate failed' : '',
      ]
        .filter(Boolean)
        .join('; '),
    ];
  });
  const header = ['column', 'value', 'rows', ...names.map((n) => `\`${n}\``), 'note'];
  const table = renderTable(header, rows.slice(0, VISIBLE_SLICES), true);
  if (rows.length <= VISIBLE_SLICES) return table;
  return `${table}\n\n${renderDetails(`${rows.length - VISIBLE_SLICES} more slices`, renderTable(header, rows.slice(VISIBLE_SLICES), true))}`;
}

/** Latency, throughput, size and parity in one table, each with its budget when one is set. */
export function renderCosts(report: ModelValidationReport): string {
  const budget = (name: BudgetResult['budget']) => report.budgets.find((b) => b.budget === name);
  const budgetCells = (result: BudgetResult | undefined): string[] =>
    result ? [formatBudgetLimit(result), result.passed ? '✅' : '❌'] : ['', ''];
  const rows: string[][] = [];
  const { latency } = report;
  const p95 = budget('latency-p95-ms');
  const p99 = budget('latency-p99-ms');
  if (latency) {
    const runs = `single row, ${formatCount(latency.runs)} runs after ${formatCount(latency.warmupRuns)} warm-up`;
    rows.push(['latency p50', formatMilliseconds(latency.p50Ms), runs, '', '']);
    rows.push(['latency p95', formatMilliseconds(latency.p95Ms), runs, ...budgetCells(p95)]);
    rows.push(['latency p99', formatMilliseconds(latency.p99Ms), runs, ...budgetCells(p99)]);
    rows.push([
      'throughput',
      formatThroughput(latency.throughputRowsPerSecond),
      `${formatRows(latency.batchRows)} per call`,
      '',
      '',
    ]);
  } else {
    // A latency budget without a measurement fails: show it rather than hide it.
    for (const [name, result] of [
      ['latency p95', p95],
      ['latency p99', p99],
    ] as const) {
      if (result)
        rows.push([
          name,
          'not measured',
          'latency was not measured, so its budget fails',
          ...budgetCells(result),
        ]);
    }
  }
  const { size } = report;
  rows.push([
    'model size',
    formatBytes(size.totalBytes),
    size.externalBytes > 0
      ? `${formatBytes(size.modelBytes)} + ${formatBytes(size.externalBytes)} external data`
      : '',
    ...budgetCells(budget('size-bytes')),
  ]);
  const { parity } = report;
  if (parity) {
    rows.push([
      `parity with ${escapeName(parity.golden)}`,
      `${formatCount(parity.mismatches)} mismatches`,
      `${formatRows(parity.rows)}, max \\|diff\\| ${formatValue(parity.maxAbsDiff)}, atol ${formatNumber(parity.atol)}, rtol ${formatNumber(parity.rtol)}`,
      '',
      parity.passed ? '✅' : '❌',
    ]);
  }
  const parts = [renderTable(['measure', 'value', 'detail', 'budget', 'status'], rows, true)];
  if (parity && parity.worst.length > 0) {
    parts.push(
      renderTable(
        ['output', 'row', 'index', 'expected', 'actual', '\\|diff\\|'],
        parity.worst.map((w) => [
          renderCode(w.output),
          String(w.row),
          String(w.index),
          formatValue(w.expected),
          formatValue(w.actual),
          formatValue(w.absDiff),
        ]),
        true,
      ),
    );
  }
  return parts.join('\n\n');
}

/** Paths, digests, signatures: what exactly was compared, for audits. */
export function renderIdentity(report: ModelValidationReport): string {
  const { data, output } = report;
  const dataTable = renderTable(
    ['data', ''],
    [
      ['path', escapeName(data.path)],
      ['sha256', `\`${data.sha256.slice(0, 12)}\``],
      ['format', `${data.format}, ${formatBytes(data.bytes)}`],
      ['rows', `${formatCount(data.rows)} evaluated, ${formatCount(data.droppedRows)} dropped`],
      ['target', renderCode(report.target)],
      ['features', renderNameList(report.features)],
      ['output', `${renderCode(output.name)} (${output.kind}), ${escapeMarkdown(output.inferredFrom)}`],
      ...(output.classes.length > 0 ? [['classes', renderNameList(output.classes.map(String))]] : []),
      ...(output.threshold !== undefined ? [['threshold', formatNumber(output.threshold)]] : []),
    ],
    true,
  );
  const baseline = report.baseline;
  const models: { role: string; cells: (field: keyof ModelIdentity | 'size') => string }[] = [
    { role: 'candidate', cells: (field) => describeModelField(report.candidate, field) },
  ];
  if (baseline && !('report' in baseline)) {
    models.push({ role: 'baseline', cells: (field) => describeModelField(baseline, field) });
  }
  const fields = ['path', 'sha256', 'size', 'irVersion', 'producer', 'opsets', 'inputs', 'outputs'] as const;
  const modelTable = renderTable(
    ['model', ...models.map((m) => m.role)],
    fields.map((field) => [field, ...models.map((m) => m.cells(field))]),
    true,
  );
  const parts = [dataTable, modelTable];
  if (baseline && 'report' in baseline) {
    parts.push(
      `Baseline: saved report ${escapeName(baseline.path)} (sha256 \`${baseline.sha256.slice(0, 12)}\`), ` +
        (baseline.sameData ? 'computed on the same holdout.' : 'computed on a different holdout.'),
    );
  }
  parts.push(
    `Tool: ${escapeMarkdown(report.tool.name)} ${escapeMarkdown(report.tool.version)}` +
      (report.bootstrap
        ? ` · bootstrap: ${report.bootstrap.resamples} resamples, seed ${report.bootstrap.seed}, ` +
          `${report.bootstrap.stratified ? 'stratified' : 'not stratified'}, ${report.bootstrap.paired ? 'paired' : 'unpaired'}` +
          (report.bootstrap.unit === 'blocks'
            ? `, over ${report.bootstrap.blocks} random blocks of rows (large holdout)`
            : ', over rows')
        : ' · bootstrap off'),
  );
  return parts.join('\n\n');
}

function describeModelField(model: ModelIdentity, field: keyof ModelIdentity | 'size'): string {
  switch (field) {
    case 'path':
      return escapeName(model.path);
    case 'sha256':
      return `\`${model.sha256.slice(0, 12)}\``;
    case 'size':
      return model.externalBytes > 0
        ? `${formatBytes(model.bytes)} + ${formatBytes(model.externalBytes)} external`
        : formatBytes(model.bytes);
    case 'irVersion':
      return String(model.irVersion);
    case 'producer':
      return escapeName(model.producer);
    case 'opsets':
      return model.opsets.map((o) => `${escapeName(o.domain || 'ai.onnx')} ${o.version}`).join(', ');
    case 'inputs':
    case 'outputs':
      // One name per line: `<br>` is HTML, written after escaping the parts.
      return model[field].map((io) => `${renderCode(io.name)}: ${escapeName(io.type)}`).join('<br>');
    default:
      return '';
  }
}

/** Gates in reading order: errors, failures, passes, skips; stable within each. */
export function sortGates<T extends Pick<GateEvaluation, 'status'>>(gates: readonly T[]): T[] {
  return [...gates].sort((a, b) => GATE_ORDER[a.status] - GATE_ORDER[b.status]);
}

/** A gate's value: the metric for min/max, its change (signed; relative in %) for change rules. */
export function formatGateValue(
  gate: Pick<GateEvaluation, 'rule' | 'relative'>,
  value: ReportNumber,
): string {
  if (gate.rule === 'min' || gate.rule === 'max') return formatValue(value);
  if (gate.relative) return isNumber(value) ? `${formatSigned(value * 100)}%` : formatValue(value);
  return formatSigned(value);
}

/** A change gate's resolution in its units: absolute, or percent for relative rules. */
export function formatResolution(gate: Pick<GateEvaluation, 'relative' | 'resolution'>): string {
  const value = gate.resolution ?? Number.NaN;
  return gate.relative ? `${formatValue(value * 100)}%` : formatValue(value);
}

/** The condition a gate checks, e.g. `≥ 0.9` or `Δ ≥ -1%`; `ascii` for terminals. */
export function describeThreshold(
  gate: Pick<GateEvaluation, 'rule' | 'relative' | 'threshold'>,
  ascii = false,
): string {
  const [atLeast, atMost] = ascii ? ['>=', '<='] : ['≥', '≤'];
  const delta = ascii ? 'change' : 'Δ';
  if (gate.rule === 'min') return `${atLeast} ${formatNumber(gate.threshold)}`;
  if (gate.rule === 'max') return `${atMost} ${formatNumber(gate.threshold)}`;
  // max-decrease d allows a change down to −d; max-increase d up to +d.
  const bound = gate.rule === 'max-decrease' ? -gate.threshold : gate.threshold;
  const text = gate.relative ? `${formatSigned(bound * 100)}%` : formatSigned(bound);
  return `${delta} ${gate.rule === 'max-decrease' ? atLeast : atMost} ${text}`;
}

/** Names shown in a table cell (features, classes): the first {@link MAX_LISTED_NAMES}, as code. */
function renderNameList(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED_NAMES).map((name) => renderCode(name));
  if (names.length > MAX_LISTED_NAMES) shown.push(`… and ${names.length - MAX_LISTED_NAMES} more`);
  return shown.join(', ');
}

/**
 * The pull-request (or commit) comment of one workflow: every gate's verdict, the worst findings,
 * candidate vs baseline metrics with deltas and intervals, drift per column, and charts GitHub
 * renders itself (Mermaid), details collapsed. Rendered only from the gates' reports; the same
 * Markdown is what `mlops report` prints.
 */

import {
  escapeMarkdown,
  escapeName,
  fitMarkdown,
  type MarkdownBlock,
  renderCode,
  renderDetails,
  renderTable,
} from '../markdown.ts';
import { describeBudget, formatCount, formatRows } from './format.ts';
import type { GateReport } from './gate-reports.ts';
import { concludeGate, describeGate, type GateConclusion } from './render-check-run.ts';
import {
  describeFinding,
  renderDataOverview,
  renderDriftSection,
  renderFindings,
  renderInputs,
} from './render-data-report.ts';
import {
  collectNotes,
  renderConfusionMatrix,
  renderCosts,
  renderGateTable,
  renderIdentity,
  renderMetricBars,
  renderMetricTable,
  renderOverview,
  renderPerClass,
  renderRocChart,
  renderSlices,
  sortGates,
  VISIBLE_CLASSES,
} from './render-model-report.ts';
import { listSmokeTestFailures, renderSmokeTestReport } from './render-smoke-test-report.ts';

/** GitHub refuses comment bodies longer than this many characters. */
export const COMMENT_LIMIT = 65_536;
/** Findings listed under "Worst findings" at the top. */
const WORST_FINDINGS = 5;
/** Findings shown in a data gate's section before the rest is collapsed. */
const VISIBLE_FINDINGS = 5;

const CONCLUSION_ICON: Record<GateConclusion, string> = {
  success: '✅ passed',
  failure: '❌ failed',
  neutral: '⏭️ skipped',
};

/** Options of {@link renderPullRequestReport}. */
export interface PullRequestReportOptions {
  /** Names the comment (the workflow's name by default) and goes into its hidden marker. */
  title: string;
  /** Check-run names, one per report (see `nameGateChecks`). */
  names: readonly string[];
  /** The commit the gates ran on, shown in the footer. */
  commit?: string;
  /** A link to the workflow run, shown in the footer. */
  runUrl?: string;
  /** Characters at most; default GitHub's comment limit. */
  limit?: number;
}

/**
 * The hidden marker that finds the comment again on the next run: one sticky comment per title
 * (workflow). Characters that could end the HTML comment are percent-encoded.
 */
export function commentMarker(title: string): string {
  return `<!-- mlops-actions:report title="${title.replace(/[%"<>-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}" -->`;
}

/** Whether every report's gate passed (skipped gates count as passed, as the gates decide). */
export function allGatesPassed(reports: readonly GateReport[]): boolean {
  return reports.every((entry) => entry.report.passed);
}

/**
 * The comment's Markdown, starting with {@link commentMarker}: overview table, worst findings,
 * then one section per gate. Kept under `limit` characters: collapsed details go first, and the
 * comment says what was left out.
 */
export function renderPullRequestReport(
  reports: readonly GateReport[],
  options: PullRequestReportOptions,
): string {
  const failed = reports.filter((entry) => concludeGate(entry) === 'failure').length;
  const heading =
    failed > 0
      ? `## ❌ ${escapeMarkdown(options.title)}: ${failed} of ${reports.length} gate${reports.length === 1 ? '' : 's'} failed`
      : `## ✅ ${escapeMarkdown(options.title)}: ${reports.length === 1 ? 'the gate passed' : `all ${reports.length} gates passed`}`;
  const overview = renderTable(
    ['check', 'verdict', 'summary', 'report'],
    reports.map((entry, index) => [
      `**${escapeMarkdown(options.names[index] ?? entry.gate)}**`,
      CONCLUSION_ICON[concludeGate(entry)],
      escapeMarkdown(describeGate(entry)),
      renderCode(entry.file),
    ]),
    true,
  );
  const blocks: MarkdownBlock[] = [
    { text: `${commentMarker(options.title)}\n${heading}` },
    { text: overview },
  ];
  const worst = listWorstFindings(reports, options.names);
  if (worst.length > 0) blocks.push({ text: `**Worst findings**\n\n${worst.join('\n')}` });
  reports.forEach((entry, index) => {
    const name = options.names[index] ?? entry.gate;
    blocks.push(
      ...(entry.kind === 'data-validation'
        ? dataBlocks(entry, name)
        : entry.kind === 'smoke-test'
          ? [{ text: `${sectionHeading(entry, name)}\n\n${renderSmokeTestReport(entry.report, entry.file)}` }]
          : modelBlocks(entry, name)),
    );
  });
  const footer = [
    'Rendered by mlops-actions from the gates’ reports',
    options.commit ? ` for ${renderCode(options.commit.slice(0, 12), false)}` : '',
    options.runUrl ? ` · [workflow run](${options.runUrl})` : '',
    ' · updated in place on every run',
  ].join('');
  blocks.push({ text: `<sub>${footer}</sub>` });
  return fitMarkdown(
    blocks,
    options.limit ?? COMMENT_LIMIT,
    'Some details were left out to stay under GitHub’s comment size limit: the check runs and the job summaries of the gate steps have them.',
  );
}

/** Errors first (data findings and failed model gates alike), then warnings; at most a few. */
function listWorstFindings(reports: readonly GateReport[], names: readonly string[]): string[] {
  const items: { rank: number; text: string }[] = [];
  reports.forEach((entry, index) => {
    const name = escapeMarkdown(names[index] ?? entry.gate);
    if (entry.inconsistency)
      items.push({ rank: -1, text: `- ⚠️ ${name} · ${escapeMarkdown(entry.inconsistency)}` });
    if (entry.kind === 'data-validation') {
      for (const finding of entry.report.findings) {
        if (finding.severity === 'info') continue;
        const lines = finding.lines?.length
          ? ` (line${finding.lines.length > 1 ? 's' : ''} ${finding.lines.slice(0, 5).join(', ')}${finding.lines.length > 5 ? ', …' : ''})`
          : '';
        items.push({
          rank: finding.severity === 'error' ? 0 : 1,
          text: `- ${finding.severity === 'error' ? '❌' : '⚠️'} ${name} · ${escapeMarkdown(finding.check)}: ${escapeMarkdown(describeFinding(finding))}${lines}`,
        });
      }
    } else if (entry.kind === 'smoke-test') {
      for (const failure of listSmokeTestFailures(entry.report)) {
        items.push({ rank: 0, text: `- ❌ ${name} · ${escapeMarkdown(failure)}` });
      }
    } else {
      const report = entry.report;
      for (const gate of sortGates(report.gates)) {
        if (gate.status !== 'failed' && gate.status !== 'error') continue;
        items.push({
          rank: 0,
          text: `- ❌ ${name} · ${renderCode(gate.expression, false)}: ${escapeMarkdown(gate.reason)}`,
        });
      }
      for (const budget of report.budgets.filter((b) => !b.passed)) {
        items.push({ rank: 0, text: `- ❌ ${name} · ${escapeMarkdown(describeBudget(budget))}` });
      }
      if (report.parity && !report.parity.passed) {
        items.push({
          rank: 0,
          text: `- ❌ ${name} · parity with ${escapeName(report.parity.golden)}: ${formatCount(report.parity.mismatches)} values outside tolerance`,
        });
      }
      if (!report.minRows.passed) {
        items.push({
          rank: 0,
          text: `- ❌ ${name} · the holdout has ${formatRows(report.minRows.rows)}, fewer than the required ${formatCount(report.minRows.required)}`,
        });
      }
    }
  });
  // A stable sort keeps each gate's own order (worst first) within a rank.
  const sorted = items.sort((a, b) => a.rank - b.rank);
  const shown = sorted.slice(0, WORST_FINDINGS).map((item) => item.text);
  if (sorted.length > WORST_FINDINGS) shown.push(`- … and ${sorted.length - WORST_FINDINGS} more below`);
  return shown;
}

function sectionHeading(entry: GateReport, name: string): string {
  const icon = CONCLUSION_ICON[concludeGate(entry)].split(' ')[0];
  const heading = `### ${icon} ${escapeMarkdown(name)}: ${entry.gate === 'data' ? 'data gate' : entry.gate === 'smoke-test' ? 'serving smoke test' : 'model gate'}`;
  return entry.inconsistency ? `${heading}\n\n> ⚠️ ${escapeMarkdown(entry.inconsistency)}` : heading;
}

function dataBlocks(entry: Extract<GateReport, { kind: 'data-validation' }>, name: string): MarkdownBlock[] {
  const report = entry.report;
  const blocks: MarkdownBlock[] = [
    { text: `${sectionHeading(entry, name)}\n\n${renderDataOverview(report)}` },
  ];
  blocks.push({
    text:
      report.findings.length > 0
        ? `**Findings** (worst first)\n\n${renderFindings(report.findings, VISIBLE_FINDINGS)}`
        : 'No findings.',
  });
  if (report.drift) blocks.push({ text: renderDriftSection(report, '####'), drop: 1 });
  blocks.push({ text: renderDetails('Inputs', renderInputs(report)), drop: 3 });
  return blocks;
}

function modelBlocks(
  entry: Extract<GateReport, { kind: 'model-validation' }>,
  name: string,
): MarkdownBlock[] {
  const report = entry.report;
  const blocks: MarkdownBlock[] = [{ text: `${sectionHeading(entry, name)}\n\n${renderOverview(report)}` }];
  const notes = collectNotes(report);
  if (notes.length > 0) blocks.push({ text: notes.map((note) => `> ℹ️ ${note}`).join('\n>\n') });
  blocks.push({ text: `**Gates**\n\n${renderGateTable(report.gates)}` });
  blocks.push({
    text: `**Metrics: ${report.baselineMetrics ? 'candidate vs baseline' : 'candidate'}**\n\n${renderMetricTable(report)}`,
  });
  const bars = renderMetricBars(report);
  const charts = [bars, report.roc ? renderRocChart(report) : ''].filter(Boolean);
  if (charts.length > 0) blocks.push({ text: charts.join('\n\n'), drop: 1 });
  if (report.confusionMatrix) {
    const title = 'Confusion matrix (rows: true class, columns: predicted class)';
    const table = renderConfusionMatrix(report.confusionMatrix);
    blocks.push({
      text:
        report.confusionMatrix.classes.length > VISIBLE_CLASSES
          ? renderDetails(title, table)
          : `**${title}**\n\n${table}`,
      drop: 1,
    });
  }
  const details: string[] = [];
  if (report.perClass && report.perClass.length > 0)
    details.push(renderDetails('Per class', renderPerClass(report.perClass)));
  if (report.slices.length > 0) details.push(renderDetails('Slices', renderSlices(report)));
  details.push(renderDetails('Latency, size and parity', renderCosts(report)));
  details.push(renderDetails('Data and models', renderIdentity(report)));
  blocks.push({ text: details.join('\n\n'), drop: 2 });
  return blocks;
}

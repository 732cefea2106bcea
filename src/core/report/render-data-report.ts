/**
 * Renders a `data-validation` report as Markdown for the job summary and the CLI. Only the
 * report is read: nothing is recomputed here.
 */

import type { Finding } from '../data/findings.ts';
import type { DataProfile } from '../data/profile-types.ts';
import type { DataValidationReport } from '../data/validate-data.ts';
import {
  escapeMarkdown,
  escapeName,
  renderCode,
  renderDetails,
  renderTable,
  shortenNames,
  truncateText,
} from '../markdown.ts';
import { formatCount, formatNumber, formatQuantity, formatRows } from './format.ts';

/** How many findings are shown before the rest is collapsed. */
const VISIBLE_FINDINGS = 10;

const SEVERITY_ICON = { error: '❌', warning: '⚠️', info: 'ℹ️' } as const;

/** Markdown for a data report: verdict, findings (worst first), drift, then the profile collapsed. */
export function renderDataReport(report: DataValidationReport, reportPath?: string): string {
  const verdict = report.passed ? '✅ Data gate passed' : '❌ Data gate failed';
  const parts: string[] = [`## ${verdict}`, renderDataOverview(report)];
  parts.push(
    report.findings.length > 0 ? `### Findings\n\n${renderFindings(report.findings)}` : 'No findings.',
  );
  if (report.drift) parts.push(renderDriftSection(report, '###'));
  if ('columns' in report.profile)
    parts.push(renderDetails('Profile of every column', renderProfileTable(report.profile)));
  parts.push(renderDetails('Inputs', renderInputs(report)));
  if (reportPath) parts.push(`Full report: ${renderCode(reportPath, false)}`);
  return `${parts.join('\n\n')}\n`;
}

/** One line: the data file, its size, the finding counts, drift and the fail-on level. */
export function renderDataOverview(report: DataValidationReport): string {
  const { summary } = report;
  return (
    `**${escapeName(report.inputs.data.path)}**: ${formatRows(summary.rows)}, ${formatQuantity(summary.columns, 'column')} · ` +
    `${formatQuantity(summary.findings.error, 'error')}, ${formatQuantity(summary.findings.warning, 'warning')}` +
    (report.drift ? ` · ${summary.driftedColumns} of ${report.drift.columns.length} columns drifted` : '') +
    ` · fails on: ${report.failOn}`
  );
}

/**
 * A finding's message for Markdown, with a very long column name in it shortened (the message
 * itself is cut by the escaping).
 */
export function describeFinding(finding: Finding): string {
  return shortenNames(finding.message, [finding.column]);
}

/** The findings as a table, worst first as the report holds them; past `visible` rows collapsed. */
export function renderFindings(findings: readonly Finding[], visible = VISIBLE_FINDINGS): string {
  const rows = findings.map((f) => [
    `${SEVERITY_ICON[f.severity]} ${f.severity}`,
    escapeMarkdown(f.check + (f.rule ? ` (${f.rule})` : '')),
    f.column === undefined ? '' : renderCode(f.column),
    formatCount(f.count),
    escapeMarkdown(describeFinding(f)),
    f.lines?.length ? f.lines.join(', ') : '',
  ]);
  const header = ['severity', 'check', 'column', 'count', 'finding', 'lines'];
  const table = renderTable(header, rows.slice(0, visible), true);
  if (rows.length <= visible) return table;
  return `${table}\n\n${renderDetails(`${rows.length - visible} more findings`, renderTable(header, rows.slice(visible), true))}`;
}

/**
 * Drift per column, drifted columns first: under a `heading` when a column drifted, collapsed
 * when none did. Empty when the report has no drift check.
 */
export function renderDriftSection(report: DataValidationReport, heading: string): string {
  if (!report.drift) return '';
  const order = { drifted: 0, negligible: 1, stable: 2, 'not-compared': 3 } as const;
  const columns = [...report.drift.columns].sort((a, b) => order[a.decision] - order[b.decision]);
  const table = renderTable(
    ['column', 'test', 'statistic', 'p-value', 'adjusted p', 'effect (floor)', 'decision'],
    columns.map((c) => [
      renderCode(c.column),
      c.test,
      formatNumber(c.statistic),
      c.pValue === undefined ? '' : formatNumber(c.pValue),
      c.adjustedPValue === undefined ? '' : formatNumber(c.adjustedPValue),
      c.decision === 'not-compared'
        ? ''
        : `${formatNumber(c.effectSize.value)} (${formatNumber(c.effectSize.floor)})`,
      c.decision === 'drifted' ? '**drifted**' : c.decision,
    ]),
    true,
  );
  const { correction, level, dataset } = report.drift;
  const rule =
    `A column drifts when its ${correction === 'none' ? 'p-value' : `${correction}-adjusted p-value`} is below ${level} ` +
    'and its effect reaches the floor; a significant change below the floor is negligible.' +
    (dataset ? ` Dataset drift: ${escapeMarkdown(dataset.rule)}.` : '');
  const title = `Drift against ${truncateText(report.drift.reference)}: ${report.summary.driftedColumns} of ${columns.length} columns drifted`;
  const body = `${table}\n\n${rule}`;
  return report.summary.driftedColumns > 0
    ? `${heading} ${escapeMarkdown(title)}\n\n${body}`
    : renderDetails(title, body);
}

/** The inputs of the gate with their digests. */
export function renderInputs(report: DataValidationReport): string {
  const inputs = Object.entries(report.inputs).map(([role, input]) => [
    role,
    escapeName(input.path),
    input.rows === undefined ? '' : formatCount(input.rows),
    `\`${input.sha256.slice(0, 12)}\``,
  ]);
  return renderTable(['role', 'path', 'rows', 'sha256'], inputs, true);
}

/** One row per column: type, missing, range, mean, distinct, top value. */
export function renderProfileTable(profile: DataProfile): string {
  return renderTable(
    ['column', 'type', 'missing', 'min', 'mean', 'max', 'distinct', 'top value'],
    profile.columns.map((c) => [
      renderCode(c.name),
      c.type,
      c.rows === 0 ? '0' : `${formatCount(c.missing)} (${formatNumber((100 * c.missing) / c.rows)}%)`,
      c.numeric ? formatNumber(c.numeric.min) : '',
      c.numeric ? formatNumber(c.numeric.mean) : '',
      c.numeric ? formatNumber(c.numeric.max) : '',
      `${c.distinct.exact ? '' : '≈'}${c.distinct.count}`,
      c.topValues?.[0] ? `${renderCode(c.topValues[0].value)} (${c.topValues[0].count})` : '',
    ]),
    true,
  );
}

/**
 * One check run per gate report: conclusion, title, Markdown summary and annotations, in the shape
 * of GitHub's Checks API (https://docs.github.com/rest/checks/runs). Rendered only from the report.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { Finding } from '../data/findings.ts';
import {
  escapeMarkdown,
  MAX_TEXT_LENGTH,
  shortenNames,
  truncateMarkdown,
  truncateText,
} from '../markdown.ts';
import { formatRows } from './format.ts';
import type { GateReport } from './gate-reports.ts';
import { renderDataReport } from './render-data-report.ts';
import { renderModelReport } from './render-model-report.ts';
import { describeSmokeTest, renderSmokeTestReport } from './render-smoke-test-report.ts';

/** GitHub's limit on a check run's `output.summary` (and `output.text`), in characters. */
export const CHECK_SUMMARY_LIMIT = 65_535;
/** GitHub takes at most 50 annotations per request; the report action sends one request. */
export const MAX_CHECK_ANNOTATIONS = 50;
/** GitHub's limit on an annotation's title, in characters. */
const ANNOTATION_TITLE_LIMIT = 255;

/** A check run's conclusion as the gate decided it. */
export type GateConclusion = 'success' | 'failure' | 'neutral';

/** An annotation as the Checks API takes it. */
export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

/** What one check run says about one gate. */
export interface GateCheckRun {
  name: string;
  conclusion: GateConclusion;
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
}

/**
 * The gate's conclusion: `failure` when it did not pass, `neutral` when it decided nothing (a
 * model gate whose every gate was skipped, e.g. change gates without a baseline, and no budget or
 * parity check), `success` otherwise.
 */
export function concludeGate(entry: GateReport): GateConclusion {
  if (!entry.report.passed) return 'failure';
  if (entry.kind === 'model-validation') {
    const { gates, budgets, parity } = entry.report;
    if (gates.length > 0 && gates.every((g) => g.status === 'skipped') && budgets.length === 0 && !parity) {
      return 'neutral';
    }
  }
  return 'success';
}

/** A one-line verdict for the check's title and the comment's overview. */
export function describeGate(entry: GateReport): string {
  // An inconsistent report says it passed while listing failures: its own summary is not trusted.
  const prefix = entry.inconsistency ? 'inconsistent report (it says passed), treated as failed; ' : '';
  return prefix + describeGateContents(entry);
}

function describeGateContents(entry: GateReport): string {
  const conclusion = concludeGate(entry);
  if (entry.kind === 'data-validation') {
    const { summary, drift } = entry.report;
    return (
      `${plural(summary.findings.error, 'error')}, ${plural(summary.findings.warning, 'warning')}` +
      (drift ? `; ${summary.driftedColumns} of ${drift.columns.length} columns drifted` : '') +
      ` in ${formatRows(summary.rows)}`
    );
  }
  if (entry.kind === 'smoke-test') return describeSmokeTest(entry.report);
  const { gates, budgets, parity, minRows } = entry.report;
  if (conclusion === 'neutral') return `every gate was skipped (${gates.length}): nothing was checked`;
  const failed = gates.filter((g) => g.status === 'failed' || g.status === 'error').length;
  const counted = gates.filter((g) => g.status !== 'skipped').length;
  const extra = [
    ...budgets.filter((b) => !b.passed).map((b) => `${b.budget} over budget`),
    ...(parity && !parity.passed ? ['parity failed'] : []),
    ...(!minRows.passed ? [`holdout under ${formatRows(minRows.required)}`] : []),
  ];
  return (
    (failed > 0 ? `${failed} of ${counted} gates failed` : `${counted} of ${counted} gates passed`) +
    (extra.length > 0 ? `; ${extra.join('; ')}` : '')
  );
}

/** The check run of one gate report, named `name` (see `nameGateChecks`). */
export function renderGateCheckRun(entry: GateReport, name: string, workspace?: string): GateCheckRun {
  const conclusion = concludeGate(entry);
  const verdict = { success: 'Passed', failure: 'Failed', neutral: 'Skipped' }[conclusion];
  const rendered =
    entry.kind === 'data-validation'
      ? renderDataReport(entry.report, entry.file)
      : entry.kind === 'smoke-test'
        ? renderSmokeTestReport(entry.report, entry.file)
        : renderModelReport(entry.report, entry.file);
  const body = entry.inconsistency ? `> ⚠️ ${escapeMarkdown(entry.inconsistency)}\n\n${rendered}` : rendered;
  return {
    name,
    conclusion,
    title: `${verdict}: ${describeGate(entry)}`,
    summary: truncateMarkdown(
      body,
      CHECK_SUMMARY_LIMIT,
      `The rest is in the job summary of the gate's step and in ${entry.file}.`,
    ),
    annotations: entry.kind === 'data-validation' ? annotateFindings(entry.report.findings, workspace) : [],
  };
}

/**
 * Annotations from the data gate's findings that have a file and lines, worst first: first one
 * per finding (on its first line, listing the others), then the findings' further example lines
 * while there is room, up to {@link MAX_CHECK_ANNOTATIONS}. Paths are made relative to the
 * repository (`workspace`), as GitHub wants them; files outside it cannot be annotated.
 */
export function annotateFindings(
  findings: readonly Finding[],
  workspace?: string,
  max = MAX_CHECK_ANNOTATIONS,
): CheckAnnotation[] {
  const located = findings
    .filter((f) => f.severity !== 'info' && f.file && f.lines && f.lines.length > 0)
    .map((f) => ({ finding: f, path: repositoryPath(f.file as string, workspace) }))
    .filter((entry): entry is { finding: Finding; path: string } => entry.path !== undefined);
  const annotations: CheckAnnotation[] = [];
  const depth = Math.max(0, ...located.map((entry) => entry.finding.lines?.length ?? 0));
  for (let index = 0; index < depth && annotations.length < max; index++) {
    for (const { finding, path } of located) {
      const line = finding.lines?.[index];
      if (line === undefined || annotations.length >= max) continue;
      const others = finding.lines && finding.lines.length > 1 ? ` (lines ${finding.lines.join(', ')})` : '';
      // Plain text (GitHub does not render Markdown in annotations), cut like the Markdown: a huge
      // column name must not push the message past the API's 64 KB or the title past 255 characters.
      const message = truncateText(shortenNames(finding.message, [finding.column]), MAX_TEXT_LENGTH);
      const title = `${finding.check}${finding.rule ? ` (${finding.rule})` : ''}${finding.column === undefined ? '' : `: ${truncateText(finding.column, 100)}`}`;
      annotations.push({
        path,
        start_line: line,
        end_line: line,
        annotation_level: finding.severity === 'error' ? 'failure' : 'warning',
        message: index === 0 ? `${message}${others}` : message,
        title: truncateText(title, ANNOTATION_TITLE_LIMIT - 30),
      });
    }
  }
  return annotations;
}

/** A path relative to the repository with `/` separators; undefined when it lies outside. */
function repositoryPath(file: string, workspace: string | undefined): string | undefined {
  let path = file;
  if (isAbsolute(file)) {
    if (!workspace) return undefined;
    path = relative(workspace, file);
    if (path.startsWith('..') || isAbsolute(path)) return undefined;
  }
  path = path.split(sep).join('/').replace(/^\.\//, '');
  return path.startsWith('../') ? undefined : path;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

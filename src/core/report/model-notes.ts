/**
 * What a reader must know to read a model report's numbers right (a holdout too small, no
 * baseline, a baseline from a saved report, no intervals, dropped rows), decided once here as data;
 * the Markdown and the terminal renderers each only word them.
 */
import type { OnMissingBaseline } from '../model/gates.ts';
import type { ModelValidationReport } from '../model/report-types.ts';

/** One note, with what its wording needs. */
export type ModelReportNote =
  | { kind: 'too-few-rows'; rows: number; required: number }
  | { kind: 'no-baseline'; onMissingBaseline: OnMissingBaseline; why?: string }
  | { kind: 'baseline-report'; sameData: boolean }
  | { kind: 'no-bootstrap' }
  | { kind: 'dropped-rows'; rows: number };

/** The notes of a report, in the order they are shown. */
export function modelReportNotes(report: ModelValidationReport): ModelReportNote[] {
  const notes: ModelReportNote[] = [];
  if (!report.minRows.passed) {
    notes.push({ kind: 'too-few-rows', rows: report.minRows.rows, required: report.minRows.required });
  }
  if (!report.baseline) {
    notes.push({
      kind: 'no-baseline',
      onMissingBaseline: report.onMissingBaseline,
      ...(report.missingBaseline ? { why: report.missingBaseline.replace(/\.$/, '') } : {}),
    });
  } else if ('report' in report.baseline) {
    notes.push({ kind: 'baseline-report', sameData: report.baseline.sameData });
  }
  if (report.bootstrap === null) notes.push({ kind: 'no-bootstrap' });
  if (report.data.droppedRows > 0) notes.push({ kind: 'dropped-rows', rows: report.data.droppedRows });
  return notes;
}

/** What change gates do without a baseline, in words. */
export function describeMissingBaseline(policy: OnMissingBaseline): string {
  if (policy === 'fail') return 'they fail';
  if (policy === 'skip') return 'they are skipped';
  return 'they are skipped and only the candidate’s values are reported';
}

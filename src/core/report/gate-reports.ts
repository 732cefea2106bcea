import { basename, extname, isAbsolute, resolve, sep } from 'node:path';
import type { DataValidationReport } from '../data/validate-data.ts';
import { InputError } from '../errors.ts';
import { glob } from '../glob.ts';
import { readJsonFile } from '../json/file.ts';
import type { ModelValidationReport } from '../model/report-types.ts';
import { checkGateReport, checkSmokeTestReport } from '../schemas/report-schemas.ts';
import type { SmokeTestReport } from './smoke-test-report.ts';
import { upgradeGateReport } from './upgrade-reports.ts';

/** The report kinds this renderer knows, and the gate each belongs to. */
export const GATE_KINDS = {
  'data-validation': { gate: 'data' },
  'model-validation': { gate: 'model' },
  'smoke-test': { gate: 'smoke-test' },
} as const;

/**
 * One gate's report and the file it came from. `inconsistency` says why a report that claims to
 * have passed is read as failed (see {@link findInconsistency}).
 */
export type GateReport = (
  | { file: string; kind: 'data-validation'; gate: 'data'; report: DataValidationReport }
  | { file: string; kind: 'model-validation'; gate: 'model'; report: ModelValidationReport }
  | { file: string; kind: 'smoke-test'; gate: 'smoke-test'; report: SmokeTestReport }
) & { inconsistency?: string };

/**
 * Expands newline- or comma-free patterns (paths or globs, relative to `cwd`) into report files,
 * sorted and without duplicates. A plain path that does not exist and a glob that matches nothing
 * are errors: a report step that finds no report is almost always a wrong path.
 */
export async function findReportFiles(patterns: readonly string[], cwd: string): Promise<string[]> {
  if (patterns.length === 0) {
    throw new InputError(
      'No reports given: list the gate reports (paths or globs), e.g. mlops-reports/*.json.',
    );
  }
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (!/[*?[{]/.test(pattern)) {
      files.add(pattern);
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern, { cwd })) matches.push(match);
    if (matches.length === 0) {
      throw new InputError(
        `No file matches "${pattern}" (in ${cwd}): did the gate steps run, and do their report-path inputs write there?`,
        { file: pattern },
      );
    }
    for (const match of matches.sort()) files.add(match);
  }
  return [...files];
}

/**
 * Reads gate reports. Each must be JSON with a known `kind` and a version this tool reads, and match
 * that version's JSON Schema; otherwise an `InputError` names the file and what is wrong. Reports of
 * an older version come back upgraded to the current shape (see upgrade-reports.ts).
 */
export async function readGateReports(files: readonly string[], cwd: string): Promise<GateReport[]> {
  const reports: GateReport[] = [];
  for (const file of files) {
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    const json = (await readJsonFile(path, 'Report', {
      name: file,
      readHint: 'Give the path a gate step wrote its report to.',
    })) as Record<string, unknown>;
    let entry: GateReport;
    if (json?.kind === 'smoke-test') {
      checkSmokeTestReport(json, file, 'Pass the report as the smoke test wrote it.');
      entry = { file, kind: 'smoke-test', gate: 'smoke-test', report: json as unknown as SmokeTestReport };
    } else {
      const { kind } = checkGateReport(json, file, 'Pass the report as the gate wrote it.');
      entry = {
        file,
        kind,
        gate: GATE_KINDS[kind].gate,
        report: upgradeGateReport(json),
      } as unknown as GateReport;
    }
    const inconsistency = findInconsistency(entry);
    if (inconsistency) {
      // Never trust a pass the report's own contents contradict: it is shown, and counted, as failed.
      entry.report.passed = false;
      entry.inconsistency = inconsistency;
    }
    reports.push(entry);
  }
  return reports;
}

/**
 * Why a report that says `passed: true` cannot have passed, or undefined when it is consistent:
 * a data report that lists findings at or above its own `failOn` level, or a model report that
 * lists failed or errored gates, budgets over their limit, a failed parity check or a holdout
 * under `min-rows`. A gate never writes such a report, so it was edited (or written by something
 * else); the renderers say so and treat it as failed.
 */
export function findInconsistency(entry: GateReport): string | undefined {
  if (!entry.report.passed) return undefined;
  const problems: string[] = [];
  if (entry.kind === 'data-validation') {
    const { findings, failOn, summary } = entry.report;
    const failing = failOn === 'never' ? [] : failOn === 'warning' ? ['error', 'warning'] : ['error'];
    const listed = findings.filter((f) => failing.includes(f.severity)).length;
    const counted = failing.reduce(
      (sum, level) => sum + (summary.findings[level as 'error' | 'warning'] ?? 0),
      0,
    );
    const count = Math.max(listed, counted);
    if (count > 0) problems.push(`${count} finding${count === 1 ? '' : 's'} at or above fail-on: ${failOn}`);
  } else if (entry.kind === 'smoke-test') {
    const failed = entry.report.checks.filter((check) => check.status === 'failed').length;
    if (failed > 0) problems.push(`${failed} failed check${failed === 1 ? '' : 's'}`);
  } else {
    const { gates, budgets, parity, minRows } = entry.report;
    const failed = gates.filter((g) => g.status === 'failed' || g.status === 'error').length;
    if (failed > 0) problems.push(`${failed} failed gate${failed === 1 ? '' : 's'}`);
    const over = budgets.filter((b) => !b.passed).length;
    if (over > 0) problems.push(`${over} budget${over === 1 ? '' : 's'} exceeded`);
    if (parity && !parity.passed) problems.push('a failed parity check');
    if (!minRows.passed) problems.push(`a holdout under min-rows (${minRows.rows} < ${minRows.required})`);
  }
  if (problems.length === 0) return undefined;
  return `Inconsistent report: ${entry.file} says it passed but lists ${problems.join(', ')}; it is treated as failed. A gate never writes such a report: check where it came from.`;
}

/**
 * A check-run name per report: `mlops / data`, `mlops / model`; with several reports of one
 * kind, each gets its file's base name, `mlops / data (train-data)`, or its path when base names
 * repeat, `mlops / model (reports/eu/model-validation)`.
 */
export function nameGateChecks(reports: readonly GateReport[]): string[] {
  const label = (file: string) => basename(file, extname(file));
  return reports.map((entry) => {
    const name = `mlops / ${entry.gate}`;
    const sameKind = reports.filter((other) => other.kind === entry.kind);
    if (sameKind.length === 1) return name;
    // Base names that repeat (reports/a/model.json, reports/b/model.json) take the path instead, so
    // each check keeps a name of its own.
    const clash = sameKind.some((other) => other !== entry && label(other.file) === label(entry.file));
    const path = entry.file
      .slice(0, entry.file.length - extname(entry.file).length)
      .split(sep)
      .join('/');
    return `${name} (${clash ? path : label(entry.file)})`;
  });
}

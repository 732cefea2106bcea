/**
 * The gates' JSON reports as the report action and `mlops report` read them: found by paths or
 * globs, each checked to be a known kind and version and to match its JSON Schema, so that what
 * reviewers see is rendered only from reports a gate really wrote.
 */
import { glob, readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, resolve, sep } from 'node:path';
import type { DataValidationReport } from '../data/validate-data.ts';
import { InputError } from '../errors.ts';
import type { ModelValidationReport } from '../model/validate-model.ts';
import { checkGateReport } from './report-schemas.ts';
import { upgradeGateReport } from './upgrade-reports.ts';

/** The report kinds this renderer knows, and the gate each belongs to. */
export const GATE_KINDS = {
  'data-validation': { gate: 'data' },
  'model-validation': { gate: 'model' },
} as const;

/** One gate's report and the file it came from. */
export type GateReport =
  | { file: string; kind: 'data-validation'; gate: 'data'; report: DataValidationReport }
  | { file: string; kind: 'model-validation'; gate: 'model'; report: ModelValidationReport };

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
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InputError(
        `Report ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path a gate step wrote its report to.`,
        { file },
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InputError(`Report ${file} is not JSON: ${(error as Error).message}.`, { file });
    }
    const { kind } = checkGateReport(json, file, 'Pass the report as the gate wrote it.');
    const known = GATE_KINDS[kind];
    const report = upgradeGateReport(json);
    reports.push({ file, kind, gate: known.gate, report } as unknown as GateReport);
  }
  return reports;
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

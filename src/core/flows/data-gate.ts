/**
 * The data gate as one flow, shared by the validate-data action and `mlops validate-data`: the
 * config is found and loaded once, the request is resolved in the documented order (input or flag,
 * then mlops.yaml, then the built-in default), the gate runs, and the report is written where the
 * request says. The adapters only map their inputs to the request and the result to their outputs.
 */
import type { DataGateRequest, DataRequestNames } from '../config/data-options.ts';
import { resolveDataOptions } from '../config/data-options.ts';
import { loadProjectConfig } from '../config/find-config.ts';
import { type DataValidationReport, validateData } from '../data/validate-data.ts';
import type { Logger } from '../logger.ts';
import { writeReport } from './write-report.ts';

/** Everything the user gave one run of the data gate. */
export interface DataGateFlowRequest extends DataGateRequest {
  /** The mlops.yaml given (`--config`, input `config`); else the project's is looked for from `cwd`. */
  config?: string;
  /** The folder the run starts in: where the project's mlops.yaml is looked for. */
  cwd: string;
  names: DataRequestNames;
}

/** What the actions' outputs say of a decision. */
export interface DataGateOutputs {
  passed: boolean;
  /** Findings of every severity. */
  findings: number;
  errors: number;
  warnings: number;
  /** Columns whose drift test said they drifted. */
  driftedColumns: string[];
}

export interface DataGateResult {
  report: DataValidationReport;
  /** Where the report was written, when the request named a path. */
  reportPath?: string;
  outputs: DataGateOutputs;
}

/**
 * Runs the data gate. Throws `ConfigurationError`/`InputError` for what the user must fix (before
 * any data is read when the request itself is wrong); a gate that says no is a report with
 * `passed: false` (findings at or above `fail-on`), not an error.
 */
export async function runDataGate(
  request: DataGateFlowRequest,
  ports: { logger: Logger },
): Promise<DataGateResult> {
  const loaded = await loadProjectConfig(request.config, request.cwd);
  const options = resolveDataOptions(request, loaded, request.names);
  const report = await validateData(options, ports.logger);
  return {
    ...(await writeReport(report, request.report)),
    outputs: {
      passed: report.passed,
      findings: report.findings.length,
      errors: report.summary.findings.error,
      warnings: report.summary.findings.warning,
      driftedColumns: report.drift?.columns.filter((c) => c.drifted).map((c) => c.column) ?? [],
    },
  };
}

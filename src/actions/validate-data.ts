/**
 * validate-data: the data gate as a GitHub Action. Parses inputs, runs the gate, writes the
 * report, outputs, annotations and the job summary.
 */
import * as core from '@actions/core';
import { resolveDataOptions } from '../core/config/data-options.ts';
import { findConfig } from '../core/config/find-config.ts';
import { type DataValidationReport, validateData } from '../core/data/validate-data.ts';
import { ValidationFailure } from '../core/errors.ts';
import { writeJsonAtomic } from '../core/files.ts';
import { renderDataReport } from '../core/report/render-data-report.ts';
import { getOptionalInput } from './shared/inputs.ts';
import { actionsLogger, runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/validate-data/action.yml). */
export const INPUTS = {
  data: 'data',
  reference: 'reference',
  contract: 'contract',
  train: 'train',
  config: 'config',
  target: 'target',
  reportPath: 'report-path',
  failOn: 'fail-on',
  format: 'format',
  delimiter: 'delimiter',
} as const;

export const OUTPUTS = {
  passed: 'passed',
  reportPath: 'report-path',
  findings: 'findings',
  errors: 'errors',
  warnings: 'warnings',
  driftedColumns: 'drifted-columns',
} as const;

/** At most this many findings become annotations (GitHub shows few per step anyway). */
const MAX_ANNOTATIONS = 20;

interface Inputs {
  data?: string;
  reference?: string;
  contract?: string;
  train?: string;
  config?: string;
  target?: string;
  reportPath: string;
  failOn?: string;
  format?: string;
  delimiter?: string;
}

function getInputs(): Inputs {
  return {
    data: getOptionalInput(INPUTS.data),
    reference: getOptionalInput(INPUTS.reference),
    contract: getOptionalInput(INPUTS.contract),
    train: getOptionalInput(INPUTS.train),
    config: getOptionalInput(INPUTS.config),
    target: getOptionalInput(INPUTS.target),
    reportPath: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/data-validation.json',
    failOn: getOptionalInput(INPUTS.failOn),
    format: getOptionalInput(INPUTS.format),
    delimiter: getOptionalInput(INPUTS.delimiter, { trimWhitespace: false }),
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  // The YAML parser is loaded only when there is a config to read.
  const configFile = inputs.config ?? findConfig(process.cwd());
  const loaded = configFile
    ? await (await import('../core/config/config.ts')).loadConfig(configFile)
    : undefined;
  const options = resolveDataOptions({ ...inputs, report: inputs.reportPath }, loaded, {
    data: `input "${INPUTS.data}"`,
    failOn: `input "${INPUTS.failOn}"`,
    format: `input "${INPUTS.format}"`,
    report: `input "${INPUTS.reportPath}"`,
  });
  const report = await validateData(options, actionsLogger);
  await writeJsonAtomic(inputs.reportPath, report);

  core.setOutput(OUTPUTS.passed, String(report.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.reportPath);
  core.setOutput(OUTPUTS.findings, String(report.findings.length));
  core.setOutput(OUTPUTS.errors, String(report.summary.findings.error));
  core.setOutput(OUTPUTS.warnings, String(report.summary.findings.warning));
  core.setOutput(
    OUTPUTS.driftedColumns,
    JSON.stringify(report.drift?.columns.filter((c) => c.drifted).map((c) => c.column) ?? []),
  );

  annotate(report);
  await core.summary.addRaw(renderDataReport(report, inputs.reportPath)).write();

  if (!report.passed) {
    const { error, warning } = report.summary.findings;
    throw new ValidationFailure(
      `Data gate failed: ${error} error${error === 1 ? '' : 's'} and ${warning} warning${warning === 1 ? '' : 's'} (fail-on: ${report.failOn}). Details in the job summary and ${inputs.reportPath}.`,
      inputs.reportPath,
    );
  }
}

/** Findings become annotations on the data file, worst first, capped. */
function annotate(report: DataValidationReport): void {
  for (const finding of report.findings.slice(0, MAX_ANNOTATIONS)) {
    if (finding.severity === 'info') continue;
    const properties: core.AnnotationProperties = {
      title: `${finding.check}${finding.column === undefined ? '' : `: ${finding.column}`}`,
      file: finding.file,
      startLine: finding.lines?.[0],
    };
    const message =
      finding.lines && finding.lines.length > 1
        ? `${finding.message} (lines ${finding.lines.join(', ')})`
        : finding.message;
    if (finding.severity === 'error') core.error(message, properties);
    else core.warning(message, properties);
  }
}

await runAction(main);

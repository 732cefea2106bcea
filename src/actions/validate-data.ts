/**
 * validate-data: the data gate as a GitHub Action. Parses inputs, runs the gate, writes the
 * report, outputs, annotations and the job summary.
 */
import * as core from '@actions/core';
import type { DataValidationReport } from '../core/data/validate-data.ts';
import { ValidationFailure } from '../core/errors.ts';
import { runDataGate } from '../core/flows/data-gate.ts';
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
  report: string;
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
    report: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/data-validation.json',
    failOn: getOptionalInput(INPUTS.failOn),
    format: getOptionalInput(INPUTS.format),
    delimiter: getOptionalInput(INPUTS.delimiter, { trimWhitespace: false }),
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const { report, outputs } = await runDataGate(
    {
      ...inputs,
      cwd: process.cwd(),
      names: {
        data: `input "${INPUTS.data}"`,
        failOn: `input "${INPUTS.failOn}"`,
        format: `input "${INPUTS.format}"`,
        report: `input "${INPUTS.reportPath}"`,
      },
    },
    { logger: actionsLogger },
  );

  core.setOutput(OUTPUTS.passed, String(outputs.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.report);
  core.setOutput(OUTPUTS.findings, String(outputs.findings));
  core.setOutput(OUTPUTS.errors, String(outputs.errors));
  core.setOutput(OUTPUTS.warnings, String(outputs.warnings));
  core.setOutput(OUTPUTS.driftedColumns, JSON.stringify(outputs.driftedColumns));

  annotate(report);
  await core.summary.addRaw(renderDataReport(report, inputs.report)).write();

  if (!outputs.passed) {
    const { errors, warnings } = outputs;
    throw new ValidationFailure(
      `Data gate failed: ${errors} error${errors === 1 ? '' : 's'} and ${warnings} warning${warnings === 1 ? '' : 's'} (fail-on: ${report.failOn}). Details in the job summary and ${inputs.report}.`,
      inputs.report,
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

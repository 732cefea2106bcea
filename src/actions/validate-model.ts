/**
 * validate-model: the model gate as a GitHub Action. Parses inputs, evaluates the candidate (and
 * the baseline) on the holdout, writes the report, outputs and the job summary, and fails the
 * step with the gates' reasons when the model is not good enough.
 */
import * as core from '@actions/core';
import { type ModelRequestNames, resolveModelOptions } from '../core/config/model-options.ts';
import { ValidationFailure } from '../core/errors.ts';
import { writeJsonAtomic } from '../core/files.ts';
import { summarizeModelReport, validateModel } from '../core/model/validate-model.ts';
import { renderModelReport } from '../core/report/render-model-report.ts';
import { actionsLogger, getOptionalInput, runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/validate-model/action.yml). */
export const INPUTS = {
  model: 'model',
  baseline: 'baseline',
  data: 'data',
  target: 'target',
  task: 'task',
  gates: 'gates',
  config: 'config',
  contract: 'contract',
  features: 'features',
  golden: 'golden',
  reportPath: 'report-path',
  missing: 'missing',
  onMissingBaseline: 'on-missing-baseline',
  outputName: 'output-name',
  outputKind: 'output-kind',
  threshold: 'threshold',
  slices: 'slices',
  resamples: 'resamples',
  seed: 'seed',
  batchRows: 'batch-rows',
  minRows: 'min-rows',
  format: 'format',
  delimiter: 'delimiter',
} as const;

export const OUTPUTS = {
  passed: 'passed',
  reportPath: 'report-path',
  metrics: 'metrics',
  failedGates: 'failed-gates',
} as const;

const NAMES: ModelRequestNames = {
  model: `input "${INPUTS.model}"`,
  data: `input "${INPUTS.data}"`,
  target: `input "${INPUTS.target}"`,
  gates: `input "${INPUTS.gates}"`,
  task: `input "${INPUTS.task}"`,
  missing: `input "${INPUTS.missing}"`,
  onMissingBaseline: `input "${INPUTS.onMissingBaseline}"`,
  outputKind: `input "${INPUTS.outputKind}"`,
  threshold: `input "${INPUTS.threshold}"`,
  resamples: `input "${INPUTS.resamples}"`,
  seed: `input "${INPUTS.seed}"`,
  batchRows: `input "${INPUTS.batchRows}"`,
  minRows: `input "${INPUTS.minRows}"`,
  format: `input "${INPUTS.format}"`,
};

/** A multi-line or comma-separated input as a list (empty lines and `#` comments dropped). */
function getListInput(name: string, separator: RegExp): string[] {
  return core
    .getInput(name)
    .split(separator)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function getInputs() {
  return {
    config: getOptionalInput(INPUTS.config),
    reportPath: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/model-validation.json',
    request: {
      model: getOptionalInput(INPUTS.model),
      baseline: getOptionalInput(INPUTS.baseline),
      data: getOptionalInput(INPUTS.data),
      contract: getOptionalInput(INPUTS.contract),
      task: getOptionalInput(INPUTS.task),
      target: getOptionalInput(INPUTS.target),
      // One gate per line: expressions contain no newlines, and commas may appear in none either.
      gates: getListInput(INPUTS.gates, /\r?\n/),
      features: getListInput(INPUTS.features, /[\r\n,]+/),
      golden: getOptionalInput(INPUTS.golden),
      missing: getOptionalInput(INPUTS.missing),
      onMissingBaseline: getOptionalInput(INPUTS.onMissingBaseline),
      outputName: getOptionalInput(INPUTS.outputName),
      outputKind: getOptionalInput(INPUTS.outputKind),
      threshold: getOptionalInput(INPUTS.threshold),
      slices: getListInput(INPUTS.slices, /[\r\n,]+/),
      resamples: getOptionalInput(INPUTS.resamples),
      seed: getOptionalInput(INPUTS.seed),
      batchRows: getOptionalInput(INPUTS.batchRows),
      minRows: getOptionalInput(INPUTS.minRows),
      format: getOptionalInput(INPUTS.format),
      delimiter: core.getInput(INPUTS.delimiter, { trimWhitespace: false }) || undefined,
    },
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  const loaded = inputs.config
    ? await (await import('../core/config/config.ts')).loadConfig(inputs.config)
    : undefined;
  const options = resolveModelOptions(inputs.request, loaded, NAMES);
  const report = await validateModel(options, actionsLogger);
  await writeJsonAtomic(inputs.reportPath, report);

  core.setOutput(OUTPUTS.passed, String(report.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.reportPath);
  core.setOutput(
    OUTPUTS.metrics,
    JSON.stringify(
      Object.fromEntries(Object.entries(report.metrics).map(([name, entry]) => [name, entry?.value ?? null])),
    ),
  );
  core.setOutput(
    OUTPUTS.failedGates,
    JSON.stringify(
      report.gates.filter((g) => g.status === 'failed' || g.status === 'error').map((g) => g.expression),
    ),
  );
  await core.summary.addRaw(renderModelReport(report, inputs.reportPath)).write();

  if (!report.passed) {
    throw new ValidationFailure(
      `${summarizeModelReport(report)} Details in the job summary and ${inputs.reportPath}.`,
      inputs.reportPath,
    );
  }
  core.info(summarizeModelReport(report));
}

await runAction(main);

/**
 * validate-model: the model gate as a GitHub Action. Parses inputs, evaluates the candidate (and
 * the baseline) on the holdout, writes the report, outputs and the job summary, and fails the
 * step with the gates' reasons when the model is not good enough.
 */
import * as core from '@actions/core';
import { ValidationFailure } from '../core/errors.ts';
import { type ModelGateNames, runModelGate } from '../core/flows/model-gate.ts';
import { summarizeModelReport } from '../core/report/model-summary.ts';
import { renderModelReport } from '../core/report/render-model-report.ts';
import { getListInput, getOptionalInput } from './shared/inputs.ts';
import { actionsLogger, runAction } from './shared/run-action.ts';

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
  shard: 'shard',
  outcomesPath: 'outcomes-path',
  merge: 'merge',
  environmentRepository: 'environment-repository',
  deployedModel: 'deployed-model',
  token: 'token',
} as const;

export const OUTPUTS = {
  passed: 'passed',
  outcomesPath: 'outcomes-path',
  reportPath: 'report-path',
  metrics: 'metrics',
  failedGates: 'failed-gates',
} as const;

const NAMES: ModelGateNames = {
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
  environmentRepository: `input "${INPUTS.environmentRepository}"`,
  deployedModel: `input "${INPUTS.deployedModel}"`,
  report: `input "${INPUTS.reportPath}"`,
  outcomes: `input "${INPUTS.outcomesPath}"`,
  shard: `input "${INPUTS.shard}"`,
  merge: `input "${INPUTS.merge}"`,
};

function getInputs() {
  const merge = getListInput(INPUTS.merge, 'lines');
  return {
    config: getOptionalInput(INPUTS.config),
    report: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/model-validation.json',
    shard: getOptionalInput(INPUTS.shard),
    outcomes: getOptionalInput(INPUTS.outcomesPath),
    // An empty merge input is no merge (the runner passes every input, '' when not set).
    merge: merge.length > 0 ? merge : undefined,
    model: getOptionalInput(INPUTS.model),
    baseline: getOptionalInput(INPUTS.baseline),
    data: getOptionalInput(INPUTS.data),
    contract: getOptionalInput(INPUTS.contract),
    task: getOptionalInput(INPUTS.task),
    target: getOptionalInput(INPUTS.target),
    // One gate per line: an expression holds no line break, and a comma in one is not a separator.
    gates: getListInput(INPUTS.gates, 'lines'),
    features: getListInput(INPUTS.features, 'lines-and-commas'),
    golden: getOptionalInput(INPUTS.golden),
    missing: getOptionalInput(INPUTS.missing),
    onMissingBaseline: getOptionalInput(INPUTS.onMissingBaseline),
    outputName: getOptionalInput(INPUTS.outputName),
    outputKind: getOptionalInput(INPUTS.outputKind),
    threshold: getOptionalInput(INPUTS.threshold),
    slices: getListInput(INPUTS.slices, 'lines-and-commas'),
    resamples: getOptionalInput(INPUTS.resamples),
    seed: getOptionalInput(INPUTS.seed),
    batchRows: getOptionalInput(INPUTS.batchRows),
    minRows: getOptionalInput(INPUTS.minRows),
    format: getOptionalInput(INPUTS.format),
    delimiter: getOptionalInput(INPUTS.delimiter, { trimWhitespace: false }),
    environmentRepository: getOptionalInput(INPUTS.environmentRepository),
    deployedModel: getOptionalInput(INPUTS.deployedModel),
    token: getOptionalInput(INPUTS.token),
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  if (inputs.token) core.setSecret(inputs.token);
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const result = await runModelGate(
    { ...inputs, cwd: process.cwd(), hostEnv: process.env, names: NAMES },
    { logger: actionsLogger },
  );
  if (result.mode === 'shard') {
    core.setOutput(OUTPUTS.outcomesPath, result.outcomes);
    core.info(
      `Shard ${result.shard.index}/${result.shard.count}: ${result.rows} rows evaluated, outcomes in ${result.outcomes}. ` +
        "Upload it as an artifact; the merge job passes every shard's file in the merge input.",
    );
    return;
  }
  const { report, outputs } = result;
  core.setOutput(OUTPUTS.passed, String(outputs.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.report);
  core.setOutput(OUTPUTS.metrics, JSON.stringify(outputs.metrics));
  core.setOutput(OUTPUTS.failedGates, JSON.stringify(outputs.failedGates));
  await core.summary.addRaw(renderModelReport(report, inputs.report)).write();

  if (!outputs.passed) {
    throw new ValidationFailure(
      `${summarizeModelReport(report)} Details in the job summary and ${inputs.report}.`,
      inputs.report,
    );
  }
  core.info(summarizeModelReport(report));
}

await runAction(main);

/**
 * validate-model: the model gate as a GitHub Action. Parses inputs, evaluates the candidate (and
 * the baseline) on the holdout, writes the report, outputs and the job summary, and fails the
 * step with the gates' reasons when the model is not good enough.
 */
import * as core from '@actions/core';
import { findConfig } from '../core/config/find-config.ts';
import {
  type ModelRequestNames,
  resolveDecideOptions,
  resolveModelOptions,
} from '../core/config/model-options.ts';
import { githubUrls } from '../core/deploy/transport.ts';
import { ValidationFailure } from '../core/errors.ts';
import { writeJsonAtomic } from '../core/files.ts';
import { mergeShardFiles, parseShard, writeShardFile } from '../core/model/shards.ts';
import {
  decideModelGate,
  evaluateModelGate,
  type ModelValidationReport,
  validateModel,
} from '../core/model/validate-model.ts';
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
  environmentRepository: `input "${INPUTS.environmentRepository}"`,
  deployedModel: `input "${INPUTS.deployedModel}"`,
  report: `input "${INPUTS.reportPath}"`,
  outcomes: `input "${INPUTS.outcomesPath}"`,
};

function getInputs() {
  return {
    config: getOptionalInput(INPUTS.config),
    reportPath: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/model-validation.json',
    shard: getOptionalInput(INPUTS.shard),
    outcomesPath: getOptionalInput(INPUTS.outcomesPath),
    merge: getListInput(INPUTS.merge, 'lines'),
    request: {
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
      github: githubUrls(process.env),
      hostEnv: process.env,
    },
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  if (inputs.request.token) core.setSecret(inputs.request.token);
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const configFile = inputs.config ?? findConfig(process.cwd());
  const loaded = configFile
    ? await (await import('../core/config/config.ts')).loadConfig(configFile)
    : undefined;
  let report: ModelValidationReport;
  // The options are resolved (and the output paths checked) before any work.
  if (inputs.merge.length > 0) {
    // The merge job of a sharded evaluation: decide on the outcomes every shard saved.
    const request = { ...inputs.request, report: inputs.reportPath, merge: inputs.merge };
    const options = resolveDecideOptions(request, loaded, NAMES);
    report = decideModelGate(await mergeShardFiles(inputs.merge), options);
  } else if (inputs.shard) {
    const shard = parseShard(inputs.shard, `input "${INPUTS.shard}"`);
    const outcomesPath =
      inputs.outcomesPath ?? `mlops-reports/model-outcomes-${shard.index}-of-${shard.count}.json`;
    const options = resolveModelOptions({ ...inputs.request, outcomes: outcomesPath }, loaded, NAMES);
    const evaluated = await evaluateModelGate({ ...options, shard }, actionsLogger);
    await writeShardFile(outcomesPath, evaluated, shard);
    core.setOutput(OUTPUTS.outcomesPath, outcomesPath);
    core.info(
      `Shard ${shard.index}/${shard.count}: ${evaluated.data.rows} rows evaluated, outcomes in ${outcomesPath}. ` +
        "Upload it as an artifact; the merge job passes every shard's file in the merge input.",
    );
    return;
  } else {
    const options = resolveModelOptions({ ...inputs.request, report: inputs.reportPath }, loaded, NAMES);
    report = await validateModel(options, actionsLogger);
  }
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

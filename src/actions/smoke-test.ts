/**
 * smoke-test: serves a model package on the runner's loopback over the Open Inference Protocol v2
 * (with ONNX Runtime, as a model server would) and checks it as a client: health, metadata against
 * the package's signature, parity of infer answers with golden outputs, p95 latency against the
 * budget. Writes the report (kind smoke-test) and the job summary; fails the step when a check fails.
 */
import * as core from '@actions/core';
import { findConfig } from '../core/config/find-config.ts';
import { ValidationFailure } from '../core/errors.ts';
import { writeJsonAtomic } from '../core/files.ts';
import { renderSmokeTestReport } from '../core/report/render-smoke-test-report.ts';
import { runSmokeTest } from '../core/serve/smoke-test.ts';
import { resolveSmokeTestOptions, type SmokeTestRequestNames } from '../core/serve/smoke-test-options.ts';
import { getOptionalInput } from './shared/inputs.ts';
import { actionsLogger, runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/smoke-test/action.yml). */
export const INPUTS = {
  package: 'package',
  golden: 'golden',
  config: 'config',
  runs: 'runs',
  reportPath: 'report-path',
} as const;

export const OUTPUTS = {
  passed: 'passed',
  reportPath: 'report-path',
  p95Ms: 'p95-ms',
  failedChecks: 'failed-checks',
} as const;

const NAMES: SmokeTestRequestNames = {
  package: `input "${INPUTS.package}"`,
  golden: `input "${INPUTS.golden}"`,
  runs: `input "${INPUTS.runs}"`,
  report: `input "${INPUTS.reportPath}"`,
};

function getInputs() {
  return {
    config: getOptionalInput(INPUTS.config),
    reportPath: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/smoke-test.json',
    request: {
      package: getOptionalInput(INPUTS.package),
      golden: getOptionalInput(INPUTS.golden),
      runs: getOptionalInput(INPUTS.runs),
    },
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const configFile = inputs.config ?? findConfig(process.cwd());
  const loaded = configFile
    ? await (await import('../core/config/config.ts')).loadConfig(configFile)
    : undefined;
  const options = resolveSmokeTestOptions({ ...inputs.request, report: inputs.reportPath }, loaded, NAMES);
  const report = await runSmokeTest({ ...options, logger: actionsLogger });
  await writeJsonAtomic(inputs.reportPath, report);
  const failed = report.checks.filter((check) => check.status === 'failed');
  core.setOutput(OUTPUTS.passed, String(report.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.reportPath);
  core.setOutput(OUTPUTS.failedChecks, failed.map((check) => check.check).join(','));
  if (report.latency) core.setOutput(OUTPUTS.p95Ms, report.latency.p95Ms.toFixed(3));
  for (const check of report.checks) {
    const line = `${check.check}: ${check.status} (${check.reason})`;
    if (check.status === 'failed') core.error(check.reason, { title: `Smoke test: ${check.check}` });
    else core.info(line);
  }
  await core.summary
    .addRaw(renderSmokeTestReport(report, inputs.reportPath, '## Smoke test (Open Inference Protocol v2)'))
    .write();
  if (!report.passed) {
    throw new ValidationFailure(
      `Smoke test failed: ${failed.map((check) => check.check).join(', ')}. Details in the job summary and ${inputs.reportPath}.`,
      inputs.reportPath,
    );
  }
}

await runAction(main);

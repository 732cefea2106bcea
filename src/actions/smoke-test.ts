/**
 * smoke-test: serves a model package on the runner's loopback over the Open Inference Protocol v2
 * (with ONNX Runtime, as a model server would) and checks it as a client: health, metadata against
 * the package's signature, parity of infer answers with golden outputs, p95 latency against the
 * budget. Writes the report (kind smoke-test) and the job summary; fails the step when a check fails.
 */
import * as core from '@actions/core';
import { ValidationFailure } from '../core/errors.ts';
import { runPackageSmokeTest } from '../core/flows/smoke-test.ts';
import { renderSmokeTestReport } from '../core/report/render-smoke-test-report.ts';
import type { SmokeTestRequestNames } from '../core/serve/smoke-test-options.ts';
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
    report: getOptionalInput(INPUTS.reportPath) ?? 'mlops-reports/smoke-test.json',
    package: getOptionalInput(INPUTS.package),
    golden: getOptionalInput(INPUTS.golden),
    runs: getOptionalInput(INPUTS.runs),
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const { report, outputs } = await runPackageSmokeTest(
    { ...inputs, cwd: process.cwd(), names: NAMES },
    { logger: actionsLogger },
  );
  core.setOutput(OUTPUTS.passed, String(outputs.passed));
  core.setOutput(OUTPUTS.reportPath, inputs.report);
  core.setOutput(OUTPUTS.failedChecks, outputs.failedChecks.join(','));
  if (outputs.p95Ms !== undefined) core.setOutput(OUTPUTS.p95Ms, outputs.p95Ms.toFixed(3));
  for (const check of report.checks) {
    const line = `${check.check}: ${check.status} (${check.reason})`;
    if (check.status === 'failed') core.error(check.reason, { title: `Smoke test: ${check.check}` });
    else core.info(line);
  }
  await core.summary
    .addRaw(renderSmokeTestReport(report, inputs.report, '## Smoke test (Open Inference Protocol v2)'))
    .write();
  if (!outputs.passed) {
    throw new ValidationFailure(
      `Smoke test failed: ${outputs.failedChecks.join(', ')}. Details in the job summary and ${inputs.report}.`,
      inputs.report,
    );
  }
}

await runAction(main);

/**
 * The smoke test as one flow, shared by the smoke-test action and `mlops smoke-test`: the config is
 * found and loaded once, the request is resolved (golden file, runs, the budget and tolerances of
 * mlops.yaml; see serve/smoke-test-options.ts), the package is served on loopback and checked as a
 * client, and the report is written where the request says.
 */
import { loadProjectConfig } from '../config/find-config.ts';
import type { Logger } from '../logger.ts';
import type { SmokeTestReport } from '../report/smoke-test-report.ts';
import type { PullPackage } from '../serve/open-package.ts';
import { runSmokeTest } from '../serve/smoke-test.ts';
import {
  resolveSmokeTestOptions,
  type SmokeTestRequest,
  type SmokeTestRequestNames,
} from '../serve/smoke-test-options.ts';
import { writeReport } from './write-report.ts';

/** Everything the user gave one smoke test. */
export interface SmokeTestFlowRequest extends SmokeTestRequest {
  /** The mlops.yaml given (`--config`, input `config`); else the project's is looked for from `cwd`. */
  config?: string;
  /** The folder the run starts in: where the project's mlops.yaml is looked for. */
  cwd: string;
  names: SmokeTestRequestNames;
}

export interface SmokeTestPorts {
  logger: Logger;
  /** Pulls an `oci://` package into a folder; without it such a reference is refused. */
  pull?: PullPackage;
}

/** What the actions' outputs say of the smoke test. */
export interface SmokeTestOutputs {
  passed: boolean;
  /** The checks that failed, in the order they ran. */
  failedChecks: string[];
  /** p95 of the one-row infer round trips, in milliseconds, when latency was measured. */
  p95Ms?: number;
}

export interface SmokeTestResult {
  report: SmokeTestReport;
  /** Where the report was written, when the request named a path. */
  reportPath?: string;
  outputs: SmokeTestOutputs;
}

/**
 * Runs the smoke test of a package. Throws `ConfigurationError`/`InputError` for what the user must
 * fix (no package, a bad `runs`, a report path that is an input, a path that does not exist); a
 * package that fails a check is a report with `passed: false`, not an error.
 */
export async function runPackageSmokeTest(
  request: SmokeTestFlowRequest,
  ports: SmokeTestPorts,
): Promise<SmokeTestResult> {
  const loaded = await loadProjectConfig(request.config, request.cwd);
  const options = resolveSmokeTestOptions(request, loaded, request.names);
  const report = await runSmokeTest({
    ...options,
    logger: ports.logger,
    ...(ports.pull ? { pull: ports.pull } : {}),
  });
  return {
    ...(await writeReport(report, request.report)),
    outputs: {
      passed: report.passed,
      failedChecks: report.checks.filter((check) => check.status === 'failed').map((check) => check.check),
      ...(report.latency ? { p95Ms: report.latency.p95Ms } : {}),
    },
  };
}

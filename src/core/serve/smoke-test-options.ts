/**
 * The smoke test's options from what an adapter collected (flags or action inputs) and the
 * `model:` part of mlops.yaml: the golden file (given, else `model.golden.path`), the tolerances
 * (`model.golden.atol`/`rtol`) and the p95 latency budget (`model.budgets.latency-p95-ms`). What the
 * package itself carries (its golden.json, its model report's budget and tolerances) is read by the
 * smoke test; the package's golden wins over a given one, a configured budget over the package's.
 */
import type { LoadedConfig } from '../config/config.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath } from '../files.ts';
import type { SmokeTestOptions } from './smoke-test.ts';

/** What the user gave. */
export interface SmokeTestRequest {
  package?: string;
  golden?: string;
  runs?: string;
  /** Where the report goes (checked never to replace an input). */
  report?: string;
}

/** How each request field is called in the adapter, for messages (`--package`, `input "package"`). */
export interface SmokeTestRequestNames {
  package: string;
  golden: string;
  runs: string;
  report: string;
}

/** Most timed requests of the latency check. */
const MAX_RUNS = 100_000;

/** Resolves the smoke test's options; throws `ConfigurationError` naming the flag or input. */
export function resolveSmokeTestOptions(
  request: SmokeTestRequest,
  loaded: LoadedConfig | undefined,
  names: SmokeTestRequestNames,
): Omit<SmokeTestOptions, 'logger'> {
  if (!request.package) {
    throw new ConfigurationError(
      `No package to test: set ${names.package} (a package folder or .zip archive, e.g. the package step's archive output).`,
      { key: names.package },
    );
  }
  const model = loaded?.config.model;
  const golden =
    request.golden ??
    (model?.golden?.path !== undefined ? loaded?.resolvePath(model.golden.path) : undefined);
  let runs: number | undefined;
  if (request.runs !== undefined) {
    runs = Number(request.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) {
      throw new ConfigurationError(
        `${names.runs} must be a whole number from 1 to ${MAX_RUNS}; got "${request.runs}".`,
        { key: names.runs },
      );
    }
  }
  if (request.report) {
    checkOutputPath(
      request.report,
      [
        { label: names.package, path: request.package },
        golden === undefined ? undefined : { label: names.golden, path: golden },
      ],
      names.report,
    );
  }
  const budget = model?.budgets?.['latency-p95-ms'];
  const atol = model?.golden?.atol;
  const rtol = model?.golden?.rtol;
  return {
    package: request.package,
    ...(golden !== undefined ? { golden } : {}),
    ...(runs !== undefined ? { runs } : {}),
    ...(budget !== undefined && loaded
      ? { budget: { latencyP95Ms: budget, source: `${loaded.file} (model.budgets.latency-p95-ms)` } }
      : {}),
    ...((atol !== undefined || rtol !== undefined) && loaded
      ? { tolerance: { atol, rtol, source: `${loaded.file} (model.golden)` } }
      : {}),
  };
}

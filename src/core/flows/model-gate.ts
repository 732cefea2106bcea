/**
 * The model gate as one flow, shared by the validate-model action and `mlops validate-model`: the
 * config is found and loaded once, the request is resolved in the documented order (input or flag,
 * then mlops.yaml, then the built-in default), and the request alone chooses what this run does:
 *
 * - **merge** (`merge` given, even empty): decide on the outcomes every shard saved; no model or
 *   data is read. `shard` and `outcomes` belong to the shard jobs and are refused here.
 * - **shard** (`shard` given): evaluate rows K of N and save their outcomes (to `outcomes`, else
 *   `mlops-reports/model-outcomes-K-of-N.json`); no decision, no report.
 * - **full** (neither): evaluate and decide. `outcomes` without `shard` is refused.
 *
 * A merge of every shard decides exactly as a full run on the same rows (test/unit/flows-model-gate.test.ts).
 */

import { loadProjectConfig } from '../config/find-config.ts';
import {
  type EnvironmentBaselinePort,
  type ModelGateRequest,
  type ModelRequestNames,
  resolveDecideOptions,
  resolveModelOptions,
} from '../config/model-options.ts';
import { resolveRepository } from '../deploy/deploy.ts';
import { environmentBaselineResolver } from '../deploy/deployed-baseline.ts';
import { githubCredential, githubUrls } from '../deploy/transport.ts';
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import type { Logger } from '../logger.ts';
import { mergeShardFiles, parseShard, writeShardFile } from '../model/shards.ts';
import {
  decideModelGate,
  evaluateModelGate,
  type ModelValidationReport,
  validateModel,
} from '../model/validate-model.ts';
import { writeReport } from './write-report.ts';

/** How the adapter calls each input (flag or action input), for messages. */
export interface ModelGateNames extends ModelRequestNames {
  shard: string;
  merge: string;
  outcomes: string;
  report: string;
}

/** Everything the user gave one run of the model gate. */
export interface ModelGateFlowRequest extends ModelGateRequest {
  /** The mlops.yaml given (`--config`, input `config`); else the project's is looked for from `cwd`. */
  config?: string;
  /** The folder the run starts in: where the project's mlops.yaml is looked for. */
  cwd: string;
  /** The adapter's environment: GITHUB_SERVER_URL/GITHUB_API_URL, and PATH, HOME, proxies for git. */
  hostEnv: HostEnvironment;
  /** Token that can read the environment repository (and its packages), for `environment:<name>`. */
  token?: string;
  /** `K/N`: evaluate this shard only and save its outcomes. */
  shard?: string;
  names: ModelGateNames;
}

/** What the flow needs from its surroundings. */
export interface ModelGatePorts {
  logger: Logger;
  /**
   * Makes the resolver of a baseline `environment:<name>`; by default the environment repository
   * is read with git and the package it references fetched (deploy/deployed-baseline.ts).
   */
  environmentBaseline?: EnvironmentBaselinePort;
}

/** What the actions' outputs say of a decision. */
export interface ModelGateOutputs {
  passed: boolean;
  /** Each metric's value (null when it could not be computed), by name. */
  metrics: Record<string, number | null>;
  /** The expressions of the gates that failed or could not be evaluated (an error is no pass). */
  failedGates: string[];
}

export type ModelGateResult =
  | {
      mode: 'shard';
      shard: { index: number; count: number };
      /** Rows this shard evaluated. */
      rows: number;
      /** Where the shard's outcomes were written. */
      outcomes: string;
    }
  | {
      mode: 'full' | 'merge';
      report: ModelValidationReport;
      /** Where the report was written, when the request named a path. */
      reportPath?: string;
      outputs: ModelGateOutputs;
    };

type Mode =
  | { mode: 'merge'; files: string[] }
  | { mode: 'shard'; shard: { index: number; count: number }; outcomes: string }
  | { mode: 'full' };

/**
 * Runs the model gate (full, shard or merge, as the request says) and writes the report (full and
 * merge, when `report` is set) or the shard's outcomes. Throws `ConfigurationError`/`InputError`
 * for what the user must fix, before any evaluation when the request is wrong; a gate that says no
 * is a report with `passed: false`, not an error.
 */
export async function runModelGate(
  request: ModelGateFlowRequest,
  ports: ModelGatePorts,
): Promise<ModelGateResult> {
  const chosen = chooseMode(request);
  const loaded = await loadProjectConfig(request.config, request.cwd);
  if (chosen.mode === 'merge') {
    // The options (and the report path) are checked before the shard files are read.
    const options = resolveDecideOptions({ ...request, merge: chosen.files }, loaded, request.names);
    return decided('merge', decideModelGate(await mergeShardFiles(chosen.files), options), request);
  }
  const environmentBaseline = ports.environmentBaseline ?? readEnvironmentBaseline(request);
  if (chosen.mode === 'shard') {
    // A shard writes no report: only its outcomes path is an output to check.
    const { report: _report, ...rest } = request;
    const options = resolveModelOptions(
      { ...rest, outcomes: chosen.outcomes },
      loaded,
      request.names,
      environmentBaseline,
    );
    const evaluated = await evaluateModelGate({ ...options, shard: chosen.shard }, ports.logger);
    await writeShardFile(chosen.outcomes, evaluated, chosen.shard);
    return { mode: 'shard', shard: chosen.shard, rows: evaluated.data.rows, outcomes: chosen.outcomes };
  }
  const options = resolveModelOptions(request, loaded, request.names, environmentBaseline);
  return decided('full', await validateModel(options, ports.logger), request);
}

/** The one place the request chooses between a full run, a shard and a merge. */
function chooseMode(request: ModelGateFlowRequest): Mode {
  const { names } = request;
  if (request.merge !== undefined) {
    if (request.shard !== undefined || request.outcomes !== undefined) {
      const given = request.shard !== undefined ? names.shard : names.outcomes;
      throw new ConfigurationError(
        `${names.merge} decides on the outcomes every shard saved; ${given} belongs to the shard jobs: leave it out of the merge.`,
        { key: given },
      );
    }
    return { mode: 'merge', files: request.merge };
  }
  if (request.shard !== undefined) {
    const shard = parseShard(request.shard, names.shard);
    return {
      mode: 'shard',
      shard,
      outcomes: request.outcomes ?? `mlops-reports/model-outcomes-${shard.index}-of-${shard.count}.json`,
    };
  }
  if (request.outcomes !== undefined) {
    throw new ConfigurationError(
      `${names.outcomes} goes with ${names.shard} (a shard saves its outcomes for the merge; a full run writes its report).`,
      { key: names.outcomes },
    );
  }
  return { mode: 'full' };
}

async function decided(
  mode: 'full' | 'merge',
  report: ModelValidationReport,
  request: ModelGateFlowRequest,
): Promise<ModelGateResult> {
  return {
    mode,
    ...(await writeReport(report, request.report)),
    outputs: {
      passed: report.passed,
      metrics: Object.fromEntries(
        // A Partial record's entries are typed possibly undefined; a report never holds one.
        // Stryker disable next-line OptionalChaining: see above
        Object.entries(report.metrics).map(([name, entry]) => [name, entry?.value ?? null]),
      ),
      failedGates: report.gates
        .filter((gate) => gate.status === 'failed' || gate.status === 'error')
        .map((gate) => gate.expression),
    },
  };
}

/**
 * The default environment baseline: the environment repository (a URL, or `owner/name` on the
 * run's GitHub server) read with git, the token sent only to the run's GitHub server and API.
 */
function readEnvironmentBaseline(request: ModelGateFlowRequest): EnvironmentBaselinePort {
  const github = githubUrls(request.hostEnv);
  return (source) =>
    environmentBaselineResolver({
      repository: resolveRepository(source.repository, github.serverUrl).url,
      base: source.base,
      model: source.model,
      hostEnv: request.hostEnv,
      github,
      ...(request.token
        ? { auth: { token: request.token }, credential: githubCredential(request.token, github) }
        : {}),
    });
}

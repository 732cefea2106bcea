/**
 * Turns what the user gave (action inputs or CLI flags, plus `mlops.yaml`'s `model:` part) into
 * the options of the model gate. Inputs and flags win over the config file; gate expressions
 * from both are combined; paths in the config are relative to it.
 */
import { TABLE_FORMATS } from '../data/batch.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath, type NamedPath } from '../files.ts';
import type { EnvironmentBaselineResolver } from '../model/environment-baseline.ts';
import { type GateSpec, ON_MISSING_BASELINE, parseGateConfig, parseGateExpression } from '../model/gates.ts';
import { TASKS } from '../model/metric-names.ts';
import { MISSING_POLICIES, OUTPUT_KINDS } from '../model/model-io.ts';
import type { DecideOptions, ValidateModelOptions } from '../model/options.ts';
import type { LoadedConfig } from './config.ts';
import { parseChoice } from './data-options.ts';

/** What an adapter collected from its user, every field optional. */
export interface ModelGateRequest {
  model?: string;
  baseline?: string;
  data?: string;
  contract?: string;
  task?: string;
  target?: string;
  /** Comma-separated or repeated feature columns. */
  features?: string[];
  gates?: string[];
  golden?: string;
  missing?: string;
  onMissingBaseline?: string;
  outputName?: string;
  outputKind?: string;
  threshold?: string;
  resamples?: string;
  seed?: string;
  batchRows?: string;
  minRows?: string;
  slices?: string[];
  format?: string;
  delimiter?: string;
  /** With `baseline: environment:<name>`: the environment repository and the model's name there. */
  environmentRepository?: string;
  deployedModel?: string;
  /** Where the report and a shard's outcomes will be written: checked before any work never to replace an input. */
  report?: string;
  outcomes?: string;
  /** The shard outcome files a merge reads. */
  merge?: string[];
}

/** How each request field is called in this adapter (flag or input), for messages. */
export interface ModelRequestNames {
  model: string;
  data: string;
  target: string;
  gates: string;
  task: string;
  missing: string;
  onMissingBaseline: string;
  outputKind: string;
  threshold: string;
  resamples: string;
  seed: string;
  batchRows: string;
  minRows: string;
  format: string;
  /** Optional: only needed for an `environment:<name>` baseline. */
  environmentRepository?: string;
  deployedModel?: string;
  /** Optional: the report and outcomes outputs, when the request names them. */
  report?: string;
  outcomes?: string;
}

/** Where an `environment:<name>` baseline is looked up, as the request and mlops.yaml say. */
export interface EnvironmentBaselineSource {
  /** The environment repository as written (a URL or `owner/name`). */
  repository: string;
  /** Its branch (deploy.base), when the config names one. */
  base?: string;
  /** The model's name in the environment repository. */
  model: string;
}

/**
 * Makes the resolver of an `environment:<name>` baseline. The config layer knows where the
 * environment is, not how to read it: the caller (the model gate's flow) supplies this.
 */
export type EnvironmentBaselinePort = (source: EnvironmentBaselineSource) => EnvironmentBaselineResolver;

/**
 * Merges a request with the config into validated model-gate options. `environmentBaseline` is
 * needed only for a baseline `environment:<name>`.
 */
export function resolveModelOptions(
  request: ModelGateRequest,
  loaded: LoadedConfig | undefined,
  names: ModelRequestNames,
  environmentBaseline?: EnvironmentBaselinePort,
): ValidateModelOptions {
  const config = loaded?.config.model ?? {};
  const dataConfig = loaded?.config.data ?? {};
  const fromConfig = (path: string | undefined) =>
    path === undefined ? undefined : loaded!.resolvePath(path);
  const inConfig = (key: string) => (loaded ? `, or model.${key} in ${loaded.file}` : '');
  const model = request.model ?? fromConfig(config.model);
  if (!model)
    throw new ConfigurationError(`No model to validate: set ${names.model}${inConfig('model')}.`, {
      key: names.model,
    });
  const data = request.data ?? fromConfig(config.data) ?? fromConfig(dataConfig.data);
  if (!data) {
    throw new ConfigurationError(`No holdout data to evaluate on: set ${names.data}${inConfig('data')}.`, {
      key: names.data,
    });
  }
  const target = request.target ?? config.target ?? dataConfig.target;
  if (!target) {
    throw new ConfigurationError(`No target (label) column: set ${names.target}${inConfig('target')}.`, {
      key: names.target,
    });
  }
  const decide = resolveDecideOptions(request, loaded, names);
  const number = parseNumber;
  const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
  const outputKind = request.outputKind
    ? parseChoice(request.outputKind, OUTPUT_KINDS, names.outputKind)
    : config.output?.kind;
  const outputName = request.outputName ?? config.output?.name;
  const delimiter = request.delimiter ?? dataConfig.delimiter;
  const options: ValidateModelOptions = {
    model,
    baseline: request.baseline ?? fromConfig(config.baseline),
    data,
    contract: request.contract ?? fromConfig(config.contract) ?? fromConfig(dataConfig.contract),
    read: {
      format: request.format ? parseChoice(request.format, TABLE_FORMATS, names.format) : dataConfig.format,
      delimiter: delimiter === '\\t' ? '\t' : delimiter,
    },
    missingTokens: dataConfig['missing-values'],
    task: request.task ? parseChoice(request.task, TASKS, names.task) : config.task,
    target,
    features: request.features && request.features.length > 0 ? request.features : config.features,
    output: outputName || outputKind ? { name: outputName, kind: outputKind } : undefined,
    classes: config.classes,
    threshold:
      number(request.threshold, names.threshold, (n) => n >= 0 && n <= 1, 'a probability between 0 and 1') ??
      config.threshold,
    missing: request.missing ? parseChoice(request.missing, MISSING_POLICIES, names.missing) : config.missing,
    ...decide,
    golden: request.golden
      ? { path: request.golden, atol: config.golden?.atol, rtol: config.golden?.rtol }
      : config.golden
        ? { ...config.golden, path: fromConfig(config.golden.path) as string }
        : undefined,
    batchRows:
      number(request.batchRows, names.batchRows, positiveInteger, 'a positive integer') ??
      config['batch-rows'],
    sources: {
      features: request.features?.length
        ? 'The features flag'
        : loaded
          ? `${loaded.file} (model.features)`
          : undefined,
      output:
        outputName && request.outputName === undefined && loaded
          ? `${loaded.file} (model.output.name)`
          : undefined,
      classes: loaded ? `${loaded.file} (model.classes)` : undefined,
    },
    config: loaded?.file,
    ...deploymentBaseline(request, loaded, names, environmentBaseline),
  };
  const inputs = [
    { label: names.model, path: options.model },
    options.baseline === undefined || options.environmentBaseline
      ? undefined
      : { label: 'the baseline', path: options.baseline },
    { label: names.data, path: options.data },
    options.contract === undefined ? undefined : { label: 'the contract', path: options.contract },
    options.golden === undefined ? undefined : { label: 'the golden file', path: options.golden.path },
    loaded ? { label: 'the config', path: loaded.file } : undefined,
  ];
  checkOutputs(request, inputs, names);
  return options;
}

/** Refuses report and outcome paths that are an input, a folder or not writable (see checkOutputPath). */
function checkOutputs(
  request: ModelGateRequest,
  inputs: readonly (NamedPath | undefined)[],
  names: ModelRequestNames,
): void {
  if (request.report !== undefined)
    checkOutputPath(request.report, inputs, names.report ?? 'the report path');
  if (request.outcomes !== undefined)
    checkOutputPath(request.outcomes, inputs, names.outcomes ?? 'the outcomes path');
}

/** Parses a number flag or input, or throws naming it and what it must be. */
function parseNumber(
  value: string | undefined,
  name: string,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !check(parsed)) {
    throw new ConfigurationError(`${name} must be ${what}; got "${value}".`, { key: name });
  }
  return parsed;
}

/**
 * The decision's options (gates, baseline policy, bootstrap, minimum rows, slices, budgets), which
 * a merge of shards needs without a model or data.
 */
export function resolveDecideOptions(
  request: ModelGateRequest,
  loaded: LoadedConfig | undefined,
  names: ModelRequestNames,
): DecideOptions {
  const config = loaded?.config.model ?? {};
  const number = parseNumber;
  const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
  const gates: GateSpec[] = [
    ...(request.gates ?? []).filter((g) => g.trim() !== '').map((g) => parseGate(g, names.gates)),
    ...(config.gates ?? []).map((g, i) => parseGate(g, `model.gates[${i}]`)),
    ...(config.thresholds ?? []).map((entry, i) => parseGateConfig(entry, `model.thresholds[${i}]`)),
  ];
  const resamples = number(
    request.resamples,
    names.resamples,
    (n) => Number.isInteger(n) && n >= 0,
    'a whole number (0 turns the bootstrap off)',
  );
  const seed = number(
    request.seed,
    names.seed,
    (n) => Number.isInteger(n) && n >= 0,
    'a non-negative integer',
  );
  const bootstrap =
    resamples === 0 || (resamples === undefined && config.bootstrap === false)
      ? (false as const)
      : {
          ...(config.bootstrap || {}),
          ...(resamples !== undefined ? { resamples } : {}),
          ...(seed !== undefined ? { seed } : {}),
        };
  const sliceColumns = request.slices && request.slices.length > 0 ? request.slices : config.slices?.columns;
  const sizeMb = config.budgets?.['size-mb'];
  checkOutputs(
    request,
    [
      ...(request.merge ?? []).map((path) => ({ label: 'the shard outcomes', path })),
      loaded ? { label: 'the config', path: loaded.file } : undefined,
    ],
    names,
  );
  return {
    gates,
    onMissingBaseline: request.onMissingBaseline
      ? parseChoice(request.onMissingBaseline, ON_MISSING_BASELINE, names.onMissingBaseline)
      : config['on-missing-baseline'],
    bootstrap,
    minRows:
      number(request.minRows, names.minRows, positiveInteger, 'a positive integer') ?? config['min-rows'],
    slices:
      sliceColumns || config.slices
        ? { columns: sliceColumns, buckets: config.slices?.buckets, minRows: config.slices?.['min-rows'] }
        : undefined,
    budgets: {
      latencyP95Ms: config.budgets?.['latency-p95-ms'],
      latencyP99Ms: config.budgets?.['latency-p99-ms'],
      sizeBytes: sizeMb === undefined ? undefined : Math.round(sizeMb * 1e6),
    },
  };
}

/** For `baseline: environment:<name>`: where the deployed model is looked up. */
function deploymentBaseline(
  request: ModelGateRequest,
  loaded: LoadedConfig | undefined,
  names: ModelRequestNames,
  port: EnvironmentBaselinePort | undefined,
): Pick<ValidateModelOptions, 'environmentBaseline'> {
  const baseline = request.baseline ?? loaded?.config.model?.baseline;
  if (!baseline?.startsWith('environment:')) return {};
  const repository = request.environmentRepository ?? loaded?.config.deploy?.repository;
  const model = request.deployedModel;
  if (!repository || !model) {
    throw new ConfigurationError(
      `baseline ${baseline} needs the environment repository (${names.environmentRepository ?? 'its input'}, or deploy.repository in mlops.yaml) and the model's name there (${names.deployedModel ?? 'its input'}).`,
    );
  }
  if (!port)
    throw new Error('resolveModelOptions: an environment baseline needs the environmentBaseline port.');
  return { environmentBaseline: port({ repository, base: loaded?.config.deploy?.base, model }) };
}

/** A gate expression, with where it came from in its source and in the message of a mistake. */
function parseGate(expression: string, source: string): GateSpec {
  try {
    return withSource(parseGateExpression(expression), source);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ConfigurationError(`${source}: ${error.message}`, error.location, { cause: error });
  }
}

function withSource(gate: GateSpec, source: string): GateSpec {
  return { ...gate, source: `${source}: ${gate.source}` };
}

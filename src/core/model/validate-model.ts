/**
 * The model gate: evaluates a candidate ONNX model on a holdout, compares it with a baseline on
 * the same rows, attaches paired-bootstrap intervals, and decides with the configured gates.
 * Returns a `model-validation` report (version 1, schema in src/core/schemas/); user mistakes and
 * unreadable inputs throw `ConfigurationError`/`InputError` and never become a failed gate.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ReadOptions } from '../data/batch.ts';
import { openTable } from '../data/open-table.ts';
import { digestFile } from '../digest.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import { readJsonFileText } from '../json/file.ts';
import type { Logger } from '../logger.ts';
import { didYouMean } from '../suggest.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { BLOCK_BOOTSTRAP_MIN_ROWS, blockBootstrapIntervals } from './block-bootstrap.ts';
import { type BootstrapOptions, bootstrapIntervals } from './bootstrap.ts';
import {
  ENVIRONMENT_BASELINE,
  type EnvironmentBaselineResolver,
  type EnvironmentModel,
} from './environment-baseline.ts';
import { evaluateModels, type LoadedModel, type SliceColumn } from './evaluate-model.ts';
import {
  checkGatesForTask,
  describeGate,
  describeGateFields,
  evaluateGate,
  type GateEvaluation,
  type GateSpec,
  type OnMissingBaseline,
} from './gates.ts';
import { type LatencyReport, measureLatency } from './latency.ts';
import { METRICS, type MetricName, metricsOfTask, type Task } from './metric-names.ts';
import {
  computeMetrics,
  computeMetricValues,
  computeRocCurve,
  type MetricResult,
  type PerClassMetrics,
  type PreparedOutcomes,
  prepareOutcomes,
} from './metrics.ts';
import {
  describeType,
  type MissingPolicy,
  type ModelIoOptions,
  type ModelIoPlan,
  type OutputKind,
  planModelIo,
} from './model-io.ts';
import { addGraphOutputs } from './onnx-edit.ts';
import { inspectOnnxModel, type OnnxModelInfo } from './onnx-inspect.ts';
import { createOnnxSession } from './onnx-session.ts';
import { type ClassificationOutcomes, countOutcomes, type Outcomes } from './outcomes.ts';
import { checkParity, loadGoldenFile, type ParityReport } from './parity.ts';
import { readTargetKind } from './target-kind.ts';

/** Defaults, stated once (the README and the action's inputs quote them). */
export const MODEL_GATE_DEFAULTS = {
  threshold: 0.5,
  missing: 'error',
  onMissingBaseline: 'value-only',
  resamples: 1000,
  seed: 0,
  level: 0.95,
  minRows: 50,
  minSliceRows: 30,
  batchRows: 4096,
  atol: 1e-5,
  rtol: 1e-4,
} as const;

export interface Budgets {
  /** Largest allowed single-row p95 latency, in milliseconds. */
  latencyP95Ms?: number;
  latencyP99Ms?: number;
  /** Largest allowed model size on disk (file + external data), in bytes. */
  sizeBytes?: number;
}

export interface ValidateModelOptions {
  model: string;
  /** Another ONNX model, or a saved model-validation report (`.json`). */
  baseline?: string;
  data: string;
  read?: ReadOptions;
  missingTokens?: readonly string[];
  /** A data contract: its column order is the default feature order. */
  contract?: string;
  task?: Task;
  target: string;
  features?: string[];
  output?: ModelIoOptions['output'];
  classes?: (string | number)[];
  threshold?: number;
  missing?: MissingPolicy;
  gates: GateSpec[];
  onMissingBaseline?: OnMissingBaseline;
  /** Paired bootstrap settings; `false` skips intervals. */
  bootstrap?: { resamples?: number; seed?: number; level?: number } | false;
  minRows?: number;
  slices?: { columns?: string[]; buckets?: Record<string, number[]>; minRows?: number };
  budgets?: Budgets;
  golden?: { path: string; atol?: number; rtol?: number };
  /** Rows per inference call. */
  batchRows?: number;
  /** Measure single-row latency (default true). */
  latency?: boolean;
  /**
   * For `baseline: environment:<name>`: finds the model that environment runs (fetched, verified
   * and evaluated as the baseline); supplied by the deploy layer.
   */
  environmentBaseline?: EnvironmentBaselineResolver;
  /** Evaluate only shard `index` (1-based) of `count` (rows whose number ≡ index − 1 mod count). */
  shard?: { index: number; count: number };
  /** Where options came from, for messages. */
  sources?: ModelIoOptions['sources'];
  config?: string;
}

export interface ModelIdentity {
  path: string;
  sha256: string;
  bytes: number;
  externalBytes: number;
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: { name: string; type: string }[];
  outputs: { name: string; type: string }[];
  /**
   * The candidate's external-data files with their digests, so that a package can bind the weights
   * that were evaluated (absent for a baseline, and in reports of older versions).
   */
  externalData?: { location: string; sha256: string; bytes: number }[];
}

export interface MetricEntry {
  value: number;
  interval?: [number, number];
}

export interface SliceReport {
  column: string;
  value: string;
  rows: number;
  /** Below the minimum slice size: reported, not gated. */
  tooSmall: boolean;
  metrics: Partial<Record<MetricName, number>>;
  baselineMetrics?: Partial<Record<MetricName, number>>;
}

export interface BudgetResult {
  budget: 'latency-p95-ms' | 'latency-p99-ms' | 'size-bytes';
  limit: number;
  value: number;
  passed: boolean;
  reason: string;
}

/** The `model-validation` report, version 2. */
export interface ModelValidationReport {
  kind: 'model-validation';
  /** 2 added the `noninferior` confidence and each change gate's `resolution`; readers also take 1. */
  version: 2;
  tool: { name: typeof TOOL_NAME; version: string };
  passed: boolean;
  task: Task;
  target: string;
  candidate: ModelIdentity;
  baseline?: ModelIdentity | { path: string; sha256: string; report: true; sameData: boolean };
  /** Why a baseline that was asked for does not exist (e.g. the environment runs no such model yet). */
  missingBaseline?: string;
  /** Set when no gate, budget or parity was checked (every gate skipped): the gate fails and says why. */
  nothingChecked?: string;
  data: { path: string; sha256: string; bytes: number; format: string; rows: number; droppedRows: number };
  features: string[];
  output: {
    name: string;
    kind: OutputKind;
    classes: (string | number)[];
    inferredFrom: string;
    threshold?: number;
  };
  metrics: Partial<Record<MetricName, MetricEntry>>;
  baselineMetrics?: Partial<Record<MetricName, MetricEntry>>;
  /** candidate − baseline, with the paired-bootstrap interval of the difference. */
  deltas?: Partial<Record<MetricName, MetricEntry & { relative: number | null }>>;
  undefinedMetrics: Partial<Record<MetricName, string>>;
  confusionMatrix?: { classes: (string | number)[]; matrix: number[][] };
  perClass?: PerClassMetrics[];
  /** Binary: the ROC curve, at most ~50 points, for charts. */
  roc?: { fpr: number[]; tpr: number[] };
  zeroTargets?: number;
  slices: SliceReport[];
  minRows: { required: number; rows: number; passed: boolean; sliceRequired: number };
  bootstrap: {
    resamples: number;
    seed: number;
    level: number;
    stratified: boolean;
    paired: boolean;
    /** Rows resampled one by one, or (large holdouts) random blocks of rows via their metric states. */
    unit: 'rows' | 'blocks';
    blocks?: number;
    bins?: number;
  } | null;
  latency?: LatencyReport;
  size: { modelBytes: number; externalBytes: number; totalBytes: number };
  parity?: ParityReport;
  budgets: BudgetResult[];
  onMissingBaseline: OnMissingBaseline;
  gates: (GateEvaluation & { expression: string })[];
}

/** Everything an evaluation produced that the decision needs; what a shard file holds. */
export interface EvaluatedModels {
  task: Task;
  target: string;
  candidate: ModelIdentity;
  baseline?: ModelIdentity;
  /** A saved report as the baseline: its metric values (no per-row outcomes). */
  baselineReport?: {
    path: string;
    sha256: string;
    dataSha256: string;
    metrics: Partial<Record<MetricName, MetricEntry>>;
  };
  data: ModelValidationReport['data'];
  features: string[];
  output: ModelValidationReport['output'];
  outcomes: { candidate: Outcomes; baseline?: Outcomes };
  /** 0-based data-row number of each outcome row. */
  rowIndex: Float64Array;
  slices: SliceColumn[];
  size: ModelValidationReport['size'];
  latency?: LatencyReport;
  parity?: ParityReport;
  /** Why a baseline that was asked for does not exist (e.g. nothing deployed yet). */
  missingBaseline?: string;
}

interface PreparedModel {
  info: OnnxModelInfo;
  identity: ModelIdentity;
  loaded: LoadedModel;
}

/**
 * Evaluates the candidate (and the baseline, on the same rows) over the holdout, or over one
 * shard of it: outcomes per row, identities, latency and parity; no decision yet.
 */
export async function evaluateModelGate(
  options: ValidateModelOptions,
  logger: Logger,
): Promise<EvaluatedModels> {
  const threshold = options.threshold ?? MODEL_GATE_DEFAULTS.threshold;
  const batchRows = options.batchRows ?? MODEL_GATE_DEFAULTS.batchRows;
  const reader = await openTable(options.data, { ...options.read, batchRows });
  if (!reader.columns.includes(options.target)) {
    throw new InputError(
      `${options.data} has no target column \`${options.target}\`.${didYouMean(options.target, reader.columns)} Columns: ${reader.columns.join(', ')}. ` +
        'Set the target (--target, input "target", or model.target in mlops.yaml).',
      { file: options.data },
    );
  }
  const contractColumns = options.contract ? await readContractColumns(options.contract) : undefined;
  // Without a task, the labels decide what a single float output means (P(positive) or a value).
  const targetKind = options.task
    ? undefined
    : await readTargetKind(options.data, options.target, options.read, options.missingTokens);
  const ioOptions: ModelIoOptions = {
    task: options.task,
    ...(targetKind ? { targetKind } : {}),
    target: options.target,
    features: options.features,
    contractColumns,
    output: options.output,
    classes: options.classes,
    sources: options.sources,
  };

  const candidate = await prepareModel('candidate', options.model, reader.columns, ioOptions);
  const task = candidate.loaded.plan.output.task;
  checkGatesForTask(options.gates, task);
  const baselineIsReport =
    options.baseline !== undefined && extname(options.baseline).toLowerCase() === '.json';
  // `environment:<name>`: the model deployed there, fetched from its package and verified.
  const environment = options.baseline ? ENVIRONMENT_BASELINE.exec(options.baseline)?.[1] : undefined;
  let deployed: EnvironmentModel | undefined;
  let notDeployed: string | undefined;
  if (environment) {
    if (!options.environmentBaseline) {
      throw new ConfigurationError(
        `baseline ${options.baseline} needs the environment repository and the model's name there: set deploy.repository in mlops.yaml (or --env-repo) and --deployed-model NAME.`,
      );
    }
    const found = await options.environmentBaseline.resolve(environment);
    if ('notDeployed' in found) {
      // The project's first model: nothing deployed yet is a missing baseline, which
      // on-missing-baseline decides (a CI template with environment:staging works from day one).
      notDeployed = found.notDeployed;
      logger.warning(
        `No baseline: ${found.notDeployed} Change gates follow on-missing-baseline (${options.onMissingBaseline ?? MODEL_GATE_DEFAULTS.onMissingBaseline}).`,
      );
    } else {
      deployed = found;
      logger.info(
        `Baseline: ${options.environmentBaseline.model} ${deployed.version} as deployed in ${environment}`,
      );
    }
  }
  const baselinePath = environment ? deployed?.model : options.baseline;
  let baseline: PreparedModel | undefined;
  try {
    baseline =
      baselinePath && !baselineIsReport
        ? await prepareModel('baseline', baselinePath, reader.columns, {
            ...ioOptions,
            // The baseline may be fed differently (other input names), but its output must mean the same.
            output: undefined,
            task,
            classes: candidate.loaded.plan.output.classes,
          })
        : undefined;
  } finally {
    // The session holds the model: the unpacked files are not needed any more.
    await deployed?.remove();
  }
  if (baseline && deployed && options.environmentBaseline) {
    baseline.identity.path = `${options.baseline} (${options.environmentBaseline.model} ${deployed.version}, ${deployed.packageRef})`;
  }
  if (baseline) checkSameOutputs(candidate, baseline);
  // Hashed while the models run (on a worker thread for large files).
  const dataDigestPromise = digestFile(options.data);
  dataDigestPromise.catch(() => {});
  const savedBaseline =
    baselineIsReport && options.baseline ? await readBaselineReport(options.baseline, task) : undefined;

  logger.info(`Evaluating ${options.model}${baseline ? ` and ${options.baseline}` : ''} on ${options.data}`);
  const evaluation = await evaluateModels(
    reader,
    { candidate: candidate.loaded, ...(baseline ? { baseline: baseline.loaded } : {}) },
    {
      target: options.target,
      missing: options.missing ?? MODEL_GATE_DEFAULTS.missing,
      missingTokens: options.missingTokens,
      threshold,
      sliceColumns: options.slices?.columns,
      bucketColumns: options.slices?.buckets,
      ...(options.shard ? { shard: options.shard } : {}),
    },
  );
  const dataDigest = await dataDigestPromise;
  logger.info(
    `Evaluated ${evaluation.rows} rows in ${Math.round(evaluation.inferenceMs.candidate)} ms of inference`,
  );

  let latency: LatencyReport | undefined;
  if (options.latency !== false && evaluation.sampleFeeds) {
    latency = await measureLatency(
      candidate.loaded.session,
      evaluation.sampleFeeds.candidate,
      candidate.loaded.plan.output.name,
      { inferenceMs: evaluation.inferenceMs.candidate, rows: evaluation.rows, batchRows },
    );
  }
  let parity: ParityReport | undefined;
  if (options.golden) {
    const golden = await loadGoldenFile(options.golden.path, candidate.info);
    // Parity compares the graph's own outputs, so it runs on the unedited model.
    const session =
      candidate.loaded.plan.output.exposeOutputs.length > 0
        ? await createOnnxSession(options.model)
        : candidate.loaded.session;
    parity = await checkParity(session, candidate.info, golden, {
      path: options.golden.path,
      atol: options.golden.atol ?? MODEL_GATE_DEFAULTS.atol,
      rtol: options.golden.rtol ?? MODEL_GATE_DEFAULTS.rtol,
    });
  }

  const evaluated: EvaluatedModels = {
    task,
    target: options.target,
    candidate: candidate.identity,
    ...(baseline ? { baseline: baseline.identity } : {}),
    ...(savedBaseline && options.baseline
      ? { baselineReport: { path: options.baseline, ...savedBaseline } }
      : {}),
    ...(notDeployed ? { missingBaseline: notDeployed } : {}),
    data: {
      path: options.data,
      sha256: dataDigest.sha256,
      bytes: dataDigest.bytes,
      format: reader.format,
      rows: evaluation.rows,
      droppedRows: evaluation.droppedRows,
    },
    features: candidate.loaded.plan.features,
    output: {
      name: candidate.loaded.plan.output.name,
      kind: task === 'regression' ? 'values' : evaluation.outputKinds.candidate,
      classes: candidate.loaded.plan.output.classes,
      inferredFrom: candidate.loaded.plan.output.inferredFrom,
      ...(task === 'binary' ? { threshold } : {}),
    },
    outcomes: evaluation.outcomes,
    rowIndex: evaluation.rowIndex,
    slices: evaluation.slices,
    size: {
      modelBytes: candidate.info.fileBytes,
      externalBytes: candidate.info.externalBytes,
      totalBytes: candidate.info.fileBytes + candidate.info.externalBytes,
    },
    ...(latency ? { latency } : {}),
    ...(parity ? { parity } : {}),
  };
  return evaluated;
}

/**
 * Runs the model gate. Throws `ConfigurationError`/`InputError` for things the user must fix
 * (no gates, unreadable model or data, signature mismatches); returns the report otherwise.
 */
export async function validateModel(
  options: ValidateModelOptions,
  logger: Logger,
): Promise<ModelValidationReport> {
  requireGates(options.gates);
  const evaluated = await evaluateModelGate(options, logger);
  return decideModelGate(evaluated, options);
}

function requireGates(gates: readonly GateSpec[]): void {
  if (gates.length === 0) {
    throw new ConfigurationError(
      'No gates are configured, so the model gate could not fail: that is never a pass. Add at least one, e.g. ' +
        '--gate "roc_auc >= 0.9" (CLI), the `gates` input (action), or model.thresholds in mlops.yaml.',
    );
  }
}

/** What deciding needs besides the evaluation: the gates and how to compute intervals and slices. */
export type DecideOptions = Pick<
  ValidateModelOptions,
  'gates' | 'onMissingBaseline' | 'bootstrap' | 'minRows' | 'slices' | 'budgets'
>;

/**
 * Metrics, intervals, slices and gates from evaluated outcomes (one run, or merged shards), and
 * the report. Pure computation: it never runs a model.
 */
export function decideModelGate(evaluated: EvaluatedModels, options: DecideOptions): ModelValidationReport {
  requireGates(options.gates);
  const { task } = evaluated;
  checkGatesForTask(options.gates, task);
  const onMissingBaseline = options.onMissingBaseline ?? MODEL_GATE_DEFAULTS.onMissingBaseline;
  const preparedCandidate = prepareOutcomes(evaluated.outcomes.candidate);
  const preparedBaseline = evaluated.outcomes.baseline
    ? prepareOutcomes(evaluated.outcomes.baseline)
    : undefined;
  const candidateResult = computeMetrics(preparedCandidate);
  const baselineResult = preparedBaseline ? computeMetrics(preparedBaseline) : undefined;
  const names = metricsOfTask(task);

  // Paired bootstrap: both models' metrics on the same resampled rows, stratified by class.
  const bootstrapSettings =
    options.bootstrap === false
      ? null
      : {
          resamples: options.bootstrap?.resamples ?? MODEL_GATE_DEFAULTS.resamples,
          seed: options.bootstrap?.seed ?? MODEL_GATE_DEFAULTS.seed,
          level: options.bootstrap?.level ?? MODEL_GATE_DEFAULTS.level,
        };
  const resampled = bootstrapSettings
    ? bootstrapMetricIntervals(names, preparedCandidate, preparedBaseline, {
        ...bootstrapSettings,
        strata:
          task === 'regression' ? undefined : (evaluated.outcomes.candidate as ClassificationOutcomes).labels,
      })
    : undefined;
  const candidateIntervals = resampled?.candidate ?? [];
  const deltaIntervals = resampled?.delta ?? [];

  const metrics = entries(names, candidateResult, candidateIntervals);
  const baselineMetrics = baselineResult
    ? entries(names, baselineResult, [])
    : evaluated.baselineReport?.metrics;
  const deltas = baselineMetrics ? computeDeltas(names, metrics, baselineMetrics, deltaIntervals) : undefined;

  const slices = computeSlices(evaluated, preparedCandidate, preparedBaseline, names, options);
  const minRows = options.minRows ?? MODEL_GATE_DEFAULTS.minRows;
  const gates = evaluateGates(options.gates, {
    metrics,
    baselineMetrics,
    deltas,
    undefinedReasons: candidateResult.undefinedReasons,
    slices,
    onMissingBaseline,
    level: bootstrapSettings?.level,
  });
  const { latency, parity, size } = evaluated;
  const budgets = checkBudgets(options.budgets ?? {}, latency, size.totalBytes);
  const rows = evaluated.data.rows;
  const minRowsPassed = rows >= minRows;
  // No silent pass: a run where every gate was skipped (change gates without a baseline) and no
  // budget or parity was checked decided nothing, and says so.
  const nothingChecked =
    gates.length > 0 && gates.every((gate) => gate.status === 'skipped') && budgets.length === 0 && !parity
      ? `no gate was checked: every gate compares with a baseline and there is none (on-missing-baseline: ${onMissingBaseline}); add an absolute gate (e.g. roc_auc >= 0.5 @interval, r2 >= 0 @interval) or give a baseline`
      : undefined;
  const passed =
    minRowsPassed &&
    nothingChecked === undefined &&
    gates.every((gate) => gate.status === 'passed' || gate.status === 'skipped') &&
    budgets.every((budget) => budget.passed) &&
    (parity?.passed ?? true);

  const classification = task !== 'regression';
  const reportBaseline = evaluated.baselineReport;
  return {
    kind: 'model-validation',
    version: 2,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    passed,
    task,
    target: evaluated.target,
    candidate: evaluated.candidate,
    ...(evaluated.baseline
      ? { baseline: evaluated.baseline }
      : reportBaseline
        ? {
            baseline: {
              path: reportBaseline.path,
              sha256: reportBaseline.sha256,
              report: true as const,
              sameData: reportBaseline.dataSha256 === evaluated.data.sha256,
            },
          }
        : {}),
    ...(evaluated.missingBaseline ? { missingBaseline: evaluated.missingBaseline } : {}),
    ...(nothingChecked ? { nothingChecked } : {}),
    data: evaluated.data,
    features: evaluated.features,
    output: evaluated.output,
    metrics,
    ...(baselineMetrics ? { baselineMetrics } : {}),
    ...(deltas ? { deltas } : {}),
    undefinedMetrics: candidateResult.undefinedReasons,
    ...(classification && candidateResult.confusion
      ? { confusionMatrix: { classes: evaluated.output.classes, matrix: candidateResult.confusion } }
      : {}),
    ...(candidateResult.perClass ? { perClass: candidateResult.perClass } : {}),
    ...(task === 'binary' ? { roc: rocCurve(preparedCandidate) } : {}),
    ...(candidateResult.zeroTargets !== undefined ? { zeroTargets: candidateResult.zeroTargets } : {}),
    slices,
    minRows: {
      required: minRows,
      rows,
      passed: minRowsPassed,
      sliceRequired: options.slices?.minRows ?? MODEL_GATE_DEFAULTS.minSliceRows,
    },
    bootstrap:
      bootstrapSettings && resampled
        ? {
            ...bootstrapSettings,
            stratified: classification,
            paired: preparedBaseline !== undefined,
            unit: resampled.unit,
            ...(resampled.blocks !== undefined ? { blocks: resampled.blocks, bins: resampled.bins } : {}),
          }
        : null,
    ...(latency ? { latency } : {}),
    size,
    ...(parity ? { parity } : {}),
    budgets,
    onMissingBaseline,
    gates,
  };
}

/**
 * Paired bootstrap intervals: every resample weighs the rows once, and both models' metrics are
 * computed on those weights, so the interval of a difference reflects only how the models differ
 * on the same rows. Resamples reweigh per-row outcomes; the models never run again.
 */
export function bootstrapMetricIntervals(
  names: MetricName[],
  candidate: PreparedOutcomes,
  baseline: PreparedOutcomes | undefined,
  options: BootstrapOptions,
): BootstrapResult {
  const n = countOutcomes(candidate.outcomes);
  if (n >= BLOCK_BOOTSTRAP_MIN_ROWS) {
    // Row-level resampling costs O(n) per resample (~35 s for 1000 on 1M rows): large holdouts
    // resample random blocks of rows through their mergeable metric states instead.
    const blocks = blockBootstrapIntervals(names, candidate.outcomes, baseline?.outcomes, options);
    return { ...blocks, unit: 'blocks' };
  }
  const k = names.length;
  const statistics = new Float64Array(baseline ? 2 * k : k);
  const intervals = bootstrapIntervals(n, statistics.length, options, (weights) => {
    const c = computeMetricValues(candidate, weights, names);
    statistics.set(c);
    if (baseline) {
      const b = computeMetricValues(baseline, weights, names);
      for (let m = 0; m < k; m++) statistics[k + m] = c[m] - b[m];
    }
    return statistics;
  });
  return { candidate: intervals.slice(0, k), delta: intervals.slice(k), unit: 'rows' };
}

/** Intervals of the candidate's metrics and of the differences, and how they were resampled. */
export interface BootstrapResult {
  candidate: ([number, number] | null)[];
  delta: ([number, number] | null)[];
  unit: 'rows' | 'blocks';
  blocks?: number;
  bins?: number;
}

async function prepareModel(
  role: 'candidate' | 'baseline',
  path: string,
  dataColumns: readonly string[],
  ioOptions: ModelIoOptions,
): Promise<PreparedModel> {
  const info = await inspectOnnxModel(path);
  let plan: ModelIoPlan;
  try {
    plan = planModelIo(info, dataColumns, ioOptions);
  } catch (error) {
    if (error instanceof ConfigurationError && role === 'baseline') {
      error.message = `Baseline: ${error.message}`;
    }
    throw error;
  }
  const bytes =
    plan.output.exposeOutputs.length > 0
      ? addGraphOutputs(new Uint8Array(await readFile(path)), plan.output.exposeOutputs, path)
      : undefined;
  const session = await createOnnxSession(path, bytes);
  const digest = await digestFile(path);
  const identity: ModelIdentity = {
    path,
    sha256: digest.sha256,
    bytes: info.fileBytes,
    externalBytes: info.externalBytes,
    irVersion: info.irVersion,
    producer: `${info.producerName} ${info.producerVersion}`.trim(),
    opsets: info.opsets,
    inputs: info.inputs.map((i) => ({ name: i.name, type: describeType(i.type) })),
    outputs: info.outputs.map((o) => ({ name: o.name, type: describeType(o.type) })),
  };
  if (role === 'candidate') {
    identity.externalData = [];
    for (const file of info.externalFiles) {
      const external = await digestFile(file.path);
      identity.externalData.push({ location: file.location, sha256: external.sha256, bytes: external.bytes });
    }
  }
  return { info, identity, loaded: { role, path, session, plan } };
}

function checkSameOutputs(candidate: PreparedModel, baseline: PreparedModel): void {
  const a = candidate.loaded.plan.output;
  const b = baseline.loaded.plan.output;
  const same =
    a.task === b.task &&
    a.classes.length === b.classes.length &&
    a.classes.every((c, i) => String(c) === String(b.classes[i]));
  if (!same) {
    throw new ConfigurationError(
      `The baseline ${baseline.loaded.path} does not predict the same thing as the candidate ${candidate.loaded.path}: ` +
        `candidate ${a.task} with classes [${a.classes.join(', ')}] (output \`${a.name}\`), baseline ${b.task} with classes [${b.classes.join(', ')}] (output \`${b.name}\`). ` +
        'Compare models of the same task and classes.',
      { file: baseline.loaded.path },
    );
  }
}

/** The column names of a data contract, in its order. */
async function readContractColumns(path: string): Promise<string[]> {
  const { loadContract } = await import('../data/contract.ts');
  const contract = await loadContract(path);
  return Object.keys(contract.properties ?? {});
}

async function readBaselineReport(
  path: string,
  task: Task,
): Promise<{ metrics: Partial<Record<MetricName, MetricEntry>>; sha256: string; dataSha256: string }> {
  const { json, text } = await readJsonFileText(path, 'Baseline report');
  const report = json as Partial<ModelValidationReport>;
  const version = report.version as number | undefined;
  if (
    report.kind !== 'model-validation' ||
    !(version === 1 || version === 2) ||
    typeof report.metrics !== 'object'
  ) {
    throw new InputError(
      `Baseline ${path} is not a model-validation report (version 1 or 2): give a baseline .onnx model, or the report.json a previous validate-model run wrote.`,
      { file: path },
    );
  }
  if (report.task !== task) {
    throw new InputError(`Baseline report ${path} is for a ${report.task} model; the candidate is ${task}.`, {
      file: path,
    });
  }
  const { createHash } = await import('node:crypto');
  return {
    // JSON has no NaN: an undefined metric was saved as null and must stay undefined (NaN).
    metrics: Object.fromEntries(
      Object.entries(report.metrics ?? {}).map(([name, entry]) => [
        name,
        { value: typeof entry?.value === 'number' ? entry.value : Number.NaN },
      ]),
    ) as Partial<Record<MetricName, MetricEntry>>,
    sha256: createHash('sha256').update(text).digest('hex'),
    dataSha256: report.data?.sha256 ?? '',
  };
}

function entries(
  names: MetricName[],
  result: MetricResult,
  intervals: ([number, number] | null)[],
): Partial<Record<MetricName, MetricEntry>> {
  const out: Partial<Record<MetricName, MetricEntry>> = {};
  names.forEach((name, m) => {
    const value = result.values[name] ?? Number.NaN;
    const interval = intervals[m];
    out[name] = { value, ...(interval ? { interval } : {}) };
  });
  return out;
}

function computeDeltas(
  names: MetricName[],
  metrics: Partial<Record<MetricName, MetricEntry>>,
  baseline: Partial<Record<MetricName, MetricEntry>>,
  intervals: ([number, number] | null)[],
): Partial<Record<MetricName, MetricEntry & { relative: number | null }>> {
  const out: Partial<Record<MetricName, MetricEntry & { relative: number | null }>> = {};
  names.forEach((name, m) => {
    const c = metrics[name]?.value;
    const b = baseline[name]?.value;
    if (c === undefined || b === undefined) return;
    const interval = intervals[m];
    out[name] = {
      value: c - b,
      relative: b === 0 || !Number.isFinite(b) ? null : (c - b) / Math.abs(b),
      ...(interval ? { interval } : {}),
    };
  });
  return out;
}

function computeSlices(
  evaluation: EvaluatedModels,
  candidate: PreparedOutcomes,
  baseline: PreparedOutcomes | undefined,
  names: MetricName[],
  options: DecideOptions,
): SliceReport[] {
  const minRows = options.slices?.minRows ?? MODEL_GATE_DEFAULTS.minSliceRows;
  const reports: SliceReport[] = [];
  const weights = new Uint32Array(evaluation.data.rows);
  for (const slice of evaluation.slices) {
    // In a stable order (buckets low to high, values by natural sort), not the order rows came in.
    const ordered = slice.keys.map((value, code) => ({ value, code }));
    if (!slice.bucketed) ordered.sort((a, b) => a.value.localeCompare(b.value, 'en', { numeric: true }));
    ordered.forEach(({ value, code }) => {
      let rows = 0;
      for (let i = 0; i < weights.length; i++) {
        const member = slice.codes[i] === code ? 1 : 0;
        weights[i] = member;
        rows += member;
      }
      const pick = (result: MetricResult) =>
        Object.fromEntries(names.map((name) => [name, result.values[name] ?? Number.NaN])) as Partial<
          Record<MetricName, number>
        >;
      reports.push({
        column: slice.column,
        value,
        rows,
        tooSmall: rows < minRows,
        metrics: pick(computeMetrics(candidate, weights)),
        ...(baseline ? { baselineMetrics: pick(computeMetrics(baseline, weights)) } : {}),
      });
    });
  }
  return reports;
}

function evaluateGates(
  gates: GateSpec[],
  context: {
    metrics: Partial<Record<MetricName, MetricEntry>>;
    baselineMetrics?: Partial<Record<MetricName, MetricEntry>>;
    deltas?: Partial<Record<MetricName, MetricEntry & { relative: number | null }>>;
    undefinedReasons: Partial<Record<MetricName, string>>;
    slices: SliceReport[];
    onMissingBaseline: OnMissingBaseline;
    level: number | undefined;
  },
): (GateEvaluation & { expression: string })[] {
  const results: (GateEvaluation & { expression: string })[] = [];
  for (const gate of gates) {
    const expression = describeGate(gate);
    if (gate.slice === undefined) {
      const entry = context.metrics[gate.metric];
      const baseline = context.baselineMetrics?.[gate.metric];
      const evaluation = evaluateGate(
        gate,
        {
          candidate: {
            value: entry?.value ?? Number.NaN,
            ...(entry?.interval ? { interval: entry.interval } : {}),
          },
          ...(baseline ? { baseline: { value: baseline.value } } : {}),
          ...(context.deltas?.[gate.metric]?.interval
            ? { difference: { interval: context.deltas[gate.metric]?.interval } }
            : {}),
          ...(context.undefinedReasons[gate.metric]
            ? { undefinedReason: context.undefinedReasons[gate.metric] }
            : {}),
          ...(context.level !== undefined ? { level: context.level } : {}),
        },
        context.onMissingBaseline,
      );
      results.push({ ...evaluation, expression });
      continue;
    }
    // A slice gate applies to every value of a column, or to one (`column=value`).
    const [column, value] = gate.slice.split(/=(.*)/s, 2);
    const targets = context.slices.filter(
      (s) => s.column === column && (value === undefined || s.value === value),
    );
    if (targets.length === 0) {
      results.push({
        ...describeGateFields(gate),
        expression,
        status: 'error',
        passed: false,
        value: null,
        reason: `slice ${gate.slice} matches no slice of the holdout (slices: ${[...new Set(context.slices.map((s) => `${s.column}=${s.value}`))].join(', ') || 'none configured'})`,
      });
      continue;
    }
    for (const slice of targets) {
      const label = `${slice.column}=${slice.value}`;
      if (slice.tooSmall) {
        results.push({
          ...describeGateFields(gate),
          slice: label,
          expression,
          status: 'skipped',
          passed: null,
          value: null,
          reason: `slice ${label} has ${slice.rows} rows, fewer than the minimum slice size: not gated`,
        });
        continue;
      }
      const baselineValue = slice.baselineMetrics?.[gate.metric];
      const evaluation = evaluateGate(
        { ...gate, slice: label },
        {
          candidate: { value: slice.metrics[gate.metric] ?? Number.NaN },
          ...(baselineValue !== undefined ? { baseline: { value: baselineValue } } : {}),
        },
        context.onMissingBaseline,
      );
      results.push({ ...evaluation, expression, reason: `${label}: ${evaluation.reason}` });
    }
  }
  // Failed and erroneous gates first, as reviewers read them.
  const order = { error: 0, failed: 1, passed: 2, skipped: 3 } as const;
  return results.sort((a, b) => order[a.status] - order[b.status]);
}

function checkBudgets(
  budgets: Budgets,
  latency: LatencyReport | undefined,
  totalBytes: number,
): BudgetResult[] {
  const results: BudgetResult[] = [];
  const add = (
    budget: BudgetResult['budget'],
    limit: number | undefined,
    value: number | undefined,
    unit: string,
  ) => {
    if (limit === undefined) return;
    if (value === undefined) {
      results.push({
        budget,
        limit,
        value: Number.NaN,
        passed: false,
        reason: `${budget} budget set, but latency was not measured`,
      });
      return;
    }
    const passed = value <= limit;
    results.push({
      budget,
      limit,
      value,
      passed,
      reason: `${budget} ${formatValue(value)}${unit} ${passed ? '≤' : '>'} budget ${formatValue(limit)}${unit}`,
    });
  };
  add('latency-p95-ms', budgets.latencyP95Ms, latency?.p95Ms, ' ms');
  add('latency-p99-ms', budgets.latencyP99Ms, latency?.p99Ms, ' ms');
  add('size-bytes', budgets.sizeBytes, totalBytes, ' B');
  return results;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

/**
 * ROC points (false/true positive rates) at distinct thresholds, thinned to ~50 for charts. Reuses
 * the sort the ROC AUC made (computeMetrics first, or it sorts here).
 */
export function rocCurve(prepared: PreparedOutcomes): { fpr: number[]; tpr: number[] } {
  const curve = computeRocCurve(prepared);
  if (!curve) return { fpr: [0], tpr: [0] };
  const points = curve.fpr.length;
  const picked =
    points <= 50
      ? Array.from({ length: points }, (_, j) => j)
      : Array.from({ length: 50 }, (_, j) => Math.round((j * (points - 1)) / 49));
  return { fpr: picked.map((i) => curve.fpr[i]), tpr: picked.map((i) => curve.tpr[i]) };
}

/** A one-line verdict for logs and errors. */
export function summarizeModelReport(report: ModelValidationReport): string {
  const failed = report.gates.filter((g) => g.status === 'failed' || g.status === 'error');
  const budgets = report.budgets.filter((b) => !b.passed);
  if (report.passed)
    return `Model gate passed: ${report.gates.filter((g) => g.status === 'passed').length} gate(s) passed.`;
  const reasons = [
    ...(report.nothingChecked ? [report.nothingChecked] : []),
    ...(!report.minRows.passed
      ? [`the holdout has ${report.minRows.rows} rows, fewer than the minimum ${report.minRows.required}`]
      : []),
    ...failed.map((g) => g.reason),
    ...budgets.map((b) => b.reason),
    ...(report.parity && !report.parity.passed
      ? [
          `parity with ${report.parity.golden}: ${report.parity.mismatches} value(s) outside tolerance (max |diff| ${Number(report.parity.maxAbsDiff).toPrecision(3)})`,
        ]
      : []),
  ];
  return `Model gate failed: ${reasons.join('; ')}.`;
}

/** Metrics of `task` that are better when higher, for renderers. */
export function isHigherBetter(name: MetricName): boolean {
  return METRICS[name].direction === 'higher';
}

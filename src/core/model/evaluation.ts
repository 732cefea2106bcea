/**
 * The model gate's evaluation: prepares the candidate and the baseline (an ONNX model, a saved
 * report, or the model an environment runs, through its resolver), runs both on the same rows of
 * the holdout (or of one shard), and measures latency and parity. Outcomes, not a decision: that
 * is decide.ts.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { openTable } from '../data/open-table.ts';
import { digestFile } from '../digest.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import { readJsonFileText } from '../json/file.ts';
import type { Logger } from '../logger.ts';
import { didYouMean } from '../suggest.ts';
import { ENVIRONMENT_BASELINE, type EnvironmentModel } from './environment-baseline.ts';
import { evaluateModels, type SliceColumn } from './evaluate-model.ts';
import type { LoadedModel } from './feeds.ts';
import { checkGatesForTask } from './gates.ts';
import { type LatencyReport, measureLatency } from './latency.ts';
import type { MetricName, Task } from './metric-names.ts';
import { describeType, type ModelIoOptions, type ModelIoPlan, planModelIo } from './model-io.ts';
import { addGraphOutputs } from './onnx-edit.ts';
import { inspectOnnxModel, type OnnxModelInfo } from './onnx-inspect.ts';
import { createOnnxSession } from './onnx-session.ts';
import { MODEL_GATE_DEFAULTS, type ValidateModelOptions } from './options.ts';
import type { Outcomes } from './outcomes.ts';
import { checkParity, loadGoldenFile, type ParityReport } from './parity.ts';
import type { MetricEntry, ModelIdentity, ModelValidationReport } from './report-types.ts';
import { readTargetKind } from './target-kind.ts';

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

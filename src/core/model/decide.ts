/**
 * The model gate's decision: metrics, paired-bootstrap intervals, slices, gates and budgets from
 * evaluated outcomes (one run, or merged shards), and the report. Pure computation: it never runs
 * a model. How one gate decides is gates.ts.
 */
import { ConfigurationError } from '../errors.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { BLOCK_BOOTSTRAP_MIN_ROWS, blockBootstrapIntervals } from './block-bootstrap.ts';
import { type BootstrapOptions, bootstrapIntervals } from './bootstrap.ts';
import type { EvaluatedModels } from './evaluation.ts';
import {
  checkGatesForTask,
  describeGate,
  evaluateGate,
  evaluateSliceGate,
  type GateEvaluation,
  type GateSpec,
  type OnMissingBaseline,
  type SliceReport,
} from './gates.ts';
import type { LatencyReport } from './latency.ts';
import { type MetricName, metricsOfTask } from './metric-names.ts';
import {
  computeMetrics,
  computeMetricValues,
  computeRocCurve,
  type MetricResult,
  type PreparedOutcomes,
  prepareOutcomes,
} from './metrics.ts';
import { type Budgets, type DecideOptions, MODEL_GATE_DEFAULTS } from './options.ts';
import { type ClassificationOutcomes, countOutcomes } from './outcomes.ts';
import type { BudgetResult, MetricEntry, ModelValidationReport } from './report-types.ts';

export function requireGates(gates: readonly GateSpec[]): void {
  if (gates.length === 0) {
    throw new ConfigurationError(
      'No gates are configured, so the model gate could not fail: that is never a pass. Add at least one, e.g. ' +
        '--gate "roc_auc >= 0.9" (CLI), the `gates` input (action), or model.thresholds in mlops.yaml.',
    );
  }
}

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
    // A slice gate: the rules are in gates.ts.
    if (gate.slice !== undefined) {
      results.push(
        ...evaluateSliceGate({ ...gate, slice: gate.slice }, context.slices, context.onMissingBaseline),
      );
      continue;
    }
    const expression = describeGate(gate);
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

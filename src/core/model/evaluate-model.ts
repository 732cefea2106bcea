/**
 * Streams a holdout table through one or two ONNX models (candidate and baseline on the same
 * rows) and keeps per-row outcomes: labels or targets, each model's output, slice membership.
 * The input tensors come from feeds.ts (filled straight from the readers' column buffers), and
 * both models run on the same batch before the next one is read.
 */
import type { ColumnCells, RowBatch, TableReader } from '../data/batch.ts';
import { cellValue, MissingTokens, textCell } from '../data/cells.ts';
import { InputError } from '../errors.ts';
import {
  BufferPool,
  buildFeeds,
  compactFeeds,
  copyFeeds,
  type Feeds,
  isMissingCell,
  type LoadedModel,
  numbersOf,
  type OrtTensor,
} from './feeds.ts';
import type { MissingPolicy, OutputKind } from './model-io.ts';
import { loadOnnxRuntime } from './onnx-session.ts';
import type { ClassificationOutcomes, Outcomes, RegressionOutcomes } from './outcomes.ts';

export interface EvaluateOptions {
  target: string;
  missing: MissingPolicy;
  missingTokens?: readonly string[];
  /** Binary threshold on P(positive). */
  threshold: number;
  /** Categorical columns whose values define slices. */
  sliceColumns?: readonly string[];
  /** Numeric columns cut into buckets at these edges (`[a, b)` buckets, open at both ends). */
  bucketColumns?: Readonly<Record<string, readonly number[]>>;
  /** Evaluate only shard `index` (1-based) of `count`: the data rows whose 0-based number ≡ index − 1 (mod count). */
  shard?: { index: number; count: number };
}

/** Per-row slice membership: `codes[i]` indexes `keys`. */
export interface SliceColumn {
  column: string;
  /** True for a numeric column cut into buckets: `keys` are then in bucket order. */
  bucketed: boolean;
  keys: string[];
  codes: Int32Array;
}

export interface EvaluationResult {
  rows: number;
  /** 0-based data-row number of each evaluated row (shards merge back into the file's order). */
  rowIndex: Float64Array;
  /** Rows skipped by `missing: drop`. */
  droppedRows: number;
  outcomes: { candidate: Outcomes; baseline?: Outcomes };
  /** How each model's output was read (kind decided on the first batch when not given). */
  outputKinds: { candidate: OutputKind; baseline?: OutputKind };
  slices: SliceColumn[];
  /** Time spent inside `session.run`, per model, in milliseconds. */
  inferenceMs: { candidate: number; baseline?: number };
  /** The first rows' feeds, kept for latency measurements. */
  sampleFeeds: { candidate: Feeds; baseline?: Feeds } | undefined;
}

/** A typed array that grows by doubling; `view()` copies out the filled part. */
class GrowableBuffer<T extends Float64Array | Int32Array> {
  data: T;
  length = 0;
  private readonly make: (size: number) => T;
  constructor(make: (size: number) => T) {
    this.make = make;
    this.data = make(1024);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = this.make(size);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  view(): T {
    return this.data.slice(0, this.length) as T;
  }
}

const float64Buffer = () => new GrowableBuffer((size) => new Float64Array(size));
const int32Buffer = () => new GrowableBuffer((size) => new Int32Array(size));
type Float64Buffer = GrowableBuffer<Float64Array>;
type Int32Buffer = GrowableBuffer<Int32Array>;

/** Where a model's outputs accumulate. */
interface Sink {
  model: LoadedModel;
  kind: OutputKind | undefined;
  values: Float64Buffer;
  ms: number;
}

/**
 * Evaluates the candidate (and the baseline, on the same rows) over the whole table.
 * Throws `InputError` naming the file, line and column for cells the model cannot take, labels
 * the model never saw, NaN outputs and an empty holdout.
 */
export async function evaluateModels(
  reader: TableReader,
  models: { candidate: LoadedModel; baseline?: LoadedModel },
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  const ort = await loadOnnxRuntime();
  const { candidate, baseline } = models;
  const output = candidate.plan.output;
  const missing = new MissingTokens(options.missingTokens);
  const columnIndex = new Map(reader.columns.map((name, i) => [name, i]));
  const targetIndex = columnIndex.get(options.target);
  if (targetIndex === undefined) {
    throw new InputError(
      `${reader.path} has no target column \`${options.target}\`. Columns: ${reader.columns.join(', ')}. Set the target (--target, input "target", or model.target in mlops.yaml).`,
      { file: reader.path },
    );
  }
  const labels = int32Buffer();
  const targets = float64Buffer();
  const classIndex = new Map(output.classes.map((c, i) => [String(c), i]));
  const numericClasses = output.classes.every((c) => typeof c === 'number');
  const sinks: Sink[] = [candidate, ...(baseline ? [baseline] : [])].map((model) => ({
    model,
    kind: model.plan.output.kind,
    values: float64Buffer(),
    ms: 0,
  }));
  const sliceSpecs = [
    ...(options.sliceColumns ?? []).map((column) => ({
      column,
      edges: undefined as readonly number[] | undefined,
    })),
    ...Object.entries(options.bucketColumns ?? {}).map(([column, edges]) => ({ column, edges })),
  ].map((spec) => {
    const index = columnIndex.get(spec.column);
    if (index === undefined) {
      throw new InputError(
        `Slice column \`${spec.column}\` is not in ${reader.path}. Columns: ${reader.columns.join(', ')}.`,
        { file: reader.path },
      );
    }
    // Buckets get their codes in edge order up front, so they are reported low to high.
    const keys = new Map<string, number>();
    if (spec.edges) {
      keys.set(`< ${spec.edges[0]}`, 0);
      for (let e = 1; e < spec.edges.length; e++) keys.set(`[${spec.edges[e - 1]}, ${spec.edges[e]})`, e);
      keys.set(`≥ ${spec.edges[spec.edges.length - 1]}`, spec.edges.length);
    }
    return { ...spec, index, keys, codes: int32Buffer() };
  });

  let rows = 0;
  let dropped = 0;
  let seen = 0;
  const rowIndex = float64Buffer();
  let sampleFeeds: EvaluationResult['sampleFeeds'];
  let inFlight: Promise<void> | undefined;
  const pool = new BufferPool();
  for await (const batch of reader.batches()) {
    pool.slot ^= 1;
    const first = seen;
    seen += batch.length;
    const keep = new Uint8Array(batch.length).fill(1);
    let outside = 0;
    if (options.shard) {
      const { index, count } = options.shard;
      for (let i = 0; i < batch.length; i++) {
        if ((first + i) % count !== index - 1) {
          keep[i] = 0;
          outside++;
        }
      }
    }
    const targetCells = batch.columns[targetIndex];
    // Feeds first: a missing feature may drop the row (policy `drop`) before labels are read.
    const feedsByModel = sinks.map((sink) =>
      buildFeeds(ort, sink.model, batch, reader, columnIndex, keep, missing, options.missing, pool),
    );
    const kept = keep.reduce((total, k) => total + k, 0);
    dropped += batch.length - kept - outside;
    if (kept === 0) continue;
    rowIndex.reserve(kept);
    for (let i = 0; i < batch.length; i++) if (keep[i] === 1) rowIndex.data[rowIndex.length++] = first + i;
    const feeds =
      kept === batch.length
        ? feedsByModel
        : feedsByModel.map((f, m) => compactFeeds(ort, f, keep, kept, sinks[m].model));

    readTargets(batch, reader, targetCells, keep, kept, output.task === 'regression', {
      labels,
      targets,
      classIndex,
      numericClasses,
      classes: output.classes,
      missing,
      target: options.target,
    });
    for (const spec of sliceSpecs) readSlice(batch, batch.columns[spec.index], keep, kept, spec, missing);

    // Lines of the kept rows, copied: the reader may reuse the batch's buffers for the next one.
    const lines = kept === batch.length ? batch.lines.slice() : batch.lines.filter((_, i) => keep[i] === 1);
    // One batch in flight: this batch is parsed while the previous one runs on ONNX Runtime's threads.
    if (inFlight) await inFlight;
    inFlight = Promise.all(
      sinks.map(async (sink, m) => {
        const started = performance.now();
        const result = await sink.model.session.run(feeds[m], [sink.model.plan.output.name]);
        sink.ms += performance.now() - started;
        return result[sink.model.plan.output.name];
      }),
    ).then((results) => {
      sinks.forEach((sink, m) => {
        collectOutput(sink, results[m] as OrtTensor, kept, lines, reader.path);
      });
    });
    // Handled here so that a failure surfaces at the next await, not as an unhandled rejection.
    inFlight.catch(() => {});
    if (sampleFeeds === undefined) {
      // Copies: the pooled buffers are refilled by later batches.
      sampleFeeds = {
        candidate: copyFeeds(ort, feeds[0]),
        ...(baseline ? { baseline: copyFeeds(ort, feeds[1]) } : {}),
      };
    }
    rows += kept;
  }
  if (inFlight) await inFlight;
  if (rows === 0) {
    throw new InputError(
      `${reader.path} has no rows to evaluate${dropped > 0 ? ` (all ${dropped} were dropped for missing features)` : ''}: the holdout is empty.`,
      { file: reader.path },
    );
  }

  const toOutcomes = (sink: Sink): Outcomes => {
    if (output.task === 'regression') {
      return {
        task: 'regression',
        targets: targets.view(),
        predictions: sink.values.view(),
      } satisfies RegressionOutcomes;
    }
    return {
      task: output.task,
      classes: output.classes,
      labels: labels.view(),
      probabilities: sink.values.view(),
      threshold: options.threshold,
    } satisfies ClassificationOutcomes;
  };
  const [candidateSink, baselineSink] = sinks;
  return {
    rows,
    rowIndex: rowIndex.view(),
    droppedRows: dropped,
    outcomes: {
      candidate: toOutcomes(candidateSink),
      ...(baselineSink ? { baseline: toOutcomes(baselineSink) } : {}),
    },
    outputKinds: {
      candidate: candidateSink.kind ?? 'probabilities',
      ...(baselineSink ? { baseline: baselineSink.kind ?? 'probabilities' } : {}),
    },
    slices: sliceSpecs.map((spec) => ({
      column: spec.column,
      bucketed: spec.edges !== undefined,
      keys: [...spec.keys.keys()],
      codes: spec.codes.view(),
    })),
    inferenceMs: { candidate: candidateSink.ms, ...(baselineSink ? { baseline: baselineSink.ms } : {}) },
    sampleFeeds,
  };
}

interface TargetState {
  labels: Int32Buffer;
  targets: Float64Buffer;
  classIndex: Map<string, number>;
  numericClasses: boolean;
  classes: readonly (string | number)[];
  missing: MissingTokens;
  target: string;
}

function readTargets(
  batch: RowBatch,
  reader: TableReader,
  cells: ColumnCells,
  keep: Uint8Array,
  kept: number,
  regression: boolean,
  state: TargetState,
): void {
  const n = batch.length;
  const where = (i: number) => `${reader.path}:${batch.lines[i]}`;
  const missingLabel = (i: number) =>
    new InputError(
      `${where(i)}: the target \`${state.target}\` is missing; every holdout row needs a label. Remove unlabeled rows from the holdout.`,
      { file: reader.path, line: batch.lines[i], key: state.target },
    );
  if (regression) {
    const values = numbersOf(cells, n);
    state.targets.reserve(kept);
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) continue;
      if (Number.isNaN(values[i])) {
        if (isMissingCell(cells, i, state.missing)) throw missingLabel(i);
        throw new InputError(
          `${where(i)}: the target \`${state.target}\` holds ${JSON.stringify(cellValue(cells, i))}, which is not a number (regression).`,
          { file: reader.path, line: batch.lines[i], key: state.target },
        );
      }
      state.targets.data[state.targets.length++] = values[i];
    }
    return;
  }
  state.labels.reserve(kept);
  const numbers = state.numericClasses ? numbersOf(cells, n) : undefined;
  for (let i = 0; i < n; i++) {
    if (keep[i] === 0) continue;
    let key: string;
    if (numbers && !Number.isNaN(numbers[i])) key = String(numbers[i]);
    else {
      if (isMissingCell(cells, i, state.missing)) throw missingLabel(i);
      const value = cells.kind === 'text' ? textCell(cells, i) : cells.values[i];
      key = typeof value === 'boolean' ? String(Number(value)) : String(value);
    }
    const index = state.classIndex.get(key);
    if (index === undefined) {
      throw new InputError(
        `${where(i)}: label ${JSON.stringify(key)} in \`${state.target}\` is not a class of the model (classes: ${state.classes.map((c) => JSON.stringify(c)).join(', ')}). ` +
          'The model never saw this label: retrain with it, remove such rows, or map the labels (model.classes in mlops.yaml).',
        { file: reader.path, line: batch.lines[i], key: state.target },
      );
    }
    state.labels.data[state.labels.length++] = index;
  }
}

function readSlice(
  batch: RowBatch,
  cells: ColumnCells,
  keep: Uint8Array,
  kept: number,
  spec: {
    column: string;
    edges: readonly number[] | undefined;
    keys: Map<string, number>;
    codes: Int32Buffer;
  },
  missing: MissingTokens,
): void {
  spec.codes.reserve(kept);
  const numbers = spec.edges ? numbersOf(cells, batch.length) : undefined;
  for (let i = 0; i < batch.length; i++) {
    if (keep[i] === 0) continue;
    let key: string;
    if (isMissingCell(cells, i, missing)) key = '(missing)';
    else if (numbers && spec.edges) key = bucketName(numbers[i], spec.edges);
    else key = String(cellValue(cells, i));
    let code = spec.keys.get(key);
    if (code === undefined) {
      code = spec.keys.size;
      spec.keys.set(key, code);
    }
    spec.codes.data[spec.codes.length++] = code;
  }
}

/** `[a, b)` bucket of `value` at `edges` (sorted), e.g. `< 10`, `[10, 20)`, `≥ 20`. */
export function bucketName(value: number, edges: readonly number[]): string {
  if (Number.isNaN(value)) return '(not a number)';
  if (value < edges[0]) return `< ${edges[0]}`;
  for (let k = 1; k < edges.length; k++) if (value < edges[k]) return `[${edges[k - 1]}, ${edges[k]})`;
  return `≥ ${edges[edges.length - 1]}`;
}

/** Appends a batch's output to the sink as probabilities (classification) or values (regression). */
function collectOutput(sink: Sink, tensor: OrtTensor, n: number, lines: Float64Array, file: string): void {
  const { output } = sink.model.plan;
  const data = tensor.data as Float32Array | Float64Array;
  const width = output.width;
  if (data.length !== n * width) {
    throw new InputError(
      `Output \`${output.name}\` of ${sink.model.path} has ${data.length} values for ${n} rows; expected ${n * width} (${width} per row). Check the output setting.`,
      { file: sink.model.path },
    );
  }
  const lineOf = (row: number) => lines[row];
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const line = lineOf(Math.floor(i / width));
      throw new InputError(
        `${sink.model.path} produced ${data[i]} for the row at ${file}:${line}: a ${sink.model.role} model must give finite outputs. Check that row's features (NaN or extreme values).`,
        { file, line },
      );
    }
  }
  if (output.task === 'regression') {
    sink.values.reserve(n);
    sink.values.data.set(data, sink.values.length);
    sink.values.length += n;
    return;
  }
  sink.kind ??= looksLikeProbabilities(data, width) ? 'probabilities' : 'logits';
  const k = output.classes.length;
  sink.values.reserve(n * k);
  const out = sink.values.data;
  let at = sink.values.length;
  for (let row = 0; row < n; row++) {
    const base = row * width;
    if (width === 1) {
      const v = data[base];
      const p = sink.kind === 'logits' ? 1 / (1 + Math.exp(-v)) : v;
      if (!(p >= 0 && p <= 1)) throw notProbability(sink, p, lineOf(row), file);
      out[at++] = 1 - p;
      out[at++] = p;
    } else if (sink.kind === 'logits') {
      let max = -Infinity;
      for (let j = 0; j < width; j++) max = Math.max(max, data[base + j]);
      let sum = 0;
      for (let j = 0; j < width; j++) sum += Math.exp(data[base + j] - max);
      for (let j = 0; j < width; j++) out[at++] = Math.exp(data[base + j] - max) / sum;
    } else {
      for (let j = 0; j < width; j++) {
        const p = data[base + j];
        if (!(p >= -1e-6 && p <= 1 + 1e-6)) throw notProbability(sink, p, lineOf(row), file);
        out[at++] = Math.min(1, Math.max(0, p));
      }
    }
  }
  sink.values.length = at;
}

/** Values in [0, 1] whose rows sum to 1 (or a single column in [0, 1]) read as probabilities. */
function looksLikeProbabilities(data: Float32Array | Float64Array, width: number): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] < 0 || data[i] > 1) return false;
  if (width === 1) return true;
  for (let base = 0; base < data.length; base += width) {
    let sum = 0;
    for (let j = 0; j < width; j++) sum += data[base + j];
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

function notProbability(sink: Sink, p: number, line: number | undefined, file: string): InputError {
  return new InputError(
    `Output \`${sink.model.plan.output.name}\` of ${sink.model.path} gave ${p} for the row at ${file}:${line}, which is not a probability. ` +
      'If the model outputs logits or scores, set model.output.kind: logits.',
    { file: sink.model.path },
  );
}

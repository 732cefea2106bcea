/**
 * Latency of single-row inference, measured after a warm-up on rows of the holdout, and
 * throughput at the evaluation batch size (from the time spent in `session.run` during the
 * evaluation itself, so no extra pass over the data is needed).
 */
import { loadOnnxRuntime, type OrtSession } from './onnx-session.ts';

type OrtModule = Awaited<ReturnType<typeof loadOnnxRuntime>>;
type OrtTensor = InstanceType<OrtModule['Tensor']>;

export interface LatencyReport {
  /** Single-row `session.run` latency in milliseconds. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  runs: number;
  warmupRuns: number;
  /** Rows per second while evaluating, at `batchRows` rows per call. */
  throughputRowsPerSecond: number;
  batchRows: number;
}

/** The `q` quantile (0…1) of sorted values, by linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/**
 * Runs the model on single rows taken in turn from `feeds` (a batch of the holdout): `warmup`
 * runs first (not measured: the first runs allocate and tune), then `runs` timed ones.
 */
export async function measureLatency(
  session: OrtSession,
  feeds: Record<string, OrtTensor>,
  outputName: string,
  options: { warmup?: number; runs?: number; inferenceMs: number; rows: number; batchRows: number },
): Promise<LatencyReport> {
  const ort = await loadOnnxRuntime();
  const warmup = options.warmup ?? 20;
  const runs = options.runs ?? 200;
  const batch = Object.values(feeds)[0]?.dims[0] ?? 1;
  const rows = Array.from({ length: Math.min(batch, 64) }, (_, r) => sliceRow(ort, feeds, r));
  const times = new Float64Array(runs);
  for (let i = 0; i < warmup + runs; i++) {
    const feed = rows[i % rows.length];
    const started = performance.now();
    await session.run(feed, [outputName]);
    if (i >= warmup) times[i - warmup] = performance.now() - started;
  }
  times.sort();
  return {
    p50Ms: quantileSorted(times, 0.5),
    p95Ms: quantileSorted(times, 0.95),
    p99Ms: quantileSorted(times, 0.99),
    runs,
    warmupRuns: warmup,
    throughputRowsPerSecond:
      options.inferenceMs > 0 ? (options.rows / options.inferenceMs) * 1000 : Number.NaN,
    batchRows: options.batchRows,
  };
}

/** Row `r` of every feed, as batch-of-one tensors. */
function sliceRow(ort: OrtModule, feeds: Record<string, OrtTensor>, r: number): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) {
    const width = tensor.dims.length === 2 ? tensor.dims[1] : 1;
    const data = tensor.data as ArrayLike<unknown> & { slice(a: number, b: number): unknown };
    const dims = tensor.dims.length === 2 ? [1, width] : [1];
    out[name] = new ort.Tensor(
      tensor.type as 'float32',
      data.slice(r * width, (r + 1) * width) as Float32Array,
      dims,
    );
  }
  return out;
}

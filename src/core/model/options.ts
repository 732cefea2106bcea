/**
 * What the model gate is asked to do: its options (from inputs, flags and mlops.yaml, see
 * config/model-options.ts) and its defaults, stated once.
 */
import type { ReadOptions } from '../data/batch.ts';
import type { EnvironmentBaselineResolver } from './environment-baseline.ts';
import type { GateSpec, OnMissingBaseline } from './gates.ts';
import type { Task } from './metric-names.ts';
import type { MissingPolicy, ModelIoOptions } from './model-io.ts';

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

/** What deciding needs besides the evaluation: the gates and how to compute intervals and slices. */
export type DecideOptions = Pick<
  ValidateModelOptions,
  'gates' | 'onMissingBaseline' | 'bootstrap' | 'minRows' | 'slices' | 'budgets'
>;

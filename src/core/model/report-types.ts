/**
 * The `model-validation` report as the model gate writes it (schema in
 * src/core/schemas/model-validation-report.schema.json): what renderers, the package and the
 * report action read. Types only.
 */
import type { TOOL_NAME } from '../version.ts';
import type { GateEvaluation, OnMissingBaseline, SliceReport } from './gates.ts';
import type { LatencyReport } from './latency.ts';
import type { MetricName, Task } from './metric-names.ts';
import type { PerClassMetrics } from './metrics.ts';
import type { OutputKind } from './model-io.ts';
import type { ParityReport } from './parity.ts';

export type { SliceReport } from './gates.ts';

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

/**
 * The shape of a data profile: what consumers (drift, contract inference, reports) may read.
 * A profile is both a readable summary and a mergeable state (`state`, opaque to consumers):
 * `mergeProfiles([profile(A), profile(B)])` equals `profile(A ∪ B)` exactly for counts, moments and
 * histograms, and within the stated bound for quantile and distinct-count sketches.
 */

/** Column types, from the most specific to the most general. */
export const COLUMN_TYPES = ['boolean', 'integer', 'number', 'datetime', 'string', 'empty'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Types a single non-missing value can have (a column's `type` is inferred from these counts). */
export type ValueType = Exclude<ColumnType, 'empty'>;

export interface NumericSummary {
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator, as pandas `std`); 0 for one value. */
  std: number;
  sum: number;
}

export interface QuantileSummary {
  /** `exact` while every value is kept (count ≤ the profile's exact bound), else `ddsketch`. */
  method: 'exact' | 'ddsketch';
  /** Bound on the relative error of each quantile value (0 when exact). */
  relativeError: number;
  /** Quantile value by probability, keys like `"0.5"`: 0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1. */
  values: Record<string, number>;
}

export interface ColumnProfile {
  name: string;
  /** Inferred type: the most specific type every non-missing value fits; `empty` when all missing. */
  type: ColumnType;
  /** Rows seen, missing included. */
  rows: number;
  /** Missing cells (empty, a missing token, null, NaN, or absent in a JSONL row). */
  missing: number;
  /** Non-missing values (`rows - missing`). */
  count: number;
  /** How many non-missing values fit each type (a value counts once, under its most specific type). */
  valueTypes: Record<ValueType, number>;
  /** Over the values that are numbers (booleans as 0/1, datetimes as epoch ms). */
  numeric?: NumericSummary;
  quantiles?: QuantileSummary;
  /** Counts on fixed edges (`counts[i]` covers `[edges[i], edges[i+1])`, the last bin closed). */
  histogram?: { edges: number[]; counts: number[] };
  distinct: { count: number; exact: boolean; relativeError: number };
  /** Most frequent values (as text) with counts, most frequent first; for non-numeric columns and low-cardinality numbers. */
  topValues?: { value: string; count: number }[];
  /** True when `topValues` counts are exact; otherwise each count may be low by at most `topValuesError`. */
  topValuesExact?: boolean;
  topValuesError?: number;
  /** Lengths of string values, in characters. */
  length?: { min: number; max: number; mean: number };
  /** The mergeable internals (sketches, kept values). Opaque outside `profile.ts`. */
  state: unknown;
}

export interface ProfileOptions {
  /** Keep every numeric value (exact quantiles and exact drift tests) up to this many per column. */
  exactValues: number;
  /** Count distinct values exactly up to this many per column, then HyperLogLog. */
  exactDistinct: number;
  /** How many top values to report. */
  topValues: number;
  /** DDSketch relative accuracy for quantiles beyond `exactValues`. */
  relativeAccuracy: number;
  /** HyperLogLog precision (2^p registers). */
  hllPrecision: number;
  /** Missing-value tokens for text formats. */
  missingTokens: readonly string[];
}

export interface DataProfile {
  kind: 'data-profile';
  version: 1;
  /** The files this profile covers (several after a merge). */
  sources: { path: string; format: string; rows: number; sha256?: string }[];
  rows: number;
  columns: ColumnProfile[];
  options: ProfileOptions;
}

/**
 * Findings: what a data check reports. One finding per (check, column, rule), with the total
 * count and up to `maxExampleLines` example line numbers, so a report stays small on big data.
 */

/** Names of the data checks, as they appear in reports (`finding.check`). */
export const DATA_CHECKS = {
  /** A cell violates the data contract (`rule` says which keyword: type, minimum, enum, …). */
  contract: 'contract',
  /** A column required by the contract is absent from the data. */
  missingColumn: 'missing-column',
  /** A column is in the data but not in the contract. */
  unexpectedColumn: 'unexpected-column',
  /** The share of missing values of a column is above its `x-mlops` limit. */
  missingShare: 'missing-share',
  /** A column declared unique has repeated values. */
  unique: 'unique',
  /** Rows that repeat an earlier row. */
  duplicateRows: 'duplicate-rows',
  /** The number of rows is outside the `x-mlops.rows` bounds. */
  rowCount: 'row-count',
  /** Rows of the evaluated data that also occur in the training data. */
  leakage: 'train-test-leakage',
  /** A column's distribution moved away from the reference. */
  drift: 'drift',
} as const;
export type DataCheck = (typeof DATA_CHECKS)[keyof typeof DATA_CHECKS];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The lowest severity that fails a gate; `never` reports without failing. */
export const FAIL_ON = ['error', 'warning', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** How many example line numbers a finding keeps. */
export const MAX_EXAMPLE_LINES = 10;

export interface Finding {
  check: DataCheck;
  severity: Severity;
  /** The column the finding is about, when it is about one. */
  column?: string;
  /** For contract findings: the JSON Schema keyword that failed (`type`, `minimum`, `enum`, `pattern`, `null`, …). */
  rule?: string;
  /** One sentence a reviewer can act on: what was expected, what was found, and the fix when it is not obvious. */
  message: string;
  /** How many cells or rows are affected (1 for a dataset-level finding). */
  count: number;
  /** Up to {@link MAX_EXAMPLE_LINES} example line numbers (CSV/JSONL line, Parquet row), ascending. */
  lines?: number[];
  /** Up to a few example offending values, as text. */
  examples?: string[];
  /** The data file the lines refer to. */
  file?: string;
}

/** Orders findings worst first: errors before warnings before info, then by count. */
export function sortFindings(findings: Finding[]): Finding[] {
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return [...findings].sort((a, b) => rank[a.severity] - rank[b.severity] || b.count - a.count);
}

/** A consumer of row batches (profile, contract check, duplicate and leakage checks). */
export interface BatchConsumer {
  /**
   * Called once per batch; `columns` are the reader's column names when the batch was made.
   * A consumer that hands work to another thread may return a promise to slow the reader down.
   */
  add(batch: import('./batch.ts').RowBatch, columns: readonly string[]): void | Promise<void>;
}

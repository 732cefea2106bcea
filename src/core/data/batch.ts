/**
 * The column-batch format every reader yields and every consumer (profile, contract, checks)
 * reads. Column-major and allocation-light: CSV cells stay as byte slices of the read buffer
 * until a consumer converts them once, so no object is built per row.
 */

/** Formats the readers understand. Gzip is a property of the file, not a format. */
export const TABLE_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/**
 * Cells of one column as slices of a byte buffer (CSV). Cell `i` is
 * `bytes.subarray(start[i], end[i])`, without its surrounding quotes. A reader makes a new column
 * object for every batch (the arrays behind it may be reused): consumers memoize per-batch work by
 * the object (`parseNumberColumn`), which is only right while an object belongs to one batch.
 */
export interface TextColumn {
  readonly kind: 'text';
  /** The bytes the cells point into (shared by all columns of the batch, valid until the next batch). */
  readonly bytes: Uint8Array;
  /** Byte offset where cell `i` starts. */
  readonly start: Int32Array;
  /** Byte offset one past the last byte of cell `i`. */
  readonly end: Int32Array;
  /**
   * 1 where cell `i` was quoted and holds doubled quotes (`""`) that must be unescaped
   * before use (see `cellText`); `null` when no cell of the batch needs it.
   */
  readonly escaped: Uint8Array | null;
  /** 1 where cell `i` was quoted (a quoted empty string is an empty string, not a missing value). */
  readonly quoted: Uint8Array | null;
}

/**
 * Cells of one column as JavaScript values (JSONL, Parquet): `null` or `undefined` is missing;
 * numbers, bigints, booleans, strings, `Date`s, or nested objects/arrays (JSONL).
 */
export interface ValueColumn {
  readonly kind: 'values';
  readonly values: ArrayLike<unknown>;
}

export type ColumnCells = TextColumn | ValueColumn;

/** A batch of consecutive rows of a table. */
export interface RowBatch {
  /** Number of rows in the batch. */
  readonly length: number;
  /**
   * For each row, the 1-based line of the source file where the row starts (CSV, JSONL),
   * or the 1-based row number (Parquet). Findings point at these.
   */
  readonly lines: Float64Array;
  /**
   * Cells by column index, in the order of the reader's `columns`. A JSONL reader may learn new
   * columns as it goes: a batch covers every column known when it was made, and rows of earlier
   * batches simply lacked the later columns (they count as missing there).
   */
  readonly columns: readonly ColumnCells[];
}

/** An open table: its columns and a one-shot stream of row batches. */
export interface TableReader {
  /** The path as given by the user (used in messages and findings). */
  readonly path: string;
  readonly format: TableFormat;
  /** True when the file was gzip-compressed. */
  readonly compressed: boolean;
  /** Column names, in order. Fixed for CSV and Parquet; grows while a JSONL file is read. */
  readonly columns: readonly string[];
  /** Rows in the file when known before reading (Parquet metadata), otherwise undefined. */
  readonly rowCount: number | undefined;
  /** Streams the rows. Can be iterated once. Throws `InputError` naming the file and line on bad data. */
  batches(): AsyncIterable<RowBatch>;
}

/** Options shared by every reader. */
export interface ReadOptions {
  /** Force a format instead of inferring it from the extension (`.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.parquet`, with optional `.gz`). */
  format?: TableFormat;
  /** CSV field delimiter (one character). Default: `,`, or tab for `.tsv`. */
  delimiter?: string;
  /** Target rows per batch (default 8192). */
  batchRows?: number;
}

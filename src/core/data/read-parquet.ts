/**
 * Streaming Parquet reader producing `ValueColumn` batches, built on hyparquet.
 *
 * The footer is read at open time; the rows are then read one row group at a time (never the
 * whole file), column-wise through `parquetRead`'s `onChunk` callback, which hands over each
 * column's decoded array without building row objects. A row group is cut into batches of
 * `batchRows` rows (typed arrays as zero-copy views). INT64 values become numbers when they are
 * exactly representable, timestamps stay `Date`s, strings stay strings, nulls are `null`.
 *
 * The footer's counts are checked, not trusted: at open time its row count must be the sum of its
 * row groups', each flat column chunk must hold as many values as its row group has rows, and no
 * count may exceed 2^53; while reading, the pages of every column must hold exactly the rows the
 * footer claims. A mismatch (a corrupt or altered file) is an `InputError` naming the file.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { AsyncBuffer, ColumnData, FileMetaData } from 'hyparquet';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { InputError } from '../errors.ts';
import type { RowBatch, TableReader, ValueColumn } from './batch.ts';
import { MAX_COLUMNS, tooManyColumnsError } from './limits.ts';
import { DEFAULT_BATCH_ROWS } from './read-csv.ts';

/** Options of {@link openParquet}. */
export interface ParquetReaderOptions {
  /** Rows per batch (a row group is cut into batches of this size). Default 8192. */
  batchRows?: number;
  /**
   * Decode only these columns (Parquet is columnar: the others are never read). The batches still
   * have every column, in file order; the ones not decoded are empty and must not be read.
   */
  only?: readonly string[];
}

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/**
 * Opens a Parquet file and reads its footer (schema, row count, row groups). `filePath` is the
 * path to open, `displayPath` the path as the user gave it (used in messages). Throws
 * `InputError` when the file is not Parquet (no `PAR1` magic, or an unreadable footer).
 */
export async function openParquet(
  filePath: string,
  displayPath: string,
  options: ParquetReaderOptions = {},
): Promise<TableReader> {
  const handle = await open(filePath, 'r');
  try {
    const { size } = await handle.stat();
    const file = fileBuffer(handle, size, displayPath);
    const notParquet = (reason: string, cause?: unknown) =>
      new InputError(
        `${displayPath} is not a Parquet file (${reason}). Check that the path points at a Parquet file, ` +
          'or name it after its real format (.csv, .jsonl) or set the format option.',
        { file: displayPath },
        { cause },
      );
    if (size < 12) throw notParquet(`it is only ${size} bytes long`);
    const head = new Uint8Array(await file.slice(0, 4));
    const tail = new Uint8Array(await file.slice(size - 4, size));
    if (!MAGIC.every((b, i) => head[i] === b))
      throw notParquet('it does not start with the PAR1 magic bytes');
    if (!MAGIC.every((b, i) => tail[i] === b)) {
      throw notParquet(
        'it does not end with the PAR1 magic bytes: the file is truncated or still being written',
      );
    }
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw notParquet(
        `its footer cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    const width = parquetSchema(metadata).children.length;
    if (width > MAX_COLUMNS) throw tooManyColumnsError(displayPath, width.toLocaleString('en-US'));
    checkRowCounts(metadata, displayPath);
    return new ParquetReader(filePath, displayPath, metadata, options);
  } finally {
    await handle.close();
  }
}

class ParquetReader implements TableReader {
  readonly path: string;
  readonly format = 'parquet' as const;
  readonly compressed = false;
  readonly columns: readonly string[];
  readonly rowCount: number;
  private readonly filePath: string;
  private readonly metadata: FileMetaData;
  private readonly batchRows: number;
  private readonly only: ReadonlySet<string> | undefined;
  private iterated = false;

  constructor(filePath: string, displayPath: string, metadata: FileMetaData, options: ParquetReaderOptions) {
    this.path = displayPath;
    this.filePath = filePath;
    this.metadata = metadata;
    this.columns = parquetSchema(metadata).children.map((child) => child.element.name);
    this.rowCount = Number(metadata.num_rows);
    this.batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.only = options.only ? new Set(options.only) : undefined;
  }

  async *batches(): AsyncGenerator<RowBatch> {
    if (this.iterated) throw new Error(`The rows of ${this.path} can be iterated only once`);
    this.iterated = true;
    const handle = await open(this.filePath, 'r');
    try {
      const { size } = await handle.stat();
      const file = fileBuffer(handle, size, this.path);
      let groupStart = 0;
      for (let group = 0; group < this.metadata.row_groups.length; group++) {
        const groupRows = Number(this.metadata.row_groups[group].num_rows);
        if (groupRows > 0) {
          const data = await this.readRowGroup(file, group, groupStart, groupRows);
          for (let from = 0; from < groupRows; from += this.batchRows) {
            const to = Math.min(groupRows, from + this.batchRows);
            const lines = new Float64Array(to - from);
            for (let i = 0; i < lines.length; i++) lines[i] = groupStart + from + i + 1;
            const columns: ValueColumn[] = data.map((values) => ({
              kind: 'values',
              values: sliceValues(values, from, to),
            }));
            yield { length: to - from, lines, columns };
          }
        }
        groupStart += groupRows;
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Reads one row group, column-wise; returns one array per column (in `columns` order). Throws
   * when a column's pages hold more or fewer rows than the footer claims for the group.
   */
  private async readRowGroup(
    file: AsyncBuffer,
    group: number,
    groupStart: number,
    groupRows: number,
  ): Promise<ArrayLike<unknown>[]> {
    const pieces = new Map<string, ColumnData[]>();
    try {
      await parquetRead({
        file,
        metadata: this.metadata,
        ...(this.only ? { columns: [...this.only] } : {}),
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors,
        onChunk(chunk) {
          const list = pieces.get(chunk.columnName);
          if (list === undefined) pieces.set(chunk.columnName, [chunk]);
          else list.push(chunk);
        },
      });
    } catch (error) {
      if (error instanceof InputError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new InputError(
        `${this.path}: row group ${group + 1} (rows ${groupStart + 1} to ${groupStart + groupRows}) cannot be read (${reason}). ` +
          'The file is corrupt or uses a Parquet feature that is not supported; rewrite it with pyarrow or pandas.',
        { file: this.path, line: groupStart + 1 },
        { cause: error },
      );
    }
    for (const [name, list] of pieces) {
      let rows = 0;
      let end = groupStart;
      for (const piece of list) {
        rows += piece.columnData.length;
        end = Math.max(end, piece.rowStart + piece.columnData.length);
      }
      if (rows !== groupRows || end !== groupStart + groupRows)
        throw countMismatch(
          this.path,
          `row group ${group + 1} has ${groupRows} rows by the footer, but the pages of column ${JSON.stringify(name)} hold ${end > groupStart + groupRows || rows > groupRows ? 'more' : `only ${rows}`}`,
        );
    }
    return this.columns.map((name) =>
      this.only && !this.only.has(name)
        ? NOT_READ
        : toValues(joinPieces(pieces.get(name) ?? [], groupStart, groupRows)),
    );
  }
}

/** Counts beyond this cannot be exact numbers (and no real file holds them). */
const MAX_COUNT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Checks the footer's counts against each other: the file's rows are the sum of its row groups',
 * and every flat column chunk holds one value (or null) per row of its group.
 */
function checkRowCounts(metadata: FileMetaData, path: string): void {
  const claimed = BigInt(metadata.num_rows);
  if (claimed < 0n || claimed > MAX_COUNT)
    throw countMismatch(path, `its footer claims ${claimed} rows, which no file can hold`);
  let sum = 0n;
  const schema = parquetSchema(metadata);
  const flat = new Set(
    schema.children
      .filter((child) => child.children.length === 0 && child.element.repetition_type !== 'REPEATED')
      .map((child) => child.element.name),
  );
  metadata.row_groups.forEach((rowGroup, index) => {
    const rows = BigInt(rowGroup.num_rows);
    if (rows < 0n || rows > MAX_COUNT)
      throw countMismatch(
        path,
        `its footer claims ${rows} rows for row group ${index + 1}, which no file can hold`,
      );
    sum += rows;
    for (const column of rowGroup.columns) {
      const meta = column.meta_data;
      if (meta === undefined || meta.path_in_schema.length !== 1 || !flat.has(meta.path_in_schema[0]))
        continue;
      if (BigInt(meta.num_values) !== rows)
        throw countMismatch(
          path,
          `its footer gives row group ${index + 1} ${rows} rows, but ${meta.num_values} values for column ${JSON.stringify(meta.path_in_schema[0])}`,
        );
    }
  });
  if (sum !== claimed)
    throw countMismatch(path, `its footer claims ${claimed} rows, but its row groups hold ${sum}`);
}

function countMismatch(path: string, what: string): InputError {
  return new InputError(
    `${path} is not a consistent Parquet file: ${what}. The file is corrupt or was altered after it was written; ` +
      'write it again (e.g. with pyarrow or pandas) from the source data.',
    { file: path },
  );
}

/** The values of a column that was not decoded (see `only`). */
const NOT_READ: ArrayLike<unknown> = Object.freeze([]);

/** The column's values for rows `[groupStart, groupStart + groupRows)` as one array. */
function joinPieces(pieces: ColumnData[], groupStart: number, groupRows: number): ArrayLike<unknown> {
  if (pieces.length === 1 && pieces[0].rowStart === groupStart && pieces[0].columnData.length === groupRows) {
    return pieces[0].columnData;
  }
  // Several pages (or a column missing from a row group): place each piece at its rows.
  const joined: unknown[] = new Array(groupRows).fill(null);
  for (const piece of pieces) {
    const data = piece.columnData;
    for (let i = 0; i < data.length; i++) {
      const row = piece.rowStart - groupStart + i;
      if (row >= 0 && row < groupRows) joined[row] = data[i];
    }
  }
  return joined;
}

/**
 * Converts INT64 values (bigints) to numbers where that is exact, so consumers see one numeric
 * type; values beyond ±2^53 stay bigints rather than being silently rounded.
 */
function toValues(data: ArrayLike<unknown>): ArrayLike<unknown> {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const numbers = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const value = data[i];
      if (value > MAX_SAFE || value < MIN_SAFE) return Array.from(data, toNumberIfSafe);
      numbers[i] = Number(value);
    }
    return numbers;
  }
  if (Array.isArray(data)) {
    let first = 0;
    while (first < data.length && (data[first] === null || data[first] === undefined)) first++;
    if (first < data.length && typeof data[first] === 'bigint') {
      for (let i = first; i < data.length; i++) data[i] = toNumberIfSafe(data[i]);
    }
  }
  return data;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

function toNumberIfSafe(value: unknown): unknown {
  return typeof value === 'bigint' && value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
}

function sliceValues(values: ArrayLike<unknown>, from: number, to: number): ArrayLike<unknown> {
  if (values === NOT_READ) return NOT_READ;
  if (from === 0 && to === values.length) return values;
  if (ArrayBuffer.isView(values)) return (values as unknown as Float64Array).subarray(from, to);
  return (values as unknown[]).slice(from, to);
}

/** An `AsyncBuffer` over an open file: hyparquet asks for byte ranges, read with positioned reads. */
function fileBuffer(handle: FileHandle, size: number, displayPath: string): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      const from = Math.max(0, start);
      const length = Math.max(0, Math.min(end, size) - from);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, from + done);
        if (bytesRead === 0) {
          throw new InputError(
            `${displayPath} became shorter while it was read; was it modified meanwhile?`,
            { file: displayPath },
          );
        }
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

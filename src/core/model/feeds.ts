/**
 * Input tensors from the readers' column buffers: each model input filled straight from its
 * columns (CSV bytes parsed into the tensor, no per-row objects), into buffers reused batch after
 * batch; cells a model cannot take (missing under the missing-value policy, not a number, too
 * large for float32, fractions for integer inputs) are errors naming the file, line and column.
 */
import type { ColumnCells, RowBatch, TableReader } from '../data/batch.ts';
import { cellValue, type MissingTokens, parseNumberBytes, parseNumberColumn } from '../data/cells.ts';
import { InputError } from '../errors.ts';
import { FEEDABLE_TYPES, type MissingPolicy, type ModelIoPlan } from './model-io.ts';
import type { loadOnnxRuntime, OrtSession } from './onnx-session.ts';

export type OrtModule = Awaited<ReturnType<typeof loadOnnxRuntime>>;
export type OrtTensor = InstanceType<OrtModule['Tensor']>;
/** A model's input tensors, by input name. */
export type Feeds = Record<string, OrtTensor>;

/** A model ready to run: its session and how to feed and read it. */
export interface LoadedModel {
  role: 'candidate' | 'baseline';
  path: string;
  session: OrtSession;
  plan: ModelIoPlan;
}

type NumericType = 'float32' | 'float64' | 'int32' | 'int64';
type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

/**
 * Input buffers reused batch after batch (two per input: one is being filled while the other is
 * in flight), so a million rows do not allocate a hundred megabytes of tensors for the GC.
 */
export class BufferPool {
  private readonly buffers = new Map<string, [NumericArray | undefined, NumericArray | undefined]>();
  /** Which of the two buffers this batch fills (flipped once per batch). */
  slot = 0;
  take(key: string, type: NumericType, size: number): NumericArray {
    let pair = this.buffers.get(key);
    if (!pair) {
      pair = [undefined, undefined];
      this.buffers.set(key, pair);
    }
    let buffer = pair[this.slot];
    if (!buffer || buffer.length < size) {
      buffer =
        type === 'float32'
          ? new Float32Array(size)
          : type === 'float64'
            ? new Float64Array(size)
            : type === 'int32'
              ? new Int32Array(size)
              : new BigInt64Array(size);
      pair[this.slot] = buffer;
    }
    return buffer.length === size ? buffer : buffer.subarray(0, size);
  }
}

/** Input tensors of one model for a batch; rows with a missing feature are dropped (policy `drop`) via `keep`. */
export function buildFeeds(
  ort: OrtModule,
  model: LoadedModel,
  batch: RowBatch,
  reader: TableReader,
  columnIndex: Map<string, number>,
  keep: Uint8Array,
  missing: MissingTokens,
  policy: MissingPolicy,
  pool: BufferPool,
): Feeds {
  const n = batch.length;
  const feeds: Feeds = {};
  for (const input of model.plan.inputs) {
    const width = input.columns.length;
    const type = FEEDABLE_TYPES[input.elementType];
    const dims = input.rank === 2 ? [n, width] : [n];
    if (type === 'string') {
      const data: string[] = new Array(n * width);
      input.columns.forEach((column, j) => {
        const cells = batch.columns[columnIndex.get(column) as number];
        for (let i = 0; i < n; i++) {
          const value = cellValue(cells, i);
          if ((missing.isMissingValue(value) || value === undefined) && keep[i] === 1) {
            onMissing(i, column, model, batch, reader, keep, policy);
            data[i * width + j] = '';
          } else data[i * width + j] = String(value);
        }
      });
      feeds[input.name] = new ort.Tensor('string', data, dims);
      continue;
    }
    const data = pool.take(`${model.role}:${input.name}`, type, n * width);
    const integer = type === 'int32' || type === 'int64';
    // float64 data for a float32 input: beyond ±3.4e38 a value would silently become ±Infinity.
    const limit = type === 'float32' ? FLOAT32_MAX : Number.POSITIVE_INFINITY;
    const checkCell = (value: number, i: number, cells: ColumnCells, column: string) => {
      if (Number.isNaN(value)) {
        if (keep[i] === 0) return;
        if (!isMissingCell(cells, i, missing)) throw notANumber(cells, i, column, model, batch, reader);
        onMissing(i, column, model, batch, reader, keep, policy);
      } else if (Number.isFinite(value)) {
        throw tooLargeForFloat32(value, i, column, input.name, model, batch, reader);
      }
    };
    input.columns.forEach((column, j) => {
      const cells = batch.columns[columnIndex.get(column) as number];
      if (!integer && cells.kind === 'text') {
        // The hot loop: CSV bytes parsed straight into the tensor (one strided store per cell, no
        // intermediate array); NaN (missing or not a number) is rare and checked only then.
        const floats = data as Float32Array | Float64Array;
        const { bytes, start, end } = cells;
        for (let i = 0, at = j; i < n; i++, at += width) {
          const value = parseNumberBytes(bytes, start[i], end[i]);
          // Rare cells (missing, not a number, too large for float32) are handled out of the loop.
          if (!(value <= limit && value >= -limit)) checkCell(value, i, cells, column);
          floats[at] = value;
        }
        return;
      }
      const values = numbersOf(cells, n);
      if (!integer) {
        const floats = data as Float32Array | Float64Array;
        for (let i = 0, at = j; i < n; i++, at += width) {
          const value = values[i];
          // Rare cells (missing, not a number, too large for float32) are handled out of the loop.
          if (!(value <= limit && value >= -limit)) checkCell(value, i, cells, column);
          floats[at] = value;
        }
        return;
      }
      for (let i = 0; i < n; i++) {
        let value = values[i];
        if (keep[i] === 0) value = 0;
        else if (Number.isNaN(value)) {
          if (!isMissingCell(cells, i, missing)) throw notANumber(cells, i, column, model, batch, reader);
          onMissing(i, column, model, batch, reader, keep, policy);
          value = 0;
        } else if (!Number.isInteger(value)) {
          throw new InputError(
            `${reader.path}:${batch.lines[i]}: column \`${column}\` holds ${value}, but model input \`${input.name}\` of ${model.path} takes ${input.elementType} integers.`,
            { file: reader.path, line: batch.lines[i], key: column },
          );
        }
        if (type === 'int64') (data as BigInt64Array)[i * width + j] = BigInt(value);
        else (data as Int32Array)[i * width + j] = value;
      }
    });
    feeds[input.name] = new ort.Tensor(type, data, dims);
  }
  return feeds;
}

/** Deep copies of feeds (their data arrays). */
export function copyFeeds(ort: OrtModule, feeds: Feeds): Feeds {
  const out: Feeds = {};
  for (const [name, tensor] of Object.entries(feeds)) {
    const data = tensor.data as unknown as { slice(): Float32Array };
    out[name] = new ort.Tensor(tensor.type as 'float32', data.slice(), tensor.dims);
  }
  return out;
}

/** The cells of a column as numbers (NaN for missing or non-numeric cells). */
export function numbersOf(cells: ColumnCells, n: number): Float64Array {
  if (cells.kind === 'text') return parseNumberColumn(cells, n).values;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const value = cells.values[i];
    out[i] =
      typeof value === 'number'
        ? value
        : typeof value === 'bigint'
          ? Number(value)
          : typeof value === 'boolean'
            ? Number(value)
            : Number.NaN;
  }
  return out;
}

/** Whether a cell is missing (empty, or one of the missing-value tokens). */
export function isMissingCell(cells: ColumnCells, i: number, missing: MissingTokens): boolean {
  if (cells.kind === 'text') {
    return missing.isMissing(
      cells.bytes,
      cells.start[i],
      cells.end[i],
      cells.quoted !== null && cells.quoted[i] === 1,
    );
  }
  return missing.isMissingValue(cells.values[i]);
}

function onMissing(
  i: number,
  column: string,
  model: LoadedModel,
  batch: RowBatch,
  reader: TableReader,
  keep: Uint8Array,
  policy: MissingPolicy,
): void {
  if (policy === 'drop') keep[i] = 0;
  else if (policy === 'error') {
    throw new InputError(
      `${reader.path}:${batch.lines[i]}: column \`${column}\` is missing, and ${model.path} needs every feature. ` +
        'Impute missing values before evaluation, or set the missing-value policy (model.missing in mlops.yaml, --missing): ' +
        '`nan` feeds NaN (tree ensembles route it), `drop` skips such rows (counted in the report).',
      { file: reader.path, line: batch.lines[i], key: column },
    );
  }
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function tooLargeForFloat32(
  value: number,
  i: number,
  column: string,
  input: string,
  model: LoadedModel,
  batch: RowBatch,
  reader: TableReader,
): InputError {
  return new InputError(
    `${reader.path}:${batch.lines[i]}: column \`${column}\` holds ${value}, which does not fit model input \`${input}\` of ${model.path} (float32, at most ±3.4e38): it would become infinite. ` +
      'Scale the feature as in training, or export the model with a double (float64) input.',
    { file: reader.path, line: batch.lines[i], key: column },
  );
}

function notANumber(
  cells: ColumnCells,
  i: number,
  column: string,
  model: LoadedModel,
  batch: RowBatch,
  reader: TableReader,
): InputError {
  const shown = JSON.stringify(cellValue(cells, i));
  return new InputError(
    `${reader.path}:${batch.lines[i]}: column \`${column}\` holds ${shown}, which is not a number; model ${model.path} takes numbers there. ` +
      'Encode the column numerically in the data (the same way as for training), or fix the value.',
    { file: reader.path, line: batch.lines[i], key: column },
  );
}

/** Copies the kept rows of every feed (only when `drop` removed some). */
export function compactFeeds(
  ort: OrtModule,
  feeds: Feeds,
  keep: Uint8Array,
  kept: number,
  model: LoadedModel,
): Feeds {
  const out: Feeds = {};
  for (const input of model.plan.inputs) {
    const tensor = feeds[input.name];
    const width = input.columns.length;
    const source = tensor.data as unknown as ArrayLike<unknown> & { constructor: new (n: number) => unknown };
    const target = (
      Array.isArray(source) ? new Array(kept * width) : new source.constructor(kept * width)
    ) as unknown[];
    let row = 0;
    for (let i = 0; i < keep.length; i++) {
      if (keep[i] === 0) continue;
      for (let j = 0; j < width; j++) target[row * width + j] = source[i * width + j];
      row++;
    }
    out[input.name] = new ort.Tensor(
      tensor.type as 'float32',
      target as unknown as Float32Array,
      input.rank === 2 ? [kept, width] : [kept],
    );
  }
  return out;
}

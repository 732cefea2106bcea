import { ConfigurationError } from '../errors.ts';
import type { ColumnCells, RowBatch, TextColumn } from './batch.ts';
import {
  DEFAULT_MISSING_TOKENS,
  hashBytes,
  hashNumber,
  hashString,
  looksLikeDateBytes,
  MissingTokens,
  parseBooleanBytes,
  parseDateText,
  parseNumberColumn,
  textCell,
} from './cells.ts';
import type { BatchConsumer } from './findings.ts';
import type { ColumnProfile, ColumnType, DataProfile, ProfileOptions, ValueType } from './profile-types.ts';
import { DDSketch, type DDSketchState } from './sketches/dd-sketch.ts';
import { HashIndex } from './sketches/hash-index.ts';
import { HyperLogLog } from './sketches/hyper-log-log.ts';

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = {
  exactValues: 10_000,
  exactDistinct: 10_000,
  topValues: 10,
  relativeAccuracy: 0.01,
  hllPrecision: 14,
  missingTokens: DEFAULT_MISSING_TOKENS,
};

/** Quantiles every profile reports. */
export const PROFILE_QUANTILES = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1] as const;
/** Bins of the summary histogram. */
const HISTOGRAM_BINS = 20;
/** Integer columns with at most this many distinct values also report top values. */
const LOW_CARDINALITY = 50;

const VALUE_TYPES: readonly ValueType[] = ['boolean', 'integer', 'number', 'datetime', 'string'];
const TYPE = { boolean: 0, integer: 1, number: 2, datetime: 3, string: 4 } as const;

/** The mergeable state of one column, as stored in `ColumnProfile.state`. */
export interface ColumnState {
  typeCounts: number[];
  missing: number;
  /** Numeric values (numbers, booleans as 0/1, datetimes as epoch ms), infinities left out. */
  n: number;
  /** Finite numeric values: mean and m2 are over these (equal to `n`; older profiles counted infinities in `n`). */
  finite: number;
  /**
   * Infinite numbers (`inf`, `1e999`): counted as numbers in `typeCounts`, left out of every
   * statistic (min, max, sum, moments, quantiles, histogram, drift), which stay finite.
   */
  infinite?: number;
  mean: number;
  m2: number;
  sum: number;
  min: number;
  max: number;
  /** Every numeric value, ascending, while n ≤ exactValues. */
  values?: number[];
  sketch?: DDSketchState;
  /** Exact distinct values: [hash, count, text] while ≤ exactDistinct. */
  distinct?: [number, number, string][];
  /** HyperLogLog registers (base64) once the exact set overflowed. */
  hll?: string;
  /** Misra–Gries summary of frequent texts once the exact set overflowed: [text, count] and the error bound. */
  frequent?: { entries: [string, number][]; error: number };
  lengths: { n: number; min: number; max: number; sum: number };
}

/** Streams batches into per-column accumulators. */
export interface Profiler extends BatchConsumer {
  /** Rows seen so far. */
  readonly rows: number;
  /** The profile of everything added; `sources` describes the input. */
  finish(sources: DataProfile['sources']): DataProfile;
}

/** The mergeable states of the columns a profiler owns (undefined for columns it skipped). */
export interface ColumnStates {
  names: string[];
  states: (ColumnState | undefined)[];
  rows: number;
}

/** A profiler over some columns only, for splitting the work between threads. */
export interface PartialProfiler extends BatchConsumer {
  readonly rows: number;
  states(): ColumnStates;
}

/** Creates a profiler: feed it every batch of a table, then call `finish`. */
export function createProfiler(options: Partial<ProfileOptions> = {}): Profiler & PartialProfiler {
  return createColumnProfiler(options, () => true);
}

/**
 * A profiler that keeps only the columns `owns(index)` accepts (the others are skipped and come
 * back undefined from `states()`); {@link assembleProfile} joins the parts of several.
 */
export function createColumnProfiler(
  options: Partial<ProfileOptions>,
  owns: (index: number) => boolean,
): Profiler & PartialProfiler {
  const resolved: ProfileOptions = { ...DEFAULT_PROFILE_OPTIONS, ...options };
  validateOptions(resolved);
  const missing = new MissingTokens(resolved.missingTokens);
  const columns: (ColumnAccumulator | undefined)[] = [];
  const names: string[] = [];
  let rows = 0;
  const profiler = {
    get rows() {
      return rows;
    },
    add(batch: RowBatch, columnNames: readonly string[]): void {
      for (let c = 0; c < batch.columns.length; c++) {
        if (names[c] === undefined) names[c] = columnNames[c] ?? `column ${c + 1}`;
        if (!owns(c)) continue;
        let column = columns[c];
        if (column === undefined) {
          // A JSONL column first seen now: every earlier row lacked it.
          column = new ColumnAccumulator(names[c], resolved, missing);
          column.missing += rows;
          columns[c] = column;
        }
        column.add(batch.columns[c], batch.length);
      }
      for (let c = batch.columns.length; c < columns.length; c++) {
        const column = columns[c];
        if (column !== undefined) column.missing += batch.length;
      }
      rows += batch.length;
    },
    states(): ColumnStates {
      return { names: [...names], states: names.map((_, c) => columns[c]?.toState()), rows };
    },
    finish(sources: DataProfile['sources']): DataProfile {
      return assembleProfile([profiler.states()], sources, resolved);
    },
  };
  return profiler;
}

/** Joins the column states of partial profilers that saw the same rows into one profile. */
export function assembleProfile(
  parts: ColumnStates[],
  sources: DataProfile['sources'],
  options: Partial<ProfileOptions> = {},
): DataProfile {
  const resolved: ProfileOptions = { ...DEFAULT_PROFILE_OPTIONS, ...options };
  const names = parts.reduce<string[]>(
    (longest, part) => (part.names.length > longest.length ? part.names : longest),
    [],
  );
  const rows = parts[0]?.rows ?? 0;
  const states = names.map((name, c) => {
    const state = parts.map((part) => part.states[c]).find((s) => s !== undefined);
    if (state === undefined) throw new Error(`no profiler owned column ${c + 1} (${name})`);
    return state;
  });
  return buildProfile(states, names, rows, sources, resolved);
}

function validateOptions(options: ProfileOptions): void {
  if (!(Number.isInteger(options.exactValues) && options.exactValues >= 0))
    throw new ConfigurationError('profile exact-values must be a whole number ≥ 0');
  if (!(Number.isInteger(options.exactDistinct) && options.exactDistinct >= 0))
    throw new ConfigurationError('profile exact-distinct must be a whole number ≥ 0');
  if (!(options.relativeAccuracy > 0 && options.relativeAccuracy < 1))
    throw new ConfigurationError('profile relative accuracy must be in (0, 1)');
}

/** The shared empty buffer columns start with: per-column state is allocated when values arrive. */
const EMPTY = new Float64Array(0);
/** First capacity of a column's distinct-value table (it grows by doubling up to the exact bound). */
const INITIAL_DISTINCT_CAPACITY = 16;

/**
 * Per-column accumulator; the hot loops live here. Its buffers start empty and grow with the
 * values, so a wide table with few rows costs little per column (a one-row CSV of 10,000 columns
 * took ~3 GB when each column preallocated its tables).
 */
class ColumnAccumulator {
  readonly name: string;
  private readonly options: ProfileOptions;
  private readonly missingTokens: MissingTokens;
  missing = 0;
  private readonly typeCounts = [0, 0, 0, 0, 0];
  private n = 0;
  /** Finite numeric values (moments are over these). */
  private finite = 0;
  /** Infinite numeric values: counted, left out of the statistics. */
  private infinite = 0;
  private mean = 0;
  private m2 = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  /** Kept values (exact quantiles) while `n ≤ exactValues`; null once they moved to the sketch. */
  private values: Float64Array | null = EMPTY;
  private sketch: DDSketch | null = null;
  private distinct: HashIndex | null = new HashIndex(INITIAL_DISTINCT_CAPACITY);
  private distinctCounts: number[] = [];
  private distinctTexts: string[] = [];
  private hll: HyperLogLog | null = null;
  private frequent: MisraGries | null = null;
  private lengthN = 0;
  private lengthMin = Number.POSITIVE_INFINITY;
  private lengthMax = 0;
  private lengthSum = 0;

  constructor(name: string, options: ProfileOptions, missingTokens: MissingTokens) {
    this.name = name;
    this.options = options;
    this.missingTokens = missingTokens;
  }

  add(cells: ColumnCells, length: number): void {
    if (cells.kind === 'text') this.addText(cells, length);
    else this.addValues(cells.values, length);
    this.flushNumbers();
  }

  private addText(column: TextColumn, length: number): void {
    const { bytes, start, end, quoted, escaped } = column;
    const missingTokens = this.missingTokens;
    const maxTokenLength = missingTokens.maxLength;
    const { values: numbers, integer: integers } = parseNumberColumn(column, length);
    for (let i = 0; i < length; i++) {
      const s = start[i];
      const e = end[i];
      // Inline the common case: only short cells can be a missing token.
      if (
        e - s <= maxTokenLength &&
        missingTokens.isMissing(bytes, s, e, quoted !== null && quoted[i] === 1)
      ) {
        this.missing++;
        continue;
      }
      const number = numbers[i];
      if (!Number.isNaN(number)) {
        this.typeCounts[integers[i] === 1 ? TYPE.integer : TYPE.number]++;
        this.addNumber(number);
        this.addDistinct(hashNumber(number), bytes, s, e, null);
        continue;
      }
      const boolean = parseBooleanBytes(bytes, s, e);
      if (boolean >= 0) {
        this.typeCounts[TYPE.boolean]++;
        this.addNumber(boolean);
        this.addDistinct(hashNumber(boolean + 0.5), bytes, s, e, boolean === 1 ? 'true' : 'false');
        continue;
      }
      if (looksLikeDateBytes(bytes, s, e)) {
        const text = textCell(column, i);
        const time = parseDateText(text);
        if (!Number.isNaN(time)) {
          this.typeCounts[TYPE.datetime]++;
          this.addNumber(time);
          this.addDistinct(hashNumber(time), bytes, s, e, text);
          continue;
        }
      }
      this.typeCounts[TYPE.string]++;
      if (escaped !== null && escaped[i] === 1) {
        const text = textCell(column, i);
        this.addLength(codePoints(text));
        this.addDistinct(hashString(text), bytes, s, e, text);
      } else {
        let characters = 0;
        for (let k = s; k < e; k++) if ((bytes[k] & 0xc0) !== 0x80) characters++;
        this.addLength(characters);
        this.addDistinct(hashBytes(bytes, s, e), bytes, s, e, null);
      }
    }
  }

  private addValues(values: ArrayLike<unknown>, length: number): void {
    for (let i = 0; i < length; i++) {
      const value = values[i];
      if (this.missingTokens.isMissingValue(value)) {
        this.missing++;
        continue;
      }
      switch (typeof value) {
        case 'number':
          this.typeCounts[Number.isInteger(value) ? TYPE.integer : TYPE.number]++;
          this.addNumber(value);
          this.addDistinct(hashNumber(value), null, 0, 0, null, value);
          break;
        case 'bigint': {
          const number = Number(value);
          this.typeCounts[TYPE.integer]++;
          this.addNumber(number);
          this.addDistinct(hashNumber(number), null, 0, 0, String(value));
          break;
        }
        case 'boolean':
          this.typeCounts[TYPE.boolean]++;
          this.addNumber(value ? 1 : 0);
          this.addDistinct(hashNumber((value ? 1 : 0) + 0.5), null, 0, 0, value ? 'true' : 'false');
          break;
        case 'string': {
          const time = value.length >= 10 && value.length <= 35 ? parseDateText(value) : Number.NaN;
          if (!Number.isNaN(time)) {
            this.typeCounts[TYPE.datetime]++;
            this.addNumber(time);
            this.addDistinct(hashNumber(time), null, 0, 0, value);
          } else {
            this.addString(value);
          }
          break;
        }
        default:
          if (value instanceof Date) {
            const time = value.getTime();
            this.typeCounts[TYPE.datetime]++;
            this.addNumber(time);
            this.addDistinct(hashNumber(time), null, 0, 0, value.toISOString());
          } else {
            this.addString(JSON.stringify(value));
          }
      }
    }
  }

  private addString(text: string): void {
    this.typeCounts[TYPE.string]++;
    this.addLength(codePoints(text));
    this.addDistinct(hashString(text), null, 0, 0, text);
  }

  private addLength(characters: number): void {
    this.lengthN++;
    this.lengthSum += characters;
    if (characters < this.lengthMin) this.lengthMin = characters;
    if (characters > this.lengthMax) this.lengthMax = characters;
  }

  /** Numeric values of the current batch; their moments are merged once per batch (see flushNumbers). */
  private scratch = EMPTY;
  private scratchLength = 0;

  private addNumber(value: number): void {
    if (this.scratchLength === this.scratch.length) {
      const grown = new Float64Array(Math.max(64, this.scratch.length * 2));
      grown.set(this.scratch);
      this.scratch = grown;
    }
    this.scratch[this.scratchLength++] = value;
  }

  /**
   * Folds the batch's numeric values into the column: a two-pass mean and M2 over the batch
   * (no division per value, no cancellation), merged into the running moments with Chan et al.'s
   * pairwise formula; then into the kept values or the sketch.
   */
  private flushNumbers(): void {
    let count = this.scratchLength;
    if (count === 0) return;
    this.scratchLength = 0;
    const scratch = this.scratch;
    let sum = 0;
    let min = this.min;
    let max = this.max;
    let infinite = 0;
    for (let k = 0; k < count; k++) {
      const value = scratch[k];
      // Infinities (the only non-finite values here: NaN is missing) stay out of every statistic.
      if (value - value !== 0) {
        infinite++;
        continue;
      }
      sum += value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    if (infinite > 0) {
      this.infinite += infinite;
      count = keepFinite(scratch, count);
      if (count === 0) return;
    }
    this.sum += sum;
    this.min = min;
    this.max = max;
    let batchMean = sum / count;
    if (batchMean - batchMean !== 0) {
      // The sum overflowed (values near ±1.8e308): sum the values scaled down instead.
      batchMean = 0;
      for (let k = 0; k < count; k++) batchMean += scratch[k] / count;
    }
    let m2 = 0;
    for (let k = 0; k < count; k++) {
      const delta = scratch[k] - batchMean;
      m2 += delta * delta;
    }
    const n = this.finite + count;
    const delta = batchMean - this.mean;
    this.mean += (delta * count) / n;
    this.m2 += m2 + (delta * delta * this.finite * count) / n;
    this.finite = n;
    const before = this.n;
    this.n += count;
    if (this.values !== null && this.n <= this.options.exactValues) {
      if (this.n > this.values.length) {
        const grown = new Float64Array(
          Math.max(this.n, Math.min(this.values.length * 2, this.options.exactValues)),
        );
        grown.set(this.values.subarray(0, before));
        this.values = grown;
      }
      this.values.set(scratch.subarray(0, count), before);
      return;
    }
    if (this.values !== null) {
      // Past the bound: move the kept values into the sketch and keep only the sketch.
      this.sketch = new DDSketch(this.options.relativeAccuracy);
      for (let k = 0; k < before; k++) this.sketch.add(this.values[k]);
      this.values = null;
    }
    const sketch = this.sketch!;
    for (let k = 0; k < count; k++) sketch.add(scratch[k]);
  }

  /**
   * Counts a distinct value by hash. `text` (or the cell bytes, or `number`) gives the value's text
   * the first time it is seen; it is only decoded then.
   */
  private addDistinct(
    hash: number,
    bytes: Uint8Array | null,
    start: number,
    end: number,
    text: string | null,
    number?: number,
  ): void {
    const distinct = this.distinct;
    if (distinct !== null) {
      const index = distinct.get(hash);
      if (index >= 0) {
        this.distinctCounts[index]++;
        return;
      }
      if (distinct.size < this.options.exactDistinct) {
        distinct.insert(hash, this.distinctCounts.length);
        this.distinctCounts.push(1);
        this.distinctTexts.push(
          text ?? (bytes !== null ? decoder.decode(bytes.subarray(start, end)) : String(number)),
        );
        return;
      }
      this.overflowDistinct();
    }
    this.hll!.add(hash);
    if (this.frequent !== null)
      this.frequent.add(text ?? (bytes !== null ? latinKey(bytes, start, end) : String(number)));
  }

  /** Switches from the exact set to HyperLogLog (and Misra–Gries for frequent values). */
  private overflowDistinct(): void {
    this.hll = new HyperLogLog(this.options.hllPrecision);
    const capacity = Math.max(100, this.options.topValues * 10);
    // Frequent values only matter for text-like columns; numbers past the bound have no "top".
    const textLike = this.typeCounts[TYPE.string] > 0;
    this.frequent = textLike ? new MisraGries(capacity) : null;
    for (const [hash, index] of this.distinct!.entries()) {
      this.hll.add(hash);
      this.frequent?.addCount(this.distinctTexts[index], this.distinctCounts[index]);
    }
    this.distinct = null;
    this.distinctCounts = [];
    this.distinctTexts = [];
  }

  toState(): ColumnState {
    const state: ColumnState = {
      typeCounts: [...this.typeCounts],
      missing: this.missing,
      n: this.n,
      finite: this.finite,
      mean: this.mean,
      m2: this.m2,
      sum: this.sum,
      min: this.min,
      max: this.max,
      ...(this.infinite > 0 ? { infinite: this.infinite } : {}),
      lengths: { n: this.lengthN, min: this.lengthMin, max: this.lengthMax, sum: this.lengthSum },
    };
    if (this.values !== null)
      state.values = Array.from(this.values.subarray(0, this.n)).sort((a, b) => a - b);
    if (this.sketch !== null) state.sketch = this.sketch.toJSON();
    if (this.distinct !== null) {
      state.distinct = [...this.distinct.entries()].map(
        ([hash, index]) =>
          [hash, this.distinctCounts[index], this.distinctTexts[index]] as [number, number, string],
      );
      state.distinct.sort((a, b) => a[0] - b[0]);
    } else {
      state.hll = this.hll!.toBase64();
      if (this.frequent !== null) state.frequent = this.frequent.toJSON();
    }
    return state;
  }
}

const decoder = new TextDecoder();

/** Key for the frequent-values summary from raw bytes (decoded as UTF-8). */
function latinKey(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) count++; // low surrogates continue a code point
  }
  return count;
}

function addFinite(sketch: DDSketch, value: number): void {
  if (Number.isFinite(value)) sketch.add(value);
}

/** Moves the finite values of `values[0, count)` to the front, in order; returns how many there are. */
function keepFinite(values: Float64Array, count: number): number {
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const value = values[k];
    if (value - value === 0) values[kept++] = value;
  }
  return kept;
}

/** Misra–Gries frequent items: every count is low by at most `error` (≤ n / capacity). */
class MisraGries {
  private readonly capacity: number;
  readonly counts = new Map<string, number>();
  error = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(key: string): void {
    this.addCount(key, 1);
  }

  addCount(key: string, count: number): void {
    const current = this.counts.get(key);
    if (current !== undefined) {
      this.counts.set(key, current + count);
      return;
    }
    this.counts.set(key, count);
    if (this.counts.size > this.capacity) this.shrink();
  }

  /** Subtracts the (capacity+1)-th largest count from all (the mergeable Misra–Gries step). */
  private shrink(): void {
    const sorted = [...this.counts.values()].sort((a, b) => b - a);
    const cut = sorted[this.capacity];
    this.error += cut;
    for (const [key, value] of this.counts) {
      if (value <= cut) this.counts.delete(key);
      else this.counts.set(key, value - cut);
    }
  }

  toJSON(): { entries: [string, number][]; error: number } {
    const entries = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return { entries, error: this.error };
  }

  static fromJSON(state: { entries: [string, number][]; error: number }, capacity: number): MisraGries {
    const summary = new MisraGries(capacity);
    for (const [key, count] of state.entries) summary.counts.set(key, count);
    summary.error = state.error;
    return summary;
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries from states (the same code for a fresh profile and a merge, so both agree).

function buildProfile(
  states: ColumnState[],
  names: string[],
  rows: number,
  sources: DataProfile['sources'],
  options: ProfileOptions,
): DataProfile {
  return {
    kind: 'data-profile',
    version: 1,
    sources,
    rows,
    columns: states.map((state, c) => summarizeColumn(names[c], state, rows, options)),
    options: { ...options, missingTokens: [...options.missingTokens] },
  };
}

function inferType(typeCounts: number[]): ColumnType {
  const [booleans, integers, numbers, datetimes, strings] = typeCounts;
  const total = booleans + integers + numbers + datetimes + strings;
  if (total === 0) return 'empty';
  if (strings > 0) return 'string';
  if (booleans === total) return 'boolean';
  if (datetimes === total) return 'datetime';
  if (booleans > 0 || datetimes > 0) return 'string';
  return numbers > 0 ? 'number' : 'integer';
}

function summarizeColumn(
  name: string,
  state: ColumnState,
  rows: number,
  options: ProfileOptions,
): ColumnProfile {
  const type = inferType(state.typeCounts);
  const count = state.typeCounts.reduce((a, b) => a + b, 0);
  const valueTypes = Object.fromEntries(VALUE_TYPES.map((t, i) => [t, state.typeCounts[i]])) as Record<
    ValueType,
    number
  >;
  const hll = state.hll === undefined ? undefined : HyperLogLog.fromBase64(options.hllPrecision, state.hll);
  const column: ColumnProfile = {
    name,
    type,
    rows,
    missing: rows - count,
    count,
    valueTypes,
    distinct: hll
      ? { count: hll.estimate(), exact: false, relativeError: round(hll.relativeError, 6) }
      : { count: state.distinct!.length, exact: true, relativeError: 0 },
    state,
  };
  const numericType = type === 'integer' || type === 'number' || type === 'datetime' || type === 'boolean';
  if (numericType && state.n > 0) {
    column.numeric = {
      min: state.min,
      max: state.max,
      mean: state.mean,
      std: state.finite > 1 ? Math.sqrt(state.m2 / (state.finite - 1)) : 0,
      sum: state.sum,
    };
    column.quantiles = {
      method: state.values ? 'exact' : 'ddsketch',
      relativeError: state.values ? 0 : options.relativeAccuracy,
      values: Object.fromEntries(PROFILE_QUANTILES.map((q) => [String(q), quantileOfState(state, q)])),
    };
    column.histogram = histogramOfState(state);
  }
  const wantsTop =
    type === 'string' ||
    type === 'boolean' ||
    (type === 'integer' && column.distinct.count <= LOW_CARDINALITY);
  if (wantsTop) {
    if (state.distinct) {
      const sorted = [...state.distinct].sort((a, b) => b[1] - a[1] || (a[2] < b[2] ? -1 : 1));
      column.topValues = sorted.slice(0, options.topValues).map(([, c, value]) => ({ value, count: c }));
      column.topValuesExact = true;
    } else if (state.frequent) {
      column.topValues = state.frequent.entries
        .slice(0, options.topValues)
        .map(([value, c]) => ({ value, count: c }));
      column.topValuesExact = false;
      column.topValuesError = state.frequent.error;
    }
  }
  if (state.lengths.n > 0) {
    column.length = {
      min: state.lengths.min,
      max: state.lengths.max,
      mean: state.lengths.sum / state.lengths.n,
    };
  }
  return column;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

/** numpy's default ('linear') quantile of sorted values. */
function linearQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, n - 1);
  const fraction = position - low;
  return fraction === 0 ? sorted[low] : sorted[low] + (sorted[high] - sorted[low]) * fraction;
}

function quantileOfState(state: ColumnState, q: number): number {
  if (state.values) return linearQuantile(state.values, q);
  if (q <= 0) return state.min;
  if (q >= 1) return state.max;
  const value = DDSketch.fromJSON(state.sketch!).quantile(q);
  return Math.min(Math.max(value, state.min), state.max);
}

/** Equal-width bins between min and max, counted from the exact values or the sketch's fixed buckets. */
function histogramOfState(state: ColumnState): { edges: number[]; counts: number[] } {
  const { min, max } = state;
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { edges: [], counts: [] };
  const bins = min === max ? 1 : HISTOGRAM_BINS;
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  const place = (value: number, count: number) => {
    if (!Number.isFinite(value)) return;
    const bin = width === 0 ? 0 : Math.min(bins - 1, Math.max(0, Math.floor((value - min) / width)));
    counts[bin] += count;
  };
  if (state.values) for (const value of state.values) place(value, 1);
  else for (const [value, count] of DDSketch.fromJSON(state.sketch!).buckets()) place(value, count);
  return { edges, counts };
}

// ---------------------------------------------------------------------------------------------
// Queries used by drift.

function stateOf(column: ColumnProfile): ColumnState {
  return column.state as ColumnState;
}

/** Every non-missing numeric value, ascending, when the column kept them all; otherwise null. */
export function sortedValues(column: ColumnProfile): Float64Array | null {
  const values = stateOf(column).values;
  return values ? Float64Array.from(values) : null;
}

/** How many numeric values the column's statistics (and drift) cover: infinities are left out. */
export function numericCount(column: ColumnProfile): number {
  return stateOf(column).n;
}

/** Share of the column's numeric values ≤ x (exact when kept, from the sketch otherwise). */
export function cumulativeShare(column: ColumnProfile, x: number): number {
  const state = stateOf(column);
  if (state.n === 0) return Number.NaN;
  if (state.values) {
    let low = 0;
    let high = state.values.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (state.values[middle] <= x) low = middle + 1;
      else high = middle;
    }
    return low / state.values.length;
  }
  if (x < state.min) return 0;
  if (x >= state.max) return 1;
  return DDSketch.fromJSON(state.sketch!).cumulativeShare(x);
}

/** The value at quantile q: numpy's 'linear' when exact, the sketch's estimate otherwise. */
export function valueAtQuantile(column: ColumnProfile, q: number): number {
  return quantileOfState(stateOf(column), q);
}

/** Exact count per distinct value (as text) when the column counted them exactly; otherwise null. */
export function categoryCounts(column: ColumnProfile): Map<string, number> | null {
  const distinct = stateOf(column).distinct;
  if (!distinct) return null;
  const counts = new Map<string, number>();
  for (const [, count, text] of distinct) counts.set(text, (counts.get(text) ?? 0) + count);
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Merge and parse.

/**
 * Merges profiles of disjoint parts of a dataset (e.g. shards profiled on matrix jobs). Columns
 * are matched by name; a column absent from a part counts as missing in all its rows.
 */
export function mergeProfiles(profiles: DataProfile[]): DataProfile {
  if (profiles.length === 0) throw new ConfigurationError('There are no profiles to merge.');
  const options = profiles[0].options;
  for (const [index, profile] of profiles.entries()) {
    for (const key of ['exactValues', 'exactDistinct', 'relativeAccuracy', 'hllPrecision'] as const) {
      if (profile.options[key] !== options[key]) {
        throw new ConfigurationError(
          `Profiles made with different settings cannot be merged: ${key} is ${options[key]} in the first and ${profile.options[key]} in profile ${index + 1} (${profile.sources.map((s) => s.path).join(', ')}). Profile every shard with the same settings.`,
        );
      }
    }
  }
  const names: string[] = [];
  for (const profile of profiles)
    for (const column of profile.columns) if (!names.includes(column.name)) names.push(column.name);
  const rows = profiles.reduce((total, profile) => total + profile.rows, 0);
  const states = names.map((name) => {
    let merged: ColumnState | undefined;
    for (const profile of profiles) {
      const column = profile.columns.find((c) => c.name === name);
      const state = column ? stateOf(column) : emptyState(profile.rows);
      merged = merged === undefined ? cloneState(state) : mergeStates(merged, state, options);
    }
    return merged!;
  });
  return buildProfile(
    states,
    names,
    rows,
    profiles.flatMap((p) => p.sources),
    options,
  );
}

function emptyState(rows: number): ColumnState {
  return {
    typeCounts: [0, 0, 0, 0, 0],
    missing: rows,
    n: 0,
    finite: 0,
    mean: 0,
    m2: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    values: [],
    distinct: [],
    lengths: { n: 0, min: Number.POSITIVE_INFINITY, max: 0, sum: 0 },
  };
}

function cloneState(state: ColumnState): ColumnState {
  return structuredClone(state);
}

function mergeStates(a: ColumnState, b: ColumnState, options: ProfileOptions): ColumnState {
  const n = a.n + b.n;
  const finite = a.finite + b.finite;
  // Chan, Golub & LeVeque's pairwise update of mean and M2.
  const delta = b.mean - a.mean;
  const mean = finite === 0 ? 0 : a.mean + (delta * b.finite) / finite;
  const m2 = finite === 0 ? 0 : a.m2 + b.m2 + (delta * delta * a.finite * b.finite) / finite;
  const merged: ColumnState = {
    typeCounts: a.typeCounts.map((count, i) => count + b.typeCounts[i]),
    missing: a.missing + b.missing,
    n,
    finite,
    mean,
    m2,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    ...((a.infinite ?? 0) + (b.infinite ?? 0) > 0 ? { infinite: (a.infinite ?? 0) + (b.infinite ?? 0) } : {}),
    lengths: {
      n: a.lengths.n + b.lengths.n,
      min: Math.min(a.lengths.min, b.lengths.min),
      max: Math.max(a.lengths.max, b.lengths.max),
      sum: a.lengths.sum + b.lengths.sum,
    },
  };
  if (a.values && b.values && n <= options.exactValues) {
    merged.values = [...a.values, ...b.values].sort((x, y) => x - y);
  } else {
    const sketch = new DDSketch(options.relativeAccuracy);
    for (const side of [a, b]) {
      if (side.values) for (const value of side.values) addFinite(sketch, value);
      else if (side.sketch) sketch.merge(DDSketch.fromJSON(side.sketch));
    }
    merged.sketch = sketch.toJSON();
  }
  if (a.distinct && b.distinct) {
    const byHash = new Map<number, [number, number, string]>();
    for (const entry of a.distinct) byHash.set(entry[0], [...entry]);
    for (const [hash, count, text] of b.distinct) {
      const entry = byHash.get(hash);
      if (entry) entry[1] += count;
      else byHash.set(hash, [hash, count, text]);
    }
    if (byHash.size <= options.exactDistinct) {
      merged.distinct = [...byHash.values()].sort((x, y) => x[0] - y[0]);
      return merged;
    }
  }
  // At least one side (or the union) is past the exact bound: HyperLogLog and Misra–Gries.
  const hll = new HyperLogLog(options.hllPrecision);
  const textLike = merged.typeCounts[TYPE.string] > 0;
  const frequent = textLike ? new MisraGries(Math.max(100, options.topValues * 10)) : null;
  for (const side of [a, b]) {
    if (side.distinct) {
      for (const [hash, count, text] of side.distinct) {
        hll.add(hash);
        frequent?.addCount(text, count);
      }
    } else {
      hll.merge(HyperLogLog.fromBase64(options.hllPrecision, side.hll!));
      if (side.frequent && frequent) {
        for (const [text, count] of side.frequent.entries) frequent.addCount(text, count);
        frequent.error += side.frequent.error;
      }
    }
  }
  merged.hll = hll.toBase64();
  if (frequent) merged.frequent = frequent.toJSON();
  return merged;
}

/**
 * Checks that parsed JSON is a profile written by `mlops profile` (kind, version, columns with
 * state) and returns it; a clear ConfigurationError naming `file` otherwise.
 */
export function parseProfile(json: unknown, file: string): DataProfile {
  const profile = json as Partial<DataProfile> | null;
  if (profile === null || typeof profile !== 'object' || profile.kind !== 'data-profile') {
    throw new ConfigurationError(
      `${file} is not a data profile (expected "kind": "data-profile"). Write one with \`mlops profile --data <file> --out ${file}\`.`,
      { file },
    );
  }
  if (profile.version !== 1) {
    throw new ConfigurationError(
      `${file} is a data profile of version ${String(profile.version)}; this version of mlops-actions reads version 1.`,
      { file },
    );
  }
  if (!Array.isArray(profile.columns) || !profile.options || typeof profile.rows !== 'number') {
    throw new ConfigurationError(
      `${file} is an incomplete data profile (columns, options or rows missing). Write it again with \`mlops profile\`.`,
      { file },
    );
  }
  for (const [index, column] of profile.columns.entries()) {
    const state = column?.state as Partial<ColumnState> | undefined;
    if (
      !state ||
      !Array.isArray(state.typeCounts) ||
      (state.values === undefined && state.sketch === undefined && state.n !== 0 && state.n !== undefined)
    ) {
      throw new ConfigurationError(
        `${file}: column ${index + 1} (${column?.name ?? '?'}) has no mergeable state. Write the profile again with \`mlops profile\`.`,
        { file, key: `columns[${index}].state` },
      );
    }
    // Profiles written before infinities were left out of the statistics may hold them (as null).
    if (Array.isArray(state.values) && state.values.some((value) => typeof value !== 'number')) {
      state.values = state.values.filter((value) => typeof value === 'number' && Number.isFinite(value));
      state.n = state.values.length;
      state.finite = Math.min(state.finite ?? 0, state.n);
    }
    // JSON has no Infinity: restore the sentinels of an empty column.
    if (state.min === null) state.min = Number.POSITIVE_INFINITY;
    if (state.max === null) state.max = Number.NEGATIVE_INFINITY;
    if (state.lengths && state.lengths.min === null) state.lengths.min = Number.POSITIVE_INFINITY;
  }
  return profile as DataProfile;
}

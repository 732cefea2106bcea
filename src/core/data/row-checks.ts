/**
 * Row-level checks: duplicate rows within a file, and rows of the evaluated data that also occur
 * in the training data (train/test leakage).
 *
 * Both compare rows by a 52-bit hash over NORMALIZED cells, so that the same row written by two
 * tools compares equal:
 * - numbers by value (`1`, `1.0`, `1e0` and a JSON `1` alike; a numeric string `"1"` too, since a
 *   CSV cannot tell them apart), booleans by value (`true`, `TRUE`), datetimes by instant;
 * - text trimmed of ASCII white space; a cell that trims to nothing, quoted (`""`) or not, counts as
 *   missing here (unlike the batch's missing-value counts, for which a quoted empty string is a
 *   value): writers differ in whether they quote an empty string, and the same row must compare;
 * - every missing value (empty cell, missing token, null, NaN, absent JSONL key) alike: a missing
 *   cell adds nothing to the row hash, so a column that is missing everywhere, or absent from one
 *   of the files, does not change the comparison;
 * - columns combined in sorted-name order, each cell mixed with its column name, so files with
 *   different column orders compare.
 * Distinct rows collide with probability ~n²/2^53 (about 1e-4 for 100 million rows).
 */

import { logGamma } from '../stats/special-functions.ts';
import type { ColumnCells, RowBatch, TextColumn } from './batch.ts';
import {
  combineHashes,
  hashBytes,
  hashNumber,
  hashString,
  looksLikeDateBytes,
  MissingTokens,
  parseBooleanBytes,
  parseDateText,
  parseNumberBytes,
  parseNumberColumn,
  textCell,
} from './cells.ts';
import {
  type BatchConsumer,
  DATA_CHECKS,
  type Finding,
  MAX_EXAMPLE_LINES,
  type Severity,
} from './findings.ts';
import { HashSet52 } from './hash-set.ts';

/** The hash of a missing cell: not a valid 52-bit hash, so it never collides with a value. */
// Stryker disable next-line UnaryOperator: +1 would collide only with a value whose 52-bit hash is 1 (odds 2^-52)
export const MISSING_HASH = -1;

const TWO_52 = 2 ** 52;
// The tags only need to differ from one another and from hashes of cell text: the empty string,
// which no non-missing cell trims to, does as well for any one of them.
// Stryker disable next-line StringLiteral: see above
const TRUE_HASH = hashString('\u0000boolean:true');
// Stryker disable next-line StringLiteral: see above
const FALSE_HASH = hashString('\u0000boolean:false');
// Stryker disable next-line StringLiteral: see above
const DATE_TAG = hashString('\u0000datetime');
// Stryker disable next-line StringLiteral: see above
const ROW_SEED = hashString('\u0000row');

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

/** Hash of a number by its value (1, 1.0, 1e0 alike; -0 as 0): `hashNumber` of cells.ts. */
export const hashNumberValue = hashNumber;

/** First bytes of a cell that may be a number or a date: digits, signs, '.', and i/I (inf, Infinity). */
const NUMBER_START = new Uint8Array(256);
for (const c of '0123456789+-.iI') NUMBER_START[c.charCodeAt(0)] = 1;

let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/** Hash of the trimmed bytes `[start, end)` of an unescaped cell, normalized as described above. */
function hashTrimmedBytes(bytes: Uint8Array, start: number, end: number): number {
  while (start < end && isBlank(bytes[start])) start++;
  while (end > start && isBlank(bytes[end - 1])) end--;
  if (start === end) return MISSING_HASH;
  // Only cells starting like a number or a date are tried as such (cheap on text).
  if (NUMBER_START[bytes[start]] === 1) {
    const value = parseNumberBytes(bytes, start, end);
    if (!Number.isNaN(value)) {
      // A date like 2024-01-31 is not a number (the parser stops at the second `-`).
      return hashNumberValue(value);
    }
    // Stryker disable next-line ConditionalExpression: a prefilter; parseDateText accepts nothing it rejects
    if (looksLikeDateBytes(bytes, start, end)) {
      let text = '';
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a bound on the work; parseDateText refuses over 35 characters anyway
      for (let k = start; k < end && k < start + 40; k++) text += String.fromCharCode(bytes[k]);
      const time = parseDateText(text);
      if (!Number.isNaN(time)) return combineHashes(DATE_TAG, hashNumberValue(time));
    }
  } else {
    // Only 4 or 5 bytes can be a boolean: parseBooleanBytes looks at the length first.
    const flag = parseBooleanBytes(bytes, start, end);
    if (flag === 1) return TRUE_HASH;
    if (flag === 0) return FALSE_HASH;
  }
  return hashBytes(bytes, start, end);
}

/** Normalized hash of a JS string (as if it were a CSV cell): trimmed, numbers and booleans by value. */
function hashText(text: string): number {
  // Encode into a reused buffer: the same bytes path as CSV cells, so both normalize alike.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: growing when it is not needed (always, or at exactly 3 bytes a character) only costs time
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3 + 64);
  const { written } = encoder.encodeInto(text, scratch);
  return hashTrimmedBytes(scratch, 0, written);
}

/**
 * Normalized hash of text cell `i` (see the module comment), or {@link MISSING_HASH}.
 * Used by the row checks and by the contract's `unique` rule.
 */
export function hashTextCell(column: TextColumn, i: number, missing: MissingTokens): number {
  const start = column.start[i];
  const end = column.end[i];
  if (missing.isMissing(column.bytes, start, end, column.quoted !== null && column.quoted[i] === 1))
    return MISSING_HASH;
  return hashUnmissingCell(column, i);
}

/** Normalized hash of text cell `i`, known not to be missing. */
function hashUnmissingCell(column: TextColumn, i: number): number {
  // Decoding a cell without "" escapes would give the same bytes (the readers refuse invalid UTF-8):
  // this is a shortcut, so a mutant that decodes every cell survives.
  if (column.escaped !== null && column.escaped[i] === 1) return hashText(textCell(column, i));
  return hashTrimmedBytes(column.bytes, column.start[i], column.end[i]);
}

/** Normalized hash of a JS value (JSONL, Parquet), or {@link MISSING_HASH}; equal to {@link hashTextCell} of the same value written in a CSV. */
export function hashValueCell(value: unknown, missing: MissingTokens): number {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) ? MISSING_HASH : hashNumberValue(value);
    case 'string':
      return missing.isMissingValue(value) ? MISSING_HASH : hashText(value);
    case 'boolean':
      return value ? TRUE_HASH : FALSE_HASH;
    case 'bigint':
      return hashNumberValue(Number(value));
    case 'undefined':
      return MISSING_HASH;
    default: {
      if (value === null) return MISSING_HASH;
      if (value instanceof Date) {
        const time = value.getTime();
        return Number.isNaN(time) ? MISSING_HASH : combineHashes(DATE_TAG, hashNumberValue(time));
      }
      // Nested JSON: by its JSON text (key order matters; good enough for equality of rows).
      return hashString(JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)));
    }
  }
}

/** Hashes of the cells of one column, MISSING_HASH for missing ones, written to `out[0..length)`. */
export function hashColumnCells(
  column: ColumnCells,
  length: number,
  missing: MissingTokens,
  out: Float64Array,
): void {
  if (column.kind === 'text') {
    // Numbers come from the batch's shared parse; only other text is hashed from its bytes.
    const { values } = parseNumberColumn(column, length);
    const { bytes, start, end, quoted } = column;
    // Stryker disable next-line EqualityOperator: one slot past the batch is written where hashBatch never reads (its buffer is at least that long)
    for (let i = 0; i < length; i++) {
      const value = values[i];
      // Stryker disable next-line ConditionalExpression: a shortcut; hashTrimmedBytes parses the same numbers
      if (!Number.isNaN(value)) out[i] = hashNumber(value);
      else if (missing.isMissing(bytes, start[i], end[i], quoted !== null && quoted[i] === 1))
        out[i] = MISSING_HASH;
      else out[i] = hashUnmissingCell(column, i);
    }
  } else {
    const values = column.values;
    // Stryker disable next-line EqualityOperator: one slot past the batch is written where hashBatch never reads (its buffer is at least that long)
    for (let i = 0; i < length; i++) out[i] = hashValueCell(values[i], missing);
  }
}

/** Computes row hashes over a chosen set of columns, in sorted-name order. */
class RowHasher {
  readonly missing: MissingTokens;
  private readonly exclude: ReadonlySet<string>;
  private readonly include: ReadonlySet<string> | undefined;
  /** Columns seen in the data and hashed (not excluded, and included when a list was given). */
  readonly hashed = new Set<string>();
  /** Columns of `hashed` that had at least one non-missing value. */
  readonly withValues = new Set<string>();
  /** Every column seen in the data. */
  readonly seen = new Set<string>();
  // Stryker disable next-line ArrayDeclaration: replaced by the first hashBatch before it is read
  private plan: { index: number; name: string; nameHash: number }[] = [];
  /** The column list the plan was made for: undefined until the first batch, which makes one. */
  private planFor: readonly string[] | undefined;
  private planLength = 0;
  private cells = new Float64Array(0);
  hashes = new Float64Array(0);

  constructor(
    missingTokens: readonly string[] | undefined,
    // Stryker disable next-line ArrayDeclaration: a default naming a column no data has excludes nothing either
    exclude: readonly string[] = [],
    include?: readonly string[],
  ) {
    this.missing = new MissingTokens(missingTokens);
    this.exclude = new Set(exclude);
    this.include = include ? new Set(include) : undefined;
  }

  /** Row hashes of the batch, in `this.hashes[0..batch.length)`. */
  hashBatch(batch: RowBatch, columns: readonly string[]): Float64Array {
    const n = batch.length;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: reallocating more often only costs time
    if (this.hashes.length < n) {
      this.hashes = new Float64Array(n);
      this.cells = new Float64Array(n);
    }
    // A guard: the reader's names and the batch's columns have the same length (batch.ts).
    // Stryker disable next-line MethodExpression: see above
    const width = Math.min(columns.length, batch.columns.length);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a cache; making the plan again gives the same plan
    if (columns !== this.planFor || width !== this.planLength) this.makePlan(columns, width);
    const hashes = this.hashes;
    const cells = this.cells;
    hashes.fill(ROW_SEED, 0, n);
    for (const { index, name, nameHash } of this.plan) {
      hashColumnCells(batch.columns[index], n, this.missing, cells);
      let any = false;
      for (let i = 0; i < n; i++) {
        const cell = cells[i];
        if (cell === MISSING_HASH) continue;
        any = true;
        // Mixing in the column name keeps rows apart whose values sit in different columns,
        // even though missing cells are skipped.
        // Any mixing applied alike to both files compares rows alike; mod 2^52 keeps it exact.
        // Stryker disable next-line ArithmeticOperator: see above
        let mixed = cell + nameHash;
        // Stryker disable next-line ConditionalExpression,EqualityOperator,AssignmentOperator: see above
        if (mixed >= TWO_52) mixed -= TWO_52;
        hashes[i] = combineHashes(hashes[i], mixed);
      }
      if (any) this.withValues.add(name);
    }
    return hashes;
  }

  private makePlan(columns: readonly string[], width: number): void {
    const plan: { index: number; name: string; nameHash: number }[] = [];
    for (let index = 0; index < width; index++) {
      const name = columns[index];
      this.seen.add(name);
      if (this.exclude.has(name) || (this.include !== undefined && !this.include.has(name))) continue;
      this.hashed.add(name);
      plan.push({ index, name, nameHash: hashString(name) });
    }
    // Column names are unique. Any fixed order makes the hash independent of the files' column order;
    // descending (the >= mutant) is one too.
    // Stryker disable next-line EqualityOperator: see above
    plan.sort((a, b) => (a.name < b.name ? -1 : 1));
    this.plan = plan;
    this.planFor = columns;
    this.planLength = width;
  }
}

/** Options of the duplicate-row check. */
export interface DuplicateRowOptions {
  /** The data file (named in the finding). */
  file?: string;
  /** Severity of the finding (default `warning`). */
  severity?: Severity;
  /** Columns left out of the comparison (e.g. a row id or a timestamp of ingestion). */
  exclude?: readonly string[];
  /** Missing-value tokens of text formats (default: `DEFAULT_MISSING_TOKENS`). */
  missingTokens?: readonly string[];
}

export interface DuplicateRowChecker extends BatchConsumer {
  /** The finding, or null when no row repeats an earlier one. */
  finish(): Finding | null;
}

/**
 * Counts rows that repeat an earlier row (the first occurrence is not counted) and keeps the lines
 * of the first repeats as examples. Memory: one 8-byte slot per distinct row (at most 70% full).
 */
export function createDuplicateRowChecker(options: DuplicateRowOptions = {}): DuplicateRowChecker {
  const hasher = new RowHasher(options.missingTokens, options.exclude);
  const seen = new HashSet52();
  const lines: number[] = [];
  let rows = 0;
  let duplicates = 0;
  return {
    add(batch, columns) {
      const hashes = hasher.hashBatch(batch, columns);
      for (let i = 0; i < batch.length; i++) {
        if (seen.add(hashes[i])) continue;
        duplicates++;
        if (lines.length < MAX_EXAMPLE_LINES) lines.push(batch.lines[i]);
      }
      rows += batch.length;
    },
    finish() {
      if (duplicates === 0) return null;
      // Stryker disable next-line ArrayDeclaration: any list filtered by the columns seen, when none was given
      const excluded = (options.exclude ?? []).filter((name) => hasher.seen.has(name));
      const scope = excluded.length > 0 ? `all columns except ${quoteList(excluded)}` : 'all columns';
      return {
        check: DATA_CHECKS.duplicateRows,
        severity: options.severity ?? 'warning',
        message:
          `${plural(duplicates, 'row')} (${formatShare(duplicates, rows)} of ${rows}) repeat an earlier row on ${scope} ` +
          `(e.g. ${lineList(lines)}). Remove the duplicates, or exclude the columns that legitimately repeat.`,
        count: duplicates,
        lines,
        ...(options.file !== undefined ? { file: options.file } : {}),
      };
    },
  };
}

/** Options of the training-row index. */
export interface TrainingRowIndexOptions {
  /**
   * Hash only these columns. Pass the evaluated data's columns when known before the training data
   * is read (CSV, Parquet headers): then the comparison is on exactly the shared columns even when
   * the training data has more (e.g. the label). Default: every training column.
   */
  columns?: readonly string[];
  /** Columns left out of the comparison. */
  exclude?: readonly string[];
  /** Missing-value tokens of text formats; the leakage checker uses the same. */
  missingTokens?: readonly string[];
  /** The training file (named in findings). */
  file?: string;
}

/** The row hashes of the training data, for {@link createLeakageChecker}. */
export interface TrainingRowIndex extends BatchConsumer {
  /** Training rows added. */
  readonly rows: number;
  /** Distinct training rows. */
  readonly distinctRows: number;
  /** Training rows that have an identical row elsewhere in the training data (the data's own rate of twins). */
  readonly rowsWithTwin: number;

  /** Bytes held by the hash table. */
  readonly byteLength: number;
  /** The columns that were hashed, sorted. */
  readonly columns: readonly string[];
  /** @internal */
  readonly state: TrainingIndexState;
}

/** @internal The parts of the index the leakage checker reads. */
export interface TrainingIndexState {
  readonly set: HashSet52;
  readonly hasher: RowHasher;
  readonly options: TrainingRowIndexOptions;
}

/** Collects the normalized row hashes of the training data (stream it through `add`). */
export function createTrainingRowIndex(options: TrainingRowIndexOptions = {}): TrainingRowIndex {
  const hasher = new RowHasher(options.missingTokens, options.exclude, options.columns);
  const set = new HashSet52();
  // Rows seen more than once, each once: with the repeats, how many training rows have a twin.
  const repeated = new HashSet52();
  let rows = 0;
  let repeats = 0;
  return {
    add(batch, columns) {
      const hashes = hasher.hashBatch(batch, columns);
      for (let i = 0; i < batch.length; i++) {
        if (set.add(hashes[i])) continue;
        repeats++;
        repeated.add(hashes[i]);
      }
      rows += batch.length;
    },
    get rows() {
      return rows;
    },
    get rowsWithTwin() {
      return repeats + repeated.size;
    },
    get distinctRows() {
      return set.size;
    },
    get byteLength() {
      return set.byteLength;
    },
    get columns() {
      return [...hasher.hashed].sort();
    },
    state: { set, hasher, options },
  };
}

/** Options of the leakage check. */
export interface LeakageOptions {
  /** The evaluated data file (named in the finding). */
  file?: string;
  /** The training file (named in the message); default: the index's `file`. */
  trainFile?: string;
  /** Severity of the finding (default `error`). */
  severity?: Severity;
  /** Ignored: the index's missing tokens are used, so both sides normalize alike. */
  missingTokens?: readonly string[];
  /**
   * Shared rows are leakage when more than the training data's own rate of identical rows
   * explains: when P(at least this many | that rate) is below this (default 0.01).
   */
  pValue?: number;
  /** Shared rows up to this share of the evaluated rows are tolerated (reported as info); default 0. */
  maxShare?: number;
}

/** Defaults of the leakage decision. */
export const LEAKAGE_DEFAULTS = { pValue: 0.01, maxShare: 0 } as const;

export interface LeakageChecker extends BatchConsumer {
  /** The finding, or null when no evaluated row occurs in the training data. */
  finish(): Finding | null;
}

/**
 * Counts rows of the evaluated data whose normalized hash is in the training index. The rows are
 * compared on the columns both files have (minus excluded ones); the message names the compared
 * columns when the files' columns differ. When the index hashed a column (with values) that the
 * evaluated data lacks, no row can match: the result is then a warning that says so, instead of a
 * misleading "no leakage" (build the index with `columns` to avoid it).
 */
export function createLeakageChecker(index: TrainingRowIndex, options: LeakageOptions = {}): LeakageChecker {
  const { set, hasher: trainHasher, options: indexOptions } = index.state;
  // Same normalization as the index; hash only columns the index hashed.
  let hasher: RowHasher | undefined;
  const lines: number[] = [];
  let rows = 0;
  let leaked = 0;
  const trainFile = options.trainFile ?? indexOptions.file;
  const trainName = trainFile !== undefined ? ` (${trainFile})` : '';
  return {
    add(batch, columns) {
      hasher ??= new RowHasher(trainHasher.missing.list, indexOptions.exclude, [...trainHasher.hashed]);
      const hashes = hasher.hashBatch(batch, columns);
      for (let i = 0; i < batch.length; i++) {
        if (!set.has(hashes[i])) continue;
        leaked++;
        if (lines.length < MAX_EXAMPLE_LINES) lines.push(batch.lines[i]);
      }
      rows += batch.length;
    },
    finish() {
      const evaluated = hasher?.seen ?? new Set<string>();
      const excluded = new Set(indexOptions.exclude ?? []);
      const trainOnly = [...trainHasher.seen].filter((c) => !evaluated.has(c) && !excluded.has(c)).sort();
      const evalOnly = [...evaluated].filter((c) => !trainHasher.seen.has(c) && !excluded.has(c)).sort();
      const compared = [...trainHasher.hashed].filter((c) => evaluated.has(c)).sort();
      const file = options.file !== undefined ? { file: options.file } : {};
      const blocking = [...trainHasher.withValues].filter((c) => !evaluated.has(c)).sort();
      if (blocking.length > 0 && rows > 0) {
        return {
          check: DATA_CHECKS.leakage,
          severity: 'warning',
          message:
            `Leakage not checked: the training data${trainName} has ${plural(blocking.length, 'column')} that the evaluated data lacks ` +
            `(${quoteList(blocking)}), so no row could match. Exclude ${blocking.length === 1 ? 'it' : 'them'} from the comparison.`,
          count: 1,
          ...file,
        };
      }
      if (compared.length === 0 && rows > 0) {
        return {
          check: DATA_CHECKS.leakage,
          severity: 'warning',
          message: `Leakage not checked: the training data${trainName} and the evaluated data share no column to compare rows on. Check that both files are the right ones.`,
          count: 1,
          ...file,
        };
      }
      if (leaked === 0) return null;
      let scope = '';
      if (trainOnly.length > 0 || evalOnly.length > 0 || excluded.size > 0) {
        scope = ` Compared on ${plural(compared.length, 'shared column')} (${quoteList(compared)})`;
        if (trainOnly.length > 0) scope += `; only in the training data: ${quoteList(trainOnly)}`;
        if (evalOnly.length > 0) scope += `; only in the evaluated data: ${quoteList(evalOnly)}`;
        scope += '.';
      }
      const decision = decideLeakage(
        leaked,
        rows,
        { rows: index.rows, rowsWithTwin: index.rowsWithTwin },
        options,
      );
      return {
        check: DATA_CHECKS.leakage,
        severity: decision.leakage ? (options.severity ?? 'error') : 'info',
        message:
          `${plural(leaked, 'row')} of ${rows} (${formatShare(leaked, rows)}) also occur in the training data${trainName} ` +
          `(e.g. ${lineList(lines)}). ${decision.rule}${decision.leakage ? ": the evaluation overstates the model's quality. Remove them from one side." : '.'}${scope}`,
        count: leaked,
        lines,
        ...file,
      };
    },
  };
}

/**
 * Whether `shared` of `rows` evaluated rows found in the training data are leakage, or what the
 * data's own identical rows explain. Real data repeats itself (iris has identical measurements in
 * different rows; survey data repeats whole rows), so a row of the evaluated data equals some
 * training row with about the probability q that a training row equals another one, estimated as
 * (rows with a twin + 1) / (training rows + 1) so that data without twins still allows a stray
 * collision. Leakage when the count is above the tolerated share and P(X ≥ shared) for
 * X ~ Binomial(rows, q) is below `pValue` (default 0.01). (Splitting the training data's clusters
 * of identical rows at random gives the same spread: each row lands in the holdout on its own.)
 */
export function decideLeakage(
  shared: number,
  rows: number,
  training: { rows: number; rowsWithTwin: number },
  options: { pValue?: number; maxShare?: number } = {},
): { leakage: boolean; expected: number; pValue: number; rule: string } {
  const level = options.pValue ?? LEAKAGE_DEFAULTS.pValue;
  const maxShare = options.maxShare ?? LEAKAGE_DEFAULTS.maxShare;
  const q = (training.rowsWithTwin + 1) / (training.rows + 1);
  const expected = rows * q;
  const pValue = binomialUpperTail(shared, rows, q);
  const chance = `${formatShare(training.rowsWithTwin, Math.max(training.rows, 1))} of the training rows have an identical twin there, so about ${formatCount(expected)} shared rows are expected by chance`;
  if (maxShare > 0 && shared <= maxShare * rows) {
    return {
      leakage: false,
      expected,
      pValue,
      rule: `Within the tolerated share ${formatShare(maxShare, 1)} (leakage.max-share); ${chance}`,
    };
  }
  // Stryker disable next-line EqualityOperator: a binomial tail is never exactly 1e-4
  const p = pValue < 1e-4 ? pValue.toExponential(1) : String(Number(pValue.toPrecision(2)));
  if (pValue < level) {
    return {
      leakage: true,
      expected,
      pValue,
      rule: `That is more than chance explains: ${chance}, and ${shared} or more has probability ${p} < ${level}`,
    };
  }
  return {
    leakage: false,
    expected,
    pValue,
    rule: `The data's own identical rows explain it (not leakage): ${chance}, and ${shared} or more has probability ${p} ≥ ${level}`,
  };
}

/** P(X ≥ k) for X ~ Binomial(n, q), summed in log space from k upwards (1 when k is at most the mean). */
export function binomialUpperTail(k: number, n: number, q: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with q = 0 every term is exp(-Infinity) = 0
  if (q <= 0) return 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with q = 1 and k <= n, k <= n * q returns 1 below
  if (q >= 1) return 1;
  if (k <= n * q) return 1;
  const logQ = Math.log(q);
  const logP = Math.log1p(-q);
  const logChoose = (i: number) => logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1);
  let total = 0;
  for (let i = k; i <= n; i++) {
    const term = Math.exp(logChoose(i) + i * logQ + (n - i) * logP);
    total += term;
    // Past the mean the terms fall at least geometrically: stop once they no longer count.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: summing the negligible terms too gives the same double
    if (term < total * 1e-17) break;
  }
  return Math.min(1, total);
}

function formatCount(value: number): string {
  // Stryker disable next-line EqualityOperator: exactly 10 prints as 10 either way
  return value >= 10 ? String(Math.round(value)) : String(Number(value.toPrecision(2)));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A share as a percentage with enough digits to be non-zero. */
export function formatShare(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const percent = (100 * part) / whole;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: 0 and exactly 10 print alike either way
  if (percent === 0 || percent >= 10) return `${Math.round(percent * 10) / 10}%`;
  return `${Number(percent.toPrecision(2))}%`;
}

function lineList(lines: readonly number[]): string {
  return lines.length === 1
    ? `line ${lines[0]}`
    : `lines ${lines.slice(0, 5).join(', ')}${lines.length > 5 ? ', …' : ''}`;
}

function quoteList(names: readonly string[]): string {
  const shown = names.slice(0, 10).map((n) => `"${n}"`);
  return names.length > 10 ? `${shown.join(', ')} and ${names.length - 10} more` : shown.join(', ');
}

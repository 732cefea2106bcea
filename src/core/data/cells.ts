/**
 * Conversions of single cells, shared by the profile, the contract check and the row checks.
 *
 * Text cells are converted straight from bytes: a byte-level number parser is about three times
 * cheaper than decoding a string and calling `parseFloat`, and it is exact (Clinger's fast path
 * for up to 15 significant digits and small exponents, `Number()` on the text otherwise), so the
 * values are the same double a Python or pandas reader gets.
 */
import type { ColumnCells, TextColumn } from './batch.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

/** Exact powers of ten representable as doubles (10^0 … 10^22). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Tokens read as missing values in text formats, besides the empty unquoted cell. */
export const DEFAULT_MISSING_TOKENS = ['NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '#N/A'] as const;

/** What {@link parseNumberBytes} can report besides the value: whether it had integer syntax (no `.`, no exponent). */
export interface NumberSyntax {
  integer: boolean;
}

const SPACE = 0x20;
const TAB = 0x09;

/**
 * Parses the bytes `[start, end)` as a decimal number (optional sign, digits, fraction, exponent;
 * `inf`/`Infinity` with optional sign; surrounding spaces ignored). Returns NaN when the text is
 * not a number. When `syntax` is given, sets `syntax.integer` to whether the number had integer
 * syntax (false when it is not a number).
 */
export function parseNumberBytes(
  bytes: Uint8Array,
  start: number,
  end: number,
  syntax?: NumberSyntax,
): number {
  if (syntax) syntax.integer = false;
  if (start >= end) return Number.NaN;
  // Trim only when an edge byte is a space or tab (rare): keeps the common path branch-free.
  if (bytes[start] <= SPACE || bytes[end - 1] <= SPACE) {
    while (start < end && (bytes[start] === SPACE || bytes[start] === TAB)) start++;
    while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
    if (start >= end) return Number.NaN;
  }
  let i = start;
  let negative = false;
  let c = bytes[i];
  if (c === 0x2d /* - */ || c === 0x2b /* + */) {
    negative = c === 0x2d;
    if (++i === end) return Number.NaN;
  }
  // Every digit goes into the mantissa; past 15 digits it may be inexact, and then the slow path
  // below reparses the text, so only its use on ≤ 15 digits matters.
  let mantissa = 0;
  let digits = 0;
  let exponent = 0;
  let integer = true;
  const integerStart = i;
  while (i < end) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    i++;
  }
  digits = i - integerStart;
  if (i < end && bytes[i] === 0x2e /* . */) {
    integer = false;
    const fractionStart = ++i;
    while (i < end) {
      const d = bytes[i] - 0x30;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      i++;
    }
    exponent = fractionStart - i;
    digits -= exponent;
  }
  if (digits === 0) return parseSpecialNumber(bytes, start, end);
  if (i < end) {
    c = bytes[i];
    if (c !== 0x65 && c !== 0x45 /* e E */) return Number.NaN;
    integer = false;
    i++;
    let expNegative = false;
    if (i < end && (bytes[i] === 0x2d || bytes[i] === 0x2b)) {
      expNegative = bytes[i] === 0x2d;
      i++;
    }
    if (i === end) return Number.NaN;
    let e = 0;
    while (i < end) {
      const d = bytes[i] - 0x30;
      if (d < 0 || d > 9) return Number.NaN;
      if (e < 100000) e = e * 10 + d;
      i++;
    }
    exponent += expNegative ? -e : e;
  }
  if (syntax) syntax.integer = integer;
  // Clinger's fast path: mantissa exact (≤ 15 digits < 2^53) and |exponent| ≤ 22 gives a correctly rounded result.
  if (digits <= 15 && exponent >= -22 && exponent <= 22) {
    const value = exponent < 0 ? mantissa / POWERS_OF_TEN[-exponent] : mantissa * POWERS_OF_TEN[exponent];
    return negative ? -value : value;
  }
  // Rare: long mantissas or large exponents. Number() is correctly rounded.
  return Number(latin1.decode(bytes.subarray(start, end)));
}

function parseSpecialNumber(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 3 || length > 9) return Number.NaN;
  // Only "inf…" or "±inf…" can follow: reject everything else before decoding text.
  const first = bytes[start] === 0x2b || bytes[start] === 0x2d ? bytes[start + 1] : bytes[start];
  if ((first | 0x20) !== 0x69 /* i */) return Number.NaN;
  const text = latin1.decode(bytes.subarray(start, end)).toLowerCase();
  switch (text) {
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return Number.NaN;
  }
}

/** Parses `true`/`false` in any case. Returns 1, 0, or -1 when the text is not a boolean. */
export function parseBooleanBytes(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 4) {
    if (
      (bytes[start] | 0x20) === 0x74 &&
      (bytes[start + 1] | 0x20) === 0x72 &&
      (bytes[start + 2] | 0x20) === 0x75 &&
      (bytes[start + 3] | 0x20) === 0x65
    )
      return 1;
  } else if (length === 5) {
    if (
      (bytes[start] | 0x20) === 0x66 &&
      (bytes[start + 1] | 0x20) === 0x61 &&
      (bytes[start + 2] | 0x20) === 0x6c &&
      (bytes[start + 3] | 0x20) === 0x73 &&
      (bytes[start + 4] | 0x20) === 0x65
    )
      return 0;
  }
  return -1;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses an ISO 8601 date or date-time (`2024-01-31`, `2024-01-31T12:00:00Z`, `2024-01-31 12:00`,
 * with optional fraction and offset; no offset means UTC). Returns epoch milliseconds or NaN.
 */
export function parseDateText(text: string): number {
  if (text.length < 10 || text.length > 35) return Number.NaN;
  const m = ISO_DATE.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) return Number.NaN;
  const hours = h === undefined ? 0 : Number(h);
  const minutes = mi === undefined ? 0 : Number(mi);
  const seconds = s === undefined ? 0 : Number(s);
  if (hours > 23 || minutes > 59 || seconds > 60) return Number.NaN;
  const millis = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let time = Date.UTC(Number(y), month - 1, day, hours, minutes, seconds, millis);
  // Date.UTC rolls 2023-02-30 over into March: reject dates that do not exist.
  if (new Date(time).getUTCDate() !== day) return Number.NaN;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60000;
  }
  return time;
}

/** Bytes-level check that a text cell could be a date (starts `dddd-dd-dd`), before decoding it. */
export function looksLikeDateBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 10) return false;
  return (
    bytes[start + 4] === 0x2d &&
    bytes[start + 7] === 0x2d &&
    isDigit(bytes[start]) &&
    isDigit(bytes[start + 1]) &&
    isDigit(bytes[start + 2]) &&
    isDigit(bytes[start + 3]) &&
    isDigit(bytes[start + 5]) &&
    isDigit(bytes[start + 6]) &&
    isDigit(bytes[start + 8]) &&
    isDigit(bytes[start + 9])
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Recognizes missing text cells: an unquoted empty cell, or one of the missing tokens.
 * `tokens` are compared byte for byte (they are ASCII).
 */
export class MissingTokens {
  private readonly tokens: Uint8Array[];
  /** Longest token, in bytes: longer cells are never missing (checked inline by hot loops). */
  readonly maxLength: number;
  readonly list: readonly string[];
  constructor(tokens: readonly string[] = DEFAULT_MISSING_TOKENS) {
    this.list = tokens;
    this.tokens = tokens.map((t) => new TextEncoder().encode(t));
    this.maxLength = Math.max(0, ...this.tokens.map((t) => t.length));
  }
  /** True when bytes `[start, end)` are a missing value. A quoted empty string is not missing. */
  isMissing(bytes: Uint8Array, start: number, end: number, quoted: boolean): boolean {
    const length = end - start;
    if (length === 0) return !quoted;
    if (length > this.maxLength || quoted) return false;
    for (const token of this.tokens) {
      if (token.length !== length) continue;
      let same = true;
      for (let k = 0; k < length; k++) {
        if (token[k] !== bytes[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    return false;
  }
  /** True when a JS value is missing (null, undefined, NaN, or one of the tokens as a string). */
  isMissingValue(value: unknown): boolean {
    if (value === null || value === undefined) return true;
    if (typeof value === 'number') return Number.isNaN(value);
    if (typeof value === 'string') return value === '' || this.list.includes(value);
    return false;
  }
}

/** The text of cell `i` of a text column, decoded as UTF-8 with `""` unescaped. */
export function textCell(column: TextColumn, i: number): string {
  const text = utf8.decode(column.bytes.subarray(column.start[i], column.end[i]));
  return column.escaped !== null && column.escaped[i] === 1 ? text.replaceAll('""', '"') : text;
}

/**
 * The value of cell `i` of any column as a JS value: a string for text cells, the stored value
 * otherwise. Meant for messages and slow paths, not for hot loops.
 */
export function cellValue(column: ColumnCells, i: number): unknown {
  return column.kind === 'text' ? textCell(column, i) : column.values[i];
}

// ---------------------------------------------------------------------------------------------
// Hashing: one 52-bit hash per value, used for distinct counts (HyperLogLog), exact distinct
// sets, duplicate rows and train/test leakage. Text is hashed as its UTF-8 bytes, so a CSV cell
// and the same string from JSONL hash alike.

const float64 = new Float64Array(1);
const float64Words = new Uint32Array(float64.buffer);

/** Two 32-bit lanes mixed into a non-negative integer below 2^52 (exact in a double). */
function finish(h1: number, h2: number): number {
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0x2c1b3c6d);
  h2 ^= h2 >>> 12;
  h2 = Math.imul(h2, 0x297a2d39);
  h2 ^= h2 >>> 15;
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 12) & 0xfffff);
}

/** Hash of the bytes `[start, end)` (e.g. a text cell, unescaped or not: pass what you compare). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h1 = 0x811c9dc5 ^ (end - start);
  let h2 = 0x9e3779b9;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return finish(h1, h2);
}

/** Hash of a JS string as its UTF-8 bytes: equal to {@link hashBytes} of the encoded string. */
export function hashString(text: string): number {
  // Fast path for ASCII, the common case; other strings are encoded once.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    const bytes = new TextEncoder().encode(text);
    return hashBytes(bytes, 0, bytes.length);
  }
  let h1 = 0x811c9dc5 ^ text.length;
  let h2 = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return finish(h1, h2);
}

/**
 * Mixes two 32-bit words so that every input bit reaches both output lanes. (Small integers as
 * doubles have a zero low word: hashing the words lane by lane would leave ~20 bits of entropy.)
 */
function mixWords(lo: number, hi: number): number {
  // Cross the words once, then finish() avalanches each lane.
  return finish(lo ^ Math.imul(hi ^ 0x165667b1, 0x9e3779b1), hi ^ Math.imul(lo ^ 0x27d4eb2f, 0x85ebca6b));
}

/** Hash of a number by its value (1, 1.0 and 1e0 hash alike; -0 as 0; all NaNs alike). */
export function hashNumber(value: number): number {
  float64[0] = value === 0 ? 0 : Number.isNaN(value) ? Number.NaN : value;
  return mixWords(float64Words[0], float64Words[1]);
}

/** Combines a running row hash with the hash of the next cell (order-sensitive). */
export function combineHashes(running: number, next: number): number {
  // 32-bit lanes without divisions: the top 32 of the 52 bits (× 2^-20 is exact) and the low 32.
  const runningHigh = (running * 9.5367431640625e-7) >>> 0;
  const runningLow = running >>> 0;
  const nextHigh = (next * 9.5367431640625e-7) >>> 0;
  const nextLow = next >>> 0;
  return finish(
    Math.imul(runningHigh ^ Math.imul(nextHigh, 0x9e3779b1), 0x85ebca6b) ^ nextLow,
    Math.imul(runningLow ^ Math.imul(nextLow, 0xc2b2ae35), 0x27d4eb2f) ^ nextHigh,
  );
}

// ---------------------------------------------------------------------------------------------
// Numbers of a text column, parsed once per batch and shared by every consumer of that batch
// (profile, contract, row hashes): parsing is the largest cost of a CSV pass.

/** Per cell: the number (NaN when the text is not a number) and whether it had integer syntax. */
export interface ParsedNumbers {
  readonly values: Float64Array;
  readonly integer: Uint8Array;
}

// Keyed by the column object: readers make a new one for every batch (see TextColumn in batch.ts),
// so a cached entry never outlives its batch's bytes.
const parsedCache = new WeakMap<TextColumn, { length: number; parsed: ParsedNumbers }>();

/** The numbers of the first `length` cells of a text column, parsed once per batch. */
export function parseNumberColumn(column: TextColumn, length: number): ParsedNumbers {
  const cached = parsedCache.get(column);
  if (cached !== undefined && cached.length === length) return cached.parsed;
  // Sized to the batch: a wide table's batches are short, and it has a buffer per column.
  const parsed = {
    values: new Float64Array(Math.max(length, 1)),
    integer: new Uint8Array(Math.max(length, 1)),
  };
  const { bytes, start, end } = column;
  const { values, integer } = parsed;
  const syntax: NumberSyntax = { integer: false };
  for (let i = 0; i < length; i++) {
    values[i] = parseNumberBytes(bytes, start[i], end[i], syntax);
    integer[i] = syntax.integer ? 1 : 0;
  }
  parsedCache.set(column, { length, parsed });
  return parsed;
}

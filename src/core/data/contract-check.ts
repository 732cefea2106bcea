/**
 * Streaming check of data against a data contract, column by column.
 *
 * Each column's schema is prepared once: the common keywords (type, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, enum of plain values, minLength, maxLength, pattern) are
 * checked inline with JSON Schema's semantics, and whatever else the schema says (format,
 * multipleOf, const, anyOf, …) is compiled with Ajv and run on the same converted value. Like Ajv
 * with `allErrors: false`, one cell yields at most one violation (the first failing keyword).
 *
 * Cells are converted once, by the column's declared type:
 * - CSV text: a missing cell (empty, or a missing token) is `null`; otherwise a number when the
 *   type allows numbers and the text parses as one, else a boolean when allowed and the text is
 *   `true`/`false`, else the string when strings are allowed; text that fits no allowed type is a
 *   `type` violation. No type declared: number, boolean, then string. Only columns with string
 *   keywords are decoded to JS strings.
 * - JSONL/Parquet values are used as they are, except: missing values (null, absent, NaN, the
 *   empty string and missing tokens) are `null`, bigints become numbers, and `Date`s become ISO
 *   text (`2024-01-31` when the format is `date` and the time is midnight UTC).
 * A `null` in a column whose type does not allow it is reported as rule `null` (a JSON Schema
 * type violation, named for what it is: a missing value).
 */
import type { ValidateFunction } from 'ajv';
import { didYouMean } from '../suggest.ts';
import type { RowBatch, TextColumn, ValueColumn } from './batch.ts';
import { hashBytes, MissingTokens, parseBooleanBytes, parseNumberColumn, textCell } from './cells.ts';
import type {
  ColumnRules,
  ColumnSchema,
  ContractRules,
  DataContract,
  JsonType,
  RuleLevel,
} from './contract.ts';
import {
  ANNOTATION_KEYWORDS,
  compilePattern,
  getContractAjv,
  type LinearRegExp,
  registerExtensionKeywords,
} from './contract-ajv.ts';
import {
  type BatchConsumer,
  DATA_CHECKS,
  type Finding,
  MAX_EXAMPLE_LINES,
  type Severity,
} from './findings.ts';
import { HashSet52 } from './hash-set.ts';
import { formatShare, hashTextCell, hashValueCell, MISSING_HASH } from './row-checks.ts';

export interface ContractCheckOptions {
  /** The data file (findings refer to its lines). */
  file: string;
  /** Missing-value tokens of text formats (default: `DEFAULT_MISSING_TOKENS`). */
  missingTokens?: readonly string[];
  /** Severity of contract violations (default `error`). */
  severity?: Severity;
  /** Overrides the contract's handling of columns it does not describe. */
  unexpectedColumns?: RuleLevel;
}

export interface ContractChecker extends BatchConsumer {
  /**
   * The findings, after the last batch. `rowCount`: rows in the data (for `x-mlops.rows` and
   * missing shares); `columns`: the data's final column list, when it may hold columns no batch
   * had (e.g. a file with a header and no rows).
   */
  finish(rowCount: number, columns?: readonly string[]): Finding[];
}

/** Distinct values whose pattern result a column remembers. */
const PATTERN_CACHE_SIZE = 4096;

/** How many example values a finding keeps. */
const MAX_EXAMPLES = 3;
const MAX_EXAMPLE_LENGTH = 80;

// Bit per JSON type; a type list becomes a mask of allowed bits. `number` allows integers too.
const T_NULL = 1;
const T_BOOLEAN = 2;
const T_INTEGER = 4;
const T_NUMBER = 8;
const T_STRING = 16;
const T_ARRAY = 32;
const T_OBJECT = 64;
const T_ANY = 127;
const TYPE_BITS: Record<JsonType, number> = {
  null: T_NULL,
  boolean: T_BOOLEAN,
  integer: T_INTEGER,
  number: T_NUMBER | T_INTEGER,
  string: T_STRING,
  array: T_ARRAY,
  object: T_OBJECT,
};

// Keywords checked inline, and keywords that never fail: neither needs Ajv.
// Stryker disable StringLiteral: a keyword also handed to Ajv is checked inline first, so Ajv never reports it (the same linear-time pattern engine too); only speed changes
const INLINE_KEYWORDS = new Set([
  'type',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
]);
// Stryker restore StringLiteral
const ANNOTATIONS: ReadonlySet<string> = new Set(ANNOTATION_KEYWORDS);

interface Violation {
  rule: string;
  count: number;
  lines: number[];
  examples: string[];
  /** Ajv's message for keywords it checked (from the first occurrence). */
  detail?: string;
  /** The first example as shown in the message (strings quoted). */
  shown: string;
  /** Some of the values were infinite numbers (`inf`, `1e999`): the message says why they fail. */
  infinite?: boolean;
}

/** The prepared checks and running counts of one column. */
class ColumnCheck {
  readonly name: string;
  readonly rules: ColumnRules;
  readonly typeMask: number;
  readonly typeText: string;
  readonly minimum: number;
  readonly maximum: number;
  readonly exclusiveMinimum: number;
  readonly exclusiveMaximum: number;
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern: LinearRegExp | null;
  /**
   * Pattern results by value: the linear-time engine costs ~0.5 µs a test, and pattern columns
   * (codes, categories) mostly repeat their values. Dropped when the values do not repeat.
   */
  private patternCache: Map<string, boolean> | null = new Map();
  private patternCacheHits = 0;
  readonly enumSet: Set<unknown> | null;
  readonly enumText: string;
  readonly rest: ValidateFunction | null;
  readonly dateFormat: boolean;
  readonly format: string | undefined;
  /** A text cell must be decoded to a JS string (some keyword looks at strings). */
  readonly needsString: boolean;
  /**
   * When `enum` is the only keyword that looks at strings: its strings as UTF-8 bytes by hash, so
   * that CSV cells are matched without decoding them.
   */
  readonly enumBytes: Map<number, Uint8Array[]> | null;
  /** The column has nothing to check and no rules: skip its cells. */
  readonly trivial: boolean;
  /** Global index of the first row that had this column (JSONL columns may appear late). */
  firstRow = -1;
  missing = 0;
  readonly missingLines: number[] = [];
  readonly violations = new Map<string, Violation>();
  readonly unique: HashSet52 | null;
  uniqueViolation: Violation | null = null;
  private detail: string | undefined;

  constructor(name: string, schema: ColumnSchema | boolean, rules: ColumnRules, contract: DataContract) {
    this.name = name;
    this.rules = rules;
    const object: ColumnSchema = typeof schema === 'object' ? schema : {};
    const type = object.type;
    const types: JsonType[] = type === undefined ? [] : Array.isArray(type) ? type : [type];
    this.typeMask = types.length === 0 ? T_ANY : types.reduce((mask, t) => mask | TYPE_BITS[t], 0);
    this.typeText = types.join(' or ');
    const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
    this.minimum = numberOr(object.minimum, Number.NEGATIVE_INFINITY);
    this.maximum = numberOr(object.maximum, Number.POSITIVE_INFINITY);
    this.exclusiveMinimum = numberOr(object.exclusiveMinimum, Number.NaN);
    this.exclusiveMaximum = numberOr(object.exclusiveMaximum, Number.NaN);
    this.minLength = numberOr(object.minLength, 0);
    this.maxLength = numberOr(object.maxLength, Number.POSITIVE_INFINITY);
    this.pattern = typeof object.pattern === 'string' ? compilePattern(object.pattern) : null;
    const plainEnum =
      Array.isArray(object.enum) && object.enum.every((v) => v === null || typeof v !== 'object');
    this.enumSet = plainEnum ? new Set(object.enum) : null;
    // Stryker disable next-line ConditionalExpression,StringLiteral: parseContract admits only an array as enum
    this.enumText = Array.isArray(object.enum) ? formatEnum(object.enum) : '';
    this.dateFormat = object.format === 'date';
    // Stryker disable next-line ConditionalExpression: parseContract admits only a string as format (or none: undefined either way)
    this.format = typeof object.format === 'string' ? object.format : undefined;

    // Whatever is not checked inline goes to Ajv, compiled once for the column.
    const rest: Record<string, unknown> = {};
    let restKeywords = 0;
    if (schema === false) {
      restKeywords++;
    } else {
      for (const [key, value] of Object.entries(object)) {
        // Stryker disable ConditionalExpression,LogicalOperator,MethodExpression,EqualityOperator,StringLiteral: handing Ajv a keyword that is also checked inline (it never reports it) or an extension keyword (which it ignores) changes only speed
        if (
          INLINE_KEYWORDS.has(key) ||
          ANNOTATIONS.has(key) ||
          key.startsWith('x-') ||
          (key === 'enum' && plainEnum)
        )
          continue;
        // Stryker restore ConditionalExpression,LogicalOperator,MethodExpression,EqualityOperator,StringLiteral
        rest[key] = value;
        restKeywords++;
      }
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: Ajv's validator of an empty schema passes everything, as no validator does
    if (restKeywords > 0) {
      const ajv = getContractAjv();
      // Keep `#/$defs/...` and `#/definitions/...` references resolvable: the column schema becomes the root.
      const compiled: object | boolean =
        schema === false
          ? false
          : {
              ...rest,
              ...(contract.$defs ? { $defs: contract.$defs } : {}),
              ...(contract.definitions ? { definitions: contract.definitions } : {}),
            };
      registerExtensionKeywords(ajv, compiled);
      this.rest = ajv.compile(compiled);
      // The validator keeps what it needs; dropping Ajv's cache entry avoids growing the shared instance.
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a cache entry, never looked up again
      if (typeof compiled === 'object') ajv.removeSchema(compiled);
    } else {
      this.rest = null;
    }
    const stringKeywords =
      // Stryker disable next-line ConditionalExpression: decoding cells that no keyword looks at changes only speed
      this.pattern !== null ||
      // Stryker disable next-line EqualityOperator: minLength >= 0 only decodes more cells (the `<=` sibling is killed by a minLength-only column)
      this.minLength > 0 ||
      this.maxLength !== Number.POSITIVE_INFINITY ||
      this.enumSet !== null ||
      this.rest !== null;
    this.needsString = stringKeywords;
    const onlyEnum =
      // Stryker disable next-line ConditionalExpression: without the byte table every cell is decoded and checked against the enum itself (slower, same result)
      this.enumSet !== null &&
      this.pattern === null &&
      this.minLength === 0 &&
      this.maxLength === Number.POSITIVE_INFINITY &&
      this.rest === null;
    if (onlyEnum) {
      const encoder = new TextEncoder();
      this.enumBytes = new Map();
      // Stryker disable next-line BlockStatement: an empty byte table only means every cell is decoded and checked against the enum itself
      for (const value of this.enumSet!) {
        if (typeof value !== 'string') continue;
        const encoded = encoder.encode(value);
        const hash = hashBytes(encoded, 0, encoded.length);
        const list = this.enumBytes.get(hash);
        if (list) list.push(encoded);
        // Stryker disable next-line ArrayDeclaration: as above, a string missing from the table is decoded and checked
        else this.enumBytes.set(hash, [encoded]);
      }
    } else {
      this.enumBytes = null;
    }
    this.unique = rules.unique === true ? new HashSet52() : null;
    this.trivial =
      // Stryker disable next-line ConditionalExpression: checking a column with nothing to check finds nothing; skipping it saves time
      this.typeMask === T_ANY &&
      !stringKeywords &&
      this.minimum === Number.NEGATIVE_INFINITY &&
      this.maximum === Number.POSITIVE_INFINITY &&
      Number.isNaN(this.exclusiveMinimum) &&
      Number.isNaN(this.exclusiveMaximum) &&
      rules.maxMissingShare === undefined &&
      rules.unique !== true;
  }

  /** The first keyword `value` fails (JSON Schema semantics), or null when it passes. */
  validate(value: unknown): string | null {
    if (value === null) {
      if ((this.typeMask & T_NULL) === 0) return 'null';
    } else {
      switch (typeof value) {
        case 'number': {
          const bit = Number.isInteger(value) ? T_INTEGER : T_NUMBER;
          if ((this.typeMask & bit) === 0) return 'type';
          // JSON has no Infinity: a JSONL `1e999` or a Parquet infinity is no JSON Schema number.
          if (value - value !== 0 && this.typeMask !== T_ANY) return 'type';
          if (value < this.minimum) return 'minimum';
          if (value > this.maximum) return 'maximum';
          if (value <= this.exclusiveMinimum) return 'exclusiveMinimum';
          if (value >= this.exclusiveMaximum) return 'exclusiveMaximum';
          break;
        }
        case 'string': {
          if ((this.typeMask & T_STRING) === 0) return 'type';
          // A string has between length/2 and length code points: count them only when that matters.
          const length = value.length;
          // Stryker disable next-line ConditionalExpression: a shortcut; the code-point count below finds every such string too
          if (length < this.minLength) return 'minLength';
          // Stryker disable next-line ConditionalExpression,EqualityOperator: counting code points of more strings changes only speed (the mutants that count fewer are killed by surrogate tests)
          if (length > this.maxLength || length < 2 * this.minLength) {
            const points = codePoints(value);
            if (points < this.minLength) return 'minLength';
            if (points > this.maxLength) return 'maxLength';
          }
          if (this.pattern !== null && !this.matchesPattern(value)) return 'pattern';
          break;
        }
        case 'boolean':
          if ((this.typeMask & T_BOOLEAN) === 0) return 'type';
          break;
        default:
          if ((this.typeMask & (Array.isArray(value) ? T_ARRAY : T_OBJECT)) === 0) return 'type';
      }
    }
    if (this.enumSet !== null && !this.enumSet.has(value)) return 'enum';
    if (this.rest !== null && !this.rest(value)) {
      const errors = this.rest.errors ?? [];
      // Stryker disable next-line ConditionalExpression,BlockStatement: Ajv reports at least one error whenever a value fails
      if (errors.length === 0) throw new Error('Ajv rejected a value without naming a keyword');
      // The outermost failing keyword (anyOf rather than one of its branches): Ajv reports a
      // keyword's own error after those of its subschemas, and stops at the first failing keyword.
      const error = errors[errors.length - 1];
      this.detail = error.message;
      // Prefixed so that a keyword Ajv checked (e.g. `maximum` inside `allOf`) is not described
      // with the inline bounds; `record` strips the prefix.
      return error.keyword === 'false schema' ? 'ajv:false' : `ajv:${error.keyword}`;
    }
    return null;
  }

  /** Whether `text` matches the pattern, from the cache when the value was seen. */
  private matchesPattern(text: string): boolean {
    const cache = this.patternCache;
    if (cache === null) return this.pattern!.test(text);
    const known = cache.get(text);
    // Stryker disable next-line ConditionalExpression,BlockStatement,UpdateOperator: a cache: a miss or an early drop tests the pattern again, with the same result
    if (known !== undefined) {
      // Stryker disable next-line UpdateOperator: see above
      this.patternCacheHits++;
      return known;
    }
    const result = this.pattern!.test(text);
    // Stryker disable next-line EqualityOperator,ConditionalExpression: see above
    if (cache.size < PATTERN_CACHE_SIZE) cache.set(text, result);
    // Stryker disable next-line EqualityOperator,ConditionalExpression: see above
    else if (this.patternCacheHits < cache.size) this.patternCache = null; // mostly distinct values
    return result;
  }

  /** Records one violation of `rule` at `line`, with the offending value (`display`: how to show it in the message). */
  record(rule: string, line: number, value: unknown, display?: string): void {
    let violation = this.violations.get(rule);
    if (violation === undefined) {
      const fromAjv = rule.startsWith('ajv:');
      violation = {
        rule: fromAjv ? rule.slice(4) : rule,
        count: 0,
        lines: [],
        examples: [],
        shown: display ?? showValue(value),
        // Stryker disable next-line ConditionalExpression: validate sets the detail before any Ajv rule is recorded
        ...(fromAjv && this.detail !== undefined ? { detail: this.detail } : {}),
      };
      this.violations.set(rule, violation);
    }
    addExample(violation, line, value);
  }

  /** Counts a missing cell at `line`. */
  countMissing(line: number): void {
    this.missing++;
    if (this.missingLines.length < MAX_EXAMPLE_LINES) this.missingLines.push(line);
  }

  checkText(column: TextColumn, length: number, lines: Float64Array, missing: MissingTokens): void {
    const { bytes, start, end, quoted } = column;
    const mask = this.typeMask;
    const numbers = (mask & T_INTEGER) !== 0;
    const booleans = (mask & T_BOOLEAN) !== 0;
    const strings = (mask & T_STRING) !== 0;
    const unique = this.unique;
    const enumBytes = this.enumBytes;
    // Numbers come from the batch's shared parse (the profile and row checks read the same).
    const parsedNumbers = numbers ? parseNumberColumn(column, length).values : null;
    for (let i = 0; i < length; i++) {
      const s = start[i];
      const e = end[i];
      let value: unknown;
      if (missing.isMissing(bytes, s, e, quoted !== null && quoted[i] === 1)) {
        this.countMissing(lines[i]);
        value = null;
      } else {
        if (unique !== null) this.checkUnique(hashTextCell(column, i, missing), lines[i], column, i);
        value = undefined;
        let infinite = false;
        if (numbers) {
          const n = parsedNumbers![i];
          // Finite numbers only: `inf` or `1e999` is no JSON number, so it is read as text.
          if (n - n === 0) value = n;
          else infinite = !Number.isNaN(n);
        }
        // Stryker disable next-line ConditionalExpression: a cell read as a number is never `true` or `false`
        if (value === undefined && booleans) {
          const flag = parseBooleanBytes(bytes, s, e);
          if (flag >= 0) value = flag === 1;
        }
        if (value === undefined) {
          if (!strings) {
            this.record('type', lines[i], textCell(column, i));
            if (infinite) this.violations.get('type')!.infinite = true;
            continue;
          }
          // Any text is a valid string: decode only when a keyword looks at it.
          // Stryker disable next-line ConditionalExpression: decoding a cell no keyword looks at changes only speed
          if (!this.needsString) continue;
          if (
            // Stryker disable next-line ConditionalExpression: without the shortcut the cell is decoded and checked against the enum itself
            enumBytes !== null &&
            // Stryker disable next-line ConditionalExpression: skipping the shortcut for unescaped cells too only decodes them
            (column.escaped === null || column.escaped[i] === 0) &&
            hasBytes(enumBytes, bytes, s, e)
          )
            continue;
          value = textCell(column, i);
        }
      }
      const rule = this.validate(value);
      if (rule !== null) this.record(rule, lines[i], value);
    }
  }

  checkValues(column: ValueColumn, length: number, lines: Float64Array, missing: MissingTokens): void {
    const values = column.values;
    const unique = this.unique;
    for (let i = 0; i < length; i++) {
      let value = values[i];
      // null, absent, NaN, the empty string and missing tokens.
      if (missing.isMissingValue(value)) {
        this.countMissing(lines[i]);
        value = null;
      } else {
        if (unique !== null) this.checkUnique(hashValueCell(value, missing), lines[i], column, i);
        if (typeof value === 'bigint') value = Number(value);
        else if (value instanceof Date) {
          if (Number.isNaN(value.getTime())) {
            this.countMissing(lines[i]);
            value = null;
          } else value = dateText(value, this.dateFormat);
        }
      }
      const rule = this.validate(value);
      if (rule !== null) {
        this.record(rule, lines[i], value);
        if (rule === 'type' && typeof value === 'number' && value - value !== 0)
          this.violations.get('type')!.infinite = true;
      }
    }
  }

  private checkUnique(hash: number, line: number, column: TextColumn | ValueColumn, i: number): void {
    if (hash === MISSING_HASH || this.unique!.add(hash)) return;
    const value = column.kind === 'text' ? textCell(column, i) : column.values[i];
    // CSV text that reads as a number is shown as written, unquoted.
    // Stryker disable next-line ConditionalExpression,MethodExpression,StringLiteral: a blank cell is missing and never reaches here
    const numeric = typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value));
    this.uniqueViolation ??= {
      // Stryker disable next-line StringLiteral: this running count's rule is never read (the finding names 'unique' itself)
      rule: 'unique',
      count: 0,
      lines: [],
      examples: [],
      shown: numeric ? value.trim() : showValue(value),
    };
    addExample(this.uniqueViolation, line, value);
  }
}

function addExample(violation: Violation, line: number, value: unknown): void {
  violation.count++;
  if (violation.lines.length < MAX_EXAMPLE_LINES) violation.lines.push(line);
  // A missing value has nothing to show.
  if (violation.examples.length < MAX_EXAMPLES && violation.rule !== 'null')
    violation.examples.push(exampleText(value));
}

/**
 * True when bytes `[start, end)` equal one of the encoded strings of `table`. Only a hash
 * collision could tell a wrong answer from a right one: a cell not found is decoded and checked
 * against the enum itself, and a wrong "found" needs a candidate of the same hash.
 */
// Stryker disable all: see above
function hasBytes(table: Map<number, Uint8Array[]>, bytes: Uint8Array, start: number, end: number): boolean {
  const candidates = table.get(hashBytes(bytes, start, end));
  if (candidates === undefined) return false;
  const length = end - start;
  for (const candidate of candidates) {
    if (candidate.length !== length) continue;
    let same = true;
    for (let k = 0; k < length; k++) {
      if (candidate[k] !== bytes[start + k]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}
// Stryker restore all

function codePoints(text: string): number {
  let count = text.length;
  // Stryker disable next-line EqualityOperator: one step past the end reads NaN, which is no surrogate
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: past the end charCodeAt is NaN, which is no low surrogate
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

function dateText(date: Date, dateOnly: boolean): string {
  const iso = date.toISOString();
  return dateOnly && date.getTime() % 86_400_000 === 0 ? iso.slice(0, 10) : iso;
}

/** A value as example text: strings as they are (shortened), other values as JSON. */
function exampleText(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = String(value);
  else if (typeof value === 'bigint') text = value.toString();
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_EXAMPLE_LENGTH ? `${text.slice(0, MAX_EXAMPLE_LENGTH - 1)}…` : text;
}

function formatEnum(values: readonly unknown[]): string {
  const shown = values.slice(0, 10).map((v) => JSON.stringify(v));
  return `[${shown.join(', ')}${values.length > 10 ? `, … ${values.length - 10} more` : ''}]`;
}

/**
 * Prepares a streaming check of data against `contract` (which must have passed
 * `parseContract`). Feed it every batch, then call `finish(rowCount)` for the findings:
 * - `contract` (rule = the failed keyword, or `null` for a missing value in a non-nullable column),
 *   one finding per column and rule with the count, example lines and values;
 * - `missing-column` for each required column the data lacks (decided at the end: JSONL files
 *   may gain columns late; rows before a column appeared count as missing there);
 * - `unexpected-column` for columns the contract does not describe, at the level of
 *   `options.unexpectedColumns`, else `x-mlops.unexpectedColumns`, else `error` when
 *   `additionalProperties` is false;
 * - `missing-share`, `unique` and `row-count` from the `x-mlops` rules.
 */
export function createContractChecker(
  contract: DataContract,
  options: ContractCheckOptions,
): ContractChecker {
  const missing = new MissingTokens(options.missingTokens);
  const severity = options.severity ?? 'error';
  const rules = contract['x-mlops'] ?? {};
  const columnRules = rules.columns ?? {};
  const properties = contract.properties ?? {};
  const patterns = Object.entries(contract.patternProperties ?? {}).map(([p, s]) => ({
    regex: compilePattern(p),
    schema: s,
  }));
  const additional = contract.additionalProperties;
  const unexpectedLevel: RuleLevel =
    options.unexpectedColumns ?? rules.unexpectedColumns ?? (additional === false ? 'error' : 'ignore');

  const checks = new Map<string, ColumnCheck | null>();
  const ordered: ColumnCheck[] = [];
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const firstLines: number[] = [];
  let rowsSeen = 0;

  const resolve = (name: string): ColumnCheck | null => {
    const known = checks.get(name);
    if (known !== undefined) return known;
    const schemas: (ColumnSchema | boolean)[] = [];
    if (Object.hasOwn(properties, name)) schemas.push(properties[name]);
    for (const { regex, schema } of patterns) if (regex.test(name)) schemas.push(schema);
    if (schemas.length === 0) {
      // Stryker disable next-line ConditionalExpression: the list is reported only when the level is not ignore (finish)
      if (unexpectedLevel !== 'ignore') unexpected.push(name);
      if (typeof additional === 'object') schemas.push(additional);
    }
    let check: ColumnCheck | null = null;
    if (schemas.length > 0) {
      // A column matched by several schemas must satisfy all of them.
      const schema = schemas.length === 1 ? schemas[0] : { allOf: schemas };
      const columnRule = Object.hasOwn(columnRules, name) ? columnRules[name] : {};
      check = new ColumnCheck(name, schema, columnRule, contract);
      // Stryker disable next-line ConditionalExpression: a trivial column's check finds nothing; dropping it saves time
      if (check.trivial) check = null;
    }
    if (check) ordered.push(check);
    checks.set(name, check);
    return check;
  };

  return {
    add(batch: RowBatch, columns: readonly string[]) {
      const n = batch.length;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: more first lines show nothing more (both uses are capped at ten); the cap bounds memory
      for (let i = 0; i < n && firstLines.length < MAX_EXAMPLE_LINES; i++) firstLines.push(batch.lines[i]);
      const width = Math.min(columns.length, batch.columns.length);
      for (let c = 0; c < width; c++) {
        const name = columns[c];
        seen.add(name);
        const check = resolve(name);
        if (check === null) continue;
        if (check.firstRow < 0) check.firstRow = rowsSeen;
        const cells = batch.columns[c];
        if (cells.kind === 'text') check.checkText(cells, n, batch.lines, missing);
        else check.checkValues(cells, n, batch.lines, missing);
      }
      rowsSeen += n;
    },

    finish(rowCount: number, columns?: readonly string[]): Finding[] {
      for (const name of columns ?? []) {
        // Stryker disable next-line ConditionalExpression: resolving a seen column again returns its cached check
        if (!seen.has(name)) {
          seen.add(name);
          resolve(name);
        }
      }
      const findings: Finding[] = [];
      const base = { file: options.file };

      for (const check of ordered) {
        // Rows read before a JSONL column first appeared lacked it: missing there.
        if (check.firstRow > 0) {
          const firstRow = check.firstRow;
          check.firstRow = 0; // counted once, even if finish is called again
          const early = firstLines.slice(0, Math.min(firstRow, firstLines.length));
          check.missing += firstRow;
          check.missingLines.unshift(...early);
          check.missingLines.length = Math.min(check.missingLines.length, MAX_EXAMPLE_LINES);
          const rule = check.validate(null);
          if (rule !== null) {
            // Stryker disable next-line ConditionalExpression,EqualityOperator: rows were read before the column appeared, so `early` is never empty
            check.record(rule, early.length > 0 ? early[0] : Number.NaN, null);
            const violation = check.violations.get(rule)!;
            violation.count += firstRow - 1;
            // The early rows come before every row recorded so far.
            const later = violation.lines.filter((line) => !Number.isNaN(line) && !early.includes(line));
            violation.lines = [...early, ...later].slice(0, MAX_EXAMPLE_LINES);
          }
        }
        const tolerated = toleratedOutOfRange(check, rules, rowCount - check.missing);
        for (const violation of check.violations.values()) {
          const withinTolerance = tolerated !== undefined && RANGE_RULES.has(violation.rule);
          findings.push({
            check: DATA_CHECKS.contract,
            severity: withinTolerance ? 'warning' : severity,
            column: check.name,
            rule: violation.rule,
            message: describeViolation(check, violation) + (withinTolerance ? ` ${tolerated}` : ''),
            count: violation.count,
            lines: violation.lines,
            ...(violation.examples.length > 0 ? { examples: violation.examples } : {}),
            ...base,
          });
        }
      }

      const missingColumns = (contract.required ?? []).filter((name) => !seen.has(name));
      const absentDescribed = Object.keys(properties).filter((name) => !seen.has(name));
      const undescribed = [...seen].filter((name) => !Object.hasOwn(properties, name));
      for (const name of missingColumns) {
        findings.push({
          check: DATA_CHECKS.missingColumn,
          severity,
          column: name,
          message: `Column "${name}" is required by the contract but absent from the data.${didYouMean(name, undescribed)}`,
          count: 1,
          ...base,
        });
      }
      if (unexpectedLevel !== 'ignore') {
        for (const name of unexpected) {
          const why = additional === false ? ' ("additionalProperties" is false)' : '';
          findings.push({
            check: DATA_CHECKS.unexpectedColumn,
            severity: unexpectedLevel,
            column: name,
            message: `Column "${name}" is not described by the contract${why}.${didYouMean(name, absentDescribed)} Add it to the contract's "properties", or drop it from the data.`,
            count: 1,
            ...base,
          });
        }
      }

      for (const check of ordered) {
        const limit = check.rules.maxMissingShare;
        // Stryker disable next-line ConditionalExpression,EqualityOperator: with no rows, 0 / 0 is NaN, never above a limit
        if (limit !== undefined && rowCount > 0 && check.missing / rowCount > limit) {
          findings.push({
            check: DATA_CHECKS.missingShare,
            severity,
            column: check.name,
            message:
              `Column "${check.name}": ${formatShare(check.missing, rowCount)} missing (${check.missing} of ${rowCount} rows), ` +
              `above the limit of ${formatShare(limit, 1)} (x-mlops.columns.${check.name}.maxMissingShare)${examplesAt(check.missingLines)}.`,
            count: check.missing,
            lines: check.missingLines,
            ...base,
          });
        }
        const repeated = check.uniqueViolation;
        if (repeated) {
          findings.push({
            check: DATA_CHECKS.unique,
            severity,
            column: check.name,
            rule: 'unique',
            message:
              `Column "${check.name}": ${plural(repeated.count, 'value')} repeating an earlier value, but the column is declared unique ` +
              `(x-mlops.columns.${check.name}.unique) (e.g. ${repeated.shown} at line ${repeated.lines[0]}).`,
            count: repeated.count,
            lines: repeated.lines,
            examples: repeated.examples,
            ...base,
          });
        }
      }

      const { min, max } = rules.rows ?? {};
      if (min !== undefined && rowCount < min) {
        findings.push({
          check: DATA_CHECKS.rowCount,
          severity,
          message: `The data has ${plural(rowCount, 'row')}; the contract requires at least ${min} (x-mlops.rows.min).`,
          count: 1,
          ...base,
        });
      }
      if (max !== undefined && rowCount > max) {
        findings.push({
          check: DATA_CHECKS.rowCount,
          severity,
          message: `The data has ${plural(rowCount, 'row')}; the contract allows at most ${max} (x-mlops.rows.max).`,
          count: 1,
          ...base,
        });
      }
      return findings;
    },
  };
}

/** The rules a value's magnitude can break: tolerated up to the contract's out-of-range limits. */
const RANGE_RULES: ReadonlySet<string> = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

/**
 * When a column's out-of-range values are few enough to tolerate (at most max(count, ⌊share ×
 * values⌋), per column or for the whole contract), the sentence that says so; undefined when they
 * must be an error (or there are none). One far-off value in a heavy-tailed column is then a
 * warning, while a systematic fault (a unit change, a sentinel value in many rows) stays an error.
 */
function toleratedOutOfRange(check: ColumnCheck, rules: ContractRules, values: number): string | undefined {
  let outside = 0;
  for (const violation of check.violations.values())
    if (RANGE_RULES.has(violation.rule)) outside += violation.count;
  // Stryker disable next-line ConditionalExpression: the sentence is used only for range violations, of which there are none then
  if (outside === 0) return undefined;
  const own = check.rules.maxOutOfRangeShare !== undefined || check.rules.maxOutOfRangeCount !== undefined;
  const share = (own ? check.rules.maxOutOfRangeShare : rules.maxOutOfRangeShare) ?? 0;
  const count = (own ? check.rules.maxOutOfRangeCount : rules.maxOutOfRangeCount) ?? 0;
  const limit = Math.max(count, Math.floor(share * Math.max(values, 0) + 1e-9));
  if (outside > limit) return undefined;
  const where = own ? `x-mlops.columns.${check.name}` : 'x-mlops';
  return `Tolerated as a warning: ${plural(outside, 'value')} out of range, within the limit of ${limit} (${where}.maxOutOfRangeCount ${count}, maxOutOfRangeShare ${share} of ${values} values); more would be an error.`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A value as shown in a message: strings quoted, everything else as JSON. */
function showValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(exampleText(value)) : exampleText(value);
}

function examplesAt(lines: readonly number[]): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a missing share above a limit has at least one line
  if (lines.length === 0) return '';
  return lines.length === 1 ? ` (e.g. line ${lines[0]})` : ` (e.g. lines ${lines.slice(0, 5).join(', ')})`;
}

/** `column "age": 12 values above the maximum 120 (e.g. 130 at line 17)`. */
function describeViolation(check: ColumnCheck, violation: Violation): string {
  const values = plural(violation.count, 'value');
  const at = `at line ${violation.lines[0]}`;
  const eg = ` (e.g. ${violation.rule === 'null' ? at : `${violation.shown} ${at}`})`;
  const special = (violation.rule === 'format' && check.format !== undefined) || violation.rule === 'false';
  if (violation.detail !== undefined && !special) {
    return `Column "${check.name}": ${values} failing "${violation.rule}" (${violation.detail})${eg}.`;
  }
  let what: string;
  switch (violation.rule) {
    case 'null':
      return `Column "${check.name}": ${plural(violation.count, 'missing value')}, but the column is not nullable${eg}. Add "null" to its type if missing values are acceptable.`;
    case 'type':
      if (violation.infinite)
        return `Column "${check.name}": ${values} not of type ${check.typeText}${eg}. Infinite values (inf, 1e999) are not JSON Schema numbers: fix them at the source, or write them as missing values.`;
      what = `${values} not of type ${check.typeText}`;
      break;
    case 'minimum':
      what = `${values} below the minimum ${check.minimum}`;
      break;
    case 'maximum':
      what = `${values} above the maximum ${check.maximum}`;
      break;
    case 'exclusiveMinimum':
      what = `${values} not above the exclusive minimum ${check.exclusiveMinimum}`;
      break;
    case 'exclusiveMaximum':
      what = `${values} not below the exclusive maximum ${check.exclusiveMaximum}`;
      break;
    case 'minLength':
      what = `${values} shorter than the minimum length ${check.minLength}`;
      break;
    case 'maxLength':
      what = `${values} longer than the maximum length ${check.maxLength}`;
      break;
    case 'pattern':
      what = `${values} not matching the pattern ${JSON.stringify(check.pattern?.source)}`;
      break;
    case 'enum':
      what = `${values} not in the allowed values ${check.enumText}`;
      break;
    case 'format':
      what = `${values} not valid as format "${check.format}"`;
      break;
    case 'false':
      what = `${values}, but its schema is false (no value allowed)`;
      break;
    default:
      // Stryker disable next-line StringLiteral: unreachable: a rule without a case of its own comes from Ajv, with a message (above)
      what = `${values} failing "${violation.rule}"`;
  }
  return `Column "${check.name}": ${what}${eg}.`;
}

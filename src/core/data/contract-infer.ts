/**
 * Contract inference: a first data contract from the profile of reference data, for a person to
 * review and commit. It is calibrated so that the next batch of healthy data passes (ranges
 * widened by each column's own tails, a few outliers tolerated as warnings, missing-value limits
 * doubled), while type changes, new categories, values far out of range and new columns are caught.
 */
import { basename } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';
import type { ColumnRules, ColumnSchema, DataContract, JsonType } from './contract.ts';
import { sortedValues } from './profile.ts';
import type { ColumnProfile, DataProfile } from './profile-types.ts';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export interface InferContractOptions {
  /**
   * A fixed relative widening of numeric ranges instead of the tail-aware one: the observed
   * [min, max] becomes [min − slack·(max − min), max + slack·(max − min)] (for a constant column,
   * slack·|value| on each side). Default: derived from each column's tails (see {@link inferRange}).
   */
  slack?: number;
  /** Largest number of distinct strings listed as an `enum` (default 20). */
  maxEnum?: number;
  /** The label column: described as such, and its classes (integers, booleans or strings) become an `enum`. */
  target?: string;
  /** When the contract is inferred, for its description (default: now). */
  now?: Date;
}

/**
 * Infers a data contract from a profile of reference data:
 * - a type per column (integer, number, boolean, string; datetimes as strings with `format`
 *   `date` or `date-time`), plus `null` when the reference had missing values;
 * - numeric `minimum`/`maximum` from the observed range widened by each tail's own scale (see
 *   {@link inferRange}), and `x-mlops.maxOutOfRangeShare`/`maxOutOfRangeCount`: up to 2 values or
 *   1 % of a column's values outside its range are a warning, more an error;
 * - an `enum` for low-cardinality strings: at most `maxEnum` distinct values, all known exactly,
 *   each seen twice on average (so that IDs of a small sample do not become an enum);
 * - `required`: every column; `additionalProperties: false`;
 * - `x-mlops.columns[c].maxMissingShare` for columns with missing values: max(2 × observed,
 *   observed + 0.05), capped at 1, rounded up to 4 decimals; `x-mlops.rows.min`: 1.
 * The output is deterministic for a given profile and date: properties in column order, enums sorted.
 */
export function inferContract(profile: DataProfile, options: InferContractOptions = {}): DataContract {
  const slack = options.slack;
  const maxEnum = options.maxEnum ?? 20;
  if (slack !== undefined && (!(slack >= 0) || !Number.isFinite(slack))) {
    throw new ConfigurationError(
      `Contract inference: slack must be a number ≥ 0 (a share of the range, e.g. 0.1), got ${slack}.`,
      { key: 'slack' },
    );
  }
  const names = profile.columns.map((c) => c.name);
  if (options.target !== undefined && !names.includes(options.target)) {
    throw new ConfigurationError(
      `The target column "${options.target}" is not in the reference data.${didYouMean(options.target, names)} Columns: ${names.join(', ')}.`,
      { key: 'target' },
    );
  }
  // Parquet and JSONL keep JSON types: a "string" column there may also hold real numbers.
  const typedSource = profile.sources.length > 0 && profile.sources.some((s) => s.format !== 'csv');

  const properties: [string, ColumnSchema][] = [];
  const rules: [string, ColumnRules][] = [];
  for (const column of profile.columns) {
    properties.push([
      column.name,
      inferColumn(column, { slack, maxEnum, target: column.name === options.target, typedSource }),
    ]);
    if (column.missing > 0 && column.type !== 'empty' && column.rows > 0) {
      rules.push([column.name, { maxMissingShare: missingLimit(column.missing / column.rows) }]);
    }
  }

  const sources = profile.sources.map((s) => s.path);
  const from = sources.length > 0 ? sources.join(', ') : 'reference data';
  const date = (options.now ?? new Date()).toISOString().slice(0, 10);
  const contract: DataContract = {
    $schema: DIALECT,
    title: `Data contract for ${sources.length === 1 ? basename(sources[0]) : 'the reference data'}`,
    description:
      `Inferred by mlops-actions from ${from} (${profile.rows} rows) on ${date}. Review it before relying on it. ` +
      (slack === undefined
        ? 'Numeric ranges are the observed ones widened on each side by ln(100) ≈ 4.6 times the scale of that tail ' +
          '(the mean excess of its most extreme 5 % of values, at least 5), kept between 10 % and 90 % of the observed range, ' +
          'so that a fresh batch as large as the reference stays inside in about 99 % of columns; a column never below 0 stays ≥ 0. '
        : `Numeric ranges are the observed ones widened by ${Math.round(slack * 100)}% of the range. `) +
      `Up to ${INFERRED_OUT_OF_RANGE.count} values, or ${INFERRED_OUT_OF_RANGE.share * 100} % of a column's values, outside its range are a warning ` +
      '(maxOutOfRangeCount, maxOutOfRangeShare); more are an error. Enums list the observed values, and missing-value limits ' +
      'are about twice the observed shares.',
    type: 'object',
    properties: Object.fromEntries(properties),
    required: [...names],
    additionalProperties: false,
    'x-mlops': {
      rows: { min: 1 },
      maxOutOfRangeShare: INFERRED_OUT_OF_RANGE.share,
      maxOutOfRangeCount: INFERRED_OUT_OF_RANGE.count,
      ...(rules.length > 0 ? { columns: Object.fromEntries(rules) } : {}),
    },
  };
  return contract;
}

interface ColumnInference {
  slack: number | undefined;
  maxEnum: number;
  target: boolean;
  typedSource: boolean;
}

function inferColumn(column: ColumnProfile, options: ColumnInference): ColumnSchema {
  const schema: ColumnSchema = {};
  if (options.target) schema.description = 'Target (label) column.';
  const nullable = column.missing > 0;
  const withNull = (types: JsonType[]): JsonType | JsonType[] => {
    const all: JsonType[] = nullable ? [...types, 'null'] : types;
    return all.length === 1 ? all[0] : all;
  };
  switch (column.type) {
    case 'empty':
      schema.description = `${schema.description ? `${schema.description} ` : ''}Every value was missing in the reference data: any value passes.`;
      return schema;
    case 'boolean':
      schema.type = withNull(['boolean']);
      if (options.target) schema.enum = nullable ? [false, true, null] : [false, true];
      return schema;
    case 'datetime':
      schema.type = withNull(['string']);
      schema.format = isDateOnly(column) ? 'date' : 'date-time';
      return schema;
    case 'string': {
      const types: JsonType[] = ['string'];
      if (options.typedSource) {
        // A value counts under its most specific type; in JSON those may be real numbers/booleans.
        if (column.valueTypes.integer > 0 || column.valueTypes.number > 0) types.push('number');
        if (column.valueTypes.boolean > 0) types.push('boolean');
      }
      schema.type = withNull(types);
      const values = enumValues(column, options.maxEnum);
      if (values && types.length === 1) schema.enum = nullable ? [...values, null] : values;
      return schema;
    }
    case 'integer':
    case 'number': {
      schema.type = withNull([column.type]);
      if (options.target && column.type === 'integer') {
        const values = enumValues(column, options.maxEnum);
        if (values) {
          const numbers = values.map(Number).sort((a, b) => a - b);
          if (numbers.every(Number.isInteger)) {
            schema.enum = nullable ? [...numbers, null] : numbers;
            return schema;
          }
        }
      }
      Object.assign(schema, inferRange(column, options.slack));
      return schema;
    }
  }
}

/** How far beyond the observed range the inferred bounds reach (see {@link inferRange}). */
export const RANGE_INFERENCE = {
  /** Exceedances over the top k = max(5, 5 % of the values) order statistics estimate the tail's scale. */
  tailShare: 0.05,
  tailMin: 5,
  /** The slack is ln(100) ≈ 4.6 tail scales: a same-size batch's extreme passes it with probability about 1 %. */
  tailScales: Math.log(100),
  /** …but at least 10 % and at most 90 % of the observed range on each side. */
  minWidening: 0.1,
  maxWidening: 0.9,
} as const;

/** Out-of-range values an inferred contract tolerates per column (a warning, not an error). */
export const INFERRED_OUT_OF_RANGE = { share: 0.01, count: 2 } as const;

/**
 * Bounds that hold for fresh data from the same distribution, derived from the column's own tail
 * on each side (a holdout as large as the reference crosses the observed maximum with probability
 * 1/2, so the observed range alone fails healthy data):
 * - the tail's scale σ is the mean excess of the k most extreme values over the next one (the
 *   exponential tail's estimate, k = max(5, 5 % of the values)); when the values were not kept,
 *   the gap between the extreme and the 5 % (95 %) quantile divided by its expected spacing, ln k + 0.577;
 * - the bound lies ln(100)·σ beyond the observed extreme, kept between 10 % and 90 % of the
 *   observed range (`slack`, when given, replaces this with a fixed share of the range on both sides);
 * - physical bounds stay: a column never below 0 keeps a minimum ≥ 0 (never above 0: maximum ≤ 0);
 * - rounded outward (integers to integers, numbers to two significant digits of the widening).
 * Values beyond the observed range by its full width are always outside; the contract's
 * `maxOutOfRangeShare`/`maxOutOfRangeCount` decide how many outside values are only a warning.
 */
function inferRange(
  column: ColumnProfile,
  slack: number | undefined,
): { minimum?: number; maximum?: number } {
  const numeric = column.numeric;
  if (!numeric || column.count === 0) return {};
  const { min, max } = numeric;
  const range: { minimum?: number; maximum?: number } = {};
  const width = max - min;
  let below: number;
  let above: number;
  if (!(width > 0 && Number.isFinite(width))) {
    const pad = (slack ?? RANGE_INFERENCE.minWidening) * Math.abs(min);
    below = pad;
    above = pad;
  } else if (slack !== undefined) {
    below = slack * width;
    above = slack * width;
  } else {
    const tails = tailScales(column);
    const clamp = (scale: number) =>
      Math.min(
        RANGE_INFERENCE.maxWidening * width,
        Math.max(RANGE_INFERENCE.minWidening * width, RANGE_INFERENCE.tailScales * scale),
      );
    below = clamp(tails.lower);
    above = clamp(tails.upper);
  }
  let lower = roundOutward(min - below, below, column.type === 'integer', 'down');
  let upper = roundOutward(max + above, above, column.type === 'integer', 'up');
  if (min >= 0 && lower < 0) lower = 0;
  if (max <= 0 && upper > 0) upper = 0;
  if (Number.isFinite(lower)) range.minimum = lower === 0 ? 0 : lower;
  if (Number.isFinite(upper)) range.maximum = upper === 0 ? 0 : upper;
  return range;
}

/**
 * The scale of each tail: the mean excess of the k most extreme kept values over the next one, or,
 * from the profile's 5 % and 95 % quantiles when values were not kept, the gap to the extreme
 * divided by its expected spacing; 0 (the minimum widening) when the profile has neither.
 */
function tailScales(column: ColumnProfile): { lower: number; upper: number } {
  const kept = column.state ? sortedValues(column) : null;
  const values = kept ? kept.filter(Number.isFinite) : null;
  if (values && values.length >= 2) {
    const n = values.length;
    const k = Math.min(Math.max(RANGE_INFERENCE.tailMin, Math.ceil(RANGE_INFERENCE.tailShare * n)), n - 1);
    let top = 0;
    let bottom = 0;
    for (let i = 0; i < k; i++) {
      top += values[n - 1 - i];
      bottom += values[i];
    }
    return { lower: values[k] - bottom / k, upper: top / k - values[n - 1 - k] };
  }
  const quantiles = column.quantiles?.values;
  const low = quantiles?.['0.05'];
  const high = quantiles?.['0.95'];
  if (low === undefined || high === undefined || !column.numeric) return { lower: 0, upper: 0 };
  // An exponential tail's gap between the extreme and the (k+1)-th most extreme is σ·H_k, H_k ≈ ln k + γ.
  const k = Math.max(RANGE_INFERENCE.tailMin, Math.ceil(RANGE_INFERENCE.tailShare * column.count));
  const spacing = Math.log(k) + 0.5772156649;
  const upper = (column.numeric.max - high) / spacing;
  const lower = (low - column.numeric.min) / spacing;
  return { lower: Number.isFinite(lower) ? lower : 0, upper: Number.isFinite(upper) ? upper : 0 };
}

/** A bound rounded away from the data: integers to integers, numbers to two significant digits of the widening. */
function roundOutward(bound: number, pad: number, integer: boolean, direction: 'down' | 'up'): number {
  if (integer) return direction === 'down' ? Math.floor(bound) : Math.ceil(bound);
  if (!(pad > 0 && Number.isFinite(pad)) || bound === 0) return bound;
  // Two significant digits of the widening: 12.1 rather than 12.123456789.
  const exponent = Math.floor(Math.log10(pad)) - 1;
  const step = 10 ** exponent;
  const decimals = Math.min(100, Math.max(0, -exponent));
  // The epsilon absorbs the error of the division (-4.07 / 0.01 = -407.00000000000006); the
  // widening is ≥ 10 steps, so the bound stays outside the observed range.
  return direction === 'down'
    ? Number((Math.floor(bound / step + 1e-9) * step).toFixed(decimals))
    : Number((Math.ceil(bound / step - 1e-9) * step).toFixed(decimals));
}

/** The sorted distinct values of a low-cardinality column, or undefined when an enum does not fit. */
function enumValues(column: ColumnProfile, maxEnum: number): string[] | undefined {
  const { distinct, topValues } = column;
  if (!distinct.exact || distinct.count === 0 || distinct.count > maxEnum) return undefined;
  if (!topValues || column.topValuesExact === false || topValues.length < distinct.count) return undefined;
  // Each value seen twice on average: a handful of unique IDs is not a category.
  if (distinct.count * 2 > column.count) return undefined;
  return topValues.map((t) => t.value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Max(2 × observed, observed + 0.05), capped at 1, rounded up to 4 decimals. */
function missingLimit(share: number): number {
  const limit = Math.min(1, Math.max(2 * share, share + 0.05));
  return Math.min(1, Math.ceil(limit * 10000 - 1e-9) / 10000);
}

/** True when the datetimes are dates without a time: all 10 characters long, or all top values look like dates. */
function isDateOnly(column: ColumnProfile): boolean {
  if (column.length) return column.length.max <= 10;
  if (column.topValues && column.topValues.length > 0)
    return column.topValues.every((t) => /^\d{4}-\d{2}-\d{2}$/.test(t.value));
  return false;
}

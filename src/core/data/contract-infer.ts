/**
 * Contract inference: a first data contract from the profile of reference data, for a person to
 * review and commit. It errs on the permissive side (ranges widened, missing-value limits
 * doubled) so that the next batch of healthy data passes, while type changes, new categories,
 * out-of-range values and new columns are caught.
 */
import { basename } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';
import type { ColumnRules, ColumnSchema, DataContract, JsonType } from './contract.ts';
import type { ColumnProfile, DataProfile } from './profile-types.ts';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export interface InferContractOptions {
  /**
   * Relative widening of numeric ranges (default 0.1): the observed [min, max] becomes
   * [min − slack·(max − min), max + slack·(max − min)] (for a constant column, slack·|value| on each
   * side), rounded outward (integers to integers, numbers to two significant digits of the
   * widening). A bound does not cross 0 when the observed values did not (counts stay ≥ 0).
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
 * - numeric `minimum`/`maximum` from the observed range widened by `slack` (see
 *   {@link InferContractOptions.slack});
 * - an `enum` for low-cardinality strings: at most `maxEnum` distinct values, all known exactly,
 *   each seen twice on average (so that IDs of a small sample do not become an enum);
 * - `required`: every column; `additionalProperties: false`;
 * - `x-mlops.columns[c].maxMissingShare` for columns with missing values: max(2 × observed,
 *   observed + 0.05), capped at 1, rounded up to 4 decimals; `x-mlops.rows.min`: 1.
 * The output is deterministic for a given profile and date: properties in column order, enums sorted.
 */
export function inferContract(profile: DataProfile, options: InferContractOptions = {}): DataContract {
  const slack = options.slack ?? 0.1;
  const maxEnum = options.maxEnum ?? 20;
  if (!(slack >= 0) || !Number.isFinite(slack)) {
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
      `Inferred by mlops-actions from ${from} (${profile.rows} rows) on ${date}. Review it before relying on it: ` +
      `numeric ranges are the observed ones widened by ${Math.round(slack * 100)}% of the range, enums list the observed ` +
      'values, and missing-value limits are about twice the observed shares.',
    type: 'object',
    properties: Object.fromEntries(properties),
    required: [...names],
    additionalProperties: false,
    'x-mlops': {
      rows: { min: 1 },
      ...(rules.length > 0 ? { columns: Object.fromEntries(rules) } : {}),
    },
  };
  return contract;
}

interface ColumnInference {
  slack: number;
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

/** The observed range widened by `slack` (see {@link InferContractOptions.slack}). */
function inferRange(column: ColumnProfile, slack: number): { minimum?: number; maximum?: number } {
  const numeric = column.numeric;
  if (!numeric || column.count === 0) return {};
  const { min, max } = numeric;
  const range: { minimum?: number; maximum?: number } = {};
  const width = max - min;
  const pad = width > 0 ? slack * width : slack * Math.abs(min);
  let lower = min - pad;
  let upper = max + pad;
  if (min >= 0 && lower < 0) lower = 0;
  if (max <= 0 && upper > 0) upper = 0;
  if (column.type === 'integer') {
    lower = Math.floor(lower);
    upper = Math.ceil(upper);
  } else if (pad > 0 && Number.isFinite(pad)) {
    // Two significant digits of the widening: 12.1 rather than 12.123456789.
    const exponent = Math.floor(Math.log10(pad)) - 1;
    const step = 10 ** exponent;
    const decimals = Math.min(100, Math.max(0, -exponent));
    // The epsilon absorbs the error of the division (-4.07 / 0.01 = -407.00000000000006); the
    // widening is ≥ 10 steps, so the bound stays outside the observed range.
    if (lower !== 0) lower = Number((Math.floor(lower / step + 1e-9) * step).toFixed(decimals));
    if (upper !== 0) upper = Number((Math.ceil(upper / step - 1e-9) * step).toFixed(decimals));
  }
  if (Number.isFinite(lower)) range.minimum = lower === 0 ? 0 : lower;
  if (Number.isFinite(upper)) range.maximum = upper === 0 ? 0 : upper;
  return range;
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

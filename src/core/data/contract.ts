/**
 * The data contract: a JSON Schema (draft 2020-12) of ONE ROW, plus dataset-level rules under
 * `x-mlops` (see src/core/schemas/x-mlops.schema.json).
 *
 * ```json
 * {
 *   "$schema": "https://json-schema.org/draft/2020-12/schema",
 *   "type": "object",
 *   "properties": {
 *     "age": { "type": ["integer", "null"], "minimum": 0, "maximum": 120 },
 *     "plan": { "enum": ["free", "pro"] },
 *     "signup": { "type": "string", "format": "date" }
 *   },
 *   "required": ["age", "plan"],
 *   "additionalProperties": false,
 *   "x-mlops": { "rows": { "min": 1000 }, "columns": { "age": { "maxMissingShare": 0.05 } } }
 * }
 * ```
 *
 * This module loads and validates contracts; inference is in contract-infer.ts and the streaming
 * check of data against a contract in contract-check.ts.
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigurationError } from '../errors.ts';
import {
  describeJsonSchemaError,
  describeJsonValue,
  pickSchemaError,
  pointerToKeyPath,
} from '../json/schema-errors.ts';
import { parseJsonText } from '../json/text.ts';
import xMlopsSchema from '../schemas/x-mlops.schema.json' with { type: 'json' };
import { didYouMean } from '../suggest.ts';
import {
  ANNOTATION_KEYWORDS,
  compilePattern,
  getContractAjv,
  PatternError,
  registerExtensionKeywords,
} from './contract-ajv.ts';
import type { DriftTestName } from './drift.ts';

/** The JSON Schema draft contracts are written in. */
export const CONTRACT_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';
export type RuleLevel = 'error' | 'warning' | 'ignore';

/** The JSON Schema of one column's values (any 2020-12 keyword is allowed; these are the usual ones). */
export interface ColumnSchema {
  type?: JsonType | JsonType[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  title?: string;
  description?: string;
  [keyword: string]: unknown;
}

/** Per-column rules of `x-mlops.columns`. */
export interface ColumnRules {
  /** Largest allowed share of missing values (0 to 1). */
  maxMissingShare?: number;
  /** No non-missing value may repeat. */
  unique?: boolean;
  /** Out-of-range values (minimum, maximum, exclusive bounds) tolerated in this column: see {@link ContractRules}. */
  maxOutOfRangeShare?: number;
  maxOutOfRangeCount?: number;
  /** Drift test settings (read by the drift check); `threshold` is the version-1 key, refused with a hint. */
  drift?: { test?: DriftTestName; minEffect?: number; threshold?: number };
}

/** The dataset-level rules under `x-mlops`. */
export interface ContractRules {
  rows?: { min?: number; max?: number };
  /** Overrides `additionalProperties` for columns the contract does not describe. */
  unexpectedColumns?: RuleLevel;
  duplicateRows?: RuleLevel;
  /**
   * Out-of-range values tolerated per column (a column's values below `minimum`/above `maximum`):
   * at most max(count, ⌊share × the column's values⌋) are a warning, more are an error. Absent:
   * none tolerated. Per column in `columns.<c>`, which wins.
   */
  maxOutOfRangeShare?: number;
  maxOutOfRangeCount?: number;
  columns?: Record<string, ColumnRules>;
}

/** A data contract: a JSON Schema of one row with `x-mlops` rules. */
export interface DataContract {
  $schema?: string;
  title?: string;
  description?: string;
  type: 'object';
  /** Column schemas by column name (a boolean schema is allowed: `true` accepts anything). */
  properties: Record<string, ColumnSchema | boolean>;
  /** Columns that must exist in the data. */
  required?: string[];
  /** Schemas for columns whose names match a regular expression. */
  patternProperties?: Record<string, ColumnSchema | boolean>;
  /** `false`: columns not described are unexpected; a schema: they must match it. */
  additionalProperties?: boolean | ColumnSchema;
  'x-mlops'?: ContractRules;
  [keyword: string]: unknown;
}

// Every keyword of JSON Schema 2020-12 (core, applicator, unevaluated, validation, meta-data,
// format, content): anything else in a column schema is most likely a typo.
const SCHEMA_KEYWORDS = [
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'pattern',
  'minLength',
  'maxLength',
  'format',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'items',
  'prefixItems',
  'contains',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minContains',
  'maxContains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'required',
  'dependentRequired',
  'dependentSchemas',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  '$ref',
  '$dynamicRef',
  '$dynamicAnchor',
  '$vocabulary',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
  ...ANNOTATION_KEYWORDS,
] as const;
const KNOWN_KEYWORDS: ReadonlySet<string> = new Set(SCHEMA_KEYWORDS);
const COLUMN_KEYWORD_HINT =
  'type, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, pattern, minLength, maxLength, format';

/** Reads and validates a contract file (JSON). Throws {@link ConfigurationError} naming what to fix. */
export async function loadContract(path: string): Promise<DataContract> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigurationError(
      `Data contract ${path} cannot be read (${code}). Check the path.`,
      { file: path },
      { cause: error },
    );
  }
  return parseContract(parseJsonText(text, path, 'Data contract'), path);
}

/**
 * Checks that `json` is a usable contract: a JSON object, a valid JSON Schema 2020-12 (per the
 * meta-schema, and compilable: patterns, formats, references), an object schema with `properties`,
 * known keywords in column schemas, and valid `x-mlops` rules. Returns it typed.
 */
export function parseContract(json: unknown, file: string): DataContract {
  const fail = (key: string | undefined, message: string): never => {
    throw new ConfigurationError(
      `Invalid data contract ${file}: ${message}`,
      key === undefined ? { file } : { file, key },
    );
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    fail(
      undefined,
      `it must be a JSON object (a JSON Schema of one row, with "type": "object" and "properties"), not ${describeJsonValue(json)}.`,
    );
  }
  const schema = json as Record<string, unknown>;

  if (
    schema.$schema !== undefined &&
    schema.$schema !== CONTRACT_SCHEMA_DIALECT &&
    schema.$schema !== `${CONTRACT_SCHEMA_DIALECT}#`
  ) {
    fail(
      '$schema',
      `contracts are JSON Schema draft 2020-12: set "$schema" to "${CONTRACT_SCHEMA_DIALECT}" or remove it (found ${JSON.stringify(schema.$schema)}).`,
    );
  }
  const meta = getRulesAjv();
  if (!meta.validateSchema(schema)) {
    const error = pickSchemaError(meta.errors ?? []);
    if (error)
      fail(
        pointerToKeyPath(error.instancePath),
        describeJsonSchemaError(error, schema, pointerToKeyPath(error.instancePath)),
      );
  }

  if (schema.type !== 'object') {
    fail(
      'type',
      `the top level must have "type": "object" (the schema describes one row), found ${schema.type === undefined ? 'no "type"' : JSON.stringify(schema.type)}.`,
    );
  }
  if (schema.properties === undefined || typeof schema.properties !== 'object') {
    fail(
      'properties',
      'the top level needs "properties": one schema per column, e.g. { "age": { "type": "integer" } }.',
    );
  }
  for (const key of Object.keys(schema)) {
    if (KNOWN_KEYWORDS.has(key) || key === 'x-mlops') continue;
    if (key.startsWith('x-')) {
      if (didYouMean(key, ['x-mlops'])) fail(key, `unknown key "${key}".${didYouMean(key, ['x-mlops'])}`);
      continue;
    }
    fail(key, unknownKeyword(key, [...SCHEMA_KEYWORDS, 'x-mlops']));
  }

  const properties = schema.properties as Record<string, unknown>;
  const ajv = getContractAjv();
  const columnSchemas: [string, string, unknown][] = Object.entries(properties).map(([name, s]) => [
    `properties.${name}`,
    `column ${JSON.stringify(name)}`,
    s,
  ]);
  for (const [pattern, s] of Object.entries((schema.patternProperties ?? {}) as Record<string, unknown>)) {
    const columns = `columns matching ${JSON.stringify(pattern)}`;
    columnSchemas.push([`patternProperties.${pattern}`, columns, s]);
    try {
      compilePattern(pattern);
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      fail(`patternProperties.${pattern}`, `patternProperties: the column-name ${error.message}`);
    }
  }
  if (typeof schema.additionalProperties === 'object')
    columnSchemas.push(['additionalProperties', 'columns not in "properties"', schema.additionalProperties]);
  for (const [path, columns, columnSchema] of columnSchemas) {
    if (typeof columnSchema !== 'object' || columnSchema === null) continue; // booleans are valid schemas
    checkColumnSchema(columnSchema as Record<string, unknown>, path, columns, ajv, fail);
  }

  const required = (schema.required ?? []) as string[];
  if (schema.additionalProperties === false) {
    for (const name of required) {
      if (name in properties || matchesPattern(name, schema.patternProperties)) continue;
      fail(
        'required',
        `"${name}" is required but not in "properties", and "additionalProperties" is false: no data could pass.${didYouMean(name, Object.keys(properties))} Add it to "properties" or fix the name.`,
      );
    }
  }

  if (schema['x-mlops'] !== undefined)
    checkRules(schema['x-mlops'], properties, schema.patternProperties, fail);

  registerExtensionKeywords(ajv, schema);
  try {
    ajv.compile(schema);
  } catch (error) {
    if (error instanceof PatternError) fail(undefined, `a nested ${error.message}`);
    fail(undefined, `it cannot be compiled as a JSON Schema: ${(error as Error).message}.`);
  } finally {
    ajv.removeSchema(schema);
  }
  return schema as unknown as DataContract;
}

function checkColumnSchema(
  columnSchema: Record<string, unknown>,
  path: string,
  columns: string,
  ajv: Ajv2020,
  fail: (key: string | undefined, message: string) => never,
): void {
  for (const key of Object.keys(columnSchema)) {
    if (KNOWN_KEYWORDS.has(key) || key.startsWith('x-')) continue;
    fail(`${path}.${key}`, unknownKeyword(key, SCHEMA_KEYWORDS));
  }
  if (typeof columnSchema.pattern === 'string') {
    try {
      compilePattern(columnSchema.pattern);
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      fail(`${path}.pattern`, `${columns}: the ${error.message}`);
    }
  }
  if (typeof columnSchema.format === 'string' && !(columnSchema.format in ajv.formats)) {
    const known = Object.keys(ajv.formats);
    fail(
      `${path}.format`,
      `unknown format "${columnSchema.format}".${didYouMean(columnSchema.format, known)} Known formats: ${known.join(', ')}.`,
    );
  }
  const { minimum, maximum } = columnSchema;
  if (typeof minimum === 'number' && typeof maximum === 'number' && minimum > maximum) {
    fail(
      `${path}.minimum`,
      `minimum ${minimum} is above maximum ${maximum}: no value could pass. Swap them?`,
    );
  }
}

function unknownKeyword(key: string, candidates: readonly string[]): string {
  if (key === 'nullable') {
    return 'unknown keyword "nullable" (JSON Schema has none): allow missing values with a type list instead, e.g. "type": ["number", "null"].';
  }
  const suggestion = didYouMean(key, candidates);
  if (suggestion) return `unknown keyword "${key}".${suggestion}`;
  return `unknown keyword "${key}". Column keywords are ${COLUMN_KEYWORD_HINT} (or any other JSON Schema 2020-12 keyword); custom annotations must start with "x-".`;
}

function matchesPattern(name: string, patternProperties: unknown): boolean {
  if (patternProperties === null || typeof patternProperties !== 'object') return false;
  return Object.keys(patternProperties).some((pattern) => compilePattern(pattern).test(name));
}

let rulesAjv: Ajv2020 | undefined;

/** Ajv for checking contracts themselves (meta-schema and x-mlops): no strict mode, verbose errors. */
function getRulesAjv(): Ajv2020 {
  rulesAjv ??= new Ajv2020({ allErrors: false, verbose: true, strict: false });
  return rulesAjv;
}

let rulesValidator: ReturnType<Ajv2020['compile']> | undefined;

function checkRules(
  rules: unknown,
  properties: Record<string, unknown>,
  patternProperties: unknown,
  fail: (key: string | undefined, message: string) => never,
): void {
  rulesValidator ??= getRulesAjv().compile(xMlopsSchema);
  if (!rulesValidator(rules)) {
    const error = pickSchemaError(rulesValidator.errors ?? []);
    if (error) {
      const path = pointerToKeyPath(error.instancePath, 'x-mlops');
      if (error.keyword === 'additionalProperties') {
        const key = String(error.params.additionalProperty);
        const allowed = Object.keys(((error.parentSchema ?? {}) as { properties?: object }).properties ?? {});
        fail(
          `${path}.${key}`,
          `unknown key "${key}" in ${path}.${didYouMean(key, allowed)} Allowed here: ${allowed.join(', ')}.`,
        );
      }
      fail(path, describeJsonSchemaError(error, rules, path, 'x-mlops'));
    }
  }
  const typed = rules as ContractRules;
  const { min, max } = typed.rows ?? {};
  if (min !== undefined && max !== undefined && min > max)
    fail('x-mlops.rows', `rows.min ${min} is above rows.max ${max}.`);
  for (const name of Object.keys(typed.columns ?? {})) {
    if (name in properties || matchesPattern(name, patternProperties)) continue;
    fail(
      `x-mlops.columns.${name}`,
      `"${name}" is not a column of the contract's "properties".${didYouMean(name, Object.keys(properties))} Rules apply to described columns only: fix the name or add the column to "properties".`,
    );
  }
}

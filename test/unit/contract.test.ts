import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RowBatch } from '../../src/core/data/batch.ts';
import { type DataContract, loadContract, parseContract } from '../../src/core/data/contract.ts';
import { type ContractChecker, createContractChecker } from '../../src/core/data/contract-check.ts';
import { inferContract } from '../../src/core/data/contract-infer.ts';
import { type Finding, MAX_EXAMPLE_LINES } from '../../src/core/data/findings.ts';
import { createProfiler } from '../../src/core/data/profile.ts';
import type { ColumnProfile, DataProfile } from '../../src/core/data/profile-types.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { locateJsonError } from '../../src/core/json/text.ts';
import { csvBatch, valueBatch } from '../helpers/batches.ts';
import { createRandom } from '../helpers/random.ts';
import { temporaryFolder } from '../helpers/temp.ts';

function check(contract: DataContract, ...batches: { columns: string[]; batch: RowBatch }[]): Finding[] {
  const checker: ContractChecker = createContractChecker(parseContract(contract, 'contract.json'), {
    file: 'data',
  });
  let rows = 0;
  for (const { columns, batch } of batches) {
    checker.add(batch, columns);
    rows += batch.length;
  }
  return checker.finish(rows);
}

function contract(properties: DataContract['properties'], extra: Partial<DataContract> = {}): DataContract {
  return { type: 'object', properties, ...extra };
}

function parseError(json: unknown): ConfigurationError {
  try {
    parseContract(json, 'contract.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

// --- loading --------------------------------------------------------------------------------

describe('loadContract / parseContract', () => {
  it('loads a valid contract', async () => {
    const dir = await temporaryFolder('contract-');
    const file = join(dir, 'contract.json');
    const json = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { age: { type: ['integer', 'null'], minimum: 0, 'x-unit': 'years' } },
      required: ['age'],
      additionalProperties: false,
      'x-mlops': {
        rows: { min: 1, max: 10 },
        unexpectedColumns: 'warning',
        columns: { age: { maxMissingShare: 0.1, unique: false, drift: { test: 'psi', threshold: 0.2 } } },
      },
    };
    await writeFile(file, JSON.stringify(json, null, 2));
    expect(await loadContract(file)).toEqual(json);
  });

  it('reports invalid JSON with line and column', async () => {
    const dir = await temporaryFolder('contract-');
    const file = join(dir, 'contract.json');
    await writeFile(file, '{\n  "type": "object",\n  "properties": { "a": x }\n}\n');
    const error = await loadContract(file).catch((e: unknown) => e as ConfigurationError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/not valid JSON: unexpected "x" \(expected a value\) at line 3, column 24/);
    expect(error.location).toMatchObject({ file, line: 3, column: 24 });
  });

  it('locates typical JSON mistakes', () => {
    expect(locateJsonError('{"a": 1,}')).toEqual({ offset: 8, reason: 'trailing comma before "}"' });
    expect(locateJsonError('[1, 2,]').reason).toBe('trailing comma before "]"');
    expect(locateJsonError("{'a': 1}").reason).toMatch(/property name in double quotes/);
    expect(locateJsonError('{"a": 1').reason).toMatch(/unexpected end of file/);
    expect(locateJsonError('{"a": 1}}').reason).toMatch(/after the end/);
    expect(locateJsonError('{"a": "x\ny"}').reason).toMatch(/line break/);
  });

  it('reports a missing file', async () => {
    await expect(loadContract('/nonexistent/contract.json')).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });

  it('names the key path, what is allowed and the likely fix', () => {
    let error = parseError(contract({ age: { type: 'numbr' as never } }));
    expect(error.location.key).toBe('properties.age.type');
    expect(error.message).toMatch(
      /properties\.age\.type is "numbr"; expected one of .*integer.* Did you mean "number"\?/,
    );

    error = parseError(contract({ age: { type: ['number', 'nul' as never] } }));
    expect(error.location.key).toBe('properties.age.type[1]');
    expect(error.message).toMatch(/Did you mean "null"\?/);

    error = parseError(contract({ age: { type: 'number', minimum: '5' as never } }));
    expect(error.location.key).toBe('properties.age.minimum');
    expect(error.message).toMatch(/must be a number, not the string "5"\. Write 5 without quotes/);

    error = parseError(contract({ age: { type: 'number', minimun: 5 } }));
    expect(error.location.key).toBe('properties.age.minimun');
    expect(error.message).toMatch(/unknown keyword "minimun"\. Did you mean "minimum"\?/);

    error = parseError(contract({ age: { type: 'number', nullable: true } }));
    expect(error.message).toMatch(/"type": \["number", "null"\]/);

    error = parseError(contract({ day: { type: 'string', format: 'dat' } }));
    expect(error.location.key).toBe('properties.day.format');
    expect(error.message).toMatch(/unknown format "dat"\. Did you mean "date"\?/);

    error = parseError(contract({ code: { type: 'string', pattern: '([a-z]' } }));
    expect(error.location.key).toBe('properties.code.pattern');
    expect(error.message).toMatch(/not a valid regular expression/);

    error = parseError(contract({ age: { minimum: 10, maximum: 1 } }));
    expect(error.message).toMatch(/minimum 10 is above maximum 1/);

    error = parseError(contract({ age: { $ref: '#/$defs/missing' } }));
    expect(error.message).toMatch(/cannot be compiled.*#\/\$defs\/missing/);

    error = parseError({ type: 'object', required: 'age', properties: {} });
    expect(error.location.key).toBe('required');
    expect(error.message).toMatch(/required must be an array, not the string "age"/);
  });

  it('checks the top level', () => {
    expect(parseError([]).message).toMatch(/must be a JSON object/);
    expect(parseError({ type: 'array' }).message).toMatch(/"type": "object"/);
    expect(parseError({ properties: {} }).message).toMatch(/found no "type"/);
    expect(parseError({ type: 'object' }).message).toMatch(/needs "properties"/);
    expect(parseError({ type: 'object', properties: {}, propertys: {} }).message).toMatch(
      /Did you mean "properties"\?/,
    );
    expect(parseError({ type: 'object', properties: {}, 'x-mlop': {} }).message).toMatch(
      /Did you mean "x-mlops"\?/,
    );
    expect(
      parseError({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {} })
        .message,
    ).toMatch(/2020-12/);
    const error = parseError(contract({ a: {} }, { required: ['b'], additionalProperties: false }));
    expect(error.message).toMatch(/"b" is required but not in "properties"/);
  });

  it('catches typos in x-mlops with a suggestion', () => {
    let error = parseError(
      contract({ age: {} }, { 'x-mlops': { columns: { age: { maxMissingShar: 0.1 } } } as never }),
    );
    expect(error.location.key).toBe('x-mlops.columns.age.maxMissingShar');
    expect(error.message).toMatch(
      /unknown key "maxMissingShar".*Did you mean "maxMissingShare"\? Allowed here: maxMissingShare, unique, maxOutOfRangeShare, maxOutOfRangeCount, drift/,
    );

    error = parseError(contract({ age: {} }, { 'x-mlops': { row: { min: 1 } } as never }));
    expect(error.location.key).toBe('x-mlops.row');
    expect(error.message).toMatch(/Did you mean "rows"\?/);

    error = parseError(contract({ age: {} }, { 'x-mlops': { columns: { agee: { unique: true } } } }));
    expect(error.location.key).toBe('x-mlops.columns.agee');
    expect(error.message).toMatch(/Did you mean "age"\?/);

    error = parseError(
      contract(
        { age: {} },
        { 'x-mlops': { columns: { age: { drift: { test: 'kolmogorov-smirnof' as never } } } } },
      ),
    );
    expect(error.message).toMatch(/Did you mean "kolmogorov-smirnov"\?/);

    error = parseError(contract({ age: {} }, { 'x-mlops': { columns: { age: { maxMissingShare: 5 } } } }));
    expect(error.location.key).toBe('x-mlops.columns.age.maxMissingShare');
    expect(error.message).toMatch(/must be <= 1/);

    error = parseError(contract({ age: {} }, { 'x-mlops': { unexpectedColumns: 'warn' as never } }));
    expect(error.message).toMatch(/expected one of error, warning, ignore\. Did you mean "warning"\?/);

    error = parseError(contract({ age: {} }, { 'x-mlops': { rows: { min: 10, max: 5 } } }));
    expect(error.message).toMatch(/rows.min 10 is above rows.max 5/);
  });
});

// --- inference ------------------------------------------------------------------------------

function columnProfile(
  partial: Partial<ColumnProfile> & Pick<ColumnProfile, 'name' | 'type'>,
): ColumnProfile {
  const rows = partial.rows ?? 100;
  const missing = partial.missing ?? 0;
  return {
    rows,
    missing,
    count: rows - missing,
    valueTypes: { boolean: 0, integer: 0, number: 0, datetime: 0, string: 0 },
    distinct: { count: 50, exact: true, relativeError: 0 },
    state: null,
    ...partial,
  };
}

function dataProfile(columns: ColumnProfile[], format = 'csv'): DataProfile {
  return {
    kind: 'data-profile',
    version: 1,
    sources: [{ path: 'data/train.csv', format, rows: 100 }],
    rows: 100,
    columns,
    options: {
      exactValues: 1000,
      exactDistinct: 1000,
      topValues: 20,
      relativeAccuracy: 0.01,
      hllPrecision: 12,
      missingTokens: [],
    },
  };
}

const numeric = (min: number, max: number) => ({ min, max, mean: (min + max) / 2, std: 1, sum: 0 });

describe('inferContract', () => {
  const profile = dataProfile([
    columnProfile({ name: 'age', type: 'integer', missing: 10, numeric: numeric(18, 90) }),
    columnProfile({ name: 'income', type: 'number', numeric: numeric(1234.5, 98765.4) }),
    columnProfile({ name: 'delta', type: 'number', numeric: numeric(-3.3, 4.4) }),
    columnProfile({ name: 'constant', type: 'integer', numeric: numeric(7, 7) }),
    columnProfile({
      name: 'plan',
      type: 'string',
      distinct: { count: 3, exact: true, relativeError: 0 },
      topValues: [
        { value: 'pro', count: 60 },
        { value: 'free', count: 30 },
        { value: 'enterprise', count: 10 },
      ],
      topValuesExact: true,
    }),
    columnProfile({
      name: 'city',
      type: 'string',
      missing: 50,
      distinct: { count: 45, exact: true, relativeError: 0 },
    }),
    columnProfile({ name: 'active', type: 'boolean' }),
    columnProfile({ name: 'signup', type: 'datetime', length: { min: 10, max: 10, mean: 10 } }),
    columnProfile({ name: 'seen', type: 'datetime', length: { min: 19, max: 19, mean: 19 } }),
    columnProfile({
      name: 'label',
      type: 'integer',
      numeric: numeric(0, 2),
      distinct: { count: 3, exact: true, relativeError: 0 },
      topValues: [
        { value: '1', count: 50 },
        { value: '0', count: 30 },
        { value: '2', count: 20 },
      ],
      topValuesExact: true,
    }),
    columnProfile({ name: 'empty', type: 'empty', missing: 100 }),
  ]);
  const inferred = inferContract(profile, { target: 'label', now: new Date('2024-05-01T10:00:00Z') });

  it('infers types, ranges, enums and nullability', () => {
    expect(inferred.properties).toEqual({
      age: { type: ['integer', 'null'], minimum: 10, maximum: 98 },
      income: { type: 'number', minimum: 0, maximum: 108600 },
      delta: { type: 'number', minimum: -4.07, maximum: 5.17 },
      constant: { type: 'integer', minimum: 6, maximum: 8 },
      plan: { type: 'string', enum: ['enterprise', 'free', 'pro'] },
      city: { type: ['string', 'null'] },
      active: { type: 'boolean' },
      signup: { type: 'string', format: 'date' },
      seen: { type: 'string', format: 'date-time' },
      label: { description: 'Target (label) column.', type: 'integer', enum: [0, 1, 2] },
      empty: { description: 'Every value was missing in the reference data: any value passes.' },
    });
    expect(Object.keys(inferred.properties)).toEqual(profile.columns.map((c) => c.name));
  });

  it('sets required, additionalProperties and x-mlops rules', () => {
    expect(inferred.required).toEqual(profile.columns.map((c) => c.name));
    expect(inferred.additionalProperties).toBe(false);
    expect(inferred['x-mlops']).toEqual({
      rows: { min: 1 },
      maxOutOfRangeShare: 0.01,
      maxOutOfRangeCount: 2,
      columns: { age: { maxMissingShare: 0.2 }, city: { maxMissingShare: 1 } },
    });
    expect(inferred.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(inferred.title).toBe('Data contract for train.csv');
    expect(inferred.description).toMatch(
      /Inferred by mlops-actions from data\/train\.csv \(100 rows\) on 2024-05-01\. Review it/,
    );
    expect(Object.keys(inferred)).toEqual([
      '$schema',
      'title',
      'description',
      'type',
      'properties',
      'required',
      'additionalProperties',
      'x-mlops',
    ]);
  });

  it('is a valid contract, deterministic, and passes its own data', () => {
    expect(parseContract(JSON.parse(JSON.stringify(inferred)), 'inferred.json')).toEqual(inferred);
    expect(
      JSON.stringify(inferContract(profile, { target: 'label', now: new Date('2024-05-01T23:00:00Z') })),
    ).toBe(JSON.stringify(inferred));
    const data = csvBatch(
      'age,income,delta,constant,plan,city,active,signup,seen,label,empty\n' +
        '18,1234.5,-3.3,7,pro,Oslo,true,2024-01-31,2024-01-31 12:00:00,1,\n' +
        '90,98765.4,4.4,7,free,,FALSE,2023-12-01,2024-02-01T00:00:00Z,0,\n',
    );
    expect(check(inferred, data)).toEqual([]);
  });

  it('leaves enums out for many or unknown values, and honours maxEnum and slack', () => {
    const few = dataProfile([
      columnProfile({
        name: 'id',
        type: 'string',
        rows: 4,
        distinct: { count: 4, exact: true, relativeError: 0 },
        topValues: ['a', 'b', 'c', 'd'].map((value) => ({ value, count: 1 })),
        topValuesExact: true,
      }),
      columnProfile({
        name: 'plan',
        type: 'string',
        distinct: { count: 3, exact: true, relativeError: 0 },
        topValues: ['x', 'y', 'z'].map((value) => ({ value, count: 33 })),
        topValuesExact: true,
      }),
      columnProfile({ name: 'n', type: 'integer', numeric: numeric(0, 100) }),
    ]);
    const result = inferContract(few, { maxEnum: 2, slack: 0 });
    expect(result.properties.id).toEqual({ type: 'string' });
    expect(result.properties.plan).toEqual({ type: 'string' });
    expect(result.properties.n).toEqual({ type: 'integer', minimum: 0, maximum: 100 });
  });

  it('allows JSON numbers in mixed string columns of JSONL sources', () => {
    const mixed = dataProfile(
      [
        columnProfile({
          name: 'zip',
          type: 'string',
          valueTypes: { boolean: 0, integer: 40, number: 0, datetime: 0, string: 60 },
        }),
      ],
      'jsonl',
    );
    expect(inferContract(mixed).properties.zip).toEqual({ type: ['string', 'number'] });
  });

  it('names an unknown target with a suggestion', () => {
    expect(() => inferContract(profile, { target: 'lable' })).toThrow(
      /target column "lable" is not in the reference data\. Did you mean "label"\?/,
    );
  });
});

describe('inferContract: bounds that hold for fresh data', () => {
  /** Seeded lognormal, normal and count columns: a heavy right tail, a light one, and a column that is never below 0. */
  function sample(n: number, seed: number): string {
    const { uniform, normal } = createRandom(seed);
    const lines = ['area,score,visits'];
    for (let i = 0; i < n; i++) {
      lines.push(
        `${(500 * Math.exp(0.6 * normal())).toFixed(1)},${(50 + 10 * normal()).toFixed(2)},${Math.floor(-3 * Math.log(1 - uniform()))}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
  function profileOf(text: string): DataProfile {
    const profiler = createProfiler();
    const { columns, batch } = csvBatch(text);
    profiler.add(batch, columns);
    return profiler.finish([{ path: 'train.csv', format: 'csv', rows: batch.length }]);
  }

  it('widens each side by its own tail, within 10 % and 90 % of the range, keeping physical bounds', () => {
    const profile = profileOf(sample(400, 1));
    const contract = inferContract(profile);
    for (const column of profile.columns) {
      const { min, max } = column.numeric!;
      const width = max - min;
      const { minimum, maximum } = contract.properties[column.name] as { minimum: number; maximum: number };
      expect(maximum - max).toBeGreaterThanOrEqual(0.1 * width - 1e-9);
      expect(maximum - max).toBeLessThanOrEqual(0.9 * width + 0.01 * width);
      // A value beyond the observed range by its full width is always outside.
      expect(max + width).toBeGreaterThan(maximum);
      if (min >= 0) expect(minimum).toBeGreaterThanOrEqual(0);
    }
    const area = contract.properties.area as { minimum: number; maximum: number };
    const score = contract.properties.score as { minimum: number; maximum: number };
    const areaColumn = profile.columns[0].numeric!;
    const scoreColumn = profile.columns[1].numeric!;
    // The heavy right tail of area reaches further, relative to the range, than its short left tail.
    expect((area.maximum - areaColumn.max) / (areaColumn.min - area.minimum)).toBeGreaterThan(2);
    // A light-tailed column is widened about evenly.
    const ratio = (score.maximum - scoreColumn.max) / (scoreColumn.min - score.minimum);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
    expect(contract.properties.visits).toMatchObject({ type: 'integer', minimum: 0 });
    expect(contract.description).toMatch(
      /widened on each side by ln\(100\) ≈ 4\.6 times the scale of that tail/,
    );
  });

  it('keeps fresh batches as large as the reference inside its bounds in about 99 % of columns', () => {
    const contract = inferContract(profileOf(sample(400, 2)));
    let columns = 0;
    let crossed = 0;
    let failed = 0;
    for (let seed = 100; seed < 300; seed++) {
      const findings = check(contract, csvBatch(sample(400, seed)));
      const outside = findings.filter((f) => f.rule === 'minimum' || f.rule === 'maximum');
      columns += 3;
      crossed += new Set(outside.map((f) => f.column)).size;
      if (findings.some((f) => f.severity === 'error')) failed++;
    }
    expect(crossed / columns).toBeLessThanOrEqual(0.02);
    // The two tolerated outliers per column turn the rare crossing into a warning.
    expect(failed).toBe(0);
  });
});

describe('out-of-range tolerance', () => {
  const data = csvBatch('age\n130\n140\n30\n-5\n40\n');
  it('makes a few out-of-range values a warning and more an error, per contract or per column', () => {
    const strict = check(contract({ age: { type: 'integer', minimum: 0, maximum: 120 } }), data);
    expect(strict.map((f) => [f.rule, f.severity])).toEqual([
      ['maximum', 'error'],
      ['minimum', 'error'],
    ]);
    const tolerant = check(
      contract(
        { age: { type: 'integer', minimum: 0, maximum: 120 } },
        { 'x-mlops': { maxOutOfRangeCount: 3 } },
      ),
      data,
    );
    expect(tolerant.map((f) => [f.rule, f.severity])).toEqual([
      ['maximum', 'warning'],
      ['minimum', 'warning'],
    ]);
    expect(tolerant[0].message).toMatch(
      /Tolerated as a warning: 3 values out of range, within the limit of 3 \(x-mlops\.maxOutOfRangeCount 3, maxOutOfRangeShare 0 of 5 values\); more would be an error\./,
    );
    // At the limit is tolerated; one more is not.
    const tight = check(
      contract(
        { age: { type: 'integer', minimum: 0, maximum: 120 } },
        { 'x-mlops': { maxOutOfRangeCount: 2 } },
      ),
      data,
    );
    expect(tight.every((f) => f.severity === 'error')).toBe(true);
    // A share of the column's values: ⌊0.6 × 5⌋ = 3.
    const byShare = check(
      contract(
        { age: { type: 'integer', minimum: 0, maximum: 120 } },
        { 'x-mlops': { maxOutOfRangeShare: 0.6 } },
      ),
      data,
    );
    expect(byShare.every((f) => f.severity === 'warning')).toBe(true);
    // The column's own limit wins over the contract's.
    const own = check(
      contract(
        { age: { type: 'integer', minimum: 0, maximum: 120 } },
        { 'x-mlops': { maxOutOfRangeCount: 3, columns: { age: { maxOutOfRangeCount: 0 } } } },
      ),
      data,
    );
    expect(own.every((f) => f.severity === 'error')).toBe(true);
  });
});

// --- checking -------------------------------------------------------------------------------

const byRule = (findings: Finding[]) =>
  Object.fromEntries(findings.map((f) => [`${f.check}:${f.column ?? ''}:${f.rule ?? ''}`, f]));

describe('createContractChecker: cell rules', () => {
  const ageContract = contract({ age: { type: 'integer', minimum: 0, maximum: 120 } });

  it('reports range violations with counts, lines and examples', () => {
    const findings = check(ageContract, csvBatch('age\n10\n130\n-1\n200\n121.0\n'));
    const rules = byRule(findings);
    expect(rules['contract:age:maximum']).toMatchObject({
      count: 3,
      lines: [3, 5, 6],
      examples: ['130', '200', '121'],
      severity: 'error',
      file: 'data',
    });
    expect(rules['contract:age:maximum'].message).toBe(
      'Column "age": 3 values above the maximum 120 (e.g. 130 at line 3).',
    );
    expect(rules['contract:age:minimum']).toMatchObject({ count: 1, lines: [4], examples: ['-1'] });
    expect(rules['contract:age:minimum'].message).toBe(
      'Column "age": 1 value below the minimum 0 (e.g. -1 at line 4).',
    );
  });

  it('treats integers by value (1.0 is an integer) and reports non-numbers as type violations', () => {
    const findings = check(ageContract, csvBatch('age\n1.0\n1e2\n1.5\nabc\n"7"\n'));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'type', count: 2, lines: [4, 5], examples: ['1.5', 'abc'] });
    expect(findings[0].message).toBe('Column "age": 2 values not of type integer (e.g. 1.5 at line 4).');
  });

  it('caps example lines and values', () => {
    const rows = Array.from({ length: 25 }, (_, i) => String(200 + i)).join('\n');
    const [finding] = check(ageContract, csvBatch(`age\n${rows}\n`));
    expect(finding.count).toBe(25);
    expect(finding.lines).toEqual(Array.from({ length: MAX_EXAMPLE_LINES }, (_, i) => 2 + i));
    expect(finding.examples).toEqual(['200', '201', '202']);
  });

  it('counts across batches with their own line numbers', () => {
    const findings = check(ageContract, csvBatch('age\n500\n1\n'), csvBatch('age\n1\n600\n', 100));
    expect(findings[0]).toMatchObject({ count: 2, lines: [2, 101] });
  });

  it('reports null in a non-nullable column as rule null, and accepts it when nullable', () => {
    const data = 'age\n\nNA\n5\n';
    const [finding] = check(ageContract, csvBatch(data));
    expect(finding).toMatchObject({ rule: 'null', count: 2, lines: [2, 3] });
    expect(finding.examples).toBeUndefined();
    expect(finding.message).toBe(
      'Column "age": 2 missing values, but the column is not nullable (e.g. at line 2). Add "null" to its type if missing values are acceptable.',
    );
    expect(check(contract({ age: { type: ['integer', 'null'], minimum: 0 } }), csvBatch(data))).toEqual([]);
    // No type at all: null is fine too.
    expect(check(contract({ age: { minimum: 0 } }), csvBatch(data))).toEqual([]);
  });

  it('applies JSON Schema semantics to null with enum, and to a quoted empty string', () => {
    const findings = check(
      contract({ plan: { type: ['string', 'null'], enum: ['a', 'b'] } }),
      csvBatch('plan\na\n\n""\nc\n'),
    );
    expect(findings[0]).toMatchObject({
      rule: 'enum',
      count: 3,
      lines: [3, 4, 5],
      examples: ['null', '', 'c'],
    });
    expect(findings[0].message).toBe(
      'Column "plan": 3 values not in the allowed values ["a", "b"] (e.g. null at line 3).',
    );
  });

  it('checks strings: enum, pattern, lengths (in code points), escaped quotes', () => {
    const findings = check(
      contract({
        plan: { type: 'string', enum: ['free', 'pro', 'say "hi"'] },
        code: { type: 'string', pattern: '^[A-Z]{2}$' },
        name: { type: 'string', minLength: 2, maxLength: 3 },
      }),
      csvBatch('plan,code,name\nfree,NO,ab\nFree,no,a\n"say ""hi""",SE,😀😀😀\nultra,SEK,abcd\n'),
    );
    const rules = byRule(findings);
    expect(rules['contract:plan:enum']).toMatchObject({
      count: 2,
      lines: [3, 5],
      examples: ['Free', 'ultra'],
    });
    expect(rules['contract:code:pattern']).toMatchObject({ count: 2, lines: [3, 5] });
    expect(rules['contract:code:pattern'].message).toBe(
      'Column "code": 2 values not matching the pattern "^[A-Z]{2}$" (e.g. "no" at line 3).',
    );
    expect(rules['contract:name:minLength']).toMatchObject({ count: 1, lines: [3] });
    expect(rules['contract:name:maxLength']).toMatchObject({ count: 1, lines: [5], examples: ['abcd'] });
    expect(findings).toHaveLength(4);
  });

  it('checks booleans and exclusive bounds', () => {
    const findings = check(
      contract({ ok: { type: 'boolean' }, p: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } }),
      csvBatch('ok,p\ntrue,0.5\nFALSE,0\nyes,1\n'),
    );
    const rules = byRule(findings);
    expect(rules['contract:ok:type']).toMatchObject({ count: 1, lines: [4], examples: ['yes'] });
    expect(rules['contract:p:exclusiveMinimum']).toMatchObject({ count: 1, lines: [3] });
    expect(rules['contract:p:exclusiveMaximum']).toMatchObject({ count: 1, lines: [4] });
  });

  it('uses Ajv for other keywords: format, multipleOf, const, anyOf, $ref', () => {
    const findings = check(
      contract(
        {
          day: { type: 'string', format: 'date' },
          at: { type: ['string', 'null'], format: 'date-time' },
          step: { type: 'integer', multipleOf: 5 },
          kind: { const: 'x' },
          either: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^n/' }] },
          ref: { $ref: '#/$defs/percent' },
        },
        { $defs: { percent: { type: 'number', minimum: 0, maximum: 100 } } },
      ),
      csvBatch(
        'day,at,step,kind,either,ref\n2024-02-29,2024-01-31 12:00,10,x,5,50\n2023-02-29,31/01/2024,7,y,n/a,150\n',
      ),
    );
    const rules = byRule(findings);
    expect(rules['contract:day:format'].message).toBe(
      'Column "day": 1 value not valid as format "date" (e.g. "2023-02-29" at line 3).',
    );
    expect(rules['contract:at:format']).toMatchObject({ count: 1, lines: [3] });
    expect(rules['contract:step:multipleOf'].message).toBe(
      'Column "step": 1 value failing "multipleOf" (must be multiple of 5) (e.g. 7 at line 3).',
    );
    expect(rules['contract:kind:const']).toMatchObject({ count: 1, lines: [3] });
    expect(rules['contract:ref:maximum']).toMatchObject({ count: 1, lines: [3] });
    expect(rules['contract:either:anyOf']).toBeUndefined();
    expect(findings).toHaveLength(5);
  });

  it('gives the same findings for CSV text and JSON values', () => {
    const schema = contract({
      age: { type: ['integer', 'null'], minimum: 0, maximum: 120 },
      plan: { type: 'string', enum: ['free', 'pro'] },
      score: { type: 'number', maximum: 1 },
      ok: { type: 'boolean' },
      day: { type: 'string', format: 'date' },
    });
    const csv = csvBatch(
      'age,plan,score,ok,day\n30,free,0.5,true,2024-01-01\n130,gold,1.5,false,2024-13-01\n,pro,2,true,2024-01-02\nold,free,0.1,false,2024-01-03\n',
      1,
    );
    const json = valueBatch(
      ['age', 'plan', 'score', 'ok', 'day'],
      [
        [30, 'free', 0.5, true, '2024-01-01'],
        [130, 'gold', 1.5, false, '2024-13-01'],
        [null, 'pro', 2, true, '2024-01-02'],
        ['old', 'free', 0.1, false, '2024-01-03'],
      ],
    );
    const fromCsv = check(schema, csv);
    expect(fromCsv.length).toBe(5);
    expect(check(schema, json)).toEqual(fromCsv);
  });

  it('converts Parquet values: bigint, Date, NaN', () => {
    const findings = check(
      contract({
        n: { type: 'integer', maximum: 10 },
        day: { type: 'string', format: 'date' },
        at: { type: 'string', format: 'date-time' },
        x: { type: ['number', 'null'] },
      }),
      valueBatch(
        ['n', 'day', 'at', 'x'],
        [
          [5n, new Date(Date.UTC(2024, 0, 31)), new Date(Date.UTC(2024, 0, 31, 12)), Number.NaN],
          [11n, new Date(Date.UTC(2024, 0, 31)), new Date(0), 1.5],
        ],
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ column: 'n', rule: 'maximum', count: 1, lines: [2] }),
    ]);
  });

  it('refuses infinities as numbers and integers (JSON Schema numbers are finite), as text or as values', () => {
    const schema = contract({
      x: { type: 'number', maximum: 1e9 },
      i: { type: 'integer' },
      s: { type: ['number', 'string'] },
    });
    const text = byRule(check(schema, csvBatch('x,i,s\ninf,1e999,inf\n-Infinity,1,2\n')));
    expect(text['contract:x:type']).toMatchObject({
      count: 2,
      lines: [2, 3],
      examples: ['inf', '-Infinity'],
    });
    expect(text['contract:x:type'].message).toContain(
      'Infinite values (inf, 1e999) are not JSON Schema numbers',
    );
    expect(text['contract:i:type']).toMatchObject({ count: 1, lines: [2] });
    // Where strings are allowed, "inf" is the text it is.
    expect(text['contract:s:type']).toBeUndefined();
    const values = byRule(
      check(schema, valueBatch(['x', 'i', 's'], [[Number.POSITIVE_INFINITY, 1, Number.NEGATIVE_INFINITY]])),
    );
    expect(values['contract:x:type']).toMatchObject({ count: 1, lines: [1] });
    expect(values['contract:s:type']).toMatchObject({ count: 1 });
  });

  it('honours custom missing tokens', () => {
    const checker = createContractChecker(parseContract(ageContract, 'c.json'), {
      file: 'd',
      missingTokens: ['-999'],
    });
    const { columns, batch } = csvBatch('age\n-999\nNA\n');
    checker.add(batch, columns);
    // The given tokens replace the default ones: NA is text here.
    expect(checker.finish(2)).toEqual([
      expect.objectContaining({ rule: 'null', count: 1, lines: [2] }),
      expect.objectContaining({ rule: 'type', count: 1, lines: [3], examples: ['NA'] }),
    ]);
  });
});

describe('createContractChecker: dataset rules', () => {
  it('reports missing required columns, with a suggestion for a renamed one', () => {
    const findings = check(
      contract({ age: { type: 'integer' }, plan: { type: 'string' } }, { required: ['age', 'plan'] }),
      csvBatch('Age,plan\n1,a\n'),
    );
    const missing = findings.find((f) => f.check === 'missing-column');
    expect(missing).toMatchObject({ column: 'age', count: 1, severity: 'error' });
    expect(missing?.message).toBe(
      'Column "age" is required by the contract but absent from the data. Did you mean "Age"?',
    );
    expect(findings.filter((f) => f.check === 'unexpected-column')).toEqual([]);
  });

  it('reports unexpected columns per additionalProperties and x-mlops.unexpectedColumns', () => {
    const strict = contract({ age: {} }, { additionalProperties: false, required: ['age'] });
    let findings = check(strict, csvBatch('aeg,extra\n1,2\n'));
    const unexpected = findings.filter((f) => f.check === 'unexpected-column');
    expect(unexpected.map((f) => [f.column, f.severity])).toEqual([
      ['aeg', 'error'],
      ['extra', 'error'],
    ]);
    expect(unexpected[0].message).toBe(
      'Column "aeg" is not described by the contract ("additionalProperties" is false). Did you mean "age"? Add it to the contract\'s "properties", or drop it from the data.',
    );
    expect(findings.find((f) => f.check === 'missing-column')?.message).toMatch(/Did you mean "aeg"\?/);

    findings = check(
      { ...strict, 'x-mlops': { unexpectedColumns: 'warning' } },
      csvBatch('age,extra\n1,2\n'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ check: 'unexpected-column', severity: 'warning', column: 'extra' }),
    ]);
    expect(
      check({ ...strict, 'x-mlops': { unexpectedColumns: 'ignore' } }, csvBatch('age,extra\n1,2\n')),
    ).toEqual([]);
    expect(check(contract({ age: {} }), csvBatch('age,extra\n1,2\n'))).toEqual([]);
  });

  it('checks undescribed columns against patternProperties and an additionalProperties schema', () => {
    const findings = check(
      contract(
        { id: { type: 'integer' } },
        {
          patternProperties: { '^f_': { type: 'number', minimum: 0 } },
          additionalProperties: { type: 'string', maxLength: 1 },
        },
      ),
      csvBatch('id,f_a,f_b,note\n1,0.5,-1,x\n2,1,2,long\n'),
    );
    const rules = byRule(findings);
    expect(rules['contract:f_b:minimum']).toMatchObject({ count: 1, lines: [2] });
    expect(rules['contract:note:maxLength']).toMatchObject({ count: 1, lines: [3] });
    expect(findings).toHaveLength(2);
  });

  it('checks maxMissingShare, unique and row counts', () => {
    const schema = contract(
      { id: { type: 'integer' }, city: { type: ['string', 'null'] } },
      {
        'x-mlops': {
          rows: { min: 10, max: 100 },
          columns: { id: { unique: true }, city: { maxMissingShare: 0.25 } },
        },
      },
    );
    const findings = check(schema, csvBatch('id,city\n1,Oslo\n2,\n1.0,NA\n3,Rome\n2,\n'));
    const share = findings.find((f) => f.check === 'missing-share');
    expect(share).toMatchObject({ column: 'city', count: 3, lines: [3, 4, 6] });
    expect(share?.message).toBe(
      'Column "city": 60% missing (3 of 5 rows), above the limit of 25% (x-mlops.columns.city.maxMissingShare) (e.g. lines 3, 4, 6).',
    );
    const unique = findings.find((f) => f.check === 'unique');
    expect(unique).toMatchObject({ column: 'id', count: 2, lines: [4, 6], examples: ['1.0', '2'] });
    expect(unique?.message).toMatch(
      /2 values repeating an earlier value, but the column is declared unique .* \(e\.g\. 1\.0 at line 4\)/,
    );
    const rows = findings.find((f) => f.check === 'row-count');
    expect(rows?.message).toBe('The data has 5 rows; the contract requires at least 10 (x-mlops.rows.min).');
  });

  it('counts unique values across batches and formats alike', () => {
    const schema = contract({ id: {} }, { 'x-mlops': { columns: { id: { unique: true } } } });
    const findings = check(
      schema,
      csvBatch('id\n1\nx\n'),
      valueBatch(['id'], [[1], ['x'], [2], [null], [null]], 10),
    );
    expect(findings).toEqual([expect.objectContaining({ check: 'unique', count: 2, lines: [10, 11] })]);
  });

  it('handles a JSONL column that appears after the first batch', () => {
    const schema = contract(
      { a: { type: 'integer' }, b: { type: 'integer' } },
      { required: ['a', 'b'], 'x-mlops': { columns: { b: { maxMissingShare: 0.5 } } } },
    );
    const first = valueBatch(['a'], [[1], [2], [3]]);
    const second = valueBatch(
      ['a', 'b'],
      [
        [4, 1],
        [5, undefined],
      ],
      4,
    );
    const findings = check(schema, first, second);
    const rules = byRule(findings);
    expect(rules['contract:b:null']).toMatchObject({ count: 4, lines: [1, 2, 3, 5] });
    expect(findings.find((f) => f.check === 'missing-share')).toMatchObject({
      column: 'b',
      count: 4,
      lines: [1, 2, 3, 5],
    });
    expect(findings.find((f) => f.check === 'missing-column')).toBeUndefined();
  });

  it('decides missing columns at the end, including columns only listed at finish', () => {
    const checker = createContractChecker(parseContract(contract({ a: {} }, { required: ['a'] }), 'c.json'), {
      file: 'd',
    });
    expect(checker.finish(0, ['a'])).toEqual([]);
    const other = createContractChecker(
      parseContract(contract({ a: {} }, { required: ['a'], 'x-mlops': { rows: { min: 1 } } }), 'c.json'),
      { file: 'd' },
    );
    expect(other.finish(0, ['b']).map((f) => f.check)).toEqual(['missing-column', 'row-count']);
  });

  it('lets the caller override the unexpected-column level and the severity', () => {
    const schema = parseContract(
      contract({ a: { type: 'integer' } }, { additionalProperties: false }),
      'c.json',
    );
    const checker = createContractChecker(schema, {
      file: 'd',
      unexpectedColumns: 'warning',
      severity: 'warning',
    });
    const { columns, batch } = csvBatch('a,b\nx,1\n');
    checker.add(batch, columns);
    expect(checker.finish(1).map((f) => [f.check, f.severity])).toEqual([
      ['contract', 'warning'],
      ['unexpected-column', 'warning'],
    ]);
  });
});

describe('createContractChecker: values exactly at the contract’s limits', () => {
  it('accepts a value equal to minimum or maximum (inclusive), as text and as JSON values, and refuses the next one out', () => {
    const schema = contract({ age: { type: 'number', minimum: 0, maximum: 120 } });
    expect(check(schema, csvBatch('age\n0\n120\n0.0\n1.2e2\n'))).toEqual([]);
    expect(check(schema, valueBatch(['age'], [[0], [120], [-0]]))).toEqual([]);
    const outside = check(schema, csvBatch('age\n-0.000001\n120.000001\n'));
    expect(outside.map((f) => [f.rule, f.count, f.lines])).toEqual([
      ['minimum', 1, [2]],
      ['maximum', 1, [3]],
    ]);
    const negative = contract({ t: { type: 'integer', minimum: -40, maximum: -10 } });
    expect(check(negative, valueBatch(['t'], [[-40], [-10]]))).toEqual([]);
    expect(check(negative, valueBatch(['t'], [[-41], [-9]])).map((f) => f.rule)).toEqual([
      'minimum',
      'maximum',
    ]);
  });

  it('refuses a value equal to exclusiveMinimum or exclusiveMaximum, and accepts one just inside', () => {
    const schema = contract({ p: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } });
    expect(check(schema, csvBatch('p\n0.000001\n0.999999\n'))).toEqual([]);
    expect(check(schema, valueBatch(['p'], [[0], [1]])).map((f) => [f.rule, f.count])).toEqual([
      ['exclusiveMinimum', 1],
      ['exclusiveMaximum', 1],
    ]);
  });

  it('maxMissingShare is "at most": exactly the limit passes, one more missing row fails', () => {
    const schema = contract(
      { city: { type: ['string', 'null'] } },
      { 'x-mlops': { columns: { city: { maxMissingShare: 0.25 } } } },
    );
    // 1 of 4 rows missing: exactly 25 %.
    expect(check(schema, csvBatch('city\nOslo\n\nRome\nLima\n'))).toEqual([]);
    expect(check(schema, valueBatch(['city'], [['Oslo'], [null], ['Rome'], ['Lima']]))).toEqual([]);
    // 2 of 4 rows missing: 50 %.
    const over = check(schema, csvBatch('city\nOslo\n\nRome\n\n'));
    expect(over).toHaveLength(1);
    expect(over[0]).toMatchObject({ check: 'missing-share', column: 'city', count: 2, lines: [3, 5] });
    expect(over[0].message).toBe(
      'Column "city": 50% missing (2 of 4 rows), above the limit of 25% (x-mlops.columns.city.maxMissingShare) (e.g. lines 3, 5).',
    );
    // A limit of 0 allows no missing value at all, and 1 allows every one.
    const none = contract(
      { city: { type: ['string', 'null'] } },
      { 'x-mlops': { columns: { city: { maxMissingShare: 0 } } } },
    );
    expect(check(none, csvBatch('city\nOslo\nRome\n'))).toEqual([]);
    expect(check(none, csvBatch('city\nOslo\n\n')).map((f) => f.check)).toEqual(['missing-share']);
    const all = contract(
      { city: { type: ['string', 'null'] } },
      { 'x-mlops': { columns: { city: { maxMissingShare: 1 } } } },
    );
    expect(check(all, csvBatch('city\n\n\n'))).toEqual([]);
  });

  it('row limits are inclusive: exactly rows.min or rows.max rows pass', () => {
    const schema = contract({ x: {} }, { 'x-mlops': { rows: { min: 3, max: 3 } } });
    expect(check(schema, csvBatch('x\n1\n2\n3\n'))).toEqual([]);
    expect(check(schema, csvBatch('x\n1\n2\n')).map((f) => f.message)).toEqual([
      'The data has 2 rows; the contract requires at least 3 (x-mlops.rows.min).',
    ]);
    expect(check(schema, csvBatch('x\n1\n2\n3\n4\n')).map((f) => f.message)).toEqual([
      'The data has 4 rows; the contract allows at most 3 (x-mlops.rows.max).',
    ]);
  });
});

// Cases that mutation testing (issue #16) showed unguarded: each fails when the behaviour it names breaks.
describe('createContractChecker: every rule in its own words', () => {
  it('names each rule, with its limit and the first offending value', () => {
    const letters = 'abcdefghijkl'.split('');
    const findings = check(
      contract({
        t: { type: ['integer', 'boolean'] },
        xmin: { type: 'number', exclusiveMinimum: 0 },
        xmax: { type: 'number', exclusiveMaximum: 1 },
        short: { type: 'string', minLength: 2 },
        long: { type: 'string', maxLength: 3 },
        none: false,
        big: { type: 'string', enum: letters },
        ok: { type: 'boolean' },
      }),
      csvBatch(`t,xmin,xmax,short,long,none,big,ok\nx,0,1,a,abcd,1,z,yes\n`),
    );
    expect(findings.map((f) => [f.column, f.rule, f.message])).toEqual([
      ['t', 'type', 'Column "t": 1 value not of type integer or boolean (e.g. "x" at line 2).'],
      [
        'xmin',
        'exclusiveMinimum',
        'Column "xmin": 1 value not above the exclusive minimum 0 (e.g. 0 at line 2).',
      ],
      [
        'xmax',
        'exclusiveMaximum',
        'Column "xmax": 1 value not below the exclusive maximum 1 (e.g. 1 at line 2).',
      ],
      [
        'short',
        'minLength',
        'Column "short": 1 value shorter than the minimum length 2 (e.g. "a" at line 2).',
      ],
      [
        'long',
        'maxLength',
        'Column "long": 1 value longer than the maximum length 3 (e.g. "abcd" at line 2).',
      ],
      [
        'none',
        'false',
        'Column "none": 1 value, but its schema is false (no value allowed) (e.g. 1 at line 2).',
      ],
      [
        'big',
        'enum',
        'Column "big": 1 value not in the allowed values ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", … 2 more] (e.g. "z" at line 2).',
      ],
      // Not a number: no word about infinities.
      ['ok', 'type', 'Column "ok": 1 value not of type boolean (e.g. "yes" at line 2).'],
    ]);
  });

  it('describes what Ajv checked in its words: the outermost keyword, through $ref to definitions, format included', () => {
    const findings = check(
      contract(
        {
          either: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^n/' }] },
          p: { $ref: '#/definitions/percent' },
          day: { $ref: '#/definitions/day' },
          fixed: { type: 'string', format: 'date', const: '2024-01-01' },
          s: { type: 'integer', minimum: 0, multipleOf: 5 },
        },
        {
          patternProperties: { '^f_': { type: 'number' }, _a$: { minimum: 0 } },
          definitions: { percent: { maximum: 100 }, day: { type: 'string', format: 'date' } },
        },
      ),
      csvBatch(
        'either,f_a,p,day,fixed,s\nx,-1,150,2023-02-30,2024-01-01,7\n5,1,50,2024-02-29,2024-01-02,-5\n',
      ),
    );
    expect(findings.map((f) => f.message)).toEqual([
      'Column "either": 1 value failing "anyOf" (must match a schema in anyOf) (e.g. "x" at line 2).',
      // Matched by two patterns: both apply (allOf), through Ajv.
      'Column "f_a": 1 value failing "minimum" (must be >= 0) (e.g. -1 at line 2).',
      'Column "p": 1 value failing "maximum" (must be <= 100) (e.g. 150 at line 2).',
      'Column "day": 1 value failing "format" (must match format "date") (e.g. "2023-02-30" at line 2).',
      'Column "fixed": 1 value failing "const" (must be equal to constant) (e.g. "2024-01-02" at line 3).',
      'Column "s": 1 value failing "multipleOf" (must be multiple of 5) (e.g. 7 at line 2).',
      // An inline rule after an Ajv one carries no Ajv message.
      'Column "s": 1 value below the minimum 0 (e.g. -5 at line 3).',
    ]);
  });

  it('shortens long examples and shows JSON values as JSON', () => {
    const long = 'x'.repeat(100);
    const [text] = check(contract({ s: { type: 'string', maxLength: 5 } }), csvBatch(`s\n${long}\n`));
    expect(text.examples).toEqual([`${'x'.repeat(79)}…`]);
    // Exactly 80 characters are shown whole.
    const [whole] = check(
      contract({ s: { type: 'string', maxLength: 5 } }),
      csvBatch(`s\n${'y'.repeat(80)}\n`),
    );
    expect(whole.examples).toEqual(['y'.repeat(80)]);
    // Exactly ten allowed values are all listed.
    const [ten] = check(contract({ e: { enum: 'abcdefghij'.split('') } }), csvBatch('e\nz\n'));
    expect(ten.message).toBe(
      'Column "e": 1 value not in the allowed values ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] (e.g. "z" at line 2).',
    );
    expect(text.message).toBe(
      `Column "s": 1 value longer than the maximum length 5 (e.g. "${'x'.repeat(79)}…" at line 2).`,
    );
    const values = check(
      contract({ o: { enum: [{ a: 1 }, 1] }, n: { type: 'number' } }),
      valueBatch(
        ['o', 'n'],
        [
          [{ a: 1 }, 1],
          [1, Number.POSITIVE_INFINITY],
          [{ a: 2 }, 2],
        ],
      ),
    );
    expect(values.map((f) => [f.column, f.examples, f.message])).toEqual([
      [
        'o',
        ['{"a":2}'],
        'Column "o": 1 value failing "enum" (must be equal to one of the allowed values) (e.g. {"a":2} at line 3).',
      ],
      [
        'n',
        ['Infinity'],
        'Column "n": 1 value not of type number (e.g. Infinity at line 2). Infinite values (inf, 1e999) are not JSON Schema numbers: fix them at the source, or write them as missing values.',
      ],
    ]);
  });
});

describe('createContractChecker: which rules a column gets', () => {
  it('checks a column that has a single rule: minimum, maximum, minLength or maxMissingShare alone', () => {
    const findings = check(
      contract(
        { m: { minimum: 0 }, M: { maximum: 1 }, short: { minLength: 2 }, e: {} },
        { 'x-mlops': { columns: { e: { maxMissingShare: 0 } } } },
      ),
      csvBatch('m,M,short,e\n-1,2,a,\n'),
    );
    expect(findings.map((f) => [f.check, f.column, f.rule])).toEqual([
      ['contract', 'm', 'minimum'],
      ['contract', 'M', 'maximum'],
      ['contract', 'short', 'minLength'],
      ['missing-share', 'e', undefined],
    ]);
  });

  it('keeps the other string rules of a column with an enum, and the enum of text that needs unescaping', () => {
    const findings = check(
      contract({
        code: { type: 'string', enum: ['AB', 'x'], pattern: '^[A-Z]+$' },
        len: { type: 'string', enum: ['abc', 'a'], minLength: 2 },
        max: { type: 'string', enum: ['abcd', 'a'], maxLength: 3 },
        day: { type: 'string', enum: ['2024-02-30', '2024-01-01'], format: 'date' },
        quoted: { type: 'string', enum: ['say ""hi""'] },
      }),
      csvBatch(
        'code,len,max,day,quoted\nx,a,abcd,2024-02-30,"say ""hi"""\nAB,abc,a,2024-01-01,"say """"hi"""""\n',
      ),
    );
    expect(findings.map((f) => [f.column, f.rule, f.lines])).toEqual([
      ['code', 'pattern', [2]],
      ['len', 'minLength', [2]],
      ['max', 'maxLength', [2]],
      ['day', 'format', [2]],
      // The cell is `say "hi"`; the enum's `say ""hi""` is the third row's text.
      ['quoted', 'enum', [2]],
    ]);
  });

  it('keeps enums with null inline and compares enums of objects by value', () => {
    const [inline] = check(
      contract({ n: { type: ['string', 'null'], enum: ['a', null] } }),
      csvBatch('n\na\n\nb\n'),
    );
    expect(inline.message).toBe(
      'Column "n": 1 value not in the allowed values ["a", null] (e.g. "b" at line 4).',
    );
    expect(check(contract({ o: { enum: [{ a: 1 }] } }), valueBatch(['o'], [[{ a: 1 }]]))).toEqual([]);
  });

  it('reads text by the column’s types only: numbers and booleans stay text in a string column', () => {
    const findings = check(
      contract({
        zip: { type: 'string' },
        flag: { type: 'boolean', enum: [true] },
        tag: { type: ['string', 'null'] },
      }),
      csvBatch('zip,flag,tag\n01234,TRUE,1\ntrue,false,true\n'),
    );
    expect(findings.map((f) => f.message)).toEqual([
      'Column "flag": 1 value not in the allowed values [true] (e.g. false at line 3).',
    ]);
  });

  it('checks JSON values by their kind: booleans, arrays and objects, infinities, dates', () => {
    const findings = check(
      contract({
        n: { type: 'integer' },
        s: { type: 'string' },
        o: { type: 'object' },
        u: { minimum: 0 },
        at: { type: 'string', format: 'date-time' },
        day: { type: 'string', format: 'date' },
      }),
      valueBatch(
        ['n', 's', 'o', 'u', 'at', 'day'],
        [
          [
            true,
            [1, 2],
            { a: 1 },
            Number.POSITIVE_INFINITY,
            new Date(Number.NaN),
            new Date(Date.UTC(2024, 0, 31, 12)),
          ],
          [1, 'a', { b: 2 }, 1, new Date(Date.UTC(2024, 0, 31)), new Date(Date.UTC(2024, 0, 31))],
        ],
      ),
    );
    expect(findings.map((f) => [f.column, f.rule, f.lines, f.examples])).toEqual([
      ['n', 'type', [1], ['true']],
      ['s', 'type', [1], ['[1,2]']],
      // An invalid date is a missing value.
      ['at', 'null', [1], undefined],
      // A time that is not midnight is no date.
      ['day', 'format', [1], ['2024-01-31T12:00:00.000Z']],
    ]);
  });

  it('counts JSON nulls, NaN and missing tokens as missing', () => {
    const findings = check(
      contract(
        { m: { type: ['number', 'null'] } },
        { 'x-mlops': { columns: { m: { maxMissingShare: 0.5 } } } },
      ),
      valueBatch(['m'], [[null], ['NA'], [Number.NaN], [1]]),
    );
    expect(findings).toEqual([
      expect.objectContaining({ check: 'missing-share', count: 3, lines: [1, 2, 3] }),
    ]);
  });

  it('counts string length in code points, lone surrogates one each', () => {
    const findings = check(
      contract({ s: { type: 'string', maxLength: 1 }, t: { type: 'string', minLength: 2 } }),
      valueBatch(
        ['s', 't'],
        [
          ['\ud800\udc00', 'ab'],
          ['\udbff\udfff', 'ab'],
          ['a\udc00', '😀'],
          ['\udc00\udc00', 'ab'],
          ['\ud83dA', 'ab'],
          ['\ud800\ue000', 'ab'],
        ],
      ),
    );
    expect(findings.map((f) => [f.column, f.rule, f.lines])).toEqual([
      ['s', 'maxLength', [3, 4, 5, 6]],
      ['t', 'minLength', [3]],
    ]);
  });
});

describe('createContractChecker: counts, lines and messages of the dataset rules', () => {
  it('caps missing lines at ten, shows five in the message, one as "line"', () => {
    const schema = contract(
      { a: { type: ['integer', 'null'] }, b: { type: ['integer', 'null'] } },
      { 'x-mlops': { columns: { a: { maxMissingShare: 0 }, b: { maxMissingShare: 0 } } } },
    );
    const rows = Array.from({ length: 12 }, (_, i) => (i === 0 ? ',' : `,${i}`)).join('\n');
    const findings = check(schema, csvBatch(`a,b\n${rows}\n`));
    expect(findings.map((f) => [f.column, f.count, f.lines, f.message])).toEqual([
      [
        'a',
        12,
        [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        'Column "a": 100% missing (12 of 12 rows), above the limit of 0% (x-mlops.columns.a.maxMissingShare) (e.g. lines 2, 3, 4, 5, 6).',
      ],
      [
        'b',
        1,
        [2],
        'Column "b": 8.3% missing (1 of 12 rows), above the limit of 0% (x-mlops.columns.b.maxMissingShare) (e.g. line 2).',
      ],
    ]);
  });

  it('names a repeated value of a unique column as written; quoted empty strings do not repeat', () => {
    const schema = contract(
      { id: { type: 'string' }, n: { type: 'integer' } },
      { 'x-mlops': { columns: { id: { unique: true }, n: { unique: true } } } },
    );
    const findings = check(schema, csvBatch('id,n\nabc,7\n"",1\nabc, 7 \n"",2\n'));
    expect(findings.map((f) => [f.column, f.rule, f.lines, f.message])).toEqual([
      [
        'id',
        'unique',
        [4],
        'Column "id": 1 value repeating an earlier value, but the column is declared unique (x-mlops.columns.id.unique) (e.g. "abc" at line 4).',
      ],
      [
        'n',
        'unique',
        [4],
        'Column "n": 1 value repeating an earlier value, but the column is declared unique (x-mlops.columns.n.unique) (e.g. 7 at line 4).',
      ],
    ]);
  });

  it('tolerates out-of-range values by the column’s own share of its non-missing values, exclusive bounds included', () => {
    const schema = contract(
      { p: { type: ['number', 'null'], exclusiveMaximum: 1 } },
      { 'x-mlops': { maxOutOfRangeCount: 5, columns: { p: { maxOutOfRangeShare: 0.25 } } } },
    );
    // 5 rows, 1 missing: 4 values, a quarter of them is 1. The text `x` is a type error, never tolerated.
    const findings = check(schema, csvBatch('p\n0.5\n1\n\nx\n0.3\n'));
    expect(findings.map((f) => [f.rule, f.severity, f.message])).toEqual([
      [
        'exclusiveMaximum',
        'warning',
        'Column "p": 1 value not below the exclusive maximum 1 (e.g. 1 at line 3). Tolerated as a warning: 1 value out of range, within the limit of 1 (x-mlops.columns.p.maxOutOfRangeCount 0, maxOutOfRangeShare 0.25 of 4 values); more would be an error.',
      ],
      ['type', 'error', 'Column "p": 1 value not of type number or null (e.g. "x" at line 5).'],
    ]);
    const below = check(
      contract(
        { q: { type: 'number', exclusiveMinimum: 0 } },
        { 'x-mlops': { columns: { q: { maxOutOfRangeCount: 1 } } } },
      ),
      csvBatch('q\n0\n1\n'),
    );
    expect(below.map((f) => [f.rule, f.severity])).toEqual([['exclusiveMinimum', 'warning']]);
  });

  it('suggests only names that fit: an absent column for an unexpected one, an undescribed one for a missing one', () => {
    const strict = check(
      contract(
        { plan: { type: 'string' }, page: {}, age: {} },
        { additionalProperties: false, required: ['age'] },
      ),
      csvBatch('plan,plna,page\na,b,1\n'),
    );
    expect(strict.map((f) => f.message)).toEqual([
      'Column "age" is required by the contract but absent from the data.',
      'Column "plna" is not described by the contract ("additionalProperties" is false). Add it to the contract\'s "properties", or drop it from the data.',
    ]);
    const warned = check(
      contract({ plan: {} }, { 'x-mlops': { unexpectedColumns: 'warning' } }),
      csvBatch('plan,extra\na,b\n'),
    );
    expect(warned.map((f) => f.message)).toEqual([
      'Column "extra" is not described by the contract. Add it to the contract\'s "properties", or drop it from the data.',
    ]);
  });
});

describe('createContractChecker: batches and late columns', () => {
  it('finds nothing in clean data read in several batches', () => {
    const schema = contract({ a: { type: 'integer' } }, { required: ['a'] });
    expect(check(schema, csvBatch('a\n1\n2\n'), csvBatch('a\n3\n', 4), valueBatch(['a'], [[4]], 5))).toEqual(
      [],
    );
  });

  it('counts the rows before a late column as missing, with their own lines, capped at ten', () => {
    const schema = contract({ a: { type: 'integer' }, b: { type: 'integer' } });
    const first = valueBatch(['a'], [[1], [2]]);
    const second = valueBatch(['a'], [[3], [4]], 3);
    const third = valueBatch(
      ['a', 'b'],
      Array.from({ length: 8 }, (_, i) => [5 + i, null]),
      5,
    );
    const [finding] = check(schema, first, second, third);
    expect(finding).toMatchObject({
      column: 'b',
      rule: 'null',
      count: 12,
      lines: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    });
  });

  it('reads only the columns a batch has, when the header lists more', () => {
    const checker = createContractChecker(
      parseContract(contract({ a: { type: 'integer' }, b: {} }, { required: ['a', 'b'] }), 'c.json'),
      { file: 'd' },
    );
    checker.add(valueBatch(['a'], [['x']]).batch, ['a', 'b']);
    expect(checker.finish(1).map((f) => [f.check, f.column])).toEqual([
      ['contract', 'a'],
      ['missing-column', 'b'],
    ]);
  });
});

describe('createContractChecker: infinite JSON values', () => {
  it('says why only when the type rule met an infinity: a finite fraction or a range rule says nothing of it', () => {
    const findings = check(
      contract({ i: { type: 'integer' }, u: { maximum: 10 } }),
      valueBatch(['i', 'u'], [[1.5, Number.POSITIVE_INFINITY]]),
    );
    expect(findings.map((f) => f.message)).toEqual([
      'Column "i": 1 value not of type integer (e.g. 1.5 at line 1).',
      'Column "u": 1 value above the maximum 10 (e.g. Infinity at line 1).',
    ]);
  });
});

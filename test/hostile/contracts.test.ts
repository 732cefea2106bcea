/**
 * Hostile contracts and gate settings: patterns made to backtrack forever, patterns the
 * linear-time engine cannot run, infinities posing as numbers, a target or a reference that
 * matches nothing in the data (each used to pass in silence). Each input is built here; the gate
 * runs through the built CLI on Node 24 where the case is end to end. New cases go here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseContract } from '../../src/core/data/contract.ts';
import { compilePattern, PatternError } from '../../src/core/data/contract-ajv.ts';
import { createContractChecker } from '../../src/core/data/contract-check.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { csvBatch, valueBatch } from '../helpers/batches.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { type CliRun, mlops } from './fixtures/run-cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await temporaryDirectory('mlops-hostile-contracts-');
});

async function file(name: string, content: string | Uint8Array | object): Promise<string> {
  const path = join(dir, name);
  const bytes =
    typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content);
  await writeFile(path, bytes);
  return path;
}

async function gate(data: string, ...extra: string[]): Promise<CliRun & { report: string }> {
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = await mlops(['validate-data', '--data', data, '--report', report, ...extra]);
  return { ...run, report };
}

function expectRefused(run: CliRun & { report: string }, ...parts: string[]): void {
  expect(run.code, run.stderr).toBe(2);
  for (const part of parts) expect(run.stderr).toContain(part);
  expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(existsSync(run.report)).toBe(false);
}

function readReport(run: { report: string }) {
  return JSON.parse(readFileSync(run.report, 'utf8'));
}

const contract = (properties: object, extra: object = {}) => ({ type: 'object', properties, ...extra });

describe('hostile contracts: patterns that backtrack', () => {
  const evil = '^(a+)+$';
  // 40 a's and a mismatch: about 2^40 steps for a backtracking engine. Distinct cells defeat any cache.
  const cells = Array.from({ length: 2000 }, (_, i) => `${'a'.repeat(40)}!${i}`);

  it('fails the gate on the pattern instead of hanging: inline, through Ajv, and on column names', async () => {
    // A column name the column-name pattern backtracks on, too.
    const name = `${'a'.repeat(40)}!`;
    const data = await file(
      'evil.csv',
      `code,other,${name}\n${cells.map((cell) => `${cell},${cell},1`).join('\n')}\n`,
    );
    const schema = await file(
      'evil.json',
      contract(
        { code: { type: 'string', pattern: evil }, other: { anyOf: [{ type: 'string', pattern: evil }] } },
        { patternProperties: { [evil]: { type: 'string' } } },
      ),
    );
    // A backtracking engine would take hours: the child is killed after 20 s.
    const run = await mlops(['validate-data', '--data', data, '--contract', schema, '--json'], {
      timeoutMs: 20_000,
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.ms).toBeLessThan(20_000);
    const findings = JSON.parse(run.stdout).findings;
    expect(findings.find((f: { column?: string }) => f.column === 'code')).toMatchObject({
      rule: 'pattern',
      count: 2000,
    });
    expect(findings.find((f: { column?: string }) => f.column === 'other')).toMatchObject({
      rule: 'anyOf',
      count: 2000,
    });
  });

  it('checks distinct cells against the pattern in linear time (within 2 s)', () => {
    // 22 a's keep a backtracking engine finite here (~4M steps a cell, seconds in all) so that a
    // regression fails this test instead of hanging it.
    const short = Array.from({ length: 500 }, (_, i) => `${'a'.repeat(22)}!${i}`);
    const checker = createContractChecker(parseContract(contract({ code: { pattern: evil } }), 'c.json'), {
      file: 'd',
    });
    const batch = valueBatch(
      ['code'],
      short.map((cell) => [cell]),
    );
    const started = performance.now();
    checker.add(batch.batch, batch.columns);
    expect(checker.finish(short.length)[0]).toMatchObject({ rule: 'pattern', count: 500 });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses patterns the linear-time engine cannot run, naming the column, the pattern and why', async () => {
    const data = await file('codes.csv', 'code\nab\n');
    const cases: [string, string][] = [
      ['^(a)\\1$', 'backreference "\\1"'],
      ['^(?<x>a)\\k<x>$', 'backreference "\\k<name>"'],
      ['^(?=a)a', 'lookahead "(?="'],
      ['^(?!b)a', 'lookahead "(?!"'],
      ['(?<=a)b', 'lookbehind "(?<="'],
      ['(?<!a)b', 'lookbehind "(?<!"'],
    ];
    for (const [pattern, why] of cases) {
      const schema = await file('refused.json', contract({ code: { type: 'string', pattern } }));
      const run = await gate(data, '--contract', schema);
      expectRefused(run, schema, 'column "code"', JSON.stringify(pattern), why, 'linear-time engine (RE2)');
    }
  });

  it('refuses them in patternProperties and nested schemas too', () => {
    const refused = (json: object) => {
      try {
        parseContract(json, 'c.json');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigurationError');
    };
    expect(refused(contract({}, { patternProperties: { '^(x)\\1': { type: 'number' } } }))).toContain(
      'patternProperties: the column-name pattern "^(x)\\\\1" cannot be used: it uses a backreference',
    );
    expect(refused(contract({ code: { anyOf: [{ pattern: '(?=a)' }] } }))).toContain(
      'a nested pattern "(?=a)" cannot be used: it uses a lookahead',
    );
    expect(() => compilePattern('[a-')).toThrow(PatternError);
  });

  it('keeps JavaScript match semantics for the patterns it runs', () => {
    const patterns = [
      '^[A-Z]{2}-\\d{3,}$',
      'grp_[0-9]+',
      '^.$',
      '^a.b$',
      '^\\s+$',
      '^\\S+$',
      '[\\s,]',
      '^\\w+@\\w+\\.com$',
      '^(?<year>\\d{4})-(?:0[1-9]|1[0-2])$',
      '^\\u{1F600}+$',
      '^caf\\u00e9$',
      '^\\p{L}+$',
      '^[^]$',
      '\\bword\\b',
      '^a|b$',
      '^(?:ab)*c?$',
      'x{2,3}',
      '\\.',
      '^$',
    ];
    const inputs = [
      '',
      'a',
      'AB-123',
      'AB-12',
      'grp_42',
      'a\nb',
      'a\rb',
      'a\u2028b',
      'axb',
      ' \t',
      '\u00a0\u3000',
      '\ufeff',
      '\v',
      'x,y',
      'me@host.com',
      '2024-07',
      '2024-13',
      '😀😀',
      '😀',
      'café',
      'straße',
      'a word here',
      'swordfish',
      'b',
      'ababc',
      'xxx',
      'a.b',
      '\n',
    ];
    for (const pattern of patterns) {
      const native = new RegExp(pattern, 'u');
      const linear = compilePattern(pattern);
      for (const input of inputs)
        expect(linear.test(input), `${pattern} on ${JSON.stringify(input)}`).toBe(native.test(input));
    }
  });
});

describe('hostile contracts: infinities are not numbers', () => {
  const schema = contract({
    x: { type: 'number' },
    i: { type: ['integer', 'null'] },
  });

  it('reports inf, 1e999 and -Infinity in CSV as type violations (exit 1)', async () => {
    const data = await file('inf.csv', 'x,i\n1.5,1\ninf,2\n1e999,-inf\n-Infinity,3\n+inf,4\n');
    const run = await gate(data, '--contract', await file('inf-contract.json', schema));
    expect(run.code, run.stderr).toBe(1);
    const findings = readReport(run).findings;
    const x = findings.find((f: { column?: string; rule?: string }) => f.column === 'x' && f.rule === 'type');
    expect(x).toMatchObject({ count: 4, lines: [3, 4, 5, 6], examples: ['inf', '1e999', '-Infinity'] });
    expect(x.message).toContain('Infinite values (inf, 1e999) are not JSON Schema numbers');
    expect(findings.find((f: { column?: string }) => f.column === 'i')).toMatchObject({
      rule: 'type',
      count: 1,
    });
  });

  it('reports 1e999 in JSONL and infinite Parquet doubles the same way', async () => {
    const contractFile = await file('inf-contract.json', schema);
    const jsonl = await file('inf.jsonl', '{"x":1.5,"i":1}\n{"x":1e999,"i":-1e999}\n{"x":-1e999,"i":null}\n');
    const fromJsonl = await gate(jsonl, '--contract', contractFile);
    expect(fromJsonl.code, fromJsonl.stderr).toBe(1);
    expect(readReport(fromJsonl).findings.filter((f: { rule?: string }) => f.rule === 'type')).toMatchObject([
      { column: 'x', count: 2, lines: [2, 3] },
      { column: 'i', count: 1, lines: [2] },
    ]);
    const parquet = await file(
      'inf.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'x', data: [1.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], type: 'DOUBLE' },
            { name: 'i', data: [1, 2, 3], type: 'INT32' },
          ],
        }),
      ),
    );
    const fromParquet = await gate(parquet, '--contract', contractFile);
    expect(fromParquet.code, fromParquet.stderr).toBe(1);
    expect(readReport(fromParquet).findings.find((f: { rule?: string }) => f.rule === 'type')).toMatchObject({
      column: 'x',
      count: 2,
    });
  });

  it('keeps the profile and drift finite: infinities are counted, not averaged', async () => {
    const rows = (shift: number) =>
      Array.from({ length: 200 }, (_, i) =>
        i % 50 === 0 ? (i % 100 === 0 ? 'inf' : '-inf') : String(i + shift),
      );
    const data = await file('inf-data.csv', `x\n${rows(0).join('\n')}\n`);
    const reference = await file('inf-reference.csv', `x\n${rows(5).join('\n')}\n`);
    const run = await gate(data, '--reference', reference, '--fail-on', 'never');
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(run);
    const column = report.profile.columns[0];
    expect(column).toMatchObject({ type: 'number', count: 200, missing: 0 });
    const statistics = [
      ...Object.values(column.numeric),
      ...Object.values(column.quantiles.values),
      ...column.histogram.edges,
    ];
    for (const value of statistics) expect(Number.isFinite(value), JSON.stringify(column.numeric)).toBe(true);
    expect(column.numeric).toMatchObject({ min: 1, max: 199 });
    expect(column.state.infinite).toBe(4);
    const drift = report.drift.columns[0];
    expect(Number.isFinite(drift.statistic)).toBe(true);
    expect(Number.isFinite(drift.pValue ?? drift.adjustedPValue)).toBe(true);
    // A saved profile of such data reads back as a reference.
    const profile = join(dir, 'inf-profile.json');
    expect((await mlops(['profile', '--data', reference, '--out', profile])).code).toBe(0);
    const again = await gate(data, '--reference', profile, '--fail-on', 'never');
    expect(again.code, again.stderr).toBe(0);
    expect(readReport(again).drift.columns[0].statistic).toBe(drift.statistic);
  });

  it('checks the same in a column check of text and values', () => {
    const checker = createContractChecker(parseContract(schema, 'c.json'), { file: 'd' });
    const text = csvBatch('x,i\nInfinity,1\n');
    checker.add(text.batch, text.columns);
    const values = valueBatch(['x', 'i'], [[Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]]);
    checker.add(values.batch, values.columns);
    expect(checker.finish(2).map((f) => [f.column, f.rule, f.count])).toEqual([
      ['x', 'type', 2],
      ['i', 'type', 1],
    ]);
  });
});

describe('hostile settings: a target or a reference that matches nothing', () => {
  it('refuses a target that is not a column, naming the file, the target and the columns', async () => {
    const csv = await file('labelled.csv', 'a,b,label\n1,2,0\n3,4,1\n');
    const jsonl = await file('labelled.jsonl', '{"a":1,"b":2}\n{"a":3,"b":4,"label":1}\n');
    const parquet = await file(
      'labelled.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'a', data: [1, 3], type: 'INT32' },
            { name: 'label', data: [0, 1], type: 'INT32' },
          ],
        }),
      ),
    );
    for (const data of [csv, jsonl, parquet]) {
      const run = await gate(data, '--target', 'lable');
      expectRefused(
        run,
        `The target column "lable" is not a column of ${data}`,
        '"a"',
        'Did you mean "label"?',
      );
    }
    // A column that appears late in a JSONL file is a column.
    const late = await gate(jsonl, '--target', 'label', '--fail-on', 'never');
    expect(late.code, late.stderr).toBe(0);
  });

  it('refuses reference data or a reference profile sharing no column with the data, naming both', async () => {
    const data = await file('current.csv', 'a,b,label\n1,2,0\n3,4,1\n5,6,0\n');
    const reference = await file('other.csv', 'x,y\n1,2\n3,4\n');
    const run = await gate(data, '--reference', reference);
    expectRefused(
      run,
      `The reference ${reference} shares no column with the data ${data}`,
      'Reference columns: "x", "y". Data columns: "a", "b", "label".',
    );
    const profile = join(dir, 'other-profile.json');
    expect((await mlops(['profile', '--data', reference, '--out', profile])).code).toBe(0);
    expectRefused(await gate(data, '--reference', profile), `The reference ${profile} shares no column`);
    // One shared column is enough to compare.
    const overlapping = await file('overlap.csv', 'a,z\n1,2\n3,4\n5,6\n');
    const compared = await gate(data, '--reference', overlapping, '--fail-on', 'never');
    expect(compared.code, compared.stderr).toBe(0);
    expect(readReport(compared).drift.columns.map((c: { column: string }) => c.column)).toEqual(['a']);
  });

  it('warns that leakage was not checked when the training data shares no column', async () => {
    const data = await file('scored.csv', 'a,b\n1,2\n3,4\n');
    const train = await file('unrelated-train.csv', 'x,y\n1,2\n3,4\n');
    const run = await gate(data, '--train', train);
    expect(run.code, run.stderr).toBe(0);
    const leakage = readReport(run).findings.find((f: { check: string }) => f.check === 'train-test-leakage');
    expect(leakage).toMatchObject({ severity: 'warning' });
    expect(leakage.message).toContain('Leakage not checked');
    expect(leakage.message).toContain('share no column');
  });
});

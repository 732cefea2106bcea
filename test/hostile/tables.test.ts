/**
 * Hostile tables: CSV, JSONL and Parquet files made to exhaust memory or the stack, or to be
 * misread without a word. Each file is built here (or by test/hostile/fixtures/); each case runs
 * the data gate through the built CLI on Node 24 and expects exit 2, a message naming the file
 * (and the line, key or limit), and no report written. New hostile tables go here.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ValueColumn } from '../../src/core/data/batch.ts';
import { MAX_COLUMNS, MAX_JSON_DEPTH, MAX_LINE_BYTES } from '../../src/core/data/limits.ts';
import { openTable } from '../../src/core/data/open-table.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { inputError } from '../helpers/files.ts';
import { FOOTER_LIES, lyingParquet } from './fixtures/lying-parquet.ts';
import { type CliRun, mlops } from './fixtures/run-cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await temporaryDirectory('mlops-hostile-tables-');
});

/** Writes `content` to `name` in the test folder; returns the path. */
async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Runs the data gate with a report path; returns the run and whether the report was written. */
async function gate(data: string, ...extra: string[]): Promise<CliRun & { wroteReport: boolean }> {
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = await mlops(['validate-data', '--data', data, '--report', report, ...extra]);
  return { ...run, wroteReport: existsSync(report) };
}

/** Expects the user-error exit: code 2, every `parts` in the message, no stack trace, no report. */
function expectRefused(run: CliRun & { wroteReport?: boolean }, ...parts: (string | RegExp)[]): void {
  expect(run.code, run.stderr).toBe(2);
  for (const part of parts) {
    if (typeof part === 'string') expect(run.stderr).toContain(part);
    else expect(run.stderr).toMatch(part);
  }
  expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  if (run.wroteReport !== undefined) expect(run.wroteReport).toBe(false);
}

function csvOfWidth(columns: number, rows = 1): string {
  const header = Array.from({ length: columns }, (_, i) => `c${i}`).join(',');
  const row = Array.from({ length: columns }, (_, i) => String(i % 7)).join(',');
  return `${header}\n${`${row}\n`.repeat(rows)}`;
}

describe('hostile tables: width', () => {
  it(`refuses a CSV wider than ${MAX_COLUMNS} columns, naming the file and the limit`, async () => {
    const data = await file('wide.csv', csvOfWidth(MAX_COLUMNS + 1));
    expectRefused(await gate(data), data, '10,001 columns', 'at most 10,000');
    const profile = join(dir, 'wide-profile.json');
    const run = await mlops(['profile', '--data', data, '--out', profile]);
    expectRefused(run, data, 'at most 10,000');
    expect(existsSync(profile)).toBe(false);
  });

  it(`reads a one-row CSV of ${MAX_COLUMNS} columns with small per-column state`, async () => {
    // Each column used to preallocate ~300 KB of tables: 2.9 GB for this 79 KB file.
    const data = await file('widest.csv', csvOfWidth(MAX_COLUMNS));
    const run = await gate(data, '--fail-on', 'never');
    expect(run.code, run.stderr).toBe(0);
    expect(run.wroteReport).toBe(true);
    expect(run.peakMb).toBeLessThan(800);
    const profile = await mlops(['profile', '--data', data, '--out', join(dir, 'widest.json')]);
    expect(profile.code, profile.stderr).toBe(0);
    expect(profile.peakMb).toBeLessThan(800);
  });

  it(`refuses a JSONL file whose rows bring more than ${MAX_COLUMNS} keys, naming the line`, async () => {
    const first = JSON.stringify({ id: 1 });
    const wide = JSON.stringify(
      Object.fromEntries(Array.from({ length: MAX_COLUMNS }, (_, i) => [`k${i}`, i])),
    );
    const data = await file('wide.jsonl', `${first}\n${wide}\n`);
    expectRefused(await gate(data), `${data} line 2`, 'more than 10,000 columns');
  });

  it(`refuses a Parquet file wider than ${MAX_COLUMNS} columns`, async () => {
    const columnData = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => ({
      name: `c${i}`,
      data: [i],
      type: 'INT32' as const,
    }));
    const data = await file('wide.parquet', new Uint8Array(parquetWriteBuffer({ columnData })));
    expectRefused(await gate(data), data, '10,001 columns');
  });
});

describe('hostile tables: JSONL nesting, long lines, repeated keys', () => {
  it(`refuses values nested more than ${MAX_JSON_DEPTH} levels (5,000 deep), naming the line and key`, async () => {
    const depth = 5000;
    const arrays = `{"id":2,"payload":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const objects = `{"id":2,"payload":${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    for (const [name, line] of [
      ['deep-arrays.jsonl', arrays],
      ['deep-objects.jsonl', objects],
    ]) {
      const data = await file(name, `{"id":1,"payload":[1,[2]]}\n${line}\n`);
      expectRefused(await gate(data), `${data} line 2`, '"payload"', '100 levels deep');
      const run = await mlops(['profile', '--data', data, '--out', join(dir, `${name}.json`)]);
      expectRefused(run, `${data} line 2`);
    }
  });

  it('accepts nesting up to the limit', async () => {
    const depth = MAX_JSON_DEPTH - 1; // the row's object is level 1
    const data = await file(
      'nested-ok.jsonl',
      `{"id":1,"payload":${'['.repeat(depth)}${']'.repeat(depth)}}\n`,
    );
    const run = await gate(data, '--fail-on', 'never');
    expect(run.code, run.stderr).toBe(0);
  });

  it('refuses a deeply nested line of several MiB before parsing it', async () => {
    const depth = 3 << 20; // JSON.parse would hold ~300 MB of nesting state
    const data = await file('deep-long.jsonl', `{"id":1}\n{"a":${'['.repeat(depth)}${']'.repeat(depth)}}\n`);
    const run = await gate(data);
    expectRefused(run, `${data} line 2`, 'the row nests');
    expect(run.peakMb).toBeLessThan(300);
  });

  it(`refuses a line longer than ${MAX_LINE_BYTES >> 20} MiB, naming the line`, async () => {
    const long = `{"a":"${'x'.repeat(MAX_LINE_BYTES)}"}`;
    const data = await file('long-line.jsonl', `{"a":"short"}\n${long}\n`);
    const error = await inputError(async () => {
      const reader = await openTable(data);
      for await (const _ of reader.batches());
    });
    expect(error.message).toContain(`${data} line 2 is longer than 64 MiB`);
    expect(error.location).toEqual({ file: data, line: 2 });
  });

  it('refuses a key repeated in a row, naming the file, line and key', async () => {
    const cases: [string, string][] = [
      ['{"a":1,"b":2,"a":3}', 'a'],
      // The same key written with an escape.
      ['{"a":1,"\\u0061":2}', 'a'],
      // After values holding colons, quotes and nested objects with the same keys.
      ['{"t":"12:00","n":{"t":1,"u":{"t":2}},"s":"say \\"t\\": x","t":"13:00"}', 't'],
      [' { "sp ace" : 1 , "sp ace" : [1, {"a": 2}] } ', 'sp ace'],
    ];
    for (const [index, [line, key]] of cases.entries()) {
      const data = await file(`repeated-${index}.jsonl`, `{"a":0,"b":0}\n${line}\n`);
      expectRefused(
        await gate(data),
        `${data} line 2`,
        `the key ${JSON.stringify(key)} appears more than once`,
      );
    }
  });

  it('reads rows whose values hold colons, quotes and nested keys without a false alarm', async () => {
    const lines = [
      '{"t":"12:00:00","n":{"t":1,"u":{"t":[1,{"t":2}]}},"s":"a\\":b\\\\","u":"http://x/y"}',
      '{"t":"13:00:00","n":null,"s":"{\\"t\\":1}","u":":::"}',
      '{"\\"t\\"":1,"t":"14:00"}',
    ];
    const data = await file('colons.jsonl', `${lines.join('\n')}\n`);
    const reader = await openTable(data);
    const values: unknown[][] = [];
    for await (const batch of reader.batches())
      for (const column of batch.columns) values.push(Array.from((column as ValueColumn).values));
    expect(reader.columns).toEqual(['t', 'n', 's', 'u', '"t"']);
    expect(values[0]).toEqual(['12:00:00', '13:00:00', '14:00']);
    expect(values[2]).toEqual(['a":b\\', '{"t":1}', undefined]);
    const run = await gate(data, '--fail-on', 'never');
    expect(run.code, run.stderr).toBe(0);
  });
});

describe('hostile tables: Parquet footers that lie about their rows', () => {
  for (const [name, lie] of Object.entries(FOOTER_LIES)) {
    it(`refuses ${name} (exit 2, naming the file), never trusting the footer`, async () => {
      const data = await file(`${name}.parquet`, lyingParquet(lie));
      const run = await gate(data);
      expectRefused(run, `${data} is not a consistent Parquet file`, /rows/);
      const profile = join(dir, `${name}-profile.json`);
      // Profiled on two threads as well: the worker's error is the user's too.
      const split = await mlops(['profile', '--data', data, '--out', profile, '--parallel', 'always']);
      expectRefused(split, `${data} is not a consistent Parquet file`);
      expect(existsSync(profile)).toBe(false);
    });
  }

  it('names the claim and what the pages hold', async () => {
    const fewer = await gate(await file('fewer.parquet', lyingParquet(FOOTER_LIES.fewerRowsEverywhere)));
    expect(fewer.stderr).toContain(
      'row group 1 has 60 rows by the footer, but the pages of column "id" hold more',
    );
    const huge = await gate(await file('huge.parquet', lyingParquet(FOOTER_LIES.hugeRowCount)));
    expect(huge.stderr).toContain('its footer claims 1152921504606846976 rows, which no file can hold');
    const large = await gate(await file('large.parquet', lyingParquet(FOOTER_LIES.largeRowCount)));
    expect(large.stderr).toContain('the pages of column "id" hold only 100');
  });

  it('still reads an honest file written the same way', async () => {
    const data = await file('honest.parquet', lyingParquet({}));
    const run = await gate(data, '--fail-on', 'never');
    expect(run.code, run.stderr).toBe(0);
    expect(run.wroteReport).toBe(true);
  });
});

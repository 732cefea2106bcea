import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { columnStatistics, DataError, parseNumericCsv, splitTarget, standardize } from '../src/features.ts';

/** Asserts that `run` throws a DataError whose message contains every one of `parts`. */
function assertDataError(run: () => unknown, ...parts: string[]): DataError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  for (const part of parts) assert.ok(caught.message.includes(part), `"${caught.message}" lacks "${part}"`);
  return caught;
}

describe('parseNumericCsv', () => {
  it('reads the header and numbers, with CRLF, a byte order mark and a final newline', () => {
    const table = parseNumericCsv('\uFEFFa, b ,target\r\n1,2.5,0\r\n-3,1e-3,1\r\n');
    assert.deepEqual(table.columns, ['a', 'b', 'target']);
    assert.deepEqual(table.rows, [
      [1, 2.5, 0],
      [-3, 0.001, 1],
    ]);
  });

  it('names the line and column of a value that is not a number', () => {
    const error = assertDataError(
      () => parseNumericCsv('a,b\n1,2\n3,abc\n', 'train.csv'),
      'train.csv',
      'line 3',
      'column "b"',
      '"abc" is not a finite number',
    );
    assert.equal(error.line, 3);
    assert.equal(error.column, 'b');
  });

  it('refuses an empty cell instead of reading it as 0', () => {
    assertDataError(() => parseNumericCsv('a,b\n1,\n'), 'line 2', 'column "b"', 'missing');
  });

  it('refuses infinities', () => {
    assertDataError(() => parseNumericCsv('a\nInfinity\n'), 'line 2', 'not a finite number');
  });

  it('names a row with the wrong number of fields', () => {
    assertDataError(() => parseNumericCsv('a,b\n1,2\n3\n'), 'line 3', '1 fields, but the header has 2');
    assertDataError(() => parseNumericCsv('a,b\n1,2\n\n3,4\n'), 'line 3', 'an empty line');
  });

  it('refuses an empty file, a header without rows, and a duplicate or empty column name', () => {
    assertDataError(() => parseNumericCsv(''), 'line 1', 'empty');
    assertDataError(() => parseNumericCsv('a,b\n'), 'no rows');
    assertDataError(() => parseNumericCsv('a,a\n1,2\n'), 'line 1', '"a" appears twice');
    assertDataError(() => parseNumericCsv('a,,c\n1,2,3\n'), 'header field 2 is empty');
    assertDataError(() => parseNumericCsv('"a",b\n1,2\n'), 'quoted fields');
  });

  it('reads the project data: 455 training rows of 31 columns', async () => {
    const table = parseNumericCsv(
      await readFile(new URL('../data/train.csv', import.meta.url), 'utf8'),
      'data/train.csv',
    );
    assert.equal(table.columns.length, 31);
    assert.equal(table.columns.at(-1), 'target');
    assert.equal(table.rows.length, 455);
  });
});

describe('splitTarget', () => {
  const table = parseNumericCsv('x,target,y\n1,0,2\n3,1,4\n');

  it('takes every other column as a feature, in file order', () => {
    const dataset = splitTarget(table, 'target');
    assert.deepEqual(dataset.featureNames, ['x', 'y']);
    assert.deepEqual(dataset.features, [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(dataset.labels, [0, 1]);
  });

  it('names a missing target column and lists the columns', () => {
    assertDataError(
      () => splitTarget(table, 'label', 'd.csv'),
      'd.csv',
      'no target column "label"',
      'x, target, y',
    );
  });

  it('refuses a label other than 0 or 1, naming its line', () => {
    const error = assertDataError(
      () => splitTarget(parseNumericCsv('x,target\n1,0\n2,2\n'), 'target'),
      'line 3',
      'column "target"',
      'the label is 2',
    );
    assert.equal(error.line, 3);
  });
});

describe('columnStatistics and standardize', () => {
  it('computes the mean and the population standard deviation', () => {
    const statistics = columnStatistics([
      [2, 10],
      [4, 10],
      [4, 10],
      [4, 10],
      [5, 10],
      [5, 10],
      [7, 10],
      [9, 10],
    ]);
    assert.deepEqual(statistics.mean, [5, 10]);
    // The textbook example: population std 2. A constant column gets 1, not 0.
    assert.deepEqual(statistics.std, [2, 1]);
  });

  it('maps each column to mean 0 and standard deviation 1', () => {
    const rows = [
      [1, 100, 7],
      [2, 300, 7],
      [6, 200, 7],
      [3, 400, 7],
    ];
    const standardized = standardize(rows, columnStatistics(rows));
    const after = columnStatistics(standardized);
    for (const mean of after.mean) assert.ok(Math.abs(mean) < 1e-12);
    assert.ok(Math.abs(after.std[0] - 1) < 1e-12 && Math.abs(after.std[1] - 1) < 1e-12);
    assert.deepEqual(
      standardized.map((row) => row[2]),
      [0, 0, 0, 0],
    );
  });

  it('refuses rows of another width than the statistics', () => {
    assert.throws(
      () => standardize([[1, 2, 3]], { mean: [0, 0], std: [1, 1] }),
      /3 values, the statistics 2/,
    );
  });
});

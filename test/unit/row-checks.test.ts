import { describe, expect, it } from 'vitest';
import type { TextColumn } from '../../src/core/data/batch.ts';
import { MissingTokens } from '../../src/core/data/cells.ts';
import { MAX_EXAMPLE_LINES } from '../../src/core/data/findings.ts';
import { HashSet52 } from '../../src/core/data/hash-set.ts';
import {
  binomialUpperTail,
  createDuplicateRowChecker,
  createLeakageChecker,
  createTrainingRowIndex,
  decideLeakage,
  formatShare,
  hashNumberValue,
  hashTextCell,
  hashValueCell,
  MISSING_HASH,
} from '../../src/core/data/row-checks.ts';
import { csvBatch, feed, valueBatch } from '../helpers/batches.ts';

const missing = new MissingTokens();
/** The normalized hashes of the cells of a one-column CSV, one per line of `text`. */
const cells = (text: string) => {
  const { batch } = csvBatch(`x\n${text}\n`);
  const column = batch.columns[0] as TextColumn;
  return Array.from({ length: batch.length }, (_, i) => hashTextCell(column, i, missing));
};

describe('HashSet52', () => {
  it('adds, finds and grows exactly', () => {
    const set = new HashSet52();
    const reference = new Set<number>();
    let seed = 7;
    let wrong = 0;
    for (let i = 0; i < 200_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // Few distinct values so that many adds are repeats; include 0 and values above 2^32.
      const hash = i % 1000 === 0 ? 0 : (seed % 50_000) * 2 ** 20 + (seed % 7);
      if (set.add(hash) === reference.has(hash)) wrong++;
      reference.add(hash);
    }
    expect(wrong).toBe(0);
    expect(set.size).toBe(reference.size);
    for (const hash of reference) expect(set.has(hash)).toBe(true);
    expect(set.has(123.5 * 2 ** 30)).toBe(false);
  });

  it('holds a million hashes in little memory', () => {
    const set = new HashSet52(1_000_000);
    // Also shows that integers get full-width hashes (cells.ts hashNumber gives ~645k distinct here).
    for (let i = 0; i < 1_000_000; i++) set.add(hashNumberValue(i));
    expect(set.size).toBe(1_000_000);
    expect(set.byteLength).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});

describe('cell normalization', () => {
  it('hashes numbers by value, text trimmed, missing values alike', () => {
    const [one, oneDotZero, exp, spaced, quoted] = cells('1\n1.0\n1e0\n  1 \n"1"');
    expect(new Set([one, oneDotZero, exp, spaced, quoted]).size).toBe(1);
    expect(hashValueCell(1, missing)).toBe(one);
    expect(hashValueCell('1.0', missing)).toBe(one);
    expect(hashValueCell(1n, missing)).toBe(one);
    const [a, b] = cells('abc\n abc ');
    expect(a).toBe(b);
    expect(hashValueCell('abc', missing)).toBe(a);
    expect(cells('\nNA\nnull')).toEqual([MISSING_HASH, MISSING_HASH, MISSING_HASH]);
    // A quoted empty (or blank) string too: writers differ in whether they quote one.
    expect(cells('x\n""\n"  "').slice(1)).toEqual([MISSING_HASH, MISSING_HASH]);
    for (const value of [null, undefined, Number.NaN, '', 'NA'])
      expect(hashValueCell(value, missing)).toBe(MISSING_HASH);
  });

  it('hashes booleans and datetimes by value, and escaped text like JS strings', () => {
    const [t, T, date, dateTime, escaped] = cells(
      'true\nTRUE\n2024-01-31\n2024-01-31T00:00:00Z\n"say ""hi"""',
    );
    expect(t).toBe(T);
    expect(hashValueCell(true, missing)).toBe(t);
    expect(hashValueCell(1, missing)).not.toBe(t);
    expect(date).toBe(dateTime);
    expect(hashValueCell(new Date(Date.UTC(2024, 0, 31)), missing)).toBe(date);
    expect(hashValueCell('say "hi"', missing)).toBe(escaped);
    expect(hashValueCell('héllo', missing)).toBe(cells('héllo')[0]);
  });
  it('hashes false by value too: false, FALSE, False, padded, and a JSON false alike; apart from true and from 0', () => {
    const [f, F, Fa, spaced, quoted, t] = cells('false\nFALSE\nFalse\n  false \n"false"\ntrue');
    expect(new Set([f, F, Fa, spaced, quoted]).size).toBe(1);
    expect(hashValueCell(false, missing)).toBe(f);
    expect(hashValueCell('FALSE', missing)).toBe(f);
    expect(hashValueCell(true, missing)).toBe(t);
    expect(hashValueCell(true, missing)).not.toBe(f);
    expect(hashValueCell(0, missing)).not.toBe(f);
    // Not booleans: the hash of the text itself, so case matters again.
    const [falsey, FALSEY, fals] = cells('falsey\nFALSEY\nfals');
    expect(falsey).not.toBe(FALSEY);
    expect(new Set([f, falsey, fals]).size).toBe(3);
  });
});

describe('createDuplicateRowChecker', () => {
  it('counts repeats across batches with the lines of the repeats', () => {
    const checker = feed(
      createDuplicateRowChecker({ file: 'data.csv' }),
      csvBatch('a,b\n1,x\n2,y\n1.0, x\n'),
      csvBatch('a,b\n2,y\n3,z\n1,x\n', 10),
    );
    const finding = checker.finish();
    expect(finding).toMatchObject({
      check: 'duplicate-rows',
      severity: 'warning',
      count: 3,
      lines: [4, 10, 12],
      file: 'data.csv',
    });
    expect(finding?.message).toBe(
      '3 rows (50% of 6) repeat an earlier row on all columns (e.g. lines 4, 10, 12). Remove the duplicates, or exclude the columns that legitimately repeat.',
    );
  });

  it('returns null without duplicates, and respects excluded columns and severity', () => {
    const data = csvBatch('id,a\n1,x\n2,x\n3,y\n');
    expect(feed(createDuplicateRowChecker(), data).finish()).toBeNull();
    const finding = feed(
      createDuplicateRowChecker({ exclude: ['id'], severity: 'error' }),
      csvBatch('id,a\n1,x\n2,x\n3,y\n'),
    ).finish();
    expect(finding).toMatchObject({ severity: 'error', count: 1, lines: [3] });
    expect(finding?.message).toMatch(/on all columns except "id"/);
  });

  it('treats missing tokens as equal and compares JSON values with CSV text', () => {
    const finding = feed(
      createDuplicateRowChecker(),
      csvBatch('a,b\n1,\n1,NA\n'),
      valueBatch(
        ['b', 'a'],
        [
          [null, 1],
          [undefined, '1'],
          ['x', 1],
        ],
        4,
      ),
    ).finish();
    expect(finding).toMatchObject({ count: 3, lines: [3, 4, 5] });
  });

  it('sees rows that differ only in how false is written as duplicates, and true/false rows as distinct', () => {
    const finding = feed(
      createDuplicateRowChecker(),
      csvBatch('a,ok\n1,false\n1,FALSE\n1,true\n2, False\n'),
      valueBatch(
        ['ok', 'a'],
        [
          [false, 1],
          [true, 1],
          [false, 2],
          ['TRUE', 3],
        ],
        6,
      ),
    ).finish();
    // Line 3 repeats 2; 6 repeats 2; 7 repeats 4; 8 repeats 5; 9 (3,TRUE) is new.
    expect(finding).toMatchObject({ count: 4, lines: [3, 6, 7, 8] });
    expect(feed(createDuplicateRowChecker(), csvBatch('a,ok\n1,false\n1,true\n1,0\n')).finish()).toBeNull();
  });

  it('caps example lines', () => {
    const rows = Array.from({ length: 30 }, () => 'same,row').join('\n');
    const finding = feed(createDuplicateRowChecker(), csvBatch(`a,b\n${rows}\n`)).finish();
    expect(finding?.count).toBe(29);
    expect(finding?.lines).toHaveLength(MAX_EXAMPLE_LINES);
    expect(finding?.lines?.[0]).toBe(3);
  });

  it('keeps rows apart that differ only in which column holds a value', () => {
    expect(feed(createDuplicateRowChecker(), csvBatch('a,b\n1,\n,1\n')).finish()).toBeNull();
  });
});

describe('train/test leakage', () => {
  /** 3 rows the tests look for, and 60 other distinct rows: a training set without twins. */
  const trainText = `age,city,score\n30,Oslo,1\n40,Rome,2.5\n50,Oslo,3\n${Array.from({ length: 60 }, (_, i) => `${100 + i},Paris,${i}`).join('\n')}\n`;
  const train = () => feed(createTrainingRowIndex({ file: 'train.csv' }), csvBatch(trainText));

  it('finds evaluated rows present in training, whatever the column order and number syntax', () => {
    const index = train();
    expect(index.rows).toBe(63);
    expect(index.rowsWithTwin).toBe(0);
    expect(index.columns).toEqual(['age', 'city', 'score']);
    const checker = feed(
      createLeakageChecker(index, { file: 'test.jsonl' }),
      valueBatch(
        ['score', 'city', 'age'],
        [
          [1.0, 'Oslo', 30],
          [2.5, 'Rome', 41],
          ['3.0', ' Oslo', 50],
          [1, 'Oslo', 30],
        ],
      ),
    );
    const finding = checker.finish();
    expect(finding).toMatchObject({
      check: 'train-test-leakage',
      severity: 'error',
      count: 3,
      lines: [1, 3, 4],
      file: 'test.jsonl',
    });
    expect(finding?.message).toBe(
      "3 rows of 4 (75%) also occur in the training data (train.csv) (e.g. lines 1, 3, 4). That is more than chance explains: 0% of the training rows have an identical twin there, so about 0.063 shared rows are expected by chance, and 3 or more has probability 1.5e-5 < 0.01: the evaluation overstates the model's quality. Remove them from one side.",
    );
  });

  it('finds a leaked row whose boolean is FALSE in training and a JSON false in the evaluated data', () => {
    const rows = Array.from({ length: 60 }, (_, i) => `${i},${i % 2 === 0 ? 'TRUE' : 'FALSE'}`).join('\n');
    const index = feed(createTrainingRowIndex({ file: 'train.csv' }), csvBatch(`id,flag\n${rows}\n`));
    const finding = feed(
      createLeakageChecker(index),
      valueBatch(
        ['id', 'flag'],
        [
          [1, false], // training row 1,FALSE
          [2, true], // training row 2,TRUE
          [3, true], // training has 3,FALSE: not the same row
          [100, false],
        ],
      ),
    ).finish();
    expect(finding).toMatchObject({
      check: 'train-test-leakage',
      severity: 'error',
      count: 2,
      lines: [1, 2],
    });
  });

  it('returns null when nothing leaks', () => {
    const checker = feed(createLeakageChecker(train()), csvBatch('age,city,score\n31,Oslo,1\n'));
    expect(checker.finish()).toBeNull();
  });

  it('compares on shared columns and says which', () => {
    const index = feed(
      createTrainingRowIndex({ columns: ['age', 'city', 'extra'] }),
      csvBatch('age,city,label\n30,Oslo,1\n40,Rome,0\n'),
    );
    const finding = feed(
      createLeakageChecker(index, { trainFile: 'train.csv' }),
      csvBatch('city,age,extra\nRome,40,\nRome,41,\n'),
    ).finish();
    expect(finding).toMatchObject({ count: 1, lines: [2] });
    expect(finding?.message).toMatch(
      /Compared on 2 shared columns \("age", "city"\); only in the training data: "label"; only in the evaluated data: "extra"\./,
    );
  });

  it('warns instead of reporting no leakage when training has columns the evaluated data lacks', () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},1`).join('\n');
    const index = feed(createTrainingRowIndex(), csvBatch(`age,label\n${rows}\n`));
    const finding = feed(createLeakageChecker(index), csvBatch('age\n30\n31\n32\n')).finish();
    expect(finding).toMatchObject({ severity: 'warning', count: 1 });
    expect(finding?.message).toMatch(/Leakage not checked: .*"label"/);
    // Excluding the label fixes it.
    const excluded = feed(createTrainingRowIndex({ exclude: ['label'] }), csvBatch(`age,label\n${rows}\n`));
    expect(feed(createLeakageChecker(excluded), csvBatch('age\n30\n31\n32\n')).finish()).toMatchObject({
      severity: 'error',
      count: 3,
    });
  });

  it('says when the files share no column to compare on, instead of a verdict', () => {
    const index = feed(createTrainingRowIndex({ file: 'train.csv' }), csvBatch('a,b\n1,2\n'));
    const finding = feed(createLeakageChecker(index), csvBatch('x,y\n1,2\n')).finish();
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding?.message).toMatch(
      /^Leakage not checked: the training data \(train\.csv\) has 2 columns that the evaluated data lacks/,
    );
  });

  it("counts the training data's own twins and lets them explain shared rows", () => {
    // 100 training rows with 10 pairs of identical rows: 20 rows have a twin (measurements that repeat).
    const distinct = Array.from({ length: 80 }, (_, i) => `${i},${i % 7}`);
    const pairs = Array.from({ length: 10 }, (_, i) => `${500 + i},1`);
    const index = feed(
      createTrainingRowIndex({ file: 'train.csv' }),
      csvBatch(`x,y\n${[...distinct, ...pairs, ...pairs].join('\n')}\n`),
    );
    expect(index.rowsWithTwin).toBe(20);
    // 5 of 40 evaluated rows equal a training row: about 40 × 21/101 ≈ 8.3 expected, so not leakage.
    const evaluated = [
      ...Array.from({ length: 5 }, (_, i) => `${500 + i},1`),
      ...Array.from({ length: 35 }, (_, i) => `${1000 + i},2`),
    ];
    const natural = feed(createLeakageChecker(index), csvBatch(`x,y\n${evaluated.join('\n')}\n`)).finish();
    expect(natural).toMatchObject({ severity: 'info', count: 5 });
    expect(natural?.message).toMatch(
      /The data's own identical rows explain it \(not leakage\): 20% of the training rows have an identical twin there, so about 8\.3 shared rows are expected by chance, and 5 or more has probability 1 ≥ 0\.01\./,
    );
  });
});

describe('decideLeakage', () => {
  const noTwins = { rows: 400, rowsWithTwin: 0 };
  it("is leakage when the count is improbable under the data's own rate of twins", () => {
    // No twins in 400 training rows: q = 1/401; 143 evaluated rows expect 0.36 shared rows.
    expect(decideLeakage(2, 143, noTwins).leakage).toBe(false);
    expect(decideLeakage(3, 143, noTwins).leakage).toBe(true);
    // A p-value exactly at the level is not below it.
    const at = decideLeakage(3, 143, noTwins);
    expect(decideLeakage(3, 143, noTwins, { pValue: at.pValue }).leakage).toBe(false);
    expect(decideLeakage(3, 143, noTwins, { pValue: at.pValue * (1 + 1e-9) }).leakage).toBe(true);
    // A tolerated share turns it into info, up to and including the share.
    expect(decideLeakage(7, 140, noTwins, { maxShare: 0.05 }).leakage).toBe(false);
    expect(decideLeakage(8, 140, noTwins, { maxShare: 0.05 }).leakage).toBe(true);
    expect(decideLeakage(7, 140, noTwins, { maxShare: 0.05 }).rule).toMatch(/Within the tolerated share 5%/);
  });

  it('matches the binomial upper tail computed directly', () => {
    // P(X ≥ 3) for X ~ Binomial(10, 0.1) = 1 − P(0) − P(1) − P(2).
    const p0 = 0.9 ** 10;
    const p1 = 10 * 0.1 * 0.9 ** 9;
    const p2 = 45 * 0.01 * 0.9 ** 8;
    expect(binomialUpperTail(3, 10, 0.1)).toBeCloseTo(1 - p0 - p1 - p2, 14);
    expect(binomialUpperTail(0, 10, 0.1)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.1)).toBe(0);
    expect(binomialUpperTail(1, 10, 0.5)).toBe(1);
  });
});

describe('row checks: the numbers and words of their findings', () => {
  it('normalizes signs, leading dots, infinities and blanks (tab, CR) like numbers', () => {
    const [plus, one, dot, half, inf, infinity, minusInf, tabbed, seven] = cells(
      '+1\n1\n.5\n0.5\ninf\nInfinity\n-inf\n\t7\r\n7',
    );
    expect(plus).toBe(one);
    expect(dot).toBe(half);
    expect(inf).toBe(infinity);
    expect(minusInf).not.toBe(inf);
    expect(tabbed).toBe(seven);
    expect(hashValueCell(Number.POSITIVE_INFINITY, missing)).toBe(inf);
    expect(hashValueCell(7, missing)).toBe(seven);
    expect(new Set([one, half, inf, seven]).size).toBe(4);
  });

  it('hashes nested JSON by its text and a missing Date alike with missing', () => {
    expect(hashValueCell({ a: 1 }, missing)).toBe(hashValueCell({ a: 1 }, missing));
    expect(hashValueCell({ a: 1 }, missing)).not.toBe(hashValueCell({ a: 2 }, missing));
    expect(hashValueCell({ n: 1n }, missing)).toBe(hashValueCell({ n: '1' }, missing));
    expect(hashValueCell(new Date(Number.NaN), missing)).toBe(MISSING_HASH);
  });

  it('counts the training rows that have a twin, the distinct rows and the hashed columns', () => {
    const index = feed(
      createTrainingRowIndex({ file: 't.csv' }),
      csvBatch('b,a\nx,1\nx,1\nx,1\ny,2\ny,2\nz,3\n'),
    );
    expect(index.rows).toBe(6);
    expect(index.distinctRows).toBe(3);
    // Three copies of one row and two of another: 5 rows have an identical twin.
    expect(index.rowsWithTwin).toBe(5);
    expect(index.columns).toEqual(['a', 'b']);
    expect(index.byteLength).toBeGreaterThan(0);
  });

  it('says which training columns the evaluated data lacks, "it" for one and "them" for several, listing at most 10', () => {
    const index = feed(createTrainingRowIndex(), csvBatch('a,b,c\n1,2,3\n'));
    expect(feed(createLeakageChecker(index), csvBatch('a\n1\n')).finish()).toEqual({
      check: 'train-test-leakage',
      severity: 'warning',
      message:
        'Leakage not checked: the training data has 2 columns that the evaluated data lacks ("b", "c"), so no row could match. Exclude them from the comparison.',
      count: 1,
    });
    expect(feed(createLeakageChecker(index), csvBatch('a,b\n1,2\n')).finish()?.message).toBe(
      'Leakage not checked: the training data has 1 column that the evaluated data lacks ("c"), so no row could match. Exclude it from the comparison.',
    );
    // Nothing evaluated yet, or nothing shared: no finding.
    expect(createLeakageChecker(index).finish()).toBeNull();
    expect(feed(createLeakageChecker(index), csvBatch('a,b,c\n9,9,9\n')).finish()).toBeNull();
    const columns = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const wide = feed(
      createTrainingRowIndex({ file: 'train.csv' }),
      csvBatch(`${columns.join(',')}\n${columns.map(() => 1).join(',')}\n`),
    );
    expect(feed(createLeakageChecker(wide), csvBatch('x\n1\n')).finish()?.message).toBe(
      'Leakage not checked: the training data (train.csv) has 12 columns that the evaluated data lacks ("c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09" and 2 more), so no row could match. Exclude them from the comparison.',
    );
  });

  it('names the compared columns when a column was excluded, and reports chance matches as info', () => {
    const index = feed(createTrainingRowIndex({ exclude: ['id'] }), csvBatch('id,a\n1,x\n2,y\n'));
    expect(
      feed(
        createLeakageChecker(index, { severity: 'warning', file: 'e.csv' }),
        csvBatch('id,a\n5,x\n'),
      ).finish(),
    ).toEqual({
      check: 'train-test-leakage',
      severity: 'info',
      message:
        '1 row of 1 (100%) also occur in the training data (e.g. line 2). The data\'s own identical rows explain it (not leakage): 0% of the training rows have an identical twin there, so about 0.33 shared rows are expected by chance, and 1 or more has probability 0.33 ≥ 0.01. Compared on 1 shared column ("a").',
      count: 1,
      lines: [2],
      file: 'e.csv',
    });
  });

  it('lists at most five example lines in a message, and keeps MAX_EXAMPLE_LINES', () => {
    const finding = feed(
      createDuplicateRowChecker(),
      csvBatch(`a\n${Array.from({ length: 8 }, () => '1').join('\n')}\n`),
    ).finish();
    expect(finding).toEqual({
      check: 'duplicate-rows',
      severity: 'warning',
      message:
        '7 rows (87.5% of 8) repeat an earlier row on all columns (e.g. lines 3, 4, 5, 6, 7, …). Remove the duplicates, or exclude the columns that legitimately repeat.',
      count: 7,
      lines: [3, 4, 5, 6, 7, 8, 9],
    });
    const one = feed(createDuplicateRowChecker(), csvBatch('a\n1\n1\n')).finish();
    expect(one?.message).toBe(
      '1 row (50% of 2) repeat an earlier row on all columns (e.g. line 3). Remove the duplicates, or exclude the columns that legitimately repeat.',
    );
  });

  it('formats shares with enough digits to be non-zero', () => {
    expect(formatShare(0, 10)).toBe('0%');
    expect(formatShare(1, 0)).toBe('0%');
    expect(formatShare(1, 3)).toBe('33.3%');
    expect(formatShare(2, 3)).toBe('66.7%');
    expect(formatShare(5, 50)).toBe('10%');
    expect(formatShare(1, 1000)).toBe('0.1%');
    expect(formatShare(1, 30_000)).toBe('0.0033%');
  });

  it('decides leakage with the words and figures of its rule', () => {
    expect(decideLeakage(3, 143, { rows: 400, rowsWithTwin: 0 })).toEqual({
      leakage: true,
      expected: 143 / 401,
      pValue: expect.closeTo(0.005707458154882393, 15),
      rule: 'That is more than chance explains: 0% of the training rows have an identical twin there, so about 0.36 shared rows are expected by chance, and 3 or more has probability 0.0057 < 0.01',
    });
    // Large expectations are rounded to whole rows; tiny p-values are written in exponent form.
    expect(decideLeakage(20, 100, { rows: 40, rowsWithTwin: 10 }).rule).toBe(
      "The data's own identical rows explain it (not leakage): 25% of the training rows have an identical twin there, so about 27 shared rows are expected by chance, and 20 or more has probability 1 ≥ 0.01",
    );
    expect(decideLeakage(20, 100, { rows: 1000, rowsWithTwin: 0 }).rule).toMatch(
      /about 0\.1 shared rows are expected by chance, and 20 or more has probability \d\.\de-\d+ < 0\.01$/,
    );
    // An empty training set: q = 1, so every shared row is expected.
    expect(decideLeakage(1, 10, { rows: 0, rowsWithTwin: 0 })).toMatchObject({
      leakage: false,
      expected: 10,
      pValue: 1,
    });
    expect(decideLeakage(7, 140, { rows: 400, rowsWithTwin: 0 }, { maxShare: 0.05 }).rule).toBe(
      'Within the tolerated share 5% (leakage.max-share); 0% of the training rows have an identical twin there, so about 0.35 shared rows are expected by chance',
    );
  });

  it('sums the binomial upper tail exactly at its edges', () => {
    expect(binomialUpperTail(1, 10, 0)).toBe(0);
    expect(binomialUpperTail(1, 10, 1)).toBe(1);
    expect(binomialUpperTail(0, 0, 0.5)).toBe(1);
    // P(X ≥ 6), X ~ Binomial(10, 1/2) = 386/1024; P(X = 10) = 1/1024.
    expect(binomialUpperTail(6, 10, 0.5)).toBeCloseTo(386 / 1024, 14);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 16);
    // At or below the mean: 1 (the test is one-sided, for excess shared rows).
    expect(binomialUpperTail(5, 10, 0.5)).toBe(1);
  });
});

describe('row checks: the edges the mutation run found (issue #16)', () => {
  /** Hashes of column `b` of a two-column CSV: a cell followed by more bytes, as in a real file. */
  const second = (rows: string) => {
    const { batch } = csvBatch(`a,b\n${rows}\n9,end\n`);
    const column = batch.columns[1] as TextColumn;
    return Array.from({ length: batch.length - 1 }, (_, i) => hashTextCell(column, i, missing));
  };

  it('treats a cell of blanks as missing, wherever it sits and however it arrives', () => {
    expect(second('1,   \n2,\t \r')).toEqual([MISSING_HASH, MISSING_HASH]);
    expect(hashValueCell('   ', missing)).toBe(MISSING_HASH);
    expect(hashValueCell(' \t\r\n', missing)).toBe(MISSING_HASH);
  });

  it('trims a carriage return from text as from numbers', () => {
    const [crlf, plain] = cells('abc\r\nabc');
    expect(crlf).toBe(plain);
    expect(hashValueCell('abc\r', missing)).toBe(plain);
  });

  it('hashes every number notation of a text cell by value, nine and signs included', () => {
    const [nine, minusOne, minusHalf, plusTwo] = cells('9\n-1\n-.5\n+2');
    expect(nine).toBe(hashValueCell(9, missing));
    expect(minusOne).toBe(hashValueCell(-1, missing));
    expect(minusHalf).toBe(hashValueCell(-0.5, missing));
    expect(plusTwo).toBe(hashValueCell(2, missing));
  });

  it('keeps text that looks like a date but is none apart, and apart from real dates', () => {
    const [month13, month14, real] = cells('2024-13-01\n2024-14-01\n2024-12-01');
    expect(month13).not.toBe(month14);
    expect(month13).not.toBe(real);
    expect(hashValueCell('2024-13-01', missing)).toBe(month13);
    expect(real).toBe(hashValueCell(new Date(Date.UTC(2024, 11, 1)), missing));
  });

  it('hashes long strings whole, multi-byte ones too, the same from JSON as from CSV', () => {
    for (const unit of ['x', '€']) {
      const [a, b] = [`${unit.repeat(300)}a`, `${unit.repeat(300)}b`];
      expect(hashValueCell(a, missing)).not.toBe(hashValueCell(b, missing));
      expect(cells(`${a}\n${b}`)).toEqual([hashValueCell(a, missing), hashValueCell(b, missing)]);
    }
  });

  it('counts a quoted missing token as text, an unquoted one as missing, also next to quoted cells', () => {
    expect(cells('"NA"\nNA\n"x"')).toEqual([cells('"NA"')[0], MISSING_HASH, cells('x')[0]]);
    expect(cells('"NA"')[0]).not.toBe(MISSING_HASH);
    const finding = feed(createDuplicateRowChecker(), csvBatch('a,b\n"NA",1\nNA,1\n,1\n')).finish();
    // Row 4 (empty) repeats row 3 (NA): both missing; row 2 holds the text "NA".
    expect(finding).toMatchObject({ count: 1, lines: [4] });
    // An unquoted NA and an empty cell in a column that has quoted cells: both missing, so the
    // rows are the same.
    expect(feed(createDuplicateRowChecker(), csvBatch('a,b\n"x",1\nNA,1\n,1\n')).finish()).toMatchObject({
      count: 1,
      lines: [4],
    });
  });

  it('reads columns without quote or escape marks (quoted and escaped null)', () => {
    const { batch } = csvBatch('x\nabc\nNA\n7\n');
    const plain = { ...(batch.columns[0] as TextColumn), quoted: null, escaped: null };
    expect([0, 1, 2].map((i) => hashTextCell(plain, i, missing))).toEqual(cells('abc\nNA\n7'));
    const duplicates = createDuplicateRowChecker();
    duplicates.add({ ...batch, columns: [plain] }, ['x']);
    duplicates.add({ ...batch, columns: [plain] }, ['x']);
    expect(duplicates.finish()).toMatchObject({ count: 3 });
  });

  it('compares rows on the columns that have values: a training column empty throughout does not block or split rows', () => {
    const rows = Array.from({ length: 60 }, (_, i) => `${i},`).join('\n');
    const index = feed(createTrainingRowIndex(), csvBatch(`a,empty\n${rows}\n`));
    const finding = feed(createLeakageChecker(index), csvBatch('a\n1\n2\n1000\n')).finish();
    expect(finding).toMatchObject({ severity: 'error', count: 2, lines: [2, 3] });
  });

  it('looks only at the rows of each batch, not at slots left from a longer one', () => {
    const duplicates = feed(createDuplicateRowChecker(), csvBatch('a\n1\n2\n3\n'), csvBatch('a\n4\n', 5));
    expect(duplicates.finish()).toBeNull();
    const rows = Array.from({ length: 60 }, (_, i) => String(i)).join('\n');
    const index = feed(createTrainingRowIndex(), csvBatch(`a\n${rows}\n`));
    const leakage = feed(createLeakageChecker(index), csvBatch('a\n1000\n1\n'), csvBatch('a\n2000\n', 4));
    expect(leakage.finish()).toMatchObject({ count: 1, lines: [3] });
  });

  it('names only the excluded columns the data has, and no file key without a file', () => {
    const finding = feed(createDuplicateRowChecker({ exclude: ['nope'] }), csvBatch('a\n1\n1\n')).finish();
    expect(finding).toStrictEqual({
      check: 'duplicate-rows',
      severity: 'warning',
      message:
        '1 row (50% of 2) repeat an earlier row on all columns (e.g. line 3). Remove the duplicates, or exclude the columns that legitimately repeat.',
      count: 1,
      lines: [3],
    });
  });

  it('keeps at most MAX_EXAMPLE_LINES lines of leaked rows, and no file key without a file', () => {
    const rows = Array.from({ length: 60 }, (_, i) => String(i)).join('\n');
    const index = feed(createTrainingRowIndex(), csvBatch(`a\n${rows}\n`));
    const finding = feed(createLeakageChecker(index), csvBatch(`a\n${rows}\n`)).finish();
    expect(finding?.count).toBe(60);
    expect(finding?.lines).toEqual(Array.from({ length: MAX_EXAMPLE_LINES }, (_, i) => i + 2));
    expect(Object.keys(finding ?? {})).not.toContain('file');
  });

  it('says which columns were compared and which were only on one side, each list sorted', () => {
    const index = feed(
      createTrainingRowIndex({ columns: ['zz', 'city', 'age', 'extra'] }),
      csvBatch('label2,city,label1,age\n1,Rome,0,40\n1,Oslo,0,30\n'),
    );
    const finding = feed(
      createLeakageChecker(index),
      csvBatch('zz,city,age,extra\n1,Rome,40,\n2,Rome,41,\n'),
    ).finish();
    expect(finding?.message).toBe(
      `1 row of 2 (50%) also occur in the training data (e.g. line 2). The data's own identical rows explain it (not leakage): 0% of the training rows have an identical twin there, so about 0.67 shared rows are expected by chance, and 1 or more has probability 0.56 ≥ 0.01. Compared on 2 shared columns ("age", "city"); only in the training data: "label1", "label2"; only in the evaluated data: "extra", "zz".`,
    );
    // Only the evaluated data has an extra column: the scope still says so.
    const onlyEvaluated = feed(
      createLeakageChecker(feed(createTrainingRowIndex(), csvBatch('a\n1\n2\n'))),
      csvBatch('a,x\n1,5\n'),
    ).finish();
    expect(onlyEvaluated?.message).toMatch(
      /\. Compared on 1 shared column \("a"\); only in the evaluated data: "x"\.$/,
    );
    // Only the training data has one (left out by the index's column list).
    const onlyTraining = feed(
      createLeakageChecker(feed(createTrainingRowIndex({ columns: ['a'] }), csvBatch('a,label\n1,0\n2,1\n'))),
      csvBatch('a\n1\n'),
    ).finish();
    expect(onlyTraining?.message).toMatch(
      /\. Compared on 1 shared column \("a"\); only in the training data: "label"\.$/,
    );
  });

  it('lists the training columns the evaluated data lacks sorted, and exactly ten without "and 0 more"', () => {
    // b1 has its first value in the second batch, after b2.
    const index = feed(
      createTrainingRowIndex(),
      csvBatch('b2,a,b1\n1,2,\n'),
      csvBatch('b2,a,b1\n1,2,3\n', 3),
    );
    expect(feed(createLeakageChecker(index), csvBatch('a\n2\n')).finish()?.message).toBe(
      'Leakage not checked: the training data has 2 columns that the evaluated data lacks ("b1", "b2"), so no row could match. Exclude them from the comparison.',
    );
    const columns = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const wide = feed(
      createTrainingRowIndex(),
      csvBatch(`${columns.join(',')}\n${columns.map(() => 1).join(',')}\n`),
    );
    expect(feed(createLeakageChecker(wide), csvBatch('x\n1\n')).finish()?.message).toBe(
      `Leakage not checked: the training data has 10 columns that the evaluated data lacks (${columns.map((c) => `"${c}"`).join(', ')}), so no row could match. Exclude them from the comparison.`,
    );
  });

  it('says when the files share no column, the training columns being empty', () => {
    const index = feed(createTrainingRowIndex(), csvBatch('a\n\n\n'));
    expect(feed(createLeakageChecker(index), csvBatch('b\n1\n')).finish()).toStrictEqual({
      check: 'train-test-leakage',
      severity: 'warning',
      message:
        'Leakage not checked: the training data and the evaluated data share no column to compare rows on. Check that both files are the right ones.',
      count: 1,
    });
  });

  it('lists five example lines without an ellipsis', () => {
    const finding = feed(createDuplicateRowChecker(), csvBatch('a\n1\n1\n1\n1\n1\n1\n')).finish();
    expect(finding?.message).toBe(
      '5 rows (83.3% of 6) repeat an earlier row on all columns (e.g. lines 3, 4, 5, 6, 7). Remove the duplicates, or exclude the columns that legitimately repeat.',
    );
  });

  it('decides with a tolerated share of 0 by the data alone, and rounds large expectations to whole rows', () => {
    expect(decideLeakage(0, 100, { rows: 100, rowsWithTwin: 0 }, { maxShare: 0 }).rule).toBe(
      "The data's own identical rows explain it (not leakage): 0% of the training rows have an identical twin there, so about 0.99 shared rows are expected by chance, and 0 or more has probability 1 ≥ 0.01",
    );
    expect(decideLeakage(200, 1000, { rows: 1000, rowsWithTwin: 122 }).rule).toMatch(
      /, so about 123 shared rows are expected by chance, and 200 or more has probability /,
    );
  });

  it('gives P(X ≥ 0) = 1 even when q = 0, and P(X > n) = 0 even when q = 1', () => {
    expect(binomialUpperTail(0, 10, 0)).toBe(1);
    expect(binomialUpperTail(11, 10, 1)).toBe(0);
  });
});

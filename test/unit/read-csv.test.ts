import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TextColumn } from '../../src/core/data/batch.ts';
import { textCell } from '../../src/core/data/cells.ts';
import { type OpenTableOptions, openTable } from '../../src/core/data/open-table.ts';
import { createTempWriter, inputError } from '../helpers/files.ts';
import { createRandom } from '../helpers/random.ts';

const writeTemp = createTempWriter('read-csv-');

interface Table {
  columns: readonly string[];
  rows: string[][];
  quoted: boolean[][];
  escaped: boolean[][];
  lines: number[];
  batchSizes: number[];
}

/** Reads a whole table, copying every cell out before the next batch is requested. */
async function readTable(path: string, options: OpenTableOptions = {}): Promise<Table> {
  const reader = await openTable(path, options);
  const table: Table = {
    columns: reader.columns,
    rows: [],
    quoted: [],
    escaped: [],
    lines: [],
    batchSizes: [],
  };
  for await (const batch of reader.batches()) {
    table.batchSizes.push(batch.length);
    expect(batch.lines).toBeInstanceOf(Float64Array);
    expect(batch.columns.length).toBe(reader.columns.length);
    for (let i = 0; i < batch.length; i++) {
      const columns = batch.columns as TextColumn[];
      table.rows.push(columns.map((column) => textCell(column, i)));
      table.quoted.push(columns.map((column) => column.quoted?.[i] === 1));
      table.escaped.push(columns.map((column) => column.escaped?.[i] === 1));
      table.lines.push(batch.lines[i]);
    }
  }
  return table;
}

describe('CSV reader: RFC 4180', () => {
  it('reads the header and the rows, with their line numbers', async () => {
    const path = writeTemp('a.csv', 'id,name,score\n1,ann,3.5\n2,bob,4\n');
    const table = await readTable(path);
    expect(table.columns).toEqual(['id', 'name', 'score']);
    expect(table.rows).toEqual([
      ['1', 'ann', '3.5'],
      ['2', 'bob', '4'],
    ]);
    expect(table.lines).toEqual([2, 3]);
  });

  it('fills columns at open time and reports the format', async () => {
    const reader = await openTable(writeTemp('a.csv', 'x,y\n1,2\n'));
    expect(reader.columns).toEqual(['x', 'y']);
    expect(reader.format).toBe('csv');
    expect(reader.compressed).toBe(false);
    expect(reader.rowCount).toBeUndefined();
  });

  it('handles CRLF line endings, also after a quoted last field', async () => {
    const path = writeTemp('a.csv', 'a,b\r\n1,2\r\n3,"x"\r\n"",\r\n');
    const table = await readTable(path);
    expect(table.columns).toEqual(['a', 'b']);
    expect(table.rows).toEqual([
      ['1', '2'],
      ['3', 'x'],
      ['', ''],
    ]);
    expect(table.lines).toEqual([2, 3, 4]);
  });

  it('reads quoted fields with delimiters, doubled quotes and line breaks', async () => {
    const path = writeTemp('a.csv', 'a,b,c\n"x,y","say ""hi""","two\nlines"\nplain,"",last\n');
    const table = await readTable(path);
    expect(table.rows).toEqual([
      ['x,y', 'say "hi"', 'two\nlines'],
      ['plain', '', 'last'],
    ]);
    expect(table.quoted).toEqual([
      [true, true, true],
      [false, true, false],
    ]);
    expect(table.escaped).toEqual([
      [false, true, false],
      [false, false, false],
    ]);
  });

  it('gives a multi-line record the line where it starts', async () => {
    const path = writeTemp('a.csv', 'a,b\n1,"one\ntwo\r\nthree"\n2,x\n"p\n\nq",y\n3,z\n');
    const table = await readTable(path);
    expect(table.rows.map((row) => row[0])).toEqual(['1', '2', 'p\n\nq', '3']);
    expect(table.rows[0][1]).toBe('one\ntwo\r\nthree');
    expect(table.lines).toEqual([2, 5, 6, 9]);
  });

  it('strips a UTF-8 byte order mark', async () => {
    const table = await readTable(writeTemp('a.csv', '\uFEFFid,v\n1,2\n'));
    expect(table.columns).toEqual(['id', 'v']);
  });

  it('reads a final record without a line break (LF, CR and quoted)', async () => {
    expect((await readTable(writeTemp('a.csv', 'a,b\n1,2\n3,4'))).rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect((await readTable(writeTemp('a.csv', 'a,b\r\n1,2\r\n3,4\r'))).rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect((await readTable(writeTemp('a.csv', 'a,b\n1,"x\ny"'))).rows).toEqual([['1', 'x\ny']]);
    expect((await readTable(writeTemp('a.csv', 'a,b\n1,'))).rows).toEqual([['1', '']]);
  });

  it('skips completely empty lines and counts them in line numbers', async () => {
    const path = writeTemp('a.csv', '\n\na,b\n\n1,2\r\n\r\n3,4\n\n\n');
    const table = await readTable(path);
    expect(table.columns).toEqual(['a', 'b']);
    expect(table.rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(table.lines).toEqual([5, 7]);
  });

  it('keeps empty fields, trailing empty fields and quoted empty strings apart', async () => {
    const table = await readTable(writeTemp('a.csv', 'a,b,c\n,,\n1,,3\n"",x,\n'));
    expect(table.rows).toEqual([
      ['', '', ''],
      ['1', '', '3'],
      ['', 'x', ''],
    ]);
    expect(table.quoted[2]).toEqual([true, false, false]);
  });

  it('treats a quote inside an unquoted field as data (like Python csv)', async () => {
    const table = await readTable(writeTemp('a.csv', 'a,b\n5"3,ab"c"\nx"",y\n'));
    expect(table.rows).toEqual([
      ['5"3', 'ab"c"'],
      ['x""', 'y'],
    ]);
    expect(table.quoted[0]).toEqual([false, false]);
    // Unquoted cells are never unescaped: their quotes are literal.
    expect(table.escaped[1]).toEqual([false, false]);
  });

  it('supports other single-byte delimiters', async () => {
    expect((await readTable(writeTemp('a.csv', 'a;b\n"1;5";2\n'), { delimiter: ';' })).rows).toEqual([
      ['1;5', '2'],
    ]);
    expect((await readTable(writeTemp('a.csv', 'a|b\n1|2\n'), { delimiter: '|' })).rows).toEqual([
      ['1', '2'],
    ]);
    const tsv = await readTable(writeTemp('a.tsv', 'a\tb\n1,5\t2\n'));
    expect(tsv.columns).toEqual(['a', 'b']);
    expect(tsv.rows).toEqual([['1,5', '2']]);
    // An explicit delimiter wins over the .tsv default.
    expect((await readTable(writeTemp('a.tsv', 'a,b\n1,2\n'), { delimiter: ',' })).rows).toEqual([
      ['1', '2'],
    ]);
    expect((await readTable(writeTemp('a.txt', 'a,b\n1,2\n'))).rows).toEqual([['1', '2']]);
  });

  it('rejects a delimiter that is not one single-byte character', async () => {
    const path = writeTemp('a.csv', 'a,b\n');
    for (const delimiter of ['', ';;', '"', '\n', '§']) {
      await expect(openTable(path, { delimiter })).rejects.toThrow(/delimiter/);
    }
  });

  it('reads a header-only file as zero rows', async () => {
    for (const content of ['a,b\n', 'a,b', 'a,b\r\n\r\n']) {
      const table = await readTable(writeTemp('a.csv', content));
      expect(table.columns).toEqual(['a', 'b']);
      expect(table.rows).toEqual([]);
    }
  });

  it('reads valid multi-byte UTF-8', async () => {
    const table = await readTable(writeTemp('a.csv', 'name,emoji\nZoë,😀\n"Ålesund, NO",日本\n'));
    expect(table.rows).toEqual([
      ['Zoë', '😀'],
      ['Ålesund, NO', '日本'],
    ]);
  });

  it('cuts batches at batchRows', async () => {
    const lines = ['a,b', ...Array.from({ length: 10 }, (_, i) => `${i},${i * 2}`)];
    const table = await readTable(writeTemp('a.csv', `${lines.join('\n')}\n`), { batchRows: 4 });
    expect(table.batchSizes).toEqual([4, 4, 2]);
    expect(table.rows.map((row) => row[0])).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`));
    expect(table.lines).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
  });

  it('can be iterated only once', async () => {
    const reader = await openTable(writeTemp('a.csv', 'a\n1\n'));
    for await (const _ of reader.batches()) {
      // drain
    }
    await expect(async () => {
      for await (const _ of reader.batches()) {
        // never reached
      }
    }).rejects.toThrow(/only once/);
  });
});

describe('CSV reader: chunk boundaries', () => {
  const PIECES = [
    'a',
    'bc',
    '12',
    '3.5',
    ',',
    ';',
    '"',
    '""',
    '\n',
    '\r\n',
    '\r',
    ' ',
    'é',
    '€',
    '😀',
    '日本',
    'x"y',
    '',
  ];

  function randomCsv(seed: number, delimiter: string, lineBreak: string) {
    const random = createRandom(seed).uniform;
    const columns = 2 + Math.floor(random() * 4);
    const header = Array.from({ length: columns }, (_, j) => `c${j}`);
    const rows: string[][] = [];
    const quotedRows: boolean[][] = [];
    const lines: number[] = [];
    let text = header.join(delimiter) + lineBreak;
    let line = 2;
    const rowCount = 40 + Math.floor(random() * 40);
    for (let r = 0; r < rowCount; r++) {
      const row: string[] = [];
      const quoted: boolean[] = [];
      const cells: string[] = [];
      for (let j = 0; j < columns; j++) {
        let value = '';
        const parts = Math.floor(random() * 4);
        for (let k = 0; k < parts; k++) value += PIECES[Math.floor(random() * PIECES.length)];
        const mustQuote = /[",\r\n;]/.test(value) || value.startsWith('"');
        const quote = mustQuote || random() < 0.2;
        row.push(value);
        quoted.push(quote);
        cells.push(quote ? `"${value.replaceAll('"', '""')}"` : value);
      }
      if (random() < 0.1) {
        text += lineBreak; // a blank line
        line++;
      }
      rows.push(row);
      quotedRows.push(quoted);
      lines.push(line);
      const record = cells.join(delimiter) + lineBreak;
      line += record.split('\n').length - 1;
      text += record;
    }
    return { header, rows, quotedRows, lines, text };
  }

  it('gives the same cells and lines whatever the chunk and batch sizes', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const delimiter = seed % 3 === 0 ? ';' : ',';
      const lineBreak = seed % 2 === 0 ? '\r\n' : '\n';
      const expected = randomCsv(seed, delimiter, lineBreak);
      // Sometimes drop the final line break: the last record must still be read.
      const text = seed % 4 === 1 ? expected.text.slice(0, -lineBreak.length) : expected.text;
      const path = writeTemp('r.csv', text);
      for (const chunkSize of [1, 2, 3, 5, 7, 16, 61, 1 << 20]) {
        for (const batchRows of [1, 3, 1000]) {
          const table = await readTable(path, { delimiter, chunkSize, batchRows });
          const label = `seed ${seed}, chunk ${chunkSize}, batch ${batchRows}`;
          expect(table.columns, label).toEqual(expected.header);
          expect(table.rows, label).toEqual(expected.rows);
          expect(table.quoted, label).toEqual(expected.quotedRows);
          expect(table.lines, label).toEqual(expected.lines);
        }
      }
    }
  });

  it('reads records much longer than a chunk, in time linear in their length', async () => {
    // Reads grow with the pending record, so a 2 MB record read in 64-byte chunks is rescanned
    // about 15 times, not 30,000 times (which would take minutes).
    const long = 'x'.repeat(1_000_000);
    const quotedLong = `${'y",\n'.repeat(250_000)}`;
    const text = `a,b\n${long},"${quotedLong.replaceAll('"', '""')}"\n1,2\n`;
    const started = Date.now();
    const table = await readTable(writeTemp('a.csv', text), { chunkSize: 64 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(table.rows).toEqual([
      [long, quotedLong],
      ['1', '2'],
    ]);
    expect(table.lines).toEqual([2, 250_003]);
  });

  it('splits a CRLF pair, a doubled quote and a multi-byte character across chunks', async () => {
    // With a 1-byte chunk every pair of bytes straddles a boundary.
    const text = 'h1,h2\r\n"a""b",€😀\r\n"c\r\nd",é\r\n';
    const table = await readTable(writeTemp('a.csv', text), { chunkSize: 1 });
    expect(table.rows).toEqual([
      ['a"b', '€😀'],
      ['c\r\nd', 'é'],
    ]);
    expect(table.lines).toEqual([2, 3]);
  });
});

describe('CSV reader: gzip', () => {
  const text = 'a,b\n1,"x\ny"\n2,z\n';
  const expected = [
    ['1', 'x\ny'],
    ['2', 'z'],
  ];

  it('decompresses .csv.gz transparently', async () => {
    const reader = await openTable(writeTemp('a.csv.gz', gzipSync(text)));
    expect(reader.compressed).toBe(true);
    expect((await readTable(writeTemp('a.csv.gz', gzipSync(text)))).rows).toEqual(expected);
  });

  it('detects gzip by its magic bytes, not by the name', async () => {
    const path = writeTemp('a.csv', gzipSync(text));
    const reader = await openTable(path);
    expect(reader.compressed).toBe(true);
    expect((await readTable(path, { chunkSize: 3 })).rows).toEqual(expected);
    // And a .gz name on a plain file is just read as plain text.
    expect((await readTable(writeTemp('b.csv.gz', text))).rows).toEqual(expected);
  });

  it('reads a large gzip file across many decompressed chunks', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},"v${i}"`);
    const path = writeTemp('big.csv.gz', gzipSync(`id,v\n${rows.join('\n')}\n`));
    const table = await readTable(path);
    expect(table.rows.length).toBe(20_000);
    expect(table.rows[19_999]).toEqual(['19999', 'v19999']);
    expect(table.lines[19_999]).toBe(20_001);
  });

  it('reports a broken gzip file', async () => {
    const bytes = gzipSync(text.repeat(50));
    bytes.fill(0xff, 10, 30);
    const path = writeTemp('bad.csv.gz', bytes);
    const error = await inputError(() => readTable(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('not a valid gzip file');
    expect(error.location.file).toBe(path);
  });

  it('reports a truncated gzip file', async () => {
    const bytes = gzipSync(`a,b\n${'1,2\n'.repeat(5000)}`);
    const path = writeTemp('cut.csv.gz', bytes.subarray(0, bytes.length - 40));
    const error = await inputError(() => readTable(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('truncated');
  });
});

describe('CSV reader: errors', () => {
  it('rejects a row with too many fields, naming the file, line and counts', async () => {
    const path = writeTemp('a.csv', 'a,b,c,d\n1,2,3,4\n"x\ny",2,3,4\n1,2,3,4,5\n');
    const error = await inputError(() => readTable(path));
    expect(error.message).toContain(`${path} line 5 has 5 fields, the header has 4`);
    expect(error.message).toContain('"1,2,3,4,5"');
    expect(error.location).toEqual({ file: path, line: 5 });
  });

  it('rejects a row with too few fields', async () => {
    const path = writeTemp('a.csv', 'a,b,c\n1,2,3\n\n1,2\n');
    const error = await inputError(() => readTable(path, { chunkSize: 2 }));
    expect(error.message).toContain(`${path} line 4 has 2 fields, the header has 3`);
    expect(error.location).toEqual({ file: path, line: 4 });
  });

  it('reports a field-count error found in a later batch with the right line', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `${i},x`);
    rows[20] = '20,x,extra';
    const path = writeTemp('a.csv', `a,b\n${rows.join('\n')}\n`);
    const error = await inputError(() => readTable(path, { batchRows: 4, chunkSize: 5 }));
    expect(error.location).toEqual({ file: path, line: 22 });
    expect(error.message).toContain('line 22 has 3 fields, the header has 2');
  });

  it('names the line where an unterminated quote opened', async () => {
    const path = writeTemp('a.csv', 'a,b\n1,2\n3,"never closed\n4,5\n6,7\n');
    for (const chunkSize of [3, 1 << 20]) {
      const error = await inputError(() => readTable(path, { chunkSize }));
      expect(error.message).toContain(`${path} line 3`);
      expect(error.message).toContain('never closed');
      expect(error.location).toEqual({ file: path, line: 3 });
    }
  });

  it('rejects text after a closing quote', async () => {
    const path = writeTemp('a.csv', 'a,b\n1,2\n"ab"c,2\n');
    const error = await inputError(() => readTable(path));
    expect(error.message).toContain(`${path} line 3`);
    expect(error.message).toContain('after the closing quote');
    expect(error.location.line).toBe(3);
  });

  it('rejects invalid UTF-8 with its line and suggests re-encoding', async () => {
    const head = Buffer.from('name,city\nann,Oslo\nbob,"Multi\nline"\n');
    const bad = Buffer.from([0x7a, 0x6f, 0xeb, 0x2c, 0x50, 0x61, 0x72, 0x69, 0x73, 0x0a]); // "zo\xeb,Paris\n" (Latin-1 ë)
    const path = writeTemp('latin1.csv', Buffer.concat([head, bad, Buffer.from('x,y\n')]));
    for (const chunkSize of [4, 1 << 20]) {
      const error = await inputError(() => readTable(path, { chunkSize, batchRows: 2 }));
      expect(error.message).toContain(`${path} line 5`);
      expect(error.message).toContain('UTF-8');
      expect(error.message).toMatch(/re-encode/i);
      expect(error.location).toEqual({ file: path, line: 5 });
    }
  });

  it('rejects invalid UTF-8 in the header', async () => {
    const path = writeTemp('a.csv', Buffer.from([0x61, 0xff, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0x32, 0x0a]));
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain(`${path} line 1`);
    expect(error.message).toContain('UTF-8');
  });

  it('reports an encoding problem before a later field-count problem in the same batch', async () => {
    const path = writeTemp(
      'a.csv',
      Buffer.concat([Buffer.from('a,b\n1,\xff\n', 'latin1'), Buffer.from('1,2,3\n')]),
    );
    const error = await inputError(() => readTable(path));
    expect(error.location.line).toBe(2);
    expect(error.message).toContain('UTF-8');
  });

  it('rejects UTF-16 files', async () => {
    const path = writeTemp('a.csv', Buffer.from('\uFEFFa,b\n1,2\n', 'utf16le'));
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain('UTF-16');
  });

  it('rejects duplicate column names, naming them', async () => {
    const path = writeTemp('a.csv', 'id,x,y,x\n1,2,3,4\n');
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('"x" (columns 2 and 4)');
    expect(error.location).toEqual({ file: path, line: 1 });
  });

  it('rejects empty column names, naming their positions', async () => {
    const error = await inputError(() => openTable(writeTemp('a.csv', ',a,b\n0,1,2\n')));
    expect(error.message).toContain('empty column name at position 1');
    expect(error.message).toContain('index=False');
    const trailing = await inputError(() => openTable(writeTemp('a.csv', 'a,b,\n1,2,\n')));
    expect(trailing.message).toContain('position 3');
  });

  it('suggests the delimiter option when the header looks like it uses another delimiter', async () => {
    const semicolon = await inputError(() => openTable(writeTemp('a.csv', 'a;b;c\n1;2;3\n')));
    expect(semicolon.message).toContain("delimiter: ';'");
    expect(semicolon.location.line).toBe(1);
    const tab = await inputError(() => openTable(writeTemp('a.csv', 'a\tb\n1\t2\n')));
    expect(tab.message).toContain("delimiter: '\\t'");
    const pipe = await inputError(() => openTable(writeTemp('a.csv', 'a|b\n1|2\n')));
    expect(pipe.message).toContain("delimiter: '|'");
    const comma = await inputError(() => openTable(writeTemp('a.tsv', 'a,b\n1,2\n')));
    expect(comma.message).toContain("delimiter: ','");
    // A real single-column file is fine.
    expect((await readTable(writeTemp('a.csv', 'name\nann\n'))).rows).toEqual([['ann']]);
  });

  it('rejects an empty file, a BOM-only file and a whitespace-only file', async () => {
    for (const content of ['', '\uFEFF', '\n\n  \r\n\t\n']) {
      const path = writeTemp('empty.csv', content);
      const error = await inputError(() => openTable(path));
      expect(error.message).toContain(`${path} is empty: expected a header line`);
      expect(error.location.file).toBe(path);
    }
  });

  it('rejects an unterminated quote in the header', async () => {
    const path = writeTemp('a.csv', 'a,"b\n1,2\n');
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain(`${path} line 1`);
    expect(error.message).toContain('never closed');
  });

  it('rejects CR-only line endings', async () => {
    const error = await inputError(() => openTable(writeTemp('a.csv', 'a,b\r1,2\r3,4\r')));
    expect(error.message).toContain('CR');
  });
});

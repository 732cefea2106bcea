import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ValueColumn } from '../../src/core/data/batch.ts';
import { type OpenTableOptions, openTable } from '../../src/core/data/open-table.ts';
import { createTempWriter, inputError } from '../helpers/files.ts';

const writeTemp = createTempWriter('read-jsonl-');

interface Table {
  columns: readonly string[];
  /** Rows as objects holding the keys present in the batch's columns (undefined values left out). */
  rows: Record<string, unknown>[];
  lines: number[];
  /** Number of columns in each batch. */
  batchColumns: number[];
  batchSizes: number[];
}

async function readTable(path: string, options: OpenTableOptions = {}): Promise<Table> {
  const reader = await openTable(path, options);
  const table: Table = { columns: reader.columns, rows: [], lines: [], batchColumns: [], batchSizes: [] };
  for await (const batch of reader.batches()) {
    table.batchColumns.push(batch.columns.length);
    table.batchSizes.push(batch.length);
    for (const column of batch.columns) {
      expect(column.kind).toBe('values');
      expect(column.kind === 'values' && column.values.length).toBe(batch.length);
    }
    for (let i = 0; i < batch.length; i++) {
      const row: Record<string, unknown> = {};
      batch.columns.forEach((column, j) => {
        const value = (column as ValueColumn).values[i];
        if (value !== undefined) row[reader.columns[j]] = value;
      });
      table.rows.push(row);
      table.lines.push(batch.lines[i]);
    }
  }
  return table;
}

describe('JSONL reader', () => {
  it('reads one object per line with typed values and line numbers', async () => {
    const path = writeTemp(
      'a.jsonl',
      '{"id":1,"name":"ann","ok":true,"x":null,"tags":["a"]}\n{"id":2,"name":"bob","ok":false,"x":1.5,"tags":[]}\n',
    );
    const reader = await openTable(path);
    expect(reader.format).toBe('jsonl');
    expect(reader.compressed).toBe(false);
    expect(reader.columns).toEqual(['id', 'name', 'ok', 'x', 'tags']);
    const table = await readTable(path);
    expect(table.rows).toEqual([
      { id: 1, name: 'ann', ok: true, x: null, tags: ['a'] },
      { id: 2, name: 'bob', ok: false, x: 1.5, tags: [] },
    ]);
    expect(table.lines).toEqual([1, 2]);
  });

  it('grows the columns as keys appear, leaving earlier rows undefined', async () => {
    const rows = ['{"a":1}', '{"a":2,"b":"x"}', '{"b":"y","a":3}', '{"c":true}', '{"a":5,"c":false,"d":0}'];
    const path = writeTemp('a.jsonl', `${rows.join('\n')}\n`);
    const reader = await openTable(path, { batchRows: 2 });
    // The first batch (2 rows) is parsed at open time.
    expect(reader.columns).toEqual(['a', 'b']);
    const seen: unknown[][][] = [];
    for await (const batch of reader.batches()) {
      seen.push(batch.columns.map((column) => Array.from((column as ValueColumn).values)));
    }
    expect(reader.columns).toEqual(['a', 'b', 'c', 'd']);
    expect(seen).toEqual([
      [
        [1, 2],
        [undefined, 'x'],
      ],
      [
        [3, undefined],
        ['y', undefined],
        [undefined, true],
      ],
      [[5], [undefined], [false], [0]],
    ]);
  });

  it('maps keys by name when rows change key order', async () => {
    const lines = [
      '{"a":1,"b":2,"c":3}',
      '{"c":30,"a":10,"b":20}',
      '{"b":200,"c":300}',
      '{"a":1000,"b":2000,"c":3000}',
    ];
    const table = await readTable(writeTemp('a.jsonl', lines.join('\n')));
    expect(table.rows).toEqual([
      { a: 1, b: 2, c: 3 },
      { a: 10, b: 20, c: 30 },
      { b: 200, c: 300 },
      { a: 1000, b: 2000, c: 3000 },
    ]);
  });

  it('ignores blank and whitespace-only lines, counting them in line numbers', async () => {
    const path = writeTemp('a.ndjson', '\n{"a":1}\r\n   \r\n\t\n{"a":2}\n\n{"a":3}');
    const table = await readTable(path);
    expect(table.rows).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(table.lines).toEqual([2, 5, 7]);
  });

  it('strips a UTF-8 byte order mark and reads multi-byte text', async () => {
    const table = await readTable(writeTemp('a.jsonl', '\uFEFF{"city":"Zürich","e":"😀"}\n'));
    expect(table.columns).toEqual(['city', 'e']);
    expect(table.rows).toEqual([{ city: 'Zürich', e: '😀' }]);
  });

  it('reads an empty file as zero rows and no columns', async () => {
    for (const content of ['', '\n\n', '\uFEFF']) {
      const table = await readTable(writeTemp('a.jsonl', content));
      expect(table.columns).toEqual([]);
      expect(table.rows).toEqual([]);
    }
  });

  it('gives the same rows whatever the chunk and batch sizes', async () => {
    const expected: Record<string, unknown>[] = [];
    const lines: string[] = [];
    const expectedLines: number[] = [];
    const pieces = ['é', '😀', '日本', '"', '\\', '\n', 'plain', ''];
    for (let i = 0; i < 60; i++) {
      const row: Record<string, unknown> = { id: i };
      if (i % 3 === 0) row.text = pieces.slice(0, (i % pieces.length) + 1).join('');
      if (i % 7 === 0) row[`k${i % 5}`] = { nested: [i, null] };
      if (i % 4 === 0) lines.push(i % 8 === 0 ? '' : '  \r');
      expected.push(row);
      lines.push(JSON.stringify(row) + (i % 2 === 0 ? '\r' : ''));
      expectedLines.push(lines.length);
    }
    const path = writeTemp('a.jsonl', `${lines.join('\n')}\n`);
    for (const chunkSize of [1, 2, 3, 7, 64, 1 << 20]) {
      for (const batchRows of [1, 5, 1000]) {
        const table = await readTable(path, { chunkSize, batchRows });
        expect(table.rows, `chunk ${chunkSize}, batch ${batchRows}`).toEqual(expected);
        expect(table.lines, `chunk ${chunkSize}, batch ${batchRows}`).toEqual(expectedLines);
      }
    }
  });

  it('cuts batches at batchRows', async () => {
    const text = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i })).join('\n');
    expect((await readTable(writeTemp('a.jsonl', text), { batchRows: 4 })).batchSizes).toEqual([4, 4, 2]);
  });

  it('decompresses gzip, detected by the magic bytes', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, s: `v${i}` })).join('\n')}\n`;
    for (const name of ['a.jsonl.gz', 'a.jsonl']) {
      const path = writeTemp(name, gzipSync(text));
      const reader = await openTable(path);
      expect(reader.compressed).toBe(true);
      const table = await readTable(path, { chunkSize: 1000 });
      expect(table.rows.length).toBe(3000);
      expect(table.rows[2999]).toEqual({ i: 2999, s: 'v2999' });
      expect(table.lines[2999]).toBe(3000);
    }
  });

  it('reports a truncated gzip file', async () => {
    const bytes = gzipSync(`${'{"a":1}\n'.repeat(5000)}`);
    const path = writeTemp('a.jsonl.gz', bytes.subarray(0, bytes.length - 30));
    const error = await inputError(() => readTable(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('truncated');
  });
});

describe('JSONL reader: errors', () => {
  it('rejects a line that is not valid JSON, with the line and the parser message', async () => {
    const path = writeTemp('a.jsonl', '{"a":1}\n\n{"a":2,}\n{"a":3}\n');
    for (const chunkSize of [3, 1 << 20]) {
      const error = await inputError(() => readTable(path, { chunkSize }));
      expect(error.message).toContain(`${path} line 3 is not valid JSON (`);
      expect(error.message).toMatch(/Expected|Unexpected/);
      expect(error.message).toContain('at column 8');
      expect(error.message).toContain('{"a":2,}');
      expect(error.location).toEqual({ file: path, line: 3, column: 8 });
    }
  });

  it('reports a bad line in a later batch with its line number', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ i }));
    lines[25] = '{"i": 25';
    const path = writeTemp('a.jsonl', lines.join('\n'));
    const error = await inputError(() => readTable(path, { batchRows: 4, chunkSize: 16 }));
    expect(error.location).toMatchObject({ file: path, line: 26 });
  });

  it('recognises pretty-printed JSON', async () => {
    const path = writeTemp('a.jsonl', '{\n  "a": 1\n}\n');
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain('line 1 is not valid JSON');
    expect(error.message).toContain('pretty-printed');
  });

  it('rejects a JSON value that is not an object', async () => {
    for (const [value, kind] of [
      ['[1,2]', 'an array'],
      ['42', 'a number'],
      ['"text"', 'a string'],
      ['null', 'null'],
    ]) {
      const path = writeTemp('a.jsonl', `{"a":1}\n${value}\n`);
      const error = await inputError(() => readTable(path));
      expect(error.message).toContain(`${path} line 2: expected a JSON object`);
      expect(error.message).toContain(`found ${kind}`);
      expect(error.location).toEqual({ file: path, line: 2 });
    }
  });

  it('rejects invalid UTF-8 with the line', async () => {
    const path = writeTemp(
      'a.jsonl',
      Buffer.concat([
        Buffer.from('{"a":"x"}\n\n{"a":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n{"a":"y"}\n'),
      ]),
    );
    for (const chunkSize of [5, 1 << 20]) {
      const error = await inputError(() => readTable(path, { chunkSize }));
      expect(error.message).toContain(`${path} line 3: invalid UTF-8`);
      expect(error.message).toMatch(/re-encode/i);
      expect(error.location).toEqual({ file: path, line: 3 });
    }
  });
});

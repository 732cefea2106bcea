import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import type { ColumnCells, TableFormat } from '../../src/core/data/batch.ts';
import { cellValue, parseNumberBytes } from '../../src/core/data/cells.ts';
import { inferTableFormat, openTable } from '../../src/core/data/open-table.ts';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

function writeTemp(name: string, content: string | Uint8Array): string {
  const path = join(temporaryFolderSync('open-table-'), name);
  writeFileSync(path, content);
  return path;
}

async function rejection(action: () => Promise<unknown>): Promise<Error> {
  try {
    await action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('inferTableFormat', () => {
  it('maps every supported extension, with or without .gz, in any case', () => {
    const cases: [string, TableFormat, string | undefined][] = [
      ['a.csv', 'csv', undefined],
      ['a.CSV', 'csv', undefined],
      ['dir.v1/a.csv.gz', 'csv', undefined],
      ['a.tsv', 'csv', '\t'],
      ['a.tsv.gz', 'csv', '\t'],
      ['a.txt', 'csv', undefined],
      ['a.jsonl', 'jsonl', undefined],
      ['a.jsonl.gz', 'jsonl', undefined],
      ['a.ndjson', 'jsonl', undefined],
      ['a.parquet', 'parquet', undefined],
      ['a.pq', 'parquet', undefined],
    ];
    for (const [path, format, delimiter] of cases) {
      expect(inferTableFormat(path), path).toMatchObject({ format, delimiter });
    }
    expect(inferTableFormat('a.csv.gz').gzipName).toBe(true);
    expect(inferTableFormat('a.csv').gzipName).toBe(false);
  });

  it('rejects .json, suggesting JSON Lines', () => {
    for (const path of ['data.json', 'data.json.gz']) {
      const error = (() => {
        try {
          inferTableFormat(path);
        } catch (e) {
          return e as InputError;
        }
        throw new Error('expected an error');
      })();
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toContain(path);
      expect(error.message).toContain('JSON Lines');
      expect(error.message).toContain('.jsonl');
      expect(error.message).toContain('format');
    }
  });

  it('rejects unknown extensions, listing the supported ones and the format option', () => {
    for (const path of ['data.xlsx', 'data', 'data.gz']) {
      expect(() => inferTableFormat(path)).toThrow(InputError);
      expect(() => inferTableFormat(path)).toThrow(/\.csv, \.tsv, \.txt, \.jsonl, \.ndjson, \.parquet, \.pq/);
      expect(() => inferTableFormat(path)).toThrow(/format option/);
    }
  });
});

describe('openTable', () => {
  it('reports a missing file with the resolved path', async () => {
    const error = await rejection(() => openTable('no/such/file.csv'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('no/such/file.csv not found');
    expect(error.message).toContain(resolve('no/such/file.csv'));
    expect((error as InputError).location.file).toBe('no/such/file.csv');
  });

  it('reports a directory', async () => {
    const dir = join(temporaryFolderSync('open-table-'), 'x.csv');
    mkdirSync(dir);
    const error = await rejection(() => openTable(dir));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('is a directory');
  });

  it('checks the extension only for existing files, and .json with a clear message', async () => {
    const error = await rejection(() => openTable(writeTemp('data.json', '[{"a":1}]')));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('JSON Lines');
  });

  it('lets the format option override the extension', async () => {
    const csv = await openTable(writeTemp('data.json', 'a,b\n1,2\n'), { format: 'csv' });
    expect(csv.format).toBe('csv');
    expect(csv.columns).toEqual(['a', 'b']);
    const jsonl = await openTable(writeTemp('data.log', '{"a":1}\n'), { format: 'jsonl' });
    expect(jsonl.format).toBe('jsonl');
    expect(jsonl.columns).toEqual(['a']);
  });

  it('rejects a bad format option and a bad batchRows', async () => {
    const path = writeTemp('a.csv', 'a\n1\n');
    const format = await rejection(() => openTable(path, { format: 'xlsx' as TableFormat }));
    expect(format).toBeInstanceOf(ConfigurationError);
    expect(format.message).toContain('csv, jsonl, parquet');
    const rows = await rejection(() => openTable(path, { batchRows: 0 }));
    expect(rows).toBeInstanceOf(ConfigurationError);
    expect(rows.message).toContain('batchRows');
  });

  it('keeps the path as given for messages', async () => {
    const path = writeTemp('a.csv.gz', gzipSync('a,b\n1,2\n'));
    const reader = await openTable(path);
    expect(reader.path).toBe(path);
    expect(reader.compressed).toBe(true);
  });
});

describe('the same data in CSV, JSONL and Parquet', () => {
  const names = ['id', 'city', 'score', 'active', 'note'];
  const rows = Array.from({ length: 57 }, (_, i) => ({
    id: i,
    city: ['Oslo', 'Zürich', 'São Paulo', 'a, "quoted" name', '東京'][i % 5],
    score: i % 7 === 0 ? null : Math.round((i * 1.37 - 20) * 1000) / 1000,
    active: i % 3 === 0,
    note: i % 4 === 0 ? null : `line ${i}${i % 9 === 0 ? '\nsecond line' : ''}`,
  }));

  function csvText(): string {
    const quote = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
    const lines = rows.map((row) =>
      [row.id, quote(row.city), row.score ?? '', row.active, row.note === null ? '' : quote(row.note)].join(
        ',',
      ),
    );
    return `${names.join(',')}\r\n${lines.join('\r\n')}\r\n`;
  }

  /** Cells normalised across formats: numbers as numbers, missing as null, text as text. */
  function normalise(column: ColumnCells, i: number, name: string): unknown {
    if (column.kind === 'text') {
      const text = cellValue(column, i) as string;
      if (text === '' && column.quoted?.[i] !== 1) return null;
      if (name === 'id' || name === 'score')
        return parseNumberBytes(column.bytes, column.start[i], column.end[i]);
      if (name === 'active') return text === 'true';
      return text;
    }
    const value = column.values[i];
    return value === undefined ? null : value;
  }

  async function readNormalised(path: string, batchRows: number) {
    const reader = await openTable(path, { batchRows });
    const out: Record<string, unknown>[] = [];
    const lines: number[] = [];
    for await (const batch of reader.batches()) {
      for (let i = 0; i < batch.length; i++) {
        const row: Record<string, unknown> = {};
        batch.columns.forEach((column, j) => {
          row[reader.columns[j]] = normalise(column, i, reader.columns[j]);
        });
        out.push(row);
        lines.push(batch.lines[i]);
      }
    }
    return { columns: reader.columns, rows: out, lines };
  }

  it('gives the same columns and cell values in every format', async () => {
    const dir = temporaryFolderSync('open-table-');
    const csv = join(dir, 'd.csv');
    const jsonl = join(dir, 'd.jsonl.gz');
    const parquet = join(dir, 'd.parquet');
    writeFileSync(csv, csvText());
    writeFileSync(jsonl, gzipSync(rows.map((row) => JSON.stringify(row)).join('\n')));
    writeFileSync(
      parquet,
      new Uint8Array(
        parquetWriteBuffer({
          rowGroupSize: 20,
          columnData: [
            { name: 'id', data: rows.map((r) => BigInt(r.id)), type: 'INT64' },
            { name: 'city', data: rows.map((r) => r.city), type: 'STRING' },
            { name: 'score', data: rows.map((r) => r.score), type: 'DOUBLE' },
            { name: 'active', data: rows.map((r) => r.active), type: 'BOOLEAN' },
            { name: 'note', data: rows.map((r) => r.note), type: 'STRING' },
          ],
        }),
      ),
    );
    const fromCsv = await readNormalised(csv, 8);
    const fromJsonl = await readNormalised(jsonl, 5);
    const fromParquet = await readNormalised(parquet, 7);
    for (const result of [fromCsv, fromJsonl, fromParquet]) {
      expect(result.columns).toEqual(names);
      expect(result.rows).toEqual(rows);
    }
    // Lines: CSV counts lines (records with a line break take two), JSONL lines, Parquet row numbers.
    expect(fromJsonl.lines).toEqual(rows.map((_, i) => i + 1));
    expect(fromParquet.lines).toEqual(rows.map((_, i) => i + 1));
    expect(fromCsv.lines.slice(0, 11)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
  });
});

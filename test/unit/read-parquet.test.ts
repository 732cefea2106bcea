import { gzipSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import type { ValueColumn } from '../../src/core/data/batch.ts';
import { type OpenTableOptions, openTable } from '../../src/core/data/open-table.ts';
import { createTempWriter, inputError } from '../helpers/files.ts';

const writeTemp = createTempWriter('read-parquet-');

interface Table {
  columns: readonly string[];
  rowCount: number | undefined;
  /** Cells by column. */
  values: unknown[][];
  lines: number[];
  batchSizes: number[];
}

async function readTable(path: string, options: OpenTableOptions = {}): Promise<Table> {
  const reader = await openTable(path, options);
  const table: Table = {
    columns: reader.columns,
    rowCount: reader.rowCount,
    values: reader.columns.map(() => []),
    lines: [],
    batchSizes: [],
  };
  for await (const batch of reader.batches()) {
    table.batchSizes.push(batch.length);
    batch.columns.forEach((column, j) => {
      expect(column.kind).toBe('values');
      const values = (column as ValueColumn).values;
      expect(values.length).toBe(batch.length);
      table.values[j].push(...Array.from(values));
    });
    table.lines.push(...batch.lines);
  }
  return table;
}

const ROWS = 25;
const BIG = 2n ** 60n + 1n;

function sampleColumns() {
  return [
    { name: 'id', data: Array.from({ length: ROWS }, (_, i) => i), type: 'INT32' as const, nullable: false },
    {
      name: 'score',
      data: Array.from({ length: ROWS }, (_, i) => (i % 4 === 0 ? null : i / 2)),
      type: 'DOUBLE' as const,
    },
    {
      name: 'count',
      data: Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : BigInt(i) * 1000n)),
      type: 'INT64' as const,
    },
    {
      name: 'big',
      data: Array.from({ length: ROWS }, (_, i) => (i === 7 ? BIG : BigInt(-i))),
      type: 'INT64' as const,
      nullable: false,
    },
    {
      name: 'name',
      data: Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? null : `n${i}`)),
      type: 'STRING' as const,
    },
    {
      name: 'flag',
      data: Array.from({ length: ROWS }, (_, i) => (i % 6 === 0 ? null : i % 2 === 0)),
      type: 'BOOLEAN' as const,
    },
    {
      name: 'at',
      data: Array.from({ length: ROWS }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i))),
      type: 'TIMESTAMP' as const,
    },
  ];
}

function writeSample(name = 'a.parquet', rowGroupSize = 10): string {
  return writeTemp(name, parquetWriteBuffer({ columnData: sampleColumns(), rowGroupSize }));
}

describe('Parquet reader', () => {
  it('reads the footer at open time: columns and row count', async () => {
    const reader = await openTable(writeSample());
    expect(reader.format).toBe('parquet');
    expect(reader.compressed).toBe(false);
    expect(reader.columns).toEqual(['id', 'score', 'count', 'big', 'name', 'flag', 'at']);
    expect(reader.rowCount).toBe(ROWS);
  });

  it('reads every row group, with nulls, in batches that never span row groups', async () => {
    const table = await readTable(writeSample(), { batchRows: 4 });
    // Row groups of 10, 10 and 5 rows, each cut into batches of at most 4.
    expect(table.batchSizes).toEqual([4, 4, 2, 4, 4, 2, 4, 1]);
    expect(table.lines).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    const expected = sampleColumns();
    expect(table.values[0]).toEqual(expected[0].data);
    expect(table.values[1]).toEqual(expected[1].data);
    expect(table.values[4]).toEqual(expected[4].data);
    expect(table.values[5]).toEqual(expected[5].data);
  });

  it('converts INT64 to numbers when exact and keeps larger values as bigints', async () => {
    const table = await readTable(writeSample());
    expect(table.values[2]).toEqual(Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : i * 1000)));
    const big = table.values[3];
    expect(big[7]).toBe(BIG);
    expect(big[8]).toBe(-8);
    expect(typeof big[0]).toBe('number');
  });

  it('keeps timestamps as Dates', async () => {
    const table = await readTable(writeSample());
    expect(table.values[6][0]).toBeInstanceOf(Date);
    expect((table.values[6][24] as Date).toISOString()).toBe('2024-01-25T00:00:00.000Z');
  });

  it('reads uncompressed files and one-row-group files', async () => {
    const path = writeTemp(
      'u.pq',
      parquetWriteBuffer({ columnData: sampleColumns(), codec: 'UNCOMPRESSED', rowGroupSize: 1000 }),
    );
    const table = await readTable(path);
    expect(table.batchSizes).toEqual([25]);
    expect(table.values[0]).toEqual(sampleColumns()[0].data);
  });

  it('honours the format option for another extension', async () => {
    const path = writeTemp('data.bin', parquetWriteBuffer({ columnData: sampleColumns() }));
    expect((await readTable(path, { format: 'parquet' })).rowCount).toBe(ROWS);
  });

  it('streams row group by row group: batches before a corrupt row group are delivered', async () => {
    const bytes = new Uint8Array(
      parquetWriteBuffer({ columnData: sampleColumns(), rowGroupSize: 10, codec: 'UNCOMPRESSED' }),
    );
    const metadata = parquetMetadata(bytes.buffer);
    // Garble the page data of the last row group's string column.
    const chunk = metadata.row_groups[2].columns[4].meta_data;
    if (!chunk) throw new Error('no column metadata');
    const from = Number(chunk.data_page_offset);
    bytes.fill(0xee, from, from + Number(chunk.total_compressed_size));
    const path = writeTemp('bad-group.parquet', bytes);
    const reader = await openTable(path, { batchRows: 100 });
    const seen: number[] = [];
    const error = await inputError(async () => {
      for await (const batch of reader.batches()) seen.push(batch.length);
    });
    expect(seen).toEqual([10, 10]);
    expect(error.message).toContain(path);
    expect(error.message).toContain('row group 3 (rows 21 to 25)');
    expect(error.location).toEqual({ file: path, line: 21 });
  });
});

describe('Parquet reader: not Parquet', () => {
  it('rejects a file without the PAR1 magic', async () => {
    const path = writeTemp('a.parquet', 'id,name\n1,ann\n2,bob\n');
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain(`${path} is not a Parquet file (`);
    expect(error.location.file).toBe(path);
  });

  it('rejects a truncated file and a tiny file', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: sampleColumns() }));
    const cut = await inputError(() =>
      openTable(writeTemp('cut.parquet', bytes.subarray(0, bytes.length - 10))),
    );
    expect(cut.message).toContain('is not a Parquet file');
    expect(cut.message).toContain('truncated');
    const tiny = await inputError(() => openTable(writeTemp('tiny.parquet', 'PAR1')));
    expect(tiny.message).toContain('is not a Parquet file');
    const empty = await inputError(() => openTable(writeTemp('empty.parquet', '')));
    expect(empty.message).toContain('is not a Parquet file');
  });

  it('rejects a corrupt footer', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: sampleColumns() }));
    const length = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
    bytes.fill(0xff, bytes.length - 8 - length, bytes.length - 8);
    const path = writeTemp('footer.parquet', bytes);
    const error = await inputError(() => openTable(path));
    expect(error.message).toContain(`${path} is not a Parquet file (its footer cannot be read`);
  });

  it('explains that gzip-compressed Parquet is not a thing', async () => {
    const compressed = gzipSync(new Uint8Array(parquetWriteBuffer({ columnData: sampleColumns() })));
    for (const name of ['a.parquet.gz', 'a.parquet']) {
      const path = writeTemp(name, compressed);
      const error = await inputError(() => openTable(path));
      expect(error.message).toContain(`${path} is gzip-compressed`);
      expect(error.message).toContain('Parquet compresses its pages');
    }
  });
});

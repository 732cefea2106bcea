/**
 * Hand-built row batches for unit tests of batch consumers (profile, contract, row checks), shaped
 * exactly like the readers' output.
 */
import type { ColumnCells, RowBatch, TextColumn } from '../../src/core/data/batch.ts';

/**
 * A text batch from CSV-like text (header line, then rows; `"` quoting with `""` escapes; no
 * line breaks inside cells). Cell offsets point into the UTF-8 bytes of the whole text, like a
 * real reader's. Row `r` is at line `firstLine + r` (the header is line `firstLine - 1`).
 */
export function csvBatch(text: string, firstLine = 2): { columns: string[]; batch: RowBatch } {
  const bytes = new TextEncoder().encode(text);
  const records: { start: number; end: number; quoted: boolean; escaped: boolean }[][] = [];
  let i = 0;
  while (i < bytes.length) {
    const record: { start: number; end: number; quoted: boolean; escaped: boolean }[] = [];
    for (;;) {
      if (bytes[i] === 0x22) {
        let escaped = false;
        const start = ++i;
        while (i < bytes.length) {
          if (bytes[i] === 0x22 && bytes[i + 1] === 0x22) {
            escaped = true;
            i += 2;
          } else if (bytes[i] === 0x22) break;
          else i++;
        }
        record.push({ start, end: i, quoted: true, escaped });
        i++;
      } else {
        const start = i;
        while (i < bytes.length && bytes[i] !== 0x2c && bytes[i] !== 0x0a) i++;
        record.push({ start, end: i, quoted: false, escaped: false });
      }
      if (bytes[i] === 0x2c) i++;
      else break;
    }
    if (bytes[i] === 0x0a) i++;
    records.push(record);
  }
  const decoder = new TextDecoder();
  const columns = records[0].map((cell) => decoder.decode(bytes.subarray(cell.start, cell.end)));
  const rows = records.slice(1);
  const cells: TextColumn[] = columns.map((_, c) => {
    const start = new Int32Array(rows.length);
    const end = new Int32Array(rows.length);
    const quoted = new Uint8Array(rows.length);
    const escaped = new Uint8Array(rows.length);
    rows.forEach((row, r) => {
      start[r] = row[c].start;
      end[r] = row[c].end;
      quoted[r] = row[c].quoted ? 1 : 0;
      escaped[r] = row[c].escaped ? 1 : 0;
    });
    return {
      kind: 'text',
      bytes,
      start,
      end,
      quoted: quoted.some(Boolean) ? quoted : null,
      escaped: escaped.some(Boolean) ? escaped : null,
    };
  });
  return {
    columns,
    batch: { length: rows.length, lines: Float64Array.from(rows, (_, r) => firstLine + r), columns: cells },
  };
}

/** A value batch (JSONL/Parquet) from rows of values; row `r` is at line `firstLine + r`. */
export function valueBatch(
  columns: string[],
  rows: unknown[][],
  firstLine = 1,
): { columns: string[]; batch: RowBatch } {
  const cells: ColumnCells[] = columns.map((_, c) => ({ kind: 'values', values: rows.map((row) => row[c]) }));
  return {
    columns,
    batch: { length: rows.length, lines: Float64Array.from(rows, (_, r) => firstLine + r), columns: cells },
  };
}

export type Batch = { columns: string[]; batch: RowBatch };

export function feed<T extends { add(batch: RowBatch, columns: readonly string[]): void }>(
  consumer: T,
  ...batches: Batch[]
): T {
  for (const { columns, batch } of batches) consumer.add(batch, columns);
  return consumer;
}

/**
 * The worker side of {@link createParallelProfiler}: profiles the columns it is given, batch by
 * batch, and returns their mergeable states at the end. Runs as its own bundle
 * (dist/<name>/profile-worker.js) or, in tests, as this TypeScript file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ColumnCells, RowBatch, TextColumn } from './batch.ts';
import { beginBatch } from './cells.ts';
import { createColumnProfiler } from './profile.ts';
import type { ProfileOptions } from './profile-types.ts';

/** A batch as the main thread sends it: the byte range of the owned columns, rebased to 0. */
export interface WorkerBatch {
  type: 'batch';
  length: number;
  width: number;
  names: string[];
  bytes: Uint8Array;
  columns: {
    index: number;
    start: Int32Array;
    end: Int32Array;
    quoted: Uint8Array | null;
    escaped: Uint8Array | null;
  }[];
}

export type WorkerRequest = WorkerBatch | { type: 'finish' };

const { options, owned } = workerData as { options: Partial<ProfileOptions>; owned: number[] };
const ownedSet = new Set(owned);
const profiler = createColumnProfiler(options, (index) => ownedSet.has(index));
const noLines = new Float64Array(0);

parentPort!.on('message', (message: WorkerRequest) => {
  if (message.type === 'finish') {
    parentPort!.postMessage({ type: 'states', states: profiler.states() });
    return;
  }
  const columns: ColumnCells[] = new Array(message.width);
  for (const column of message.columns) {
    const cells: TextColumn = {
      kind: 'text',
      bytes: message.bytes,
      start: column.start,
      end: column.end,
      quoted: column.quoted,
      escaped: column.escaped,
    };
    columns[column.index] = cells;
  }
  const batch: RowBatch = { length: message.length, lines: noLines, columns };
  beginBatch();
  profiler.add(batch, message.names);
  parentPort!.postMessage({ type: 'done' });
});

/**
 * The worker side of {@link createParallelProfiler}: profiles the columns it is given, batch by
 * batch, and returns their mergeable states at the end. Runs as its own bundle
 * (dist/<name>/profile-worker.js) or, in tests, as this TypeScript file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigurationError, InputError } from '../errors.ts';
import type { ColumnCells, RowBatch, TextColumn } from './batch.ts';
import type { DataContract } from './contract.ts';
import { type ContractCheckOptions, createContractChecker } from './contract-check.ts';
import { createColumnProfiler } from './profile.ts';
import type { ProfileOptions } from './profile-types.ts';
import { openParquet } from './read-parquet.ts';

/** A batch as the main thread sends it: the byte range of the owned columns, rebased to 0. */
export interface WorkerBatch {
  type: 'batch';
  length: number;
  width: number;
  names: string[];
  lines: Float64Array;
  bytes: Uint8Array;
  columns: {
    index: number;
    start: Int32Array;
    end: Int32Array;
    quoted: Uint8Array | null;
    escaped: Uint8Array | null;
  }[];
}

export type WorkerRequest = WorkerBatch | { type: 'finish'; rows: number; columns: string[] };

/** A contract check the worker runs too (only when it owns every column). */
export interface WorkerContract {
  contract: DataContract;
  options: ContractCheckOptions;
}

const { options, owned, contract, file } = workerData as {
  options: Partial<ProfileOptions>;
  owned: number[];
  contract?: WorkerContract;
  /** A columnar file (Parquet) the worker reads itself, decoding only its columns. */
  file?: { path: string; displayPath: string; columns: string[] };
};
const ownedSet = new Set(owned);
const profiler = createColumnProfiler(options, (index) => ownedSet.has(index));
const checker = contract ? createContractChecker(contract.contract, contract.options) : undefined;

if (file) {
  // Independent pass: no batches come from the main thread.
  profileFile(file).then(
    (states) => parentPort!.postMessage({ type: 'states', states }),
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
        // A bad file is the user's to fix: the main thread raises the same error class.
        ...(error instanceof ConfigurationError
          ? { kind: error instanceof InputError ? 'input' : 'configuration', location: error.location }
          : {}),
      }),
  );
} else {
  parentPort!.on('message', onBatch);
}

async function profileFile(source: NonNullable<typeof file>) {
  const reader = await openParquet(source.path, source.displayPath, { only: source.columns });
  for await (const batch of reader.batches()) {
    profiler.add(batch, reader.columns);
  }
  return profiler.states();
}

function onBatch(message: WorkerRequest): void {
  if (message.type === 'finish') {
    const findings = checker?.finish(message.rows, message.columns);
    parentPort!.postMessage({ type: 'states', states: profiler.states(), findings });
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
  const batch: RowBatch = { length: message.length, lines: message.lines, columns };
  profiler.add(batch, message.names);
  checker?.add(batch, message.names);
  parentPort!.postMessage({ type: 'done' });
}

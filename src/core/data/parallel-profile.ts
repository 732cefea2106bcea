/**
 * Profiles a CSV on two cores: a worker thread profiles some columns while the main thread
 * profiles the others (and runs the contract and row checks). Every profile column is
 * independent, so the parts join into exactly the profile one thread would make.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigurationError, InputError, type SourceLocation } from '../errors.ts';
import type { RowBatch, TableReader, TextColumn } from './batch.ts';
import type { BatchConsumer, Finding } from './findings.ts';
import { assembleProfile, type ColumnStates, createColumnProfiler, createProfiler } from './profile.ts';
import type { DataProfile, ProfileOptions } from './profile-types.ts';
import type { WorkerBatch, WorkerContract } from './profile-worker.ts';

/** Batches sent but not yet profiled by the worker, before the main thread waits for it. */
const MAX_IN_FLIGHT = 4;

export interface ParallelProfiler extends BatchConsumer {
  readonly rows: number;
  /** Joins the worker's columns and the main thread's; stops the worker. */
  finish(sources: DataProfile['sources']): Promise<DataProfile>;
  /** The findings of the contract check the worker ran (after `finish`), if it was given one. */
  contractFindings?(): Finding[];
  /** Stops the worker without a result (on errors). */
  close(): Promise<void>;
}

/** Where the worker's code is: next to the bundle (or one folder up from a chunk), or the source in tests. */
function findWorkerScript(): URL | undefined {
  for (const candidate of ['./profile-worker.js', '../profile-worker.js', './profile-worker.ts']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/**
 * A profiler that hands the columns `index % share.of >= share.main` to a worker thread.
 * Returns undefined when the worker's script cannot be found (the caller profiles on one thread).
 * Only for text (CSV) batches.
 */
export function createParallelProfiler(
  options: Partial<ProfileOptions>,
  width: number,
  share: { main: number; of: number } = { main: 1, of: 2 },
  contract?: WorkerContract,
): ParallelProfiler | undefined {
  const script = findWorkerScript();
  if (script === undefined || width < 2) return undefined;
  // The contract check reads every column: the worker can run it only when it has them all.
  if (contract && share.main !== 0)
    throw new Error('a contract check in the worker needs every column on the worker');
  const onMain = (index: number) => index % share.of < share.main;
  const owned = Array.from({ length: width }, (_, index) => index).filter((index) => !onMain(index));
  const local = createColumnProfiler(options, onMain);
  const worker = new Worker(script, { workerData: { options, owned, contract } });
  let findings: Finding[] | undefined;
  let columnNames: readonly string[] = [];
  let inFlight = 0;
  let failure: Error | undefined;
  const waiters: (() => void)[] = [];
  let statesResolve: ((result: { states: ColumnStates; findings?: Finding[] }) => void) | undefined;
  const release = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  worker.on(
    'message',
    (message: { type: 'done' } | { type: 'states'; states: ColumnStates; findings?: Finding[] }) => {
      if (message.type === 'done') {
        inFlight--;
        release();
      } else statesResolve?.(message);
    },
  );
  worker.on('error', (error) => {
    failure = error;
    release();
  });
  const check = () => {
    if (failure) throw new Error(`the profiling worker failed: ${failure.message}`, { cause: failure });
  };

  return {
    get rows() {
      return local.rows;
    },
    add(batch: RowBatch, names: readonly string[]): void | Promise<void> {
      check();
      columnNames = names;
      local.add(batch, names);
      worker.postMessage(...packBatch(batch, names, owned));
      inFlight++;
      if (inFlight < MAX_IN_FLIGHT) return;
      // Back-pressure: keep at most a few batches queued for the worker.
      return new Promise<void>((resolve) => waiters.push(resolve)).then(check);
    },
    async finish(sources) {
      while (inFlight > 0) {
        check();
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      check();
      const result = await new Promise<{ states: ColumnStates; findings?: Finding[] }>((resolve) => {
        statesResolve = resolve;
        worker.postMessage({ type: 'finish', rows: local.rows, columns: [...columnNames] });
      });
      await worker.terminate();
      findings = result.findings;
      return assembleProfile([local.states(), result.states], sources, options);
    },
    async close() {
      await worker.terminate();
    },
    ...(contract ? { contractFindings: () => findings ?? [] } : {}),
  };
}

/**
 * Copies the worker's columns out of a batch (readers reuse their buffers for the next batch):
 * the byte range those cells span, rebased to 0, and their offsets; all transferred, not cloned.
 */
function packBatch(batch: RowBatch, names: readonly string[], owned: number[]): [WorkerBatch, ArrayBuffer[]] {
  const n = batch.length;
  const text = owned.map((index) => batch.columns[index] as TextColumn);
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  for (const column of text) {
    if (column.kind !== 'text') throw new Error('the parallel profiler takes text (CSV) batches only');
    if (n > 0) {
      low = Math.min(low, column.start[0]);
      high = Math.max(high, column.end[n - 1]);
    }
  }
  if (n === 0) low = 0;
  const bytes = text[0].bytes.slice(low, high);
  const transfer: ArrayBuffer[] = [bytes.buffer];
  const columns = owned.map((index, k) => {
    const column = text[k];
    const start = new Int32Array(n);
    const end = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      start[i] = column.start[i] - low;
      end[i] = column.end[i] - low;
    }
    const quoted = column.quoted === null ? null : column.quoted.slice(0, n);
    const escaped = column.escaped === null ? null : column.escaped.slice(0, n);
    transfer.push(start.buffer, end.buffer);
    if (quoted) transfer.push(quoted.buffer);
    if (escaped) transfer.push(escaped.buffer);
    return { index, start, end, quoted, escaped };
  });
  const lines = batch.lines.slice(0, n);
  transfer.push(lines.buffer);
  return [
    { type: 'batch', length: n, width: batch.columns.length, names: [...names], lines, bytes, columns },
    transfer,
  ];
}

/**
 * Profiles a columnar file (Parquet) on two threads without passing batches between them: the
 * worker opens the file itself and decodes only its columns (`index % share.of >= share.main`),
 * while this thread profiles the others from its own batches. Both see the same rows.
 */
export function createFileParallelProfiler(
  reader: TableReader,
  options: Partial<ProfileOptions>,
  share: { main: number; of: number },
): (AnyProfiler & { mainColumns: string[] }) | undefined {
  const script = findWorkerScript();
  if (script === undefined) return undefined;
  const onMain = (index: number) => index % share.of < share.main;
  const owned = reader.columns.map((_, index) => index).filter((index) => !onMain(index));
  const file = {
    path: resolve(reader.path),
    displayPath: reader.path,
    columns: owned.map((index) => reader.columns[index]),
  };
  const worker = new Worker(script, { workerData: { options, owned, file } });
  const result = new Promise<ColumnStates>((resolveStates, reject) => {
    worker.on(
      'message',
      (
        message:
          | { type: 'states'; states: ColumnStates }
          | { type: 'error'; message: string; kind?: 'input' | 'configuration'; location?: SourceLocation },
      ) => {
        if (message.type === 'states') resolveStates(message.states);
        else if (message.kind === 'input') reject(new InputError(message.message, message.location));
        else if (message.kind === 'configuration')
          reject(new ConfigurationError(message.message, message.location));
        else reject(new Error(message.message));
      },
    );
    worker.on('error', reject);
  });
  // Observed in finish(); without this an early failure would be an unhandled rejection.
  result.catch(() => {});
  const local = createColumnProfiler(options, onMain);
  return {
    mainColumns: reader.columns.filter((_, index) => onMain(index)),
    get rows() {
      return local.rows;
    },
    add(batch: RowBatch, names: readonly string[]) {
      local.add(batch, names);
    },
    async finish(sources) {
      try {
        const states = await result;
        return assembleProfile([local.states(), states], sources, options);
      } finally {
        await worker.terminate();
      }
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** When to profile on two threads: `auto` for CSV files of at least {@link PARALLEL_MIN_BYTES}. */
export const PARALLEL_MODES = ['auto', 'always', 'never'] as const;
export type ParallelMode = (typeof PARALLEL_MODES)[number];

/** Below this size a worker's start-up (~30 ms) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/** A profiler that may finish asynchronously (the parallel one does). */
export interface AnyProfiler extends BatchConsumer {
  readonly rows: number;
  finish(sources: DataProfile['sources']): DataProfile | Promise<DataProfile>;
  close?(): Promise<void>;
  /** Present when the contract check ran with the profile (on the worker). */
  contractFindings?(): Finding[];
}

/**
 * The profiler for a table: on two threads for large CSV files (`share.main` of every `share.of`
 * columns stay on the main thread), on this thread otherwise.
 */
export async function chooseProfiler(
  reader: TableReader,
  options: Partial<ProfileOptions>,
  mode: ParallelMode = 'auto',
  share?: { main: number; of: number },
  contract?: WorkerContract,
): Promise<AnyProfiler> {
  // Parquet is split by columns, each thread decoding its own; when the main thread needs every
  // column anyway (share.main 0: the data gate), a second decode would cost memory for little time.
  const parallelFormat = reader.format === 'csv' || (reader.format === 'parquet' && share?.main !== 0);
  if (mode !== 'never' && parallelFormat && reader.columns.length >= 2) {
    const large =
      mode === 'always' || (await stat(reader.path).catch(() => ({ size: 0 }))).size >= PARALLEL_MIN_BYTES;
    if (large) {
      const parallel =
        reader.format === 'parquet'
          ? createFileParallelProfiler(reader, options, share ?? { main: 1, of: 2 })
          : createParallelProfiler(options, reader.columns.length, share, contract);
      if (parallel) return parallel;
    }
  }
  return createProfiler(options);
}

/**
 * Profiling a whole table: one pass, large CSV files on two threads (parallel-profile.ts). Apart
 * from profile.ts, which parallel-profile.ts and the worker build on.
 */
import { resolve } from 'node:path';
import type { TableReader } from './batch.ts';
import { chooseProfiler } from './parallel-profile.ts';
import type { DataProfile, ProfileOptions } from './profile-types.ts';
import { openParquet } from './read-parquet.ts';

/**
 * Profiles a whole table in one pass; large CSV files on two threads (`parallel`, default `auto`).
 */
export async function profileTable(
  reader: TableReader,
  options: Partial<ProfileOptions> = {},
  parallel: 'auto' | 'always' | 'never' = 'auto',
): Promise<DataProfile> {
  const profiler = await chooseProfiler(reader, options, parallel);
  // A Parquet file split between threads: this thread decodes only its own columns.
  if ('mainColumns' in profiler && reader.format === 'parquet') {
    reader = await openParquet(resolve(reader.path), reader.path, { only: profiler.mainColumns as string[] });
  }
  try {
    for await (const batch of reader.batches()) {
      const pending = profiler.add(batch, reader.columns);
      if (pending) await pending;
    }
    return await profiler.finish([{ path: reader.path, format: reader.format, rows: profiler.rows }]);
  } catch (error) {
    await profiler.close?.();
    throw error;
  }
}

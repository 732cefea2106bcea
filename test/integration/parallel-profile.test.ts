/**
 * The two-thread profile (a worker takes some columns) must give exactly the profile of one
 * thread, and must not leave a worker behind when the input turns out to be bad.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTable } from '../../src/core/data/open-table.ts';
import { chooseProfiler, createParallelProfiler } from '../../src/core/data/parallel-profile.ts';
import { profileTable } from '../../src/core/data/profile-table.ts';
import { validateData } from '../../src/core/data/validate-data.ts';
import { example, temporaryDirectory, writeFormats } from '../helpers/example.ts';

describe('parallel profile', () => {
  it('equals the single-thread profile, whatever the split', async () => {
    const single = await profileTable(await openTable(example.train, { batchRows: 64 }), {}, 'never');
    const parallel = await profileTable(await openTable(example.train, { batchRows: 64 }), {}, 'always');
    expect(parallel).toEqual(single);
    for (const share of [
      { main: 0, of: 1 },
      { main: 2, of: 3 },
    ]) {
      const reader = await openTable(example.train, { batchRows: 64 });
      const profiler = createParallelProfiler({}, reader.columns.length, share)!;
      for await (const batch of reader.batches()) await profiler.add(batch, reader.columns);
      expect(await profiler.finish(single.sources)).toEqual(single);
    }
  });

  it('handles quoted and escaped cells and small bounds (sketch mode) on the worker', async () => {
    const dir = await temporaryDirectory();
    const file = join(dir, 'quoted.csv');
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `${i % 7 === 0 ? '' : (i * 0.37).toFixed(2)},"say ""hi"" ${i % 40}","a,${i % 3}",${i}`,
    );
    await writeFile(file, `x,quote,comma,id\n${rows.join('\n')}\n`);
    const options = { exactValues: 100, exactDistinct: 50 };
    const single = await profileTable(await openTable(file, { batchRows: 256 }), options, 'never');
    const parallel = await profileTable(await openTable(file, { batchRows: 256 }), options, 'always');
    expect(parallel).toEqual(single);
    expect(parallel.columns[1].topValues?.[0].value).toMatch(/^say "hi" \d+$/);
  });

  it('splits a Parquet file by columns: the worker decodes its own columns from the file', async () => {
    const { parquet } = await writeFormats(example.test, await temporaryDirectory());
    const single = await profileTable(await openTable(parquet), {}, 'never');
    const parallel = await profileTable(await openTable(parquet), {}, 'always');
    expect(parallel).toEqual(single);
    // The data gate reads every column on this thread anyway: no second decode on a worker.
    const gate = await chooseProfiler(await openTable(parquet), {}, 'always', { main: 0, of: 1 });
    expect('close' in gate).toBe(false);
  });

  it('is chosen for large CSV files only, unless forced', async () => {
    const small = await chooseProfiler(await openTable(example.train), {});
    expect('close' in small).toBe(false);
    const forced = await chooseProfiler(await openTable(example.train), {}, 'always');
    expect('close' in forced).toBe(true);
    await forced.close?.();
    const jsonl = join(await temporaryDirectory(), 'a.jsonl');
    await writeFile(jsonl, '{"a":1,"b":2}\n');
    expect('close' in (await chooseProfiler(await openTable(jsonl), {}, 'always'))).toBe(false);
    const { parquet } = await writeFormats(example.test, await temporaryDirectory());
    const onParquet = await chooseProfiler(await openTable(parquet), {}, 'always');
    expect('mainColumns' in onParquet).toBe(true);
    await onParquet.close?.();
  });

  it('runs the contract check on the worker with the same findings and lines', async () => {
    const gate = (parallel: 'always' | 'never') =>
      validateData({
        data: example.drifted,
        contract: example.contract,
        reference: example.train,
        target: 'target',
        parallel,
      });
    const [threaded, single] = await Promise.all([gate('always'), gate('never')]);
    const contractFindings = threaded.findings.filter((f) => f.check === 'contract');
    expect(contractFindings.length).toBeGreaterThan(0);
    expect(contractFindings[0].lines?.length).toBeGreaterThan(0);
    expect(threaded.findings).toEqual(single.findings);
    expect(threaded.passed).toBe(false);
  });

  it('runs the data gate with the worker and stops it on bad input', async () => {
    const report = await validateData({
      data: example.test,
      reference: example.train,
      contract: example.contract,
      target: 'target',
      parallel: 'always',
    });
    const single = await validateData({
      data: example.test,
      reference: example.train,
      contract: example.contract,
      target: 'target',
      parallel: 'never',
    });
    expect(report.profile).toEqual(single.profile);
    expect(report.passed).toBe(true);
    const dir = await temporaryDirectory();
    const ragged = join(dir, 'ragged.csv');
    await writeFile(ragged, `a,b\n${'1,2\n'.repeat(5000)}3\n`);
    await expect(validateData({ data: ragged, parallel: 'always' })).rejects.toThrow(/line 5002/);
    const headerOnly = join(dir, 'header.csv');
    await writeFile(headerOnly, 'a,b\n');
    await expect(validateData({ data: headerOnly, parallel: 'always' })).rejects.toThrow(/no data rows/);
  });
});

/**
 * The built `mlops` CLI as a user runs it: formats, exit codes, --json, bad input, profile shards.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import {
  example,
  readSimpleCsv,
  reportSchemaErrors,
  temporaryDirectory,
  writeFormats,
} from '../helpers/example.ts';

const mlops = (...args: string[]) => runCli(args);

let dir: string;
let formats: Awaited<ReturnType<typeof writeFormats>>;
beforeAll(async () => {
  dir = await temporaryDirectory('mlops-cli-');
  formats = await writeFormats(example.test, dir);
});

describe('mlops validate-data', () => {
  it('gives the same verdict and profile on CSV, CSV.gz, JSONL, JSONL.gz and Parquet', async () => {
    const results = [];
    for (const data of [example.test, formats.csvGz, formats.jsonl, formats.jsonlGz, formats.parquet]) {
      const run = await mlops(
        'validate-data',
        '--data',
        data,
        '--contract',
        example.contract,
        '--reference',
        example.train,
        '--target',
        'target',
        '--json',
      );
      expect(run.code, `${data}: ${run.stderr}`).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(reportSchemaErrors(report)).toEqual([]);
      results.push(report);
    }
    const csv = results[0];
    for (const report of results.slice(1)) {
      expect(report.summary).toEqual(csv.summary);
      expect(report.findings).toEqual(
        csv.findings.map((f: { file?: string }) => ({ ...f, file: report.inputs.data.path })),
      );
      expect(report.drift.columns.map((c: { statistic: number }) => c.statistic)).toEqual(
        csv.drift.columns.map((c: { statistic: number }) => c.statistic),
      );
      // Counts and extremes are exact; sums and moments depend on batch boundaries in the last bits.
      type Column = {
        name: string;
        count: number;
        numeric: { min: number; max: number; mean: number; std: number; sum: number };
      };
      const exact = (r: typeof csv) =>
        r.profile.columns.map((c: Column) => [c.name, c.count, c.numeric.min, c.numeric.max]);
      expect(exact(report)).toEqual(exact(csv));
      report.profile.columns.forEach((c: Column, i: number) => {
        const reference: Column = csv.profile.columns[i];
        for (const key of ['mean', 'std', 'sum'] as const) {
          expect(Math.abs(c.numeric[key] - reference.numeric[key])).toBeLessThanOrEqual(
            1e-12 * Math.abs(reference.numeric[key]),
          );
        }
      });
    }
    expect(results.map((r) => r.inputs.data.format)).toEqual(['csv', 'csv', 'jsonl', 'jsonl', 'parquet']);
  });

  it('exits 1 with reasons when the gate fails, and writes the report', async () => {
    const report = join(dir, 'drifted.json');
    const run = await mlops(
      'validate-data',
      '--data',
      example.drifted,
      '--contract',
      example.contract,
      '--reference',
      example.train,
      '--train',
      example.train,
      '--target',
      'target',
      '--report',
      report,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAILED/);
    expect(run.stdout).toContain('mean radius');
    expect(JSON.parse(readFileSync(report, 'utf8')).passed).toBe(false);
  });

  it('finds train/test leakage and duplicate rows with line numbers', async () => {
    const { header, rows } = await readSimpleCsv(example.test);
    const train = readFileSync(example.train, 'utf8').trimEnd().split('\n');
    // Lines 2-4 copy training rows; line 5 repeats line 2.
    const leaky = [
      header.join(','),
      train[1],
      train[2],
      train[3],
      train[1],
      ...rows.slice(0, 20).map((r) => r.join(',')),
    ].join('\n');
    const file = join(dir, 'leaky.csv');
    await writeFile(file, `${leaky}\n`);
    const run = await mlops('validate-data', '--data', file, '--train', example.train, '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const leakage = report.findings.find((f: { check: string }) => f.check === 'train-test-leakage');
    expect(leakage).toMatchObject({ severity: 'error', count: 4, lines: [2, 3, 4, 5] });
    const duplicates = report.findings.find((f: { check: string }) => f.check === 'duplicate-rows');
    expect(duplicates).toMatchObject({ severity: 'warning', count: 1, lines: [5] });
  });

  it('exits 2 with a message naming the file and line for every kind of bad input', async () => {
    const write = async (name: string, content: string | Uint8Array) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    };
    const cases: [string[], RegExp][] = [
      [['--data', join(dir, 'nope.csv')], /nope\.csv.*not found/],
      [['--data', await write('empty.csv', '')], /empty\.csv.*empty/],
      [['--data', await write('header.csv', 'a,b\n')], /header\.csv has no data rows \(only a header line\)/],
      [['--data', await write('ragged.csv', 'a,b\n1,2\n3\n')], /ragged\.csv.*line 3/],
      [['--data', await write('semicolon.csv', 'a;b;c\n1;2;3\n')], /delimiter/],
      [
        ['--data', await write('latin1.csv', Buffer.from('name\ncaf\xe9\n', 'latin1'))],
        /latin1\.csv.*line 2.*UTF-8/,
      ],
      [
        ['--data', await write('broken.csv.gz', gzipSync('a,b\n1,2\n').subarray(0, 15))],
        /broken\.csv\.gz.*gzip/,
      ],
      [['--data', await write('fake.parquet', 'a,b\n1,2\n')], /fake\.parquet is not a Parquet file/],
      [
        [
          '--data',
          example.test,
          '--contract',
          await write('bad-contract.json', '{"type":"object","properties":{"a":{"type":"numbr"}}}'),
        ],
        /bad-contract\.json.*properties\.a\.type/,
      ],
      [
        ['--data', example.test, '--contract', await write('not-json.json', '{"type": "object",\n  oops}')],
        /not-json\.json.*line 2/,
      ],
      [
        ['--data', example.test, '--config', await write('typo.yaml', 'data:\n  drift:\n    pvalue: 0.01\n')],
        /typo\.yaml:3.*unknown key "data\.drift\.pvalue".*Did you mean "p-value"/,
      ],
      [['--dta', example.test], /unknown flag --dta\. Did you mean "--data"\?/],
      // A second file after --data (e.g. a shell glob) is refused, not dropped in silence.
      [['--data', example.test, example.train], /unexpected argument ".*train\.csv".*one per flag/],
      [[], /No data to validate: set --data/],
    ];
    for (const [args, message] of cases) {
      const run = await mlops('validate-data', ...args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 on a warning-only run with --fail-on warning, 0 with --fail-on error (the default)', async () => {
    // The example holdout with its first row repeated: one duplicate-row warning and nothing else.
    const lines = readFileSync(example.test, 'utf8').trimEnd().split('\n');
    const data = join(dir, 'with-duplicate.csv');
    await writeFile(data, `${[...lines, lines[1]].join('\n')}\n`);
    const gate = (...args: string[]) =>
      mlops(
        'validate-data',
        '--data',
        data,
        '--reference',
        example.train,
        '--target',
        'target',
        '--json',
        ...args,
      );
    const warning = await gate('--fail-on', 'warning');
    expect(warning.code, warning.stderr).toBe(1);
    const failed = JSON.parse(warning.stdout);
    expect(failed).toMatchObject({ passed: false, failOn: 'warning' });
    expect(failed.summary.findings).toMatchObject({ error: 0, warning: 1 });
    expect(failed.findings.map((f: { check: string; severity: string }) => [f.check, f.severity])).toEqual([
      ['duplicate-rows', 'warning'],
    ]);
    const error = await gate('--fail-on', 'error');
    expect(error.code, error.stderr).toBe(0);
    expect(JSON.parse(error.stdout)).toMatchObject({ passed: true, failOn: 'error' });
    const byDefault = await gate();
    expect(byDefault.code).toBe(0);
    expect(JSON.parse(byDefault.stdout).failOn).toBe('error');
  });

  it('puts one JSON object on stdout with --json, also for errors', async () => {
    const run = await mlops('validate-data', '--data', join(dir, 'nope.csv'), '--json');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.kind).toBe('InputError');
  });
});

describe('mlops profile', () => {
  it('profiles shards of a file set and merges them into the profile of the whole', async () => {
    const lines = readFileSync(example.train, 'utf8').trimEnd().split('\n');
    const parts = [1, 2, 3].map((k) => join(dir, `part-${k}.csv`));
    const third = Math.ceil((lines.length - 1) / 3);
    for (let k = 0; k < 3; k++)
      await writeFile(
        parts[k],
        `${[lines[0], ...lines.slice(1 + k * third, 1 + (k + 1) * third)].join('\n')}\n`,
      );
    const shardFiles = [join(dir, 'p1.json'), join(dir, 'p2.json')];
    expect(
      (await mlops('profile', '--data', join(dir, 'part-*.csv'), '--shard', '1/2', '--out', shardFiles[0]))
        .code,
    ).toBe(0);
    expect(
      (await mlops('profile', '--data', join(dir, 'part-*.csv'), '--shard', '2/2', '--out', shardFiles[1]))
        .code,
    ).toBe(0);
    const merged = JSON.parse((await mlops('profile', 'merge', ...shardFiles, '--json')).stdout);
    const whole = JSON.parse((await mlops('profile', '--data', example.train, '--json')).stdout);
    expect(merged.rows).toBe(whole.rows);
    expect(merged.sources).toHaveLength(3);
    for (let i = 0; i < whole.columns.length; i++) {
      const [m, w] = [merged.columns[i], whole.columns[i]];
      expect([m.name, m.type, m.count, m.missing, m.numeric.min, m.numeric.max, m.quantiles.values]).toEqual([
        w.name,
        w.type,
        w.count,
        w.missing,
        w.numeric.min,
        w.numeric.max,
        w.quantiles.values,
      ]);
      expect(m.numeric.mean).toBeCloseTo(w.numeric.mean, 9);
      expect(m.numeric.std).toBeCloseTo(w.numeric.std, 9);
      expect(m.histogram).toEqual(w.histogram);
      expect(m.distinct).toEqual(w.distinct);
    }
    expect((await mlops('profile', '--data', join(dir, 'part-*.csv'), '--shard', '3/2')).stderr).toMatch(
      /--shard must be K\/N/,
    );
  });

  it('profiles on a second thread (the bundled worker) with the same result', async () => {
    const single = JSON.parse(
      (await mlops('profile', '--data', example.train, '--parallel', 'never', '--json')).stdout,
    );
    const parallel = JSON.parse(
      (await mlops('profile', '--data', example.train, '--parallel', 'always', '--json')).stdout,
    );
    expect(parallel.columns).toEqual(single.columns);
    const gate = await mlops(
      'validate-data',
      '--data',
      example.test,
      '--contract',
      example.contract,
      '--parallel',
      'always',
      '--json',
    );
    expect(gate.code).toBe(0);
    expect(JSON.parse(gate.stdout).profile.columns.length).toBe(31);
    expect((await mlops('profile', '--data', example.train, '--parallel', 'sometimes')).stderr).toMatch(
      /--parallel must be one of auto, always, never/,
    );
  });

  it('uses a saved profile as the drift reference', async () => {
    const profile = join(dir, 'train-profile.json');
    expect((await mlops('profile', '--data', example.train, '--out', profile)).code).toBe(0);
    const fromProfile = JSON.parse(
      (
        await mlops(
          'validate-data',
          '--data',
          example.drifted,
          '--reference',
          profile,
          '--target',
          'target',
          '--json',
        )
      ).stdout,
    );
    const fromData = JSON.parse(
      (
        await mlops(
          'validate-data',
          '--data',
          example.drifted,
          '--reference',
          example.train,
          '--target',
          'target',
          '--json',
        )
      ).stdout,
    );
    expect(fromProfile.drift.columns).toEqual(fromData.drift.columns);
    expect(fromProfile.inputs.reference.kind).toBe('profile');
  });
});

describe('mlops schema infer', () => {
  it('writes a contract the data passes, and refuses to overwrite without --force', async () => {
    const out = join(dir, 'contract.json');
    expect(
      (await mlops('schema', 'infer', '--data', example.train, '--target', 'target', '--out', out)).code,
    ).toBe(0);
    const contract = JSON.parse(readFileSync(out, 'utf8'));
    expect(contract.properties['mean radius'].type).toBe('number');
    expect(contract.properties.target).toMatchObject({ type: 'integer', enum: [0, 1] });
    expect((await mlops('validate-data', '--data', example.train, '--contract', out)).code).toBe(0);
    const again = await mlops('schema', 'infer', '--data', example.train, '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);
    expect((await mlops('schema', 'infer', '--data', example.train, '--out', out, '--force')).code).toBe(0);
  });
});

describe('mlops help', () => {
  it('documents every command and flag', async () => {
    const main = await mlops('--help');
    expect(main.code).toBe(0);
    for (const command of ['validate-data', 'profile', 'schema']) {
      expect(main.stdout).toContain(command);
      const help = await mlops(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--json');
    }
    expect((await mlops('validate-data', '--help')).stdout).toMatch(/--fail-on <level>/);
    const unknown = await mlops('validate-dat');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Did you mean "validate-data"?');
  });
});

/**
 * runProfile (src/core/flows/profile.ts), in process, on the example's real data: which files a glob
 * and a shard select (sorted, every N-th from the K-th), that their profiles merge into the whole's,
 * each source's digest, merge versus profile, what is written where, and the mistakes refused before
 * any data is read, in the adapter's own words.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_FLAG_NAMES } from '../../src/cli/commands/profile.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type ProfileNames, type ProfileRequest, runProfile } from '../../src/core/flows/profile.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const NAMES: ProfileNames = PROFILE_FLAG_NAMES;
const ports = { logger: silentLogger };
const run = (request: Partial<ProfileRequest>) => runProfile({ data: [], names: NAMES, ...request }, ports);

/** The example's training data cut into part-1..3.csv (rows in order), written in an unsorted order. */
let dir: string;
let parts: string[];
let trainRows: number;

beforeAll(async () => {
  dir = await temporaryDirectory('flows-profile-');
  const lines = (await readFile(example.train, 'utf8')).trimEnd().split('\n');
  trainRows = lines.length - 1;
  const third = Math.ceil(trainRows / 3);
  parts = [1, 2, 3].map((k) => join(dir, `part-${k}.csv`));
  for (const k of [2, 0, 1])
    await writeFile(
      parts[k],
      `${[lines[0], ...lines.slice(1 + k * third, 1 + (k + 1) * third)].join('\n')}\n`,
    );
});

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('runProfile', () => {
  it('profiles one file with its digest and writes the profile where the request says', async () => {
    const out = join(await temporaryDirectory('flows-profile-out-'), 'profile.json');
    const result = await run({ data: [example.train], out });
    expect(result.out).toBe(out);
    expect(result.profile.rows).toBe(trainRows);
    expect(result.profile.sources).toEqual([
      expect.objectContaining({ path: example.train, rows: trainRows, sha256: await sha256(example.train) }),
    ]);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result.profile)));
  });

  it('writes nothing without an out path', async () => {
    const result = await run({ data: [parts[0]] });
    expect(result.out).toBeUndefined();
    expect(result.profile.sources.map((s) => s.path)).toEqual([parts[0]]);
  });

  it('expands a glob in sorted order and profiles the files as one dataset, each with its digest', async () => {
    const { profile } = await run({ data: [join(dir, 'part-*.csv')] });
    expect(profile.sources.map((s) => s.path)).toEqual(parts);
    expect(profile.sources.map((s) => s.sha256)).toEqual(await Promise.all(parts.map(sha256)));
    expect(profile.rows).toBe(trainRows);
    const whole = (await run({ data: [example.train] })).profile;
    expect(profile.columns.map((c) => [c.name, c.count, c.missing])).toEqual(
      whole.columns.map((c) => [c.name, c.count, c.missing]),
    );
  });

  it('sorts what a glob matches, whatever order it finds them in', async () => {
    // Braces are expanded in the order written: part-3, part-1, part-2 before sorting.
    const { profile } = await run({ data: [join(dir, 'part-{3,1,2}.csv')] });
    expect(profile.sources.map((s) => s.path)).toEqual(parts);
  });

  it('keeps plain paths as given, in the order given, beside globs', async () => {
    const { profile } = await run({ data: [parts[2], join(dir, 'part-[12].csv')] });
    expect(profile.sources.map((s) => s.path)).toEqual([parts[2], parts[0], parts[1]]);
  });

  it('picks every N-th file from the K-th for shard K/N, and the shards merge into the whole', async () => {
    const out = await temporaryDirectory('flows-profile-shards-');
    const glob = join(dir, 'part-*.csv');
    const first = await run({ data: [glob], shard: '1/2', out: join(out, 'p1.json') });
    const second = await run({ data: [glob], shard: '2/2', out: join(out, 'p2.json') });
    expect(first.profile.sources.map((s) => s.path)).toEqual([parts[0], parts[2]]);
    expect(second.profile.sources.map((s) => s.path)).toEqual([parts[1]]);
    expect((await run({ data: [glob], shard: '3/3' })).profile.sources.map((s) => s.path)).toEqual([
      parts[2],
    ]);

    const merged = await run({ merge: [join(out, 'p1.json'), join(out, 'p2.json')], data: [example.test] });
    expect(merged.profile.rows).toBe(trainRows);
    expect(merged.profile.sources.map((s) => s.path)).toEqual([parts[0], parts[2], parts[1]]);
    const whole = (await run({ data: [glob] })).profile;
    expect(merged.profile.columns.map((c) => [c.name, c.count, c.numeric?.min, c.numeric?.max])).toEqual(
      whole.columns.map((c) => [c.name, c.count, c.numeric?.min, c.numeric?.max]),
    );
  });

  it('merges one profile into itself unchanged and writes the merge', async () => {
    const folder = await temporaryDirectory('flows-profile-merge-');
    const single = join(folder, 'single.json');
    const { profile } = await run({ data: [parts[1]], out: single });
    const merged = await run({ merge: [single], out: join(folder, 'merged.json') });
    expect(merged.profile.rows).toBe(profile.rows);
    expect(JSON.parse(await readFile(join(folder, 'merged.json'), 'utf8')).rows).toBe(profile.rows);
  });

  it('profiles on a second thread with the same columns', async () => {
    const never = await run({ data: [example.train], parallel: 'never' });
    const always = await run({ data: [example.train], parallel: 'always' });
    expect(always.profile.columns).toEqual(never.profile.columns);
  });

  it.each([
    [{ data: [] }, 'mlops profile: --data is required (a file or a glob such as "data/part-*.csv").'],
    [
      { merge: [] },
      'mlops profile merge: give the profile files to merge, e.g. `mlops profile merge p1.json p2.json --out profile.json`.',
    ],
    [
      { data: ['/nonexistent-folder/part-*.csv'] },
      'mlops profile: no file matches "/nonexistent-folder/part-*.csv".',
    ],
    [{ shard: '3/2' }, 'mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "3/2".'],
    [{ shard: '0/2' }, 'mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "0/2".'],
    [{ shard: '1/0' }, 'mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "1/0".'],
    [{ shard: 'two' }, 'mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "two".'],
    [
      { shard: '4/4' },
      'mlops profile: shard 4/4 has no files (3 file(s) in all): use at most as many shards as files.',
    ],
    [{ parallel: 'sometimes' }, '--parallel must be one of auto, always, never; got "sometimes".'],
  ] as [Partial<ProfileRequest>, string][])('refuses %o', async (request, message) => {
    const error = await run({ data: [join(dir, 'part-*.csv')], ...request }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(message);
  });

  it('says which file it profiles, and reads it in the format and with the delimiter given', async () => {
    const data = join(await temporaryDirectory('flows-profile-format-'), 'part.data');
    await writeFile(data, 'a;b\n1;x\n2;y\n');
    const messages: string[] = [];
    const logger = { ...silentLogger, info: (message: string) => messages.push(message) };
    const { profile } = await runProfile(
      { data: [data], format: 'csv', delimiter: ';', names: NAMES },
      { logger },
    );
    expect(profile.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(messages).toEqual([`profiling ${data}`]);
  });

  it('reads a plain path as it is: a missing file is named as such, not as a glob matching nothing', async () => {
    const missing = join(dir, 'absent.csv');
    const error = await run({ data: [missing] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^Data file ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
    expect((error as Error).message).not.toMatch(/no file matches/);
  });

  it('takes shards K/N of any size, 1/1 included, and refuses anything else as K/N', async () => {
    const glob = join(dir, 'part-*.csv');
    expect((await run({ data: [glob], shard: '1/1' })).profile.sources.map((s) => s.path)).toEqual(parts);
    expect((await run({ data: [glob], shard: '1/12' })).profile.sources.map((s) => s.path)).toEqual([
      parts[0],
    ]);
    await expect(run({ data: [glob], shard: '10/12' })).rejects.toThrow(
      'mlops profile: shard 10/12 has no files (3 file(s) in all): use at most as many shards as files.',
    );
    for (const shard of ['x1/2', '1/2x', '0/2', '3/2', '1/0']) {
      await expect(run({ data: [glob], shard }), shard).rejects.toThrow(
        `mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "${shard}".`,
      );
    }
  });

  it('refuses an out path that is one of the files read, before writing anything', async () => {
    await expect(run({ data: [join(dir, 'part-*.csv')], shard: '2/2', out: parts[1] })).rejects.toThrow(
      `--out ${parts[1]} is --data ${parts[1]}: writing it would replace that input.`,
    );
    expect((await readFile(parts[1], 'utf8')).startsWith('mean radius,')).toBe(true);
    const folder = await temporaryDirectory('flows-profile-other-');
    const profile = join(folder, 'p.json');
    await run({ data: [parts[0]], out: profile });
    await expect(run({ merge: [profile], out: profile })).rejects.toThrow(
      `--out ${profile} is the profile ${profile}: writing it would replace that input.`,
    );
  });
});

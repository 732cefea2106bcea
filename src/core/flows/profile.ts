/**
 * Profiling as one flow, behind `mlops profile` and `mlops profile merge`: either the profiles the
 * request lists are merged, or the data files are found (globs expanded in sorted order, so every
 * shard of a matrix sees the same list), the shard's share of them picked, each profiled with its
 * digest and the profiles merged into one. The out path is checked against the files read before
 * any is read, and the profile written there. The adapter maps its flags and arguments to the
 * request and prints the result.
 */
import { parseChoice } from '../config/data-options.ts';
import { openTable } from '../data/open-table.ts';
import { PARALLEL_MODES } from '../data/parallel-profile.ts';
import { mergeProfiles } from '../data/profile.ts';
import { profileTable } from '../data/profile-table.ts';
import type { DataProfile } from '../data/profile-types.ts';
import { readProfileFile } from '../data/validate-data.ts';
import { digestFile } from '../digest.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath, writeJsonAtomic } from '../files.ts';
import { glob } from '../glob.ts';
import type { Logger } from '../logger.ts';

/** How the adapter names the command and its flags, for messages (`mlops profile`, `--data`, …). */
export interface ProfileNames {
  /** The command profiling data, e.g. `mlops profile`. */
  command: string;
  /** The command merging profiles, e.g. `mlops profile merge`. */
  merge: string;
  data: string;
  shard: string;
  out: string;
  parallel: string;
}

/**
 * One profiling run: `merge` lists profiles to merge into one; without it, `data` lists the files or
 * globs to profile as one dataset (paths and globs relative to the process's working folder).
 */
export interface ProfileRequest {
  /** Profile files to merge; when set (even empty), nothing is profiled. */
  merge?: string[];
  /** Data files or globs (`data/part-*.csv`); several files are profiled as one dataset. */
  data: string[];
  /** `K/N`: only the K-th, (K+N)-th, … file of the sorted list (1-based). */
  shard?: string;
  /** Where to write the profile JSON; nothing is written without it. */
  out?: string;
  format?: 'csv' | 'jsonl' | 'parquet';
  delimiter?: string;
  /** auto (the default), always or never. */
  parallel?: string;
  names: ProfileNames;
}

export interface ProfileResult {
  profile: DataProfile;
  /** Where the profile was written, when the request named a path. */
  out?: string;
}

/**
 * Profiles (or merges) what the request names. Throws `ConfigurationError`/`InputError` naming the
 * flag for what the user must fix, before any data is read when the request itself is wrong: no
 * data, a glob matching nothing, a bad shard or one with no files, an out path that is an input.
 */
export async function runProfile(request: ProfileRequest, ports: { logger: Logger }): Promise<ProfileResult> {
  const { names } = request;
  let profile: DataProfile;
  if (request.merge !== undefined) {
    const files = request.merge;
    if (files.length === 0)
      throw new ConfigurationError(
        `${names.merge}: give the profile files to merge, e.g. \`${names.merge} p1.json p2.json ${names.out} profile.json\`.`,
      );
    checkOut(request, files, 'the profile');
    profile = mergeProfiles(await Promise.all(files.map((file) => readProfileFile(file))));
  } else {
    const files = selectShard(await expandFiles(request.data, names), request.shard, names);
    checkOut(request, files, names.data);
    const parallel =
      request.parallel === undefined ? 'auto' : parseChoice(request.parallel, PARALLEL_MODES, names.parallel);
    const profiles: DataProfile[] = [];
    for (const file of files) {
      ports.logger.info(`profiling ${file}`);
      const [single, digest] = await Promise.all([
        openTable(file, { format: request.format, delimiter: request.delimiter }).then((reader) =>
          profileTable(reader, {}, parallel),
        ),
        digestFile(file),
      ]);
      single.sources[0].sha256 = digest.sha256;
      profiles.push(single);
    }
    // Stryker disable next-line ConditionalExpression: merging one profile gives it back unchanged (tested); a shortcut
    profile = profiles.length === 1 ? profiles[0] : mergeProfiles(profiles);
  }
  if (request.out === undefined) return { profile };
  await writeJsonAtomic(request.out, profile);
  return { profile, out: request.out };
}

/** Refuses an out path that is one of the files read, a folder or not writable, before reading any. */
function checkOut(request: ProfileRequest, files: string[], label: string): void {
  if (request.out)
    checkOutputPath(
      request.out,
      files.map((path) => ({ label, path })),
      request.names.out,
    );
}

/** Expands globs (sorted, so every shard sees the same order); plain paths are kept as given. */
async function expandFiles(patterns: string[], names: ProfileNames): Promise<string[]> {
  if (patterns.length === 0)
    throw new ConfigurationError(
      `${names.command}: ${names.data} is required (a file or a glob such as "data/part-*.csv").`,
    );
  const files: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[{]/.test(pattern)) {
      files.push(pattern);
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern)) matches.push(match);
    if (matches.length === 0) throw new ConfigurationError(`${names.command}: no file matches "${pattern}".`);
    files.push(...matches.sort());
  }
  return files;
}

/** Picks the files of shard K of N: the K-th, (K+N)-th, … of the list. */
function selectShard(files: string[], shard: string | undefined, names: ProfileNames): string[] {
  if (shard === undefined) return files;
  const match = /^(\d+)\/(\d+)$/.exec(shard);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  // 1 ≤ K ≤ N (so N ≥ 1 too).
  if (!match || k < 1 || k > n)
    throw new ConfigurationError(
      `${names.command}: ${names.shard} must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "${shard}".`,
    );
  const selected = files.filter((_, index) => index % n === k - 1);
  if (selected.length === 0) {
    throw new ConfigurationError(
      `${names.command}: shard ${shard} has no files (${files.length} file(s) in all): use at most as many shards as files.`,
    );
  }
  return selected;
}

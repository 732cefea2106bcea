import { parseChoice } from '../../core/config/data-options.ts';
import { openTable } from '../../core/data/open-table.ts';
import { PARALLEL_MODES } from '../../core/data/parallel-profile.ts';
import { mergeProfiles } from '../../core/data/profile.ts';
import { profileTable } from '../../core/data/profile-table.ts';
import type { DataProfile } from '../../core/data/profile-types.ts';
import { readProfileFile } from '../../core/data/validate-data.ts';
import { digestFile } from '../../core/digest.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { checkOutputPath, writeJsonAtomic } from '../../core/files.ts';
import { glob } from '../../core/glob.ts';
import { renderProfileTable } from '../../core/report/render-data-report.ts';
import { type Command, EXIT, listFlag, stringFlag } from '../cli.ts';

export const profileCommand: Command = {
  name: 'profile',
  takesArguments: true,
  summary: 'Profile data in one pass (mergeable: profile shards on a matrix, then `mlops profile merge`).',
  usage:
    'mlops profile --data F [--data G …] [--shard K/N] [--out profile.json]  |  mlops profile merge A.json B.json … --out profile.json',
  flags: {
    data: {
      type: 'string',
      value: 'file|glob',
      multiple: true,
      description: 'Data file(s) or glob(s); several files are profiled as one dataset.',
    },
    shard: {
      type: 'string',
      value: 'K/N',
      description:
        'Profile only every N-th file of the sorted list, starting at the K-th (1-based), for matrix jobs.',
    },
    out: { type: 'string', value: 'file', description: 'Write the profile JSON here.' },
    format: { type: 'string', value: 'format', description: 'Force the format: csv, jsonl or parquet.' },
    delimiter: { type: 'string', value: 'char', description: 'CSV delimiter.' },
    parallel: {
      type: 'string',
      value: 'mode',
      description: 'Profile on two threads: auto (CSV files of 32 MB or more, the default), always, never.',
    },
  },
  details:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression shown to the user, not a template.
    'Sharding: run `mlops profile --data "part-*.csv" --shard ${{ matrix.shard }}/4 --out p${{ matrix.shard }}.json` on four jobs,\n' +
    'then `mlops profile merge p*.json --out profile.json`. Counts, moments and histograms merge exactly; quantile and\n' +
    'distinct-count sketches within their stated error bounds.',
  async run(context) {
    let profile: DataProfile;
    const out = stringFlag(context, 'out');
    /** Refuses an --out that is one of the files read, a folder or not writable, before reading any. */
    const checkOut = (files: string[], label: string) => {
      if (out)
        checkOutputPath(
          out,
          files.map((path) => ({ label, path })),
          '--out',
        );
    };
    if (context.positionals[0] === 'merge') {
      const files = context.positionals.slice(1);
      if (files.length === 0)
        throw new ConfigurationError(
          'mlops profile merge: give the profile files to merge, e.g. `mlops profile merge p1.json p2.json --out profile.json`.',
        );
      checkOut(files, 'the profile');
      profile = mergeProfiles(await Promise.all(files.map((file) => readProfileFile(file))));
    } else {
      if (context.positionals.length > 0) {
        throw new ConfigurationError(
          `mlops profile: unexpected argument "${context.positionals[0]}". Use --data for data files, or \`mlops profile merge\`.`,
        );
      }
      const files = selectShard(await expandFiles(listFlag(context, 'data')), stringFlag(context, 'shard'));
      checkOut(files, '--data');
      const format = stringFlag(context, 'format') as 'csv' | 'jsonl' | 'parquet' | undefined;
      const mode = stringFlag(context, 'parallel');
      const parallel = mode === undefined ? 'auto' : parseChoice(mode, PARALLEL_MODES, '--parallel');
      const profiles: DataProfile[] = [];
      for (const file of files) {
        context.logger.info(`profiling ${file}`);
        const [single, digest] = await Promise.all([
          openTable(file, { format, delimiter: stringFlag(context, 'delimiter') }).then((reader) =>
            profileTable(reader, {}, parallel),
          ),
          digestFile(file),
        ]);
        single.sources[0].sha256 = digest.sha256;
        profiles.push(single);
      }
      profile = profiles.length === 1 ? profiles[0] : mergeProfiles(profiles);
    }
    if (out) await writeJsonAtomic(out, profile);
    context.print(
      `${profile.rows} rows, ${profile.columns.length} columns from ${profile.sources.length} file(s)${out ? ` → ${out}` : ''}\n`,
    );
    if (!context.json) context.print(`${renderProfileTable(profile)}\n`);
    context.result(profile);
    return EXIT.passed;
  },
};

/** Expands globs (sorted, so every shard sees the same order); plain paths are kept as given. */
async function expandFiles(patterns: string[]): Promise<string[]> {
  if (patterns.length === 0)
    throw new ConfigurationError(
      'mlops profile: --data is required (a file or a glob such as "data/part-*.csv").',
    );
  const files: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[{]/.test(pattern)) {
      files.push(pattern);
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern)) matches.push(match);
    if (matches.length === 0) throw new ConfigurationError(`mlops profile: no file matches "${pattern}".`);
    files.push(...matches.sort());
  }
  return files;
}

/** Picks the files of shard K of N: the K-th, (K+N)-th, … of the list. */
export function selectShard(files: string[], shard: string | undefined): string[] {
  if (shard === undefined) return files;
  const match = /^(\d+)\/(\d+)$/.exec(shard);
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (!match || n < 1 || k < 1 || k > n)
    throw new ConfigurationError(
      `mlops profile: --shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4; got "${shard}".`,
    );
  const selected = files.filter((_, index) => index % n === k - 1);
  if (selected.length === 0) {
    throw new ConfigurationError(
      `mlops profile: shard ${shard} has no files (${files.length} file(s) in all): use at most as many shards as files.`,
    );
  }
  return selected;
}

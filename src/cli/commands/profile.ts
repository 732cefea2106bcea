import { ConfigurationError } from '../../core/errors.ts';
import type { ProfileNames } from '../../core/flows/profile.ts';
import { type Command, EXIT, listFlag, stringFlag } from '../cli.ts';

/** The flags as the profile flow's messages name them (the flow's test uses them too). */
export const PROFILE_FLAG_NAMES: ProfileNames = {
  command: 'mlops profile',
  merge: 'mlops profile merge',
  data: '--data',
  shard: '--shard',
  out: '--out',
  parallel: '--parallel',
};

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
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runProfile } = await import('../../core/flows/profile.ts');
    const { renderProfileTable } = await import('../../core/report/render-data-report.ts');
    const [subcommand, ...rest] = context.positionals;
    if (subcommand !== undefined && subcommand !== 'merge') {
      throw new ConfigurationError(
        `mlops profile: unexpected argument "${subcommand}". Use --data for data files, or \`mlops profile merge\`.`,
      );
    }
    const out = stringFlag(context, 'out');
    const { profile } = await runProfile(
      {
        ...(subcommand === 'merge' ? { merge: rest } : {}),
        data: listFlag(context, 'data'),
        shard: stringFlag(context, 'shard'),
        out,
        format: stringFlag(context, 'format') as 'csv' | 'jsonl' | 'parquet' | undefined,
        delimiter: stringFlag(context, 'delimiter'),
        parallel: stringFlag(context, 'parallel'),
        names: PROFILE_FLAG_NAMES,
      },
      { logger: context.logger },
    );
    context.print(
      `${profile.rows} rows, ${profile.columns.length} columns from ${profile.sources.length} file(s)${out ? ` → ${out}` : ''}\n`,
    );
    if (!context.json) context.print(`${renderProfileTable(profile)}\n`);
    context.result(profile);
    return EXIT.passed;
  },
};

import type { DeploymentRecord } from '../../core/deploy/history.ts';
import type { HistoryNames } from '../../core/flows/history.ts';
import { type Command, EXIT, requireFlag, stringFlag } from '../cli.ts';

/** The flags as the history flow's messages name them (the flow's test uses them too). */
export const HISTORY_FLAG_NAMES: HistoryNames = {
  command: 'mlops history',
  limit: '--limit',
  tokenEnv: '--token-env',
};

/** `mlops history`: which version each environment ran when, and which pull request brought it. */
export const historyCommand: Command = {
  name: 'history',
  summary: 'Deployment history of an environment, from the environment repository (audit trail).',
  usage:
    'mlops history --env NAME --repo URL|owner/name|PATH [--model NAME] [--base main] [--limit N] [--token-env NAME]',
  flags: {
    env: { type: 'string', value: 'name', description: 'The environment (environments/<name>/).' },
    repo: {
      type: 'string',
      value: 'url',
      description:
        'The environment repository: owner/name on GitHub, an https URL, or a local path or file:// URL.',
    },
    model: { type: 'string', value: 'name', description: "Only this model's deployments." },
    base: {
      type: 'string',
      value: 'branch',
      description: 'The branch deployments are merged into (default main).',
    },
    limit: { type: 'string', value: 'n', description: 'Show at most this many deployments (the newest).' },
    'token-env': {
      type: 'string',
      value: 'name',
      description: 'Environment variable holding the token (default GITHUB_TOKEN; none: anonymous).',
    },
  },
  details:
    'Reads the first-parent history of the base branch: every merge, squash merge or direct commit\n' +
    'that changed environments/<env>/models/<model>.yaml, newest first. Exit code 0 (also when there\n' +
    'are no deployments), 2 for a usage error, a refused token or a missing environment folder.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runHistory } = await import('../../core/flows/history.ts');
    const { environment, records } = await runHistory(
      {
        environment: requireFlag(context, 'env', 'history'),
        repository: requireFlag(context, 'repo', 'history'),
        base: stringFlag(context, 'base'),
        model: stringFlag(context, 'model'),
        limit: stringFlag(context, 'limit'),
        tokenEnv: stringFlag(context, 'token-env'),
        hostEnv: process.env,
        names: HISTORY_FLAG_NAMES,
      },
      { logger: context.logger },
    );
    context.print(
      records.length === 0
        ? `${environment}: no deployments${stringFlag(context, 'model') ? ` of ${stringFlag(context, 'model')}` : ''}.\n`
        : renderTable(records),
    );
    context.result({ environment, records });
    return EXIT.passed;
  },
};

/**
 * The records as aligned columns; a rollback is marked in the last one. Where the environment ran
 * models from modelcars, both digests it was pinned to are shown: the package archive's and the
 * modelcar image's.
 */
function renderTable(records: DeploymentRecord[]): string {
  const digests = records.some((r) => r.modelcar);
  const short = (sha256: string | undefined) => (sha256 ? `sha256:${sha256.slice(0, 12)}` : '-');
  const rows = [
    [
      'DATE',
      'MODEL',
      'VERSION',
      'FROM',
      'PR',
      'COMMIT',
      ...(digests ? ['PACKAGE', 'MODELCAR'] : []),
      'GATES',
      '',
    ],
    ...records.map((r) => [
      r.mergedAt.replace('T', ' ').replace(/:\d\dZ$/, 'Z'),
      r.model,
      r.version,
      r.previousVersion ?? '-',
      r.pullRequest !== undefined ? `#${r.pullRequest}` : '-',
      r.commit.slice(0, 12),
      ...(digests ? [short(r.sha256), short(r.modelcar?.sha256)] : []),
      describeVerdict(r),
      r.rollback ? 'rollback' : '',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** The record's gates in a few words: an override with who decided, unvalidated in capitals. */
function describeVerdict(record: DeploymentRecord): string {
  switch (record.verdict) {
    case 'passed':
      return 'passed';
    case 'unvalidated':
      return 'UNVALIDATED';
    case 'overridden':
      return `OVERRIDDEN (${record.override?.allowedFailed.join('+') ?? '?'} failed; by ${record.override?.by ?? '?'})`;
    default:
      return 'not recorded';
  }
}

import { type Command, EXIT, listFlag, stringFlag } from '../cli.ts';

export const reportCommand: Command = {
  name: 'report',
  takesArguments: true,
  summary: 'Render the pull-request report of gate reports as Markdown, as the report action comments it.',
  usage: 'mlops report [--reports <file|glob>]… [file…] [--title T] [--out comment.md]',
  flags: {
    reports: {
      type: 'string',
      value: 'file|glob',
      multiple: true,
      description:
        'Gate reports (data-validation, model-validation), also as plain arguments; default mlops-reports/*.json.',
    },
    title: {
      type: 'string',
      value: 'text',
      description: 'The report’s title (the action uses the workflow name).',
    },
    out: { type: 'string', value: 'file', description: 'Write the Markdown here instead of printing it.' },
  },
  details:
    'Nothing is sent anywhere: this renders what the report action would post. Exit code 0 whether or not the\n' +
    'gates passed (each gate already exited 1); 2 when a file is missing or is not a gate report.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runReport } = await import('../../core/flows/report.ts');
    // Files after the flags count too: a shell expands `--reports mlops-reports/*.json` into
    // `--reports a.json b.json`, and the second file must not be dropped.
    const patterns = [...listFlag(context, 'reports'), ...context.positionals];
    const { markdown, passed, gates, reports, out } = await runReport({
      ...(patterns.length > 0 ? { reports: patterns } : {}),
      cwd: process.cwd(),
      title: stringFlag(context, 'title') ?? 'mlops report',
      out: stringFlag(context, 'out'),
      names: { out: '--out' },
    });
    if (out) context.print(`report of ${reports.length} gate(s) written to ${out}\n`);
    else if (!context.json) context.print(markdown);
    context.result({ passed, gates, ...(out ? { out } : { markdown }) });
    return EXIT.passed;
  },
};

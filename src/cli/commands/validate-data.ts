import { CONFIG_DEFAULT_HELP } from '../../core/config/find-config.ts';
import { type Command, EXIT, stringFlag } from '../cli.ts';

export const validateDataCommand: Command = {
  name: 'validate-data',
  summary: 'Data gate: contract, duplicates, leakage and drift checks on a dataset.',
  usage:
    'mlops validate-data --data F [--reference F|profile.json] [--contract F] [--train F] [--config mlops.yaml] [--report out.json] [--fail-on error|warning|never]',
  flags: {
    data: {
      type: 'string',
      value: 'file',
      description: 'Data to validate (CSV, TSV, JSONL, Parquet; .gz allowed).',
    },
    reference: { type: 'string', value: 'file', description: 'Reference data or a profile.json, for drift.' },
    contract: {
      type: 'string',
      value: 'file',
      description: 'Data contract (JSON Schema of a row, with x-mlops rules).',
    },
    train: { type: 'string', value: 'file', description: 'Training data, for the train/test leakage check.' },
    config: {
      type: 'string',
      value: 'file',
      description: `mlops.yaml whose data: part sets defaults for these flags${CONFIG_DEFAULT_HELP}`,
    },
    target: { type: 'string', value: 'column', description: 'Label column, left out of drift.' },
    report: {
      type: 'string',
      value: 'file',
      description: 'Write the JSON report (kind data-validation) here.',
    },
    'fail-on': {
      type: 'string',
      value: 'level',
      description: 'Fail on findings of this severity or worse: error (default), warning, never.',
    },
    format: { type: 'string', value: 'format', description: 'Force the format: csv, jsonl or parquet.' },
    delimiter: { type: 'string', value: 'char', description: 'CSV delimiter (one character; \\t for tab).' },
    parallel: {
      type: 'string',
      value: 'mode',
      description:
        'Profile on a second thread: auto (CSV files of 32 MB or more, the default), always, never.',
    },
  },
  details: 'Exit code 0 when the gate passes, 1 when it fails, 2 for a usage or input error.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runDataGate } = await import('../../core/flows/data-gate.ts');
    const { renderDataReportText } = await import('../../core/report/render-data-text.ts');
    const { report, reportPath, outputs } = await runDataGate(
      {
        config: stringFlag(context, 'config'),
        cwd: process.cwd(),
        data: stringFlag(context, 'data'),
        reference: stringFlag(context, 'reference'),
        contract: stringFlag(context, 'contract'),
        train: stringFlag(context, 'train'),
        target: stringFlag(context, 'target'),
        failOn: stringFlag(context, 'fail-on'),
        format: stringFlag(context, 'format'),
        delimiter: stringFlag(context, 'delimiter'),
        parallel: stringFlag(context, 'parallel'),
        report: stringFlag(context, 'report'),
        names: {
          data: '--data',
          failOn: '--fail-on',
          format: '--format',
          report: '--report',
          parallel: '--parallel',
        },
      },
      { logger: context.logger },
    );
    context.print(renderDataReportText(report, reportPath));
    context.result(report);
    return outputs.passed ? EXIT.passed : EXIT.failed;
  },
};

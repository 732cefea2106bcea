import { CONFIG_DEFAULT_HELP } from '../../core/config/find-config.ts';
import { ConfigurationError } from '../../core/errors.ts';
import type { ModelGateNames } from '../../core/flows/model-gate.ts';
import { METRIC_NAMES } from '../../core/model/metric-names.ts';
import { type Command, EXIT, listFlag, stringFlag } from '../cli.ts';

/** Flag names in messages. */
const NAMES: ModelGateNames = {
  model: '--model',
  data: '--data',
  target: '--target',
  gates: '--gate',
  task: '--task',
  missing: '--missing',
  onMissingBaseline: '--on-missing-baseline',
  outputKind: '--output-kind',
  threshold: '--threshold',
  resamples: '--resamples',
  seed: '--seed',
  batchRows: '--batch-rows',
  minRows: '--min-rows',
  format: '--format',
  environmentRepository: '--env-repo',
  deployedModel: '--deployed-model',
  report: '--report',
  outcomes: '--save-outcomes',
  shard: '--shard',
  merge: '`mlops validate-model merge`',
};

export const validateModelCommand: Command = {
  name: 'validate-model',
  takesArguments: true,
  summary: 'Model gate: evaluate an ONNX model on a holdout, compare with a baseline, decide with gates.',
  usage:
    'mlops validate-model --model F [--baseline F|report.json] --data F --target COLUMN [--task binary|multiclass|regression] [--gate "EXPR"]... [--config mlops.yaml] [--golden F] [--report out.json]\n' +
    '       mlops validate-model --model F [--baseline F] --data F --target COLUMN --shard K/N --save-outcomes shard-K.json   (one matrix job)\n' +
    '       mlops validate-model merge shard-1.json … shard-N.json --gate "EXPR"… [--config mlops.yaml] [--report out.json]',
  flags: {
    model: { type: 'string', value: 'file', description: 'The candidate ONNX model.' },
    baseline: {
      type: 'string',
      value: 'file',
      description: 'Baseline: another .onnx model (evaluated on the same rows) or an earlier report.json.',
    },
    data: {
      type: 'string',
      value: 'file',
      description: 'Holdout data (CSV, TSV, JSONL, Parquet; .gz allowed).',
    },
    target: { type: 'string', value: 'column', description: 'The label column.' },
    task: {
      type: 'string',
      value: 'task',
      description: 'binary, multiclass or regression (inferred when unambiguous).',
    },
    gate: {
      type: 'string',
      value: 'expr',
      multiple: true,
      description: 'A gate, e.g. "roc_auc >= 0.95", "f1_macro >= baseline - 0.01", "rmse <= 60 @interval".',
    },
    config: {
      type: 'string',
      value: 'file',
      description: `mlops.yaml whose model: part sets defaults for these flags${CONFIG_DEFAULT_HELP}`,
    },
    contract: {
      type: 'string',
      value: 'file',
      description: 'Data contract: its column order is the default feature order.',
    },
    features: {
      type: 'string',
      value: 'columns',
      multiple: true,
      description: "Feature columns in the model's order (comma-separated or repeated).",
    },
    golden: {
      type: 'string',
      value: 'file',
      description: 'Golden file (inputs + framework outputs) for the parity check.',
    },
    report: {
      type: 'string',
      value: 'file',
      description: 'Write the JSON report (kind model-validation) here.',
    },
    missing: {
      type: 'string',
      value: 'policy',
      description: 'Missing feature values: error (default), nan, drop.',
    },
    'on-missing-baseline': {
      type: 'string',
      value: 'mode',
      description: 'Change gates without a baseline: fail, skip, value-only (default).',
    },
    'output-name': {
      type: 'string',
      value: 'name',
      description: 'The model output to read (else inferred).',
    },
    'output-kind': {
      type: 'string',
      value: 'kind',
      description: 'probabilities, logits or values (else inferred).',
    },
    threshold: {
      type: 'string',
      value: 'p',
      description: 'Binary decision threshold on P(positive) (default 0.5).',
    },
    slice: {
      type: 'string',
      value: 'column',
      multiple: true,
      description: 'Report metrics per value of this column.',
    },
    resamples: {
      type: 'string',
      value: 'n',
      description: 'Bootstrap resamples (default 1000; 0 turns intervals off).',
    },
    seed: { type: 'string', value: 'n', description: 'Bootstrap seed (default 0).' },
    'batch-rows': { type: 'string', value: 'n', description: 'Rows per inference call (default 4096).' },
    'min-rows': { type: 'string', value: 'n', description: 'Smallest holdout that can pass (default 50).' },
    shard: {
      type: 'string',
      value: 'K/N',
      description:
        'Evaluate shard K of N only (rows whose number ≡ K−1 mod N) and save its outcomes; no decision.',
    },
    'save-outcomes': {
      type: 'string',
      value: 'file',
      description:
        "With --shard: where to write the shard's outcomes (default mlops-reports/model-outcomes-K-of-N.json; merge them with `validate-model merge`).",
    },
    'env-repo': {
      type: 'string',
      value: 'url',
      description:
        'With --baseline environment:NAME: the environment repository (default: deploy.repository of the config).',
    },
    'deployed-model': {
      type: 'string',
      value: 'name',
      description:
        "With --baseline environment:NAME: the model's name in the environment repository (token from GITHUB_TOKEN).",
    },
    format: { type: 'string', value: 'format', description: 'Force the data format: csv, jsonl or parquet.' },
    delimiter: { type: 'string', value: 'char', description: 'CSV delimiter (one character; \\t for tab).' },
  },
  details:
    `Metrics: ${METRIC_NAMES.join(', ')}.\n` +
    'Gates: METRIC >= N | METRIC <= N | METRIC >= baseline - N | METRIC <= baseline * F | METRIC >= baseline - N%, optionally followed by @interval (the whole 95% interval must hold).\n' +
    'Exit code 0 when the gate passes, 1 when it fails, 2 for a usage or input error, 3 for an internal error.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runModelGate } = await import('../../core/flows/model-gate.ts');
    const { renderModelReportText } = await import('../../core/report/render-model-text.ts');
    const [subcommand, ...files] = context.positionals;
    if (subcommand !== undefined && subcommand !== 'merge') {
      throw new ConfigurationError(
        `mlops validate-model: unexpected argument "${subcommand}" (the only subcommand is merge). Run \`mlops validate-model --help\`.`,
      );
    }
    const result = await runModelGate(
      {
        config: stringFlag(context, 'config'),
        cwd: process.cwd(),
        hostEnv: process.env,
        names: NAMES,
        // `merge` with no files is still a merge, refused for having nothing to merge.
        merge: subcommand === 'merge' ? files : undefined,
        shard: stringFlag(context, 'shard'),
        outcomes: stringFlag(context, 'save-outcomes'),
        report: stringFlag(context, 'report'),
        model: stringFlag(context, 'model'),
        baseline: stringFlag(context, 'baseline'),
        data: stringFlag(context, 'data'),
        contract: stringFlag(context, 'contract'),
        task: stringFlag(context, 'task'),
        target: stringFlag(context, 'target'),
        features: listFlag(context, 'features')
          .flatMap((f) => f.split(',').map((s) => s.trim()))
          .filter(Boolean),
        gates: listFlag(context, 'gate'),
        golden: stringFlag(context, 'golden'),
        missing: stringFlag(context, 'missing'),
        onMissingBaseline: stringFlag(context, 'on-missing-baseline'),
        outputName: stringFlag(context, 'output-name'),
        outputKind: stringFlag(context, 'output-kind'),
        threshold: stringFlag(context, 'threshold'),
        resamples: stringFlag(context, 'resamples'),
        seed: stringFlag(context, 'seed'),
        batchRows: stringFlag(context, 'batch-rows'),
        minRows: stringFlag(context, 'min-rows'),
        slices: listFlag(context, 'slice'),
        format: stringFlag(context, 'format'),
        delimiter: stringFlag(context, 'delimiter'),
        environmentRepository: stringFlag(context, 'env-repo'),
        deployedModel: stringFlag(context, 'deployed-model'),
        token: process.env.GITHUB_TOKEN || undefined,
      },
      { logger: context.logger },
    );
    if (result.mode === 'shard') {
      const { shard, rows, outcomes } = result;
      context.print(
        `Shard ${shard.index}/${shard.count}: ${rows} rows evaluated; outcomes written to ${outcomes}. ` +
          'Merge all shards with `mlops validate-model merge <files> --gate …`.\n',
      );
      context.result({ shard, rows, outcomes });
      return EXIT.passed;
    }
    context.print(renderModelReportText(result.report, result.reportPath));
    context.result(result.report);
    return result.outputs.passed ? EXIT.passed : EXIT.failed;
  },
};

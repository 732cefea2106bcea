import { CONFIG_DEFAULT_HELP, findConfig } from '../../core/config/find-config.ts';
import {
  type ModelGateRequest,
  type ModelRequestNames,
  resolveDecideOptions,
  resolveModelOptions,
} from '../../core/config/model-options.ts';
import { githubUrls } from '../../core/deploy/transport.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { writeJsonAtomic } from '../../core/files.ts';
import { METRIC_NAMES } from '../../core/model/metric-names.ts';
import { mergeShardFiles, parseShard, writeShardFile } from '../../core/model/shards.ts';
import {
  decideModelGate,
  evaluateModelGate,
  type ModelValidationReport,
  validateModel,
} from '../../core/model/validate-model.ts';
import { renderModelReportText } from '../../core/report/render-model-text.ts';
import { type Command, EXIT, listFlag, stringFlag } from '../cli.ts';

/** Flag names in messages. */
const NAMES: ModelRequestNames = {
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
        "With --shard: where to write the shard's outcomes (merge them with `validate-model merge`).",
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
    const config = stringFlag(context, 'config') ?? findConfig(process.cwd());
    const loaded = config
      ? await (await import('../../core/config/config.ts')).loadConfig(config)
      : undefined;
    const request: ModelGateRequest = {
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
      github: githubUrls(process.env),
      hostEnv: process.env,
      report: stringFlag(context, 'report'),
      outcomes: stringFlag(context, 'save-outcomes'),
    };
    const reportPath = request.report;
    let report: ModelValidationReport;
    if (context.positionals[0] === 'merge') {
      // One job decides on the outcomes every shard saved.
      const files = context.positionals.slice(1);
      const options = resolveDecideOptions({ ...request, merge: files }, loaded, NAMES);
      report = decideModelGate(await mergeShardFiles(files), options);
    } else {
      if (context.positionals.length > 0) {
        throw new ConfigurationError(
          `mlops validate-model: unexpected argument "${context.positionals[0]}" (the only subcommand is merge). Run \`mlops validate-model --help\`.`,
        );
      }
      const options = resolveModelOptions(request, loaded, NAMES);
      const shardText = stringFlag(context, 'shard');
      const saveOutcomes = stringFlag(context, 'save-outcomes');
      if (shardText || saveOutcomes) {
        if (!shardText || !saveOutcomes) {
          throw new ConfigurationError(
            'mlops validate-model: --shard and --save-outcomes go together (a shard saves its outcomes for the merge).',
          );
        }
        const shard = parseShard(shardText, '--shard');
        const evaluated = await evaluateModelGate({ ...options, shard }, context.logger);
        await writeShardFile(saveOutcomes, evaluated, shard);
        context.print(
          `Shard ${shard.index}/${shard.count}: ${evaluated.data.rows} rows evaluated; outcomes written to ${saveOutcomes}. ` +
            'Merge all shards with `mlops validate-model merge <files> --gate …`.\n',
        );
        context.result({ shard, rows: evaluated.data.rows, outcomes: saveOutcomes });
        return EXIT.passed;
      }
      report = await validateModel(options, context.logger);
    }
    if (reportPath) await writeJsonAtomic(reportPath, report);
    context.print(renderModelReportText(report, reportPath));
    context.result(report);
    return report.passed ? EXIT.passed : EXIT.failed;
  },
};

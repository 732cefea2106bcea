/**
 * The `mlops.yaml` that `mlops init` writes: filled in from the user's data when there is some (paths,
 * target, the task and gates that fit it), otherwise a commented skeleton. Written as text, not through a
 * YAML serializer, so that every key carries the comment that explains it.
 */
import type { ColumnProfile, DataProfile } from '../data/profile-types.ts';
import { yamlScalar } from './templates.ts';

export type InitTask = 'binary' | 'multiclass' | 'regression';

/** What `mlops init` knows about the user's data (paths relative to the config file, with `/`). */
export interface InitDataFacts {
  /** The data the data gate validates and the model gate evaluates on (the holdout). */
  data: string;
  /** The reference for drift and the training data for leakage, when known. */
  train?: string;
  contract: string;
  target: string;
  /** The file the contract was inferred from. */
  inferredFrom: string;
  task?: { task: InitTask; reason: string };
  /** The holdout as init read it: its rows, and for classification its number of classes. */
  holdout?: HoldoutFacts;
}

/** What the gates are sized to. */
export interface HoldoutFacts {
  rows: number;
  classes?: number;
}

/** Largest number of distinct integer labels still read as classes rather than a quantity. */
const MAX_INTEGER_CLASSES = 20;

/**
 * The task a target column suggests, with the reason (for a comment in mlops.yaml), or undefined when
 * the column does not say (empty, or datetimes). Booleans and text are classes (two: binary); integers
 * with at most 20 distinct values are classes, more are a quantity; other numbers are a quantity.
 */
export function inferTask(column: ColumnProfile): { task: InitTask; reason: string } | undefined {
  const distinct = column.distinct.count;
  const classes = (kind: string) =>
    distinct <= 2
      ? { task: 'binary' as const, reason: `${kind} with ${distinct} distinct values` }
      : { task: 'multiclass' as const, reason: `${kind} with ${distinct} distinct values` };
  switch (column.type) {
    case 'boolean':
      return { task: 'binary', reason: 'true/false values' };
    case 'string':
      return classes('text');
    case 'integer':
      return distinct <= MAX_INTEGER_CLASSES
        ? classes('integers')
        : {
            task: 'regression',
            reason: `integers with ${distinct} distinct values (more than ${MAX_INTEGER_CLASSES})`,
          };
    case 'number':
      return { task: 'regression', reason: 'real numbers' };
    default:
      return undefined;
  }
}

/** The profile's column named `target`, if any. */
export function findColumn(profile: DataProfile, name: string): ColumnProfile | undefined {
  return profile.columns.find((column) => column.name === name);
}

/** A gate `mlops init` writes, with the reason it gives in a comment. */
export interface StartingGate {
  expression: string;
  why: string;
}

/** The non-inferiority margin of log-loss, in nats (an absolute change: see startingGates). */
const LOG_LOSS_MARGIN = 0.03;

/** The largest holdout `min-rows` asks for: enough to catch a truncated file, never more than the holdout. */
const MIN_ROWS_CAP = 50;

/**
 * Starting gates for a task, sized to the holdout (see the README's "How the gates decide"):
 * - one absolute gate, only where it is principled: better than a trivial predictor, judged with the
 *   whole 95 % interval (`@interval`), never a guessed number: ROC AUC above 0.5 (binary), balanced
 *   accuracy above chance 1/K (multiclass), R² above 0 (regression: better than predicting the mean);
 * - change gates read as non-inferiority (`@noninferior`): blocked only when the paired interval
 *   shows the candidate worse than the margin, so equally good retrains pass whatever the
 *   holdout's size; the margin of rate-like metrics is at least one holdout row's worth (1/rows,
 *   rounded up to a hundredth, at least 0.01), log-loss's 0.03 nats (absolute: good models have
 *   log-losses near 0, where a relative margin is noise), RMSE's and MAE's 5 %.
 */
export function startingGates(task: InitTask | undefined, holdout?: HoldoutFacts): StartingGate[] {
  const rows = holdout?.rows;
  const margin = rows && rows > 0 ? Math.max(0.01, Math.ceil(100 / rows) / 100) : 0.02;
  const marginWhy =
    rows && rows > 0
      ? `one row of the ${rows}-row holdout moves it by ${formatFraction(1 / rows)}`
      : 'about one row of a 50-row holdout';
  const noninferior =
    'blocked only when the 95 % paired interval shows the candidate worse by more than the margin';
  // An absolute margin: good models have log-losses near 0, where 5 % of the baseline is noise.
  const logLossGate: StartingGate = {
    expression: `log_loss <= baseline + ${LOG_LOSS_MARGIN} @noninferior`,
    why: `${noninferior}: ${LOG_LOSS_MARGIN} nats, about a 3 % lower probability of the true class on average`,
  };
  switch (task) {
    case 'regression':
      return [
        {
          expression: 'r2 >= 0 @interval',
          why: 'better than predicting the mean, with the whole 95 % interval (a model barely better than the mean may fail it: @noninferior then only refuses one shown worse)',
        },
        { expression: 'rmse <= baseline * 1.05 @noninferior', why: `${noninferior} (5 %)` },
        { expression: 'mae <= baseline * 1.05 @noninferior', why: `${noninferior} (5 %)` },
      ];
    case 'multiclass': {
      const classes = holdout?.classes && holdout.classes > 1 ? holdout.classes : undefined;
      const chance = classes ? Math.ceil(10000 / classes) / 10000 : undefined;
      return [
        chance === undefined
          ? {
              expression: 'balanced_accuracy >= 0.5 @interval',
              why: 'above chance with the whole 95 % interval: set it to 1/K for K classes',
            }
          : {
              expression: `balanced_accuracy >= ${chance} @interval`,
              why: `above chance (1/${classes} for ${classes} classes), with the whole 95 % interval`,
            },
        {
          expression: `f1_macro >= baseline - ${margin} @noninferior`,
          why: `${noninferior}; the margin: ${marginWhy}`,
        },
        logLossGate,
      ];
    }
    default:
      return [
        { expression: 'roc_auc >= 0.5 @interval', why: 'better than chance, with the whole 95 % interval' },
        {
          expression: `roc_auc >= baseline - ${margin} @noninferior`,
          why: `${noninferior}; the margin: ${marginWhy}`,
        },
        logLossGate,
      ];
  }
}

/** `min-rows` for a holdout: at most 50, never more than the holdout init read. */
export function startingMinRows(holdout?: HoldoutFacts): number {
  return holdout?.rows && holdout.rows > 0 ? Math.min(MIN_ROWS_CAP, holdout.rows) : MIN_ROWS_CAP;
}

function formatFraction(x: number): string {
  return String(Number(x.toPrecision(2)));
}

const HEADER = `# mlops.yaml: the configuration of the mlops-actions gates, read by the workflows in
# .github/workflows/mlops-*.yml and by the \`mlops\` CLI. Paths are relative to this file; action inputs
# and CLI flags override what is set here. Unknown keys are errors (with a suggestion for typos).
version: 1
`;

/** The text of `mlops.yaml` for the user's data (see {@link InitDataFacts}). */
export function renderConfigFromData(facts: InitDataFacts, modelPath: string): string {
  const reference = facts.train ?? facts.data;
  const lines = [
    HEADER,
    `# The data gate (validate-data). Filled in by \`mlops init\` from ${facts.inferredFrom}.`,
    'data:',
    `  data: ${yamlScalar(facts.data)} # the data to validate, and the holdout the model is evaluated on`,
    `  reference: ${yamlScalar(reference)} # drift is measured against it (or a profile.json from \`mlops profile\`)`,
    facts.train
      ? `  train: ${yamlScalar(facts.train)} # rows of data also found here are train/test leakage`
      : '  # train: data/train.csv # the training data: rows of data also found there are train/test leakage',
    `  contract: ${yamlScalar(facts.contract)} # inferred from ${facts.inferredFrom}: review it, then commit it`,
    `  target: ${yamlScalar(facts.target)} # the label column`,
    '  fail-on: error # error | warning | never (report only)',
    '',
    ...modelSection(modelPath, facts.task, facts.holdout),
    '',
    ...DEPLOY_SECTION,
  ];
  return `${lines.join('\n')}\n`;
}

/** The commented skeleton of `mlops.yaml`, for when init has no data to look at. */
export function renderConfigSkeleton(modelPath: string, target: string | undefined): string {
  const lines = [
    HEADER,
    '# The data gate (validate-data). Replace the paths with your files, or let',
    '# `mlops init --data data/train.csv --target COLUMN --force` fill them in from your data.',
    'data:',
    '  data: data/test.csv # the data to validate, and the holdout the model is evaluated on',
    '  reference: data/train.csv # drift is measured against it (or a profile.json from `mlops profile`)',
    '  train: data/train.csv # rows of data also found here are train/test leakage',
    '  contract: data/contract.json # make it: mlops schema infer --data data/train.csv --out data/contract.json',
    `  target: ${yamlScalar(target ?? 'label')} # the label column${target ? '' : ': set yours'}`,
    '  fail-on: error # error | warning | never (report only)',
    '',
    ...modelSection(modelPath, undefined),
    '',
    ...DEPLOY_SECTION,
  ];
  return `${lines.join('\n')}\n`;
}

function modelSection(
  modelPath: string,
  task: { task: InitTask; reason: string } | undefined,
  holdout?: HoldoutFacts,
): string[] {
  const gates = startingGates(task?.task, holdout);
  const minRows = startingMinRows(holdout);
  return [
    '# The model gate (validate-model). The workflows pass the model and the baseline (what staging runs).',
    'model:',
    `  model: ${yamlScalar(modelPath)} # what your training step writes`,
    task
      ? `  task: ${task.task} # inferred from the target column: ${task.reason}`
      : '  # task: binary # binary | multiclass | regression: inferred from the model when unambiguous',
    '  # Gates sized to the holdout. @interval: the whole 95 % interval must pass (proof); @noninferior:',
    "  # fails only when the interval shows the candidate worse than the margin. Each change gate's report",
    '  # line says the smallest change this holdout can resolve: tighten margins only above it.',
    ...(task
      ? []
      : [
          '  # For a regression model use "r2 >= 0 @interval" and "rmse <= baseline * 1.05 @noninferior" instead.',
        ]),
    '  gates:',
    ...gates.flatMap((gate) => [`    # ${gate.why}`, `    - ${JSON.stringify(gate.expression)}`]),
    '  on-missing-baseline: value-only # fail | skip | value-only: without a baseline, change gates are skipped',
    holdout?.rows
      ? `  min-rows: ${minRows} # a smaller holdout fails (the holdout had ${holdout.rows} rows when init read it)`
      : `  min-rows: ${minRows} # a smaller holdout fails`,
  ];
}

const DEPLOY_SECTION = [
  '# Deployment pull requests (deploy-pr). The workflows pass the repository (variable ENVIRONMENT_REPO).',
  '# deploy:',
  '#   base: main',
  '#   environments:',
  '#     staging:',
  '#       auto-merge: squash # the repository must allow auto-merge',
  '#     production:',
  '#       reviewers: [your-login]',
  '#       labels: [production]',
];

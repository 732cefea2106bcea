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

/**
 * Starting gates for a task: an absolute floor, so that a first run without a baseline still decides
 * something (a run whose only gates compare with a missing baseline would decide nothing), and change
 * gates against the deployed baseline.
 */
export function startingGates(task: InitTask | undefined): string[] {
  switch (task) {
    case 'regression':
      return ['r2 >= 0.5', 'rmse <= baseline * 1.05', 'mae <= baseline * 1.05'];
    case 'multiclass':
      return ['f1_macro >= 0.7', 'f1_macro >= baseline - 0.01', 'log_loss <= baseline * 1.05'];
    default:
      return ['roc_auc >= 0.8', 'roc_auc >= baseline - 0.01', 'log_loss <= baseline * 1.05'];
  }
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
    ...modelSection(modelPath, facts.task),
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

function modelSection(modelPath: string, task: { task: InitTask; reason: string } | undefined): string[] {
  const gates = startingGates(task?.task);
  return [
    '# The model gate (validate-model). The workflows pass the model and the baseline (what staging runs).',
    'model:',
    `  model: ${yamlScalar(modelPath)} # what your training step writes`,
    task
      ? `  task: ${task.task} # inferred from the target column: ${task.reason}`
      : '  # task: binary # binary | multiclass | regression: inferred from the model when unambiguous',
    '  # Starting points: set them to what your use case needs. `>= baseline - 0.01` compares with the',
    '  # deployed model on the same rows; add @interval to require the whole 95 % interval to pass.',
    ...(task
      ? []
      : ['  # For a regression model use e.g. "r2 >= 0.5" and "rmse <= baseline * 1.05" instead.']),
    '  gates:',
    ...gates.map((gate) => `    - ${JSON.stringify(gate)}`),
    '  on-missing-baseline: value-only # fail | skip | value-only: without a baseline, change gates are skipped',
    '  min-rows: 50 # a smaller holdout fails',
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

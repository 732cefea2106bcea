/**
 * The metrics the model gate knows, named once: which tasks have them and which direction is
 * better. Names are snake_case with scikit-learn's meaning (`sklearn.metrics`); gate
 * expressions, config thresholds and reports all use these names.
 */

export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export type Task = (typeof TASKS)[number];

export type Direction = 'higher' | 'lower';

interface MetricDefinition {
  readonly tasks: readonly Task[];
  /** Which way is better: a `max-decrease` on a `higher` metric guards against it getting worse. */
  readonly direction: Direction;
  readonly description: string;
}

const CLASSIFICATION = ['binary', 'multiclass'] as const;

export const METRICS = {
  accuracy: { tasks: CLASSIFICATION, direction: 'higher', description: 'Share of rows predicted right.' },
  balanced_accuracy: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Mean recall over the classes present in the labels.',
  },
  precision: { tasks: ['binary'], direction: 'higher', description: 'Precision of the positive class.' },
  recall: { tasks: ['binary'], direction: 'higher', description: 'Recall of the positive class.' },
  f1: { tasks: ['binary'], direction: 'higher', description: 'F1 of the positive class.' },
  precision_macro: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Precision per class, unweighted mean over the classes.',
  },
  recall_macro: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Recall per class, unweighted mean over the classes.',
  },
  f1_macro: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'F1 per class, unweighted mean over the classes.',
  },
  precision_weighted: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Precision per class, mean weighted by support.',
  },
  recall_weighted: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Recall per class, mean weighted by support.',
  },
  f1_weighted: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'F1 per class, mean weighted by support.',
  },
  roc_auc: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Area under the ROC curve (multiclass: one-vs-rest, macro mean).',
  },
  roc_auc_weighted: {
    tasks: ['multiclass'],
    direction: 'higher',
    description: 'One-vs-rest ROC AUC, mean weighted by support.',
  },
  average_precision: {
    tasks: CLASSIFICATION,
    direction: 'higher',
    description: 'Area under the precision-recall curve (multiclass: one-vs-rest, macro mean).',
  },
  log_loss: {
    tasks: CLASSIFICATION,
    direction: 'lower',
    description: 'Mean negative log-likelihood of the true class.',
  },
  brier: {
    tasks: ['binary'],
    direction: 'lower',
    description: 'Mean squared error of the positive-class probability.',
  },
  ece: {
    tasks: CLASSIFICATION,
    direction: 'lower',
    description: 'Expected calibration error, 10 equal-width bins (multiclass: top-label confidence).',
  },
  mae: { tasks: ['regression'], direction: 'lower', description: 'Mean absolute error.' },
  mse: { tasks: ['regression'], direction: 'lower', description: 'Mean squared error.' },
  rmse: { tasks: ['regression'], direction: 'lower', description: 'Root mean squared error.' },
  r2: { tasks: ['regression'], direction: 'higher', description: 'Coefficient of determination.' },
  mape: {
    tasks: ['regression'],
    direction: 'lower',
    description: 'Mean absolute percentage error, as a fraction (zero targets: see the report).',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Metric values of one task, by name. A metric that cannot be computed is NaN (see `undefinedReasons`). */
export type MetricValues = Partial<Record<MetricName, number>>;

/** The metric names of a task, in registry order. */
export function metricsOfTask(task: Task): MetricName[] {
  return METRIC_NAMES.filter((name) => (METRICS[name].tasks as readonly Task[]).includes(task));
}

/** True when `name` is a metric the gate knows. */
export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** Whether a higher value of the metric is better (its direction), for renderers. */
export function isHigherBetter(name: MetricName): boolean {
  return METRICS[name].direction === 'higher';
}

/**
 * How a model meets the data: which data columns feed which model input (the signature check),
 * and which output holds the probabilities, logits or values the metrics need (output inference).
 *
 * Feeding (the issue's default mapping, in this order):
 * 1. an explicit `features` list feeds a single 2-D input, or the inputs by name;
 * 2. a single 2-D input whose name is not a data column is fed with every feature column (all
 *    columns but the target, in contract order when a contract is given, else in file order);
 * 3. otherwise each model input is fed by the data column of the same name.
 *
 * Outputs: scikit-learn graphs (`ai.onnx.ml`) name their probability tensor through the
 * classifier or the ZipMap that consumes it (ZipMap's sequence of maps cannot be returned by
 * onnxruntime-node, so its input tensor becomes a graph output of an in-memory copy); torch
 * exports have one float output, read as probabilities or logits by its name or, failing that,
 * by its values on the first batch.
 */
import { ConfigurationError, InputError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';
import type { Task } from './metric-names.ts';
import type { OnnxModelInfo, OnnxNode, OnnxType } from './onnx-inspect.ts';
import type { TargetKind } from './target-kind.ts';

/** Element types the feeder can build tensors of, with onnxruntime's names for them. */
export const FEEDABLE_TYPES = {
  float: 'float32',
  double: 'float64',
  int64: 'int64',
  int32: 'int32',
  string: 'string',
} as const;
export type FeedableType = keyof typeof FEEDABLE_TYPES;

/** How to read the chosen output: already probabilities, logits (softmax/sigmoid applied), or regression values. */
export const OUTPUT_KINDS = ['probabilities', 'logits', 'values'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** Missing feature values: stop with an error naming the cell, feed NaN (trees route it), or skip the row. */
export const MISSING_POLICIES = ['error', 'nan', 'drop'] as const;
export type MissingPolicy = (typeof MISSING_POLICIES)[number];

const CLASSIFIERS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier']);
const REGRESSORS = new Set(['LinearRegressor', 'TreeEnsembleRegressor', 'SVMRegressor']);

export interface ModelIoOptions {
  task?: Task;
  /** What the target's values look like, when the task is not given (see target-kind.ts). */
  targetKind?: TargetKind;
  /** The label column. */
  target: string;
  /** Explicit feature columns, in the model's order. */
  features?: readonly string[];
  /** Column names of the data contract, in its order (the default feature order). */
  contractColumns?: readonly string[];
  /** Which output to read, and how (else inferred). */
  output?: { name?: string; kind?: OutputKind };
  /** Class labels in the order of the probability columns (else from the model, or 0…K−1). */
  classes?: readonly (string | number)[];
  /** Where the options came from, for messages (e.g. `mlops.yaml (model.features)`). */
  sources?: { features?: string; output?: string; classes?: string };
}

/** One model input and the data columns that fill it. */
export interface InputFeed {
  name: string;
  elementType: FeedableType;
  /** Data columns, in the order of the input's last dimension. */
  columns: string[];
  /** 1: shape [batch]; 2: shape [batch, columns.length]. */
  rank: 1 | 2;
}

/** Which output the metrics read, and how. */
export interface OutputReading {
  task: Task;
  /** Name of the tensor to fetch. */
  name: string;
  /** `undefined`: decided from the values of the first batch. */
  kind: OutputKind | undefined;
  /** Columns of the output: K for K-class probabilities or logits, 1 for P(positive) or a value. */
  width: number;
  /** Classification: labels of the probability columns (binary: [negative, positive]). */
  classes: (string | number)[];
  /** Intermediate tensors that must become graph outputs first (ZipMap's input). */
  exposeOutputs: { name: string; elementType: string }[];
  /** How the choice was made, for the report. */
  inferredFrom: string;
}

export interface ModelIoPlan {
  inputs: InputFeed[];
  output: OutputReading;
  /** Every data column the model reads. */
  features: string[];
}

/**
 * Plans how the data feeds the model and how its output is read. Throws `ConfigurationError`
 * naming both sides on a mismatch (e.g. "model expects 30 features, data has 29: missing
 * `mean perimeter`"), and when the output cannot be chosen without help.
 */
export function planModelIo(
  model: OnnxModelInfo,
  dataColumns: readonly string[],
  options: ModelIoOptions,
): ModelIoPlan {
  const inputs = planInputs(model, dataColumns, options);
  const output = planOutput(model, options);
  return { inputs, output, features: [...new Set(inputs.flatMap((input) => input.columns))] };
}

function planInputs(
  model: OnnxModelInfo,
  dataColumns: readonly string[],
  options: ModelIoOptions,
): InputFeed[] {
  const path = model.path;
  if (model.inputs.length === 0) throw new InputError(`${path} has no inputs to feed.`, { file: path });
  const typed = model.inputs.map((input) => ({
    name: input.name,
    ...tensorOf(input.type, path, input.name),
  }));
  const available = new Set(dataColumns);
  const checkColumns = (columns: readonly string[], source: string) => {
    const missing = columns.filter((column) => !available.has(column));
    if (missing.length > 0) {
      throw new ConfigurationError(
        `${source} names column${missing.length === 1 ? '' : 's'} ${missing.map((c) => `\`${c}\``).join(', ')} that the data does not have.` +
          `${didYouMean(missing[0], dataColumns)} Data columns: ${dataColumns.join(', ')}.`,
      );
    }
  };
  if (options.features) checkColumns(options.features, options.sources?.features ?? 'The features list');
  const [only] = typed;
  const matrix =
    typed.length === 1 && only.shape !== null && only.shape.length === 2 && !available.has(only.name);
  if (matrix) {
    const width = only.shape?.[1];
    const features = options.features ? [...options.features] : defaultFeatures(dataColumns, options);
    const absent = features.filter((column) => !available.has(column));
    if ((typeof width === 'number' && width !== features.length) || absent.length > 0) {
      throw featureCountError(model, only.name, width, features, absent, options);
    }
    return [{ name: only.name, elementType: only.elementType, columns: features, rank: 2 }];
  }
  // One input per column, by name.
  const feeds: InputFeed[] = [];
  for (const input of typed) {
    if (!available.has(input.name)) {
      const inputs = typed.map((t) => `\`${t.name}\``).join(', ');
      throw new ConfigurationError(
        `Model ${path} has input${typed.length === 1 ? '' : 's'} ${inputs}; input \`${input.name}\` matches no data column.` +
          `${didYouMean(input.name, dataColumns)} Rename the column or the input, or list the feature columns explicitly ` +
          '(model.features in mlops.yaml) when the model takes one matrix of all features.',
        { file: path },
      );
    }
    const shape = input.shape ?? [null];
    const rank = shape.length;
    if (rank > 2 || (rank === 2 && shape[1] !== 1 && shape[1] !== null && typeof shape[1] === 'number')) {
      throw new ConfigurationError(
        `Model input \`${input.name}\` of ${path} has shape [${shape.join(', ')}]; a per-column input must be [batch] or [batch, 1].`,
        { file: path },
      );
    }
    feeds.push({
      name: input.name,
      elementType: input.elementType,
      columns: [input.name],
      rank: rank === 2 ? 2 : 1,
    });
  }
  if (options.features) {
    const extra = options.features.filter((f) => !feeds.some((feed) => feed.name === f));
    if (extra.length > 0) {
      throw new ConfigurationError(
        `${options.sources?.features ?? 'The features list'} names ${extra.map((c) => `\`${c}\``).join(', ')}, which ${extra.length === 1 ? 'is' : 'are'} not an input of ${path} (inputs: ${typed.map((t) => t.name).join(', ')}).`,
      );
    }
  }
  return feeds;
}

/** All columns but the target, in contract order when there is a contract. */
function defaultFeatures(dataColumns: readonly string[], options: ModelIoOptions): string[] {
  const order = options.contractColumns ?? dataColumns;
  return order.filter((column) => column !== options.target);
}

function featureCountError(
  model: OnnxModelInfo,
  input: string,
  width: number | string | null | undefined,
  features: string[],
  absent: string[],
  options: ModelIoOptions,
): ConfigurationError {
  const origin = options.features
    ? (options.sources?.features ?? 'the features list')
    : options.contractColumns
      ? `the contract's columns but the target \`${options.target}\``
      : `every data column but the target \`${options.target}\``;
  const expects = typeof width === 'number' ? width : features.length;
  const has = features.length - absent.length;
  const missing =
    absent.length > 0 ? `: missing from the data: ${absent.map((c) => `\`${c}\``).join(', ')}` : '';
  return new ConfigurationError(
    `Model ${model.path} expects ${expects} features (input \`${input}\`), the data has ${has} of ${origin}${missing}. ` +
      "List the model's feature columns in order under model.features in mlops.yaml (or --features), or check the target column.",
    { file: model.path },
  );
}

function tensorOf(
  type: OnnxType,
  path: string,
  name: string,
): { elementType: FeedableType; shape: (number | string | null)[] | null } {
  if (type.kind !== 'tensor') {
    throw new ConfigurationError(
      `Model input \`${name}\` of ${path} is a ${type.kind}, not a tensor: it cannot be fed from a table.`,
      {
        file: path,
      },
    );
  }
  if (!Object.hasOwn(FEEDABLE_TYPES, type.elementType)) {
    throw new ConfigurationError(
      `Model input \`${name}\` of ${path} takes ${type.elementType} tensors; tables can feed ${Object.keys(FEEDABLE_TYPES).join(', ')}.`,
      { file: path },
    );
  }
  return { elementType: type.elementType as FeedableType, shape: type.shape };
}

/** The width of a [batch] / [batch, K] tensor, or undefined when K is symbolic or the rank is other. */
function widthOf(type: OnnxType): number | undefined {
  if (type.kind !== 'tensor' || type.shape === null) return undefined;
  if (type.shape.length === 1) return 1;
  if (type.shape.length === 2 && typeof type.shape[1] === 'number') return type.shape[1];
  return undefined;
}

function planOutput(model: OnnxModelInfo, options: ModelIoOptions): OutputReading {
  const path = model.path;
  const byProducer = new Map<string, OnnxNode>();
  for (const node of model.nodes) for (const output of node.outputs) byProducer.set(output, node);
  const regressor = model.nodes.find((n) => n.domain === 'ai.onnx.ml' && REGRESSORS.has(n.opType));
  const zipmap = model.nodes.find((n) => n.domain === 'ai.onnx.ml' && n.opType === 'ZipMap');
  const classifier = model.nodes.find((n) => n.domain === 'ai.onnx.ml' && CLASSIFIERS.has(n.opType));
  const tensorOutputs = model.outputs.filter(
    (o) => o.type.kind === 'tensor' && (o.type.elementType === 'float' || o.type.elementType === 'double'),
  );
  const listed = model.outputs.map((o) => `\`${o.name}\` (${describeType(o.type)})`).join(', ');
  const task = options.task ?? (regressor ? 'regression' : undefined);

  if (options.output?.name) {
    const name = options.output.name;
    const graphOutput = model.outputs.find((o) => o.name === name);
    const producer = byProducer.get(name);
    if (!graphOutput && !producer) {
      throw new ConfigurationError(
        `${options.sources?.output ?? 'The output setting'} names \`${name}\`, which is neither an output nor a tensor of ${path}.` +
          `${didYouMean(
            name,
            model.outputs.map((o) => o.name),
          )} Outputs: ${listed}.`,
        { file: path },
      );
    }
    if (graphOutput && graphOutput.type.kind !== 'tensor') {
      throw new ConfigurationError(
        `Output \`${name}\` of ${path} is a ${describeType(graphOutput.type)}, which ONNX Runtime for Node cannot return; choose a tensor output. Outputs: ${listed}.`,
        { file: path },
      );
    }
    const width = graphOutput ? widthOf(graphOutput.type) : undefined;
    return finishOutput(model, options, task, {
      name,
      width,
      kind: options.output.kind,
      classes: (producer?.opType === 'ZipMap' ? producer : undefined)?.classLabels ?? classifier?.classLabels,
      expose: graphOutput ? [] : [{ name, elementType: 'float' }],
      inferredFrom: `configured (${options.sources?.output ?? 'output'})`,
    });
  }

  if (task === 'regression') {
    const candidates = tensorOutputs.filter((o) => widthOf(o.type) === 1 || widthOf(o.type) === undefined);
    if (candidates.length !== 1) {
      throw new ConfigurationError(
        `Cannot tell which output of ${path} holds the regression values: ${candidates.length === 0 ? 'no float output of shape [batch] or [batch, 1]' : `${candidates.length} candidates`}. Outputs: ${listed}. Set model.output.name in mlops.yaml.`,
        { file: path },
      );
    }
    return finishOutput(model, options, task, {
      name: candidates[0].name,
      width: 1,
      kind: 'values',
      classes: undefined,
      expose: [],
      inferredFrom: regressor ? `the ${regressor.opType} output` : 'the only float output',
    });
  }

  if (zipmap) {
    // scikit-learn's converter: classifier → [Normalizer] → ZipMap. Read ZipMap's input tensor.
    const name = zipmap.inputs[0];
    const exposed = model.outputs.some((o) => o.name === name);
    return finishOutput(model, options, task, {
      name,
      width: zipmap.classLabels?.length,
      kind: options.output?.kind ?? 'probabilities',
      classes: zipmap.classLabels,
      expose: exposed ? [] : [{ name, elementType: 'float' }],
      inferredFrom: `the probability tensor \`${name}\` that feeds ZipMap (whose map output ONNX Runtime for Node cannot return)`,
    });
  }
  if (classifier?.outputs[1]) {
    const name = classifier.outputs[1];
    const graphOutput = model.outputs.find((o) => o.name === name);
    return finishOutput(model, options, task, {
      name,
      width: classifier.classLabels?.length,
      kind: options.output?.kind ?? 'probabilities',
      classes: classifier.classLabels,
      expose: graphOutput ? [] : [{ name, elementType: 'float' }],
      inferredFrom: `the probability output of ${classifier.opType}`,
    });
  }
  if (tensorOutputs.length === 0) {
    throw new ConfigurationError(`${path} has no float tensor output to evaluate. Outputs: ${listed}.`, {
      file: path,
    });
  }
  const chosen =
    tensorOutputs.length === 1
      ? tensorOutputs[0]
      : (tensorOutputs.find((o) => /prob/i.test(o.name)) ?? tensorOutputs.find((o) => /logit/i.test(o.name)));
  if (!chosen) {
    throw new ConfigurationError(
      `${path} has ${tensorOutputs.length} float outputs and none is named like probabilities or logits: ${listed}. Set model.output.name (and model.output.kind) in mlops.yaml.`,
      { file: path },
    );
  }
  const nameKind: OutputKind | undefined = /prob/i.test(chosen.name)
    ? 'probabilities'
    : /logit/i.test(chosen.name)
      ? 'logits'
      : undefined;
  // One float column could be P(positive) or a value: real-valued labels make it a regression.
  const oneColumn = widthOf(chosen.type) === 1;
  if (
    task === undefined &&
    oneColumn &&
    options.targetKind === 'real' &&
    nameKind === undefined &&
    options.output?.kind === undefined
  ) {
    return finishOutput(model, options, 'regression', {
      name: chosen.name,
      width: 1,
      kind: 'values',
      classes: undefined,
      expose: [],
      inferredFrom: `${tensorOutputs.length === 1 ? 'the only float output' : `the output \`${chosen.name}\``}, one column, read as regression values because the target holds real numbers`,
    });
  }
  return finishOutput(model, options, task, {
    name: chosen.name,
    width: widthOf(chosen.type),
    kind: options.output?.kind ?? nameKind,
    classes: undefined,
    expose: [],
    inferredFrom:
      tensorOutputs.length === 1
        ? `the only float output${nameKind ? `, read as ${nameKind} by its name` : ', read by its values'}`
        : `the output named like ${nameKind}`,
  });
}

function finishOutput(
  model: OnnxModelInfo,
  options: ModelIoOptions,
  task: Task | undefined,
  found: {
    name: string;
    width: number | undefined;
    kind: OutputKind | undefined;
    classes: (string | number)[] | undefined;
    expose: { name: string; elementType: string }[];
    inferredFrom: string;
  },
): OutputReading {
  const path = model.path;
  const classes = options.classes ? [...options.classes] : found.classes;
  if (task === 'regression' || found.kind === 'values') {
    if (found.width !== undefined && found.width !== 1) {
      throw new ConfigurationError(
        `Output \`${found.name}\` of ${path} has ${found.width} columns; a regression output must be [batch] or [batch, 1].`,
        { file: path },
      );
    }
    return {
      task: 'regression',
      name: found.name,
      kind: 'values',
      width: 1,
      classes: [],
      exposeOutputs: found.expose,
      inferredFrom: found.inferredFrom,
    };
  }
  const width = found.width ?? classes?.length;
  if (width === undefined) {
    throw new ConfigurationError(
      `The width of output \`${found.name}\` of ${path} is symbolic and the model names no classes: set model.classes in mlops.yaml.`,
      { file: path },
    );
  }
  const k = width === 1 ? 2 : width;
  const resolvedClasses = classes ?? Array.from({ length: k }, (_, i) => i);
  if (resolvedClasses.length !== k) {
    throw new ConfigurationError(
      `Output \`${found.name}\` of ${path} has ${k} classes but ${classes === options.classes ? (options.sources?.classes ?? 'the classes setting') : 'the model'} names ${resolvedClasses.length}: ${resolvedClasses.join(', ')}.`,
      { file: path },
    );
  }
  const inferredTask: Task = k === 2 ? 'binary' : 'multiclass';
  if (task && task !== inferredTask) {
    throw new ConfigurationError(
      `The task is ${task}, but output \`${found.name}\` of ${path} has ${k} classes (${resolvedClasses.join(', ')}), which makes it ${inferredTask}. Fix the task, or choose another output (model.output.name).`,
      { file: path },
    );
  }
  return {
    task: inferredTask,
    name: found.name,
    kind: found.kind,
    width,
    classes: resolvedClasses,
    exposeOutputs: found.expose,
    inferredFrom: found.inferredFrom,
  };
}

/** Types in messages: `float [batch, 30]`, `sequence of map(int64 → float)`. */
export function describeType(type: OnnxType): string {
  switch (type.kind) {
    case 'tensor':
      return `${type.elementType} [${(type.shape ?? ['?']).map((d) => d ?? '?').join(', ')}]`;
    case 'sequence':
      return `sequence of ${describeType(type.element)}`;
    case 'map':
      return `map(${type.key} → ${describeType(type.value)})`;
    case 'optional':
      return `optional ${describeType(type.element)}`;
    default:
      return type.kind;
  }
}

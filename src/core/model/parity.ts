import { InputError } from '../errors.ts';
import { readJsonFile } from '../json/file.ts';
import type { OnnxModelInfo } from './onnx-inspect.ts';
import { loadOnnxRuntime, type OrtSession } from './onnx-session.ts';

export const GOLDEN_FORMAT = 'mlops-golden';

interface GoldenTensor {
  shape: number[];
  data: number[];
}

export interface GoldenFile {
  format: typeof GOLDEN_FORMAT;
  version: 1;
  inputs: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor>;
}

export interface ParityReport {
  golden: string;
  atol: number;
  rtol: number;
  rows: number;
  passed: boolean;
  /** Largest |actual − expected| over all outputs. */
  maxAbsDiff: number;
  /** Values outside the tolerance. */
  mismatches: number;
  /** The worst rows: largest excess over the tolerance first. */
  worst: { output: string; row: number; index: number; expected: number; actual: number; absDiff: number }[];
}

/** Reads and checks a golden file against the model's inputs and outputs. */
export async function loadGoldenFile(path: string, model: OnnxModelInfo): Promise<GoldenFile> {
  const json = await readJsonFile(path, 'Golden file');
  const fail = (why: string) =>
    new InputError(
      `Golden file ${path}: ${why}. Expected {"format": "${GOLDEN_FORMAT}", "version": 1, "inputs": {name: {shape, data}}, "outputs": {name: {shape, data}}}.`,
      { file: path },
    );
  const golden = json as GoldenFile;
  if (
    golden === null ||
    typeof golden !== 'object' ||
    golden.format !== GOLDEN_FORMAT ||
    golden.version !== 1
  ) {
    throw fail('it is not a golden file of this format and version');
  }
  for (const part of ['inputs', 'outputs'] as const) {
    if (golden[part] === null || typeof golden[part] !== 'object') throw fail(`"${part}" is missing`);
    for (const [name, tensor] of Object.entries(golden[part])) {
      const size = Array.isArray(tensor?.shape) ? tensor.shape.reduce((a, b) => a * b, 1) : Number.NaN;
      if (!Array.isArray(tensor?.data) || size !== tensor.data.length) {
        throw fail(`${part}.${name} has ${tensor?.data?.length ?? 'no'} values for shape [${tensor?.shape}]`);
      }
    }
  }
  const modelInputs = model.inputs.map((i) => i.name);
  for (const name of modelInputs) {
    if (!golden.inputs[name])
      throw fail(`it has no input "${name}" (the model's inputs: ${modelInputs.join(', ')})`);
  }
  for (const name of Object.keys(golden.outputs)) {
    if (!model.outputs.some((o) => o.name === name)) {
      throw fail(
        `output "${name}" is not an output of ${model.path} (outputs: ${model.outputs.map((o) => o.name).join(', ')})`,
      );
    }
  }
  return golden;
}

const TYPED: Readonly<Record<string, 'float32' | 'float64' | 'int64' | 'int32'>> = {
  float: 'float32',
  double: 'float64',
  int64: 'int64',
  int32: 'int32',
};

/** Runs the golden inputs and compares every golden output (`|a − e| ≤ atol + rtol·|e|`). */
export async function checkParity(
  session: OrtSession,
  model: OnnxModelInfo,
  golden: GoldenFile,
  options: { path: string; atol: number; rtol: number; worst?: number },
): Promise<ParityReport> {
  const ort = await loadOnnxRuntime();
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const input of model.inputs) {
    const tensor = golden.inputs[input.name];
    const elementType = input.type.kind === 'tensor' ? input.type.elementType : 'float';
    const type = TYPED[elementType] ?? 'float32';
    const data =
      type === 'float32'
        ? Float32Array.from(tensor.data)
        : type === 'float64'
          ? Float64Array.from(tensor.data)
          : type === 'int32'
            ? Int32Array.from(tensor.data)
            : BigInt64Array.from(tensor.data, (v) => BigInt(v));
    feeds[input.name] = new ort.Tensor(type, data, tensor.shape);
  }
  const names = Object.keys(golden.outputs);
  const results = await session.run(feeds, names);
  const rows = Object.values(golden.inputs)[0]?.shape[0] ?? 0;
  const all: ParityReport['worst'] = [];
  let maxAbsDiff = 0;
  let mismatches = 0;
  for (const name of names) {
    const expected = golden.outputs[name];
    const actual = results[name].data as ArrayLike<number | bigint>;
    if (actual.length !== expected.data.length) {
      throw new InputError(
        `Golden file ${options.path}: output "${name}" has ${expected.data.length} values, the model gives ${actual.length}.`,
        { file: options.path },
      );
    }
    const perRow = expected.data.length / Math.max(1, expected.shape[0] ?? 1);
    for (let i = 0; i < expected.data.length; i++) {
      const e = expected.data[i];
      const a = Number(actual[i]);
      const diff = Math.abs(a - e);
      if (diff > maxAbsDiff || Number.isNaN(diff))
        maxAbsDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
      const allowed = options.atol + options.rtol * Math.abs(e);
      if (!(diff <= allowed)) {
        mismatches++;
        all.push({
          output: name,
          row: Math.floor(i / perRow),
          index: i % perRow,
          expected: e,
          actual: a,
          absDiff: diff,
        });
      }
    }
  }
  all.sort((x, y) => y.absDiff - x.absDiff);
  return {
    golden: options.path,
    atol: options.atol,
    rtol: options.rtol,
    rows,
    passed: mismatches === 0,
    maxAbsDiff,
    mismatches,
    worst: all.slice(0, options.worst ?? 5),
  };
}

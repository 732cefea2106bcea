/**
 * The model a server answers for: its name and version (the package's), its tensor inputs and
 * outputs as the Open Inference Protocol describes them, and an inference session behind a small
 * port, so the server runs on onnxruntime-node in use and on anything that computes tensors in
 * tests.
 */
import { InputError } from '../errors.ts';
import { describeType } from '../model/model-io.ts';
import type { OnnxModelInfo, OnnxType } from '../model/onnx-inspect.ts';
import { createOnnxSession, loadOnnxRuntime } from '../model/onnx-session.ts';
import { ONNX_TO_PROTOCOL, type TensorSpec, type TensorValue } from './open-inference.ts';

/** What the server needs of an inference session. */
export interface InferenceSessionPort {
  /** Runs the model on `feeds` and returns the named outputs. */
  run(feeds: Record<string, TensorValue>, outputs: readonly string[]): Promise<Record<string, TensorValue>>;
  /** Frees the session (after the last request). */
  release(): Promise<void>;
}

/** Makes a session for a model file. */
export type SessionFactory = (modelPath: string) => Promise<InferenceSessionPort>;

/** The platform name the protocol gives ONNX models run by ONNX Runtime (inference_rest.md, "Platforms"). */
export const ONNX_PLATFORM = 'onnx_onnxv1';

/** A model being served. */
export interface ServedModel {
  name: string;
  version: string;
  platform: string;
  inputs: TensorSpec[];
  /** Tensor outputs: what `infer` can return. */
  outputs: TensorSpec[];
  /** Outputs that are not tensors (e.g. scikit-learn's ZipMap), which onnxruntime-node cannot return. */
  skippedOutputs: string[];
  /** The metadata's `properties` (strings). */
  properties: Record<string, string>;
  session: InferenceSessionPort;
}

/** The inputs and outputs of a model as protocol tensors. */
export interface ModelTensors {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Non-tensor outputs, with their type, left out of `outputs`. */
  skippedOutputs: { name: string; type: string }[];
}

/**
 * The model's inputs and outputs as protocol tensors (a symbolic or unknown dimension is -1).
 * Throws `InputError` naming the model and the input when an input is not a tensor of a type the
 * protocol carries (a sequence, a map, bfloat16, …): such a model cannot be served over it.
 */
export function describeModelTensors(info: OnnxModelInfo): ModelTensors {
  const spec = (name: string, type: OnnxType): TensorSpec | undefined => {
    if (type.kind !== 'tensor') return undefined;
    const known = ONNX_TO_PROTOCOL[type.elementType];
    if (!known) return undefined;
    return {
      name,
      datatype: known.datatype,
      runtime: known.runtime,
      shape: type.shape === null ? null : type.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
    };
  };
  const inputs = info.inputs.map((input) => {
    const tensor = spec(input.name, input.type);
    if (!tensor) {
      throw new InputError(
        `Model ${info.path}: input "${input.name}" is ${describeType(input.type)}, which the Open Inference Protocol cannot carry (it serves tensors of ${Object.keys(ONNX_TO_PROTOCOL).join(', ')}). Export the model with tensor inputs.`,
        { file: info.path },
      );
    }
    return tensor;
  });
  const outputs: TensorSpec[] = [];
  const skippedOutputs: ModelTensors['skippedOutputs'] = [];
  for (const output of info.outputs) {
    const tensor = spec(output.name, output.type);
    if (tensor) outputs.push(tensor);
    else skippedOutputs.push({ name: output.name, type: describeType(output.type) });
  }
  if (outputs.length === 0) {
    throw new InputError(
      `Model ${info.path} has no tensor output to return (${skippedOutputs.map((o) => `"${o.name}": ${o.type}`).join(', ')}). For scikit-learn classifiers, convert with zipmap=False.`,
      { file: info.path },
    );
  }
  return { inputs, outputs, skippedOutputs };
}

/** Sessions on onnxruntime-node (the CPU provider, as the model gate uses). */
export const onnxRuntimeSessions: SessionFactory = async (modelPath) => {
  const ort = await loadOnnxRuntime();
  const session = await createOnnxSession(modelPath);
  return {
    async run(feeds, outputs) {
      const tensors: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const [name, tensor] of Object.entries(feeds)) {
        tensors[name] = new ort.Tensor(tensor.type as 'float32', tensor.data as Float32Array, tensor.dims);
      }
      return (await session.run(tensors, outputs as string[])) as unknown as Record<string, TensorValue>;
    },
    release: () => session.release(),
  };
};

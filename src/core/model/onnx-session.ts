/**
 * Loads ONNX models into onnxruntime-node. The runtime (a native addon of ~45 MB for linux-x64)
 * is imported lazily, so actions and commands that never run a model do not pay for it.
 */
import { ConfigurationError, InputError } from '../errors.ts';

type OrtModule = typeof import('onnxruntime-node');

export type OrtSession = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

let runtime: Promise<OrtModule> | undefined;

/** The onnxruntime-node module, imported on first use. */
export function loadOnnxRuntime(): Promise<OrtModule> {
  runtime ??= import('onnxruntime-node').catch((error: unknown) => {
    runtime = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    // The npm package's loader (src/cli/onnxruntime.cjs) already says which package to install.
    if ((error as { code?: unknown }).code === 'MLOPS_ORT_PACKAGE')
      throw new ConfigurationError(`${reason}.`);
    throw new ConfigurationError(
      `ONNX Runtime cannot be loaded on this runner (${process.platform}-${process.arch}): ${reason}. ` +
        'Released actions ship ONNX Runtime for Linux x64 and arm64 (glibc) only: use such a runner. ' +
        'The CLI from a clone (npm ci) runs wherever onnxruntime-node does (Linux, macOS arm64, Windows).',
    );
  });
  return runtime;
}

/**
 * Creates an inference session for a model file (or for `bytes`, an in-memory copy of it, named
 * `path` in messages). Load failures become `InputError`s that name the
 * file and say what to change (an unsupported opset or operator, a file that is not a model,
 * missing external data).
 */
export async function createOnnxSession(path: string, bytes?: Uint8Array): Promise<OrtSession> {
  const ort = await loadOnnxRuntime();
  const options = {
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    // Idle pool threads sleep instead of spinning: the evaluation parses the next batch on the
    // main thread while the model runs, and a spinning pool steals that core (measured on 2 cores:
    // 2.10 s → 1.90 s to evaluate 1M rows through a small MLP; no change for 100 trees).
    extra: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' },
  } as const;
  try {
    // From bytes (an edited in-memory copy) or from the file (external data then resolves next to it).
    return bytes
      ? await ort.InferenceSession.create(bytes, options)
      : await ort.InferenceSession.create(path, options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`Model ${path} cannot be loaded by ONNX Runtime: ${explainLoadFailure(reason)}`, {
      file: path,
    });
  }
}

/** Turns ONNX Runtime's load errors into advice. */
export function explainLoadFailure(reason: string): string {
  const first = reason.split('\n')[0];
  if (
    /opset|Opset/.test(reason) &&
    /not supported|Unsupported|is under development|higher than/i.test(reason)
  ) {
    return `${first}. The model uses an opset this ONNX Runtime does not support: export it with a lower opset (e.g. opset_version=17).`;
  }
  if (/Could not find an implementation|No op registered|Unrecognized|not registered/i.test(reason)) {
    return `${first}. An operator of the model is not available in ONNX Runtime's CPU provider: export without custom operators.`;
  }
  if (
    /protobuf parsing failed|Failed to load model|invalid wire type|Load model from .* failed/i.test(reason)
  ) {
    return `${first}. The file is not a valid ONNX model (truncated, a Git LFS pointer, or another format).`;
  }
  if (/external data|External data|cannot open file|No such file/i.test(reason)) {
    return `${first}. The model's external-data files must sit next to it, under the names recorded in the model.`;
  }
  return first;
}

/**
 * The Open Inference Protocol v2 (KServe v2) REST payloads for one ONNX model: tensor metadata,
 * inference requests (checked against the JSON Schema derived from the protocol's OpenAPI
 * description, then against the model: names, datatypes, shapes, values) and inference responses.
 * Pure: no network, no runtime. See https://github.com/kserve/open-inference-protocol
 * (specification/protocol/inference_rest.md) for the payloads.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { OPEN_INFERENCE_SCHEMA_ID } from './derive-schema.ts';
import openInferenceSchema from './open-inference.schema.json' with { type: 'json' };

/** onnxruntime-node's tensor element types that the protocol can carry. */
export type TensorElementType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

/** Tensor data as onnxruntime-node takes and gives it. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[]
  | ArrayLike<number>;

/** A tensor on its way to or from the runtime. */
export interface TensorValue {
  type: string;
  data: TensorValues;
  dims: readonly number[];
}

/**
 * ONNX element types (as onnx-inspect spells them) → the protocol's datatype (inference_rest.md,
 * "Tensor Data Types") and onnxruntime-node's tensor type.
 */
export const ONNX_TO_PROTOCOL: Readonly<Record<string, { datatype: string; runtime: TensorElementType }>> = {
  float: { datatype: 'FP32', runtime: 'float32' },
  double: { datatype: 'FP64', runtime: 'float64' },
  float16: { datatype: 'FP16', runtime: 'float16' },
  int8: { datatype: 'INT8', runtime: 'int8' },
  uint8: { datatype: 'UINT8', runtime: 'uint8' },
  int16: { datatype: 'INT16', runtime: 'int16' },
  uint16: { datatype: 'UINT16', runtime: 'uint16' },
  int32: { datatype: 'INT32', runtime: 'int32' },
  uint32: { datatype: 'UINT32', runtime: 'uint32' },
  int64: { datatype: 'INT64', runtime: 'int64' },
  uint64: { datatype: 'UINT64', runtime: 'uint64' },
  bool: { datatype: 'BOOL', runtime: 'bool' },
  string: { datatype: 'BYTES', runtime: 'string' },
};

const RUNTIME_TO_DATATYPE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(ONNX_TO_PROTOCOL).map((entry) => [entry.runtime, entry.datatype]),
);

/** A model input or output as the server describes it. */
export interface TensorSpec {
  name: string;
  /** The protocol's datatype (FP32, INT64, BYTES, …). */
  datatype: string;
  runtime: TensorElementType;
  /** Dimensions, -1 where variable; `null` when the model does not fix the rank. */
  shape: number[] | null;
}

/** `{name, datatype, shape}` of the protocol's `metadata_tensor` (an unknown rank is `[-1]`). */
export function describeTensor(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return { name: spec.name, datatype: spec.datatype, shape: spec.shape ?? [-1] };
}

/** A request the server answers with an error status and `{"error": message}`. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly status: number;
  /** Close the connection after answering (the body was not read to its end). */
  readonly closeConnection: boolean;
  constructor(status: number, message: string, options: { closeConnection?: boolean } = {}) {
    super(message);
    this.status = status;
    this.closeConnection = options.closeConnection ?? false;
  }
}

/** A parsed, checked inference request: tensors ready for the runtime. */
export interface InferenceRequest {
  id?: string;
  feeds: Record<string, TensorValue>;
  /** The outputs to return, in the order asked (all tensor outputs when the request names none). */
  outputs: string[];
}

/** Deepest JSON nesting a request may have: objects and arrays of the payload, plus the tensors' rank. */
export const MAX_REQUEST_NESTING = 64;

let validators: Map<string, ValidateFunction> | undefined;

/**
 * The validator of one of the protocol's payloads (`inference_request`, `inference_response`,
 * `metadata_model_response`, …), from the schema derived from its OpenAPI description.
 */
export function openInferenceValidator(name: string): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: false, strict: true, logger: false });
    ajv.addSchema(openInferenceSchema);
    validators = new Map();
    for (const key of Object.keys(openInferenceSchema.$defs)) {
      const validate = ajv.getSchema(`${OPEN_INFERENCE_SCHEMA_ID}#/$defs/${key}`);
      if (validate) validators.set(key, validate);
    }
  }
  const validate = validators.get(name);
  if (!validate) throw new RangeError(`The Open Inference Protocol description has no schema "${name}".`);
  return validate;
}

/** An ajv error as a sentence naming the place: `inputs[0].shape[1] must be integer`. */
export function describeSchemaError(error: ErrorObject | undefined, root = 'the request'): string {
  if (!error) return `${root} does not match the protocol`;
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
  return `${where || root} ${error.message}`;
}

/**
 * Parses and checks an `infer` request body for a model with `inputs` and `outputs`. Throws a
 * {@link ProtocolError} (400) that names the field and what the model takes instead.
 */
export function parseInferenceRequest(
  body: string,
  model: {
    name: string;
    inputs: readonly TensorSpec[];
    outputs: readonly TensorSpec[];
    skippedOutputs?: readonly string[];
  },
): InferenceRequest {
  const depth = jsonNesting(body);
  if (depth > MAX_REQUEST_NESTING) {
    throw new ProtocolError(
      400,
      `The request nests arrays or objects ${depth} levels deep; this server reads at most ${MAX_REQUEST_NESTING} (send tensor data flat, row-major).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ProtocolError(400, `The request body is not JSON: ${(error as Error).message}.`);
  }
  const validate = openInferenceValidator('inference_request');
  if (!validate(json)) {
    throw new ProtocolError(
      400,
      `The request is not an Open Inference Protocol inference request: ${describeSchemaError(validate.errors?.[0])}.`,
    );
  }
  const request = json as {
    id?: string;
    parameters?: Record<string, unknown>;
    inputs: { name: string; shape: number[]; datatype: string; data: unknown[]; parameters?: object }[];
    outputs?: { name: string; parameters?: object }[];
  };
  checkParameters(request.parameters, 'parameters');
  const byName = new Map(model.inputs.map((spec) => [spec.name, spec]));
  const feeds: Record<string, TensorValue> = {};
  request.inputs.forEach((input, index) => {
    const where = `inputs[${index}] ("${input.name}")`;
    checkParameters(input.parameters, `${where}.parameters`);
    const spec = byName.get(input.name);
    if (!spec) {
      throw new ProtocolError(
        400,
        `${where}: model "${model.name}" has no input "${input.name}"; its inputs are ${listNames(model.inputs)}.`,
      );
    }
    if (feeds[input.name]) throw new ProtocolError(400, `${where}: input "${input.name}" is given twice.`);
    if (input.datatype !== spec.datatype) {
      throw new ProtocolError(
        400,
        `${where}: datatype ${JSON.stringify(input.datatype)}, but the model's input "${spec.name}" takes ${spec.datatype}.`,
      );
    }
    feeds[input.name] = readTensor(input, spec, where);
  });
  const missing = model.inputs.filter((spec) => !feeds[spec.name]);
  if (missing.length > 0) {
    throw new ProtocolError(
      400,
      `The request has no ${missing.length === 1 ? 'input' : 'inputs'} ${listNames(missing)}: model "${model.name}" needs ${listNames(model.inputs)}.`,
    );
  }
  const outputs: string[] = [];
  for (const [index, output] of (request.outputs ?? []).entries()) {
    const where = `outputs[${index}] ("${output.name}")`;
    checkParameters(output.parameters, `${where}.parameters`);
    if (!model.outputs.some((spec) => spec.name === output.name)) {
      const skipped = model.skippedOutputs?.includes(output.name);
      throw new ProtocolError(
        400,
        skipped
          ? `${where}: output "${output.name}" is not a tensor (e.g. a sequence of maps), which this server cannot return; its tensor outputs are ${listNames(model.outputs)}.`
          : `${where}: model "${model.name}" has no output "${output.name}"; its outputs are ${listNames(model.outputs)}.`,
      );
    }
    if (outputs.includes(output.name))
      throw new ProtocolError(400, `${where}: output "${output.name}" is asked for twice.`);
    outputs.push(output.name);
  }
  return {
    ...(request.id !== undefined ? { id: request.id } : {}),
    feeds,
    outputs: outputs.length > 0 ? outputs : model.outputs.map((spec) => spec.name),
  };
}

/** `parameters` hold strings, numbers and booleans (inference_rest.md, "Parameters"); none are defined. */
function checkParameters(parameters: object | undefined, where: string): void {
  if (parameters === undefined) return;
  for (const [key, value] of Object.entries(parameters)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ProtocolError(400, `${where}.${key} must be a string, a number or a boolean.`);
    }
    if (key === 'binary_data_size' || key === 'binary_data' || key === 'binary_data_output') {
      throw new ProtocolError(
        400,
        `${where}.${key}: the binary tensor data extension is not supported; send tensor data as JSON.`,
      );
    }
  }
}

function listNames(specs: readonly { name: string }[]): string {
  return specs.map((spec) => `"${spec.name}"`).join(', ');
}

/** A request input as a runtime tensor, checked against the model's input. */
function readTensor(
  input: { name: string; shape: number[]; data: unknown[] },
  spec: TensorSpec,
  where: string,
): TensorValue {
  const shape = input.shape;
  const model = spec.shape;
  const fits =
    shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    (model === null || (shape.length === model.length && model.every((d, i) => d === -1 || d === shape[i])));
  if (!fits) {
    const wrong = shape.findIndex((d) => !Number.isSafeInteger(d) || d < 0);
    const detail =
      wrong >= 0
        ? `dimension ${wrong + 1} is ${shape[wrong]}, not a size`
        : model && shape.length !== model.length
          ? `rank ${shape.length}, the model's is ${model.length}`
          : `dimension ${(model ?? []).findIndex((d, i) => d !== -1 && d !== shape[i]) + 1} must be ${(model ?? []).find((d, i) => d !== -1 && d !== shape[i])}`;
    throw new ProtocolError(
      400,
      `${where}: shape [${shape.join(', ')}] does not fit the model's input "${spec.name}" [${(model ?? [-1]).join(', ')}] (${detail}; -1 is any size).`,
    );
  }
  const size = shape.reduce((product, d) => product * d, 1);
  const values = flattenData(input.data, shape, where);
  if (values.length !== size) {
    throw new ProtocolError(
      400,
      `${where}: shape [${shape.join(', ')}] holds ${size} values, but data has ${values.length}.`,
    );
  }
  return { type: spec.runtime, data: convertValues(values, spec, where), dims: shape };
}

/**
 * Tensor data, flat (row-major) or nested as the shape (inference_rest.md, "Tensor Data"), as one
 * flat array. Nested data must follow the shape exactly: a ragged array is refused.
 */
function flattenData(data: unknown[], shape: readonly number[], where: string): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (items: unknown, level: number, path: string): void => {
    if (level === shape.length) {
      if (Array.isArray(items))
        throw new ProtocolError(400, `${where}: ${path} nests deeper than the shape's rank ${shape.length}.`);
      out.push(items);
      return;
    }
    if (!Array.isArray(items) || items.length !== shape[level]) {
      throw new ProtocolError(
        400,
        `${where}: nested data must follow the shape [${shape.join(', ')}]: ${path} ${Array.isArray(items) ? `has ${items.length} items, not ${shape[level]}` : 'is not an array'} (or send the data flat, row-major).`,
      );
    }
    for (let i = 0; i < items.length; i++) walk(items[i], level + 1, `${path}[${i}]`);
  };
  walk(data, 0, 'data');
  return out;
}

/** Integer datatypes: the smallest value and the first value out of range (doubles: 2^63 is exact). */
const INTEGER_RANGES: Readonly<Record<string, [number, number, string]>> = {
  int8: [-128, 128, '127'],
  uint8: [0, 256, '255'],
  int16: [-32768, 32768, '32767'],
  uint16: [0, 65536, '65535'],
  int32: [-2147483648, 2147483648, '2147483647'],
  uint32: [0, 4294967296, '4294967295'],
  int64: [-(2 ** 63), 2 ** 63, '2^63 - 1'],
  uint64: [0, 2 ** 64, '2^64 - 1'],
};

const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** Flat request values as the runtime's typed array; a value of the wrong kind is a 400 naming it. */
function convertValues(values: unknown[], spec: TensorSpec, where: string): TensorValues {
  const bad = (index: number, expected: string): ProtocolError =>
    new ProtocolError(
      400,
      `${where}: data[${index}] is ${JSON.stringify(values[index])?.slice(0, 40) ?? String(values[index])}; ${spec.datatype} takes ${expected}.`,
    );
  const type = spec.runtime;
  const n = values.length;
  if (type === 'float32' || type === 'float64' || type === 'float16') {
    const out = type === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'number') out[i] = v;
      else if (typeof v === 'string' && v in NON_FINITE) out[i] = NON_FINITE[v];
      else throw bad(i, 'numbers (or "NaN", "Infinity", "-Infinity")');
    }
    return type === 'float16' ? toHalfBits(out) : out;
  }
  if (type === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'boolean') throw bad(i, 'true or false');
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  if (type === 'string') {
    for (let i = 0; i < n; i++) if (typeof values[i] !== 'string') throw bad(i, 'strings');
    return values as string[];
  }
  const [min, end, last] = INTEGER_RANGES[type];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v >= end) {
      throw bad(i, `integers from ${min === 0 ? 0 : min === -(2 ** 63) ? '-2^63' : min} to ${last}`);
    }
  }
  switch (type) {
    case 'int64':
      return BigInt64Array.from(values as number[], (v) => BigInt(v));
    case 'uint64':
      return BigUint64Array.from(values as number[], (v) => BigInt(v));
    case 'int8':
      return Int8Array.from(values as number[]);
    case 'uint8':
      return Uint8Array.from(values as number[]);
    case 'int16':
      return Int16Array.from(values as number[]);
    case 'uint16':
      return Uint16Array.from(values as number[]);
    case 'int32':
      return Int32Array.from(values as number[]);
    default:
      return Uint32Array.from(values as number[]);
  }
}

/** IEEE 754 half-precision bits of each value (round to nearest even), as onnxruntime takes float16. */
function toHalfBits(values: Float64Array | Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
      } else {
        mantissa |= 0x800000;
        const shift = 14 - e;
        let half = mantissa >>> shift;
        const rest = mantissa & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && half & 1)) half++;
        out[i] = sign | half;
      }
    } else {
      let half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
      out[i] = sign | half;
    }
  }
  return out;
}

/** The value of IEEE 754 half-precision bits. */
function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The protocol's datatype of a runtime tensor type (`float32` → `FP32`). */
export function datatypeOf(runtimeType: string): string {
  const datatype = RUNTIME_TO_DATATYPE[runtimeType];
  if (!datatype) throw new Error(`No Open Inference Protocol datatype for tensor type ${runtimeType}.`);
  return datatype;
}

/**
 * The JSON text of tensor data, flat and row-major. Numbers are written as JavaScript writes them
 * (float32 values as the shortest decimal of their double), 64-bit integers exactly; NaN and
 * infinities, which JSON numbers cannot hold, as the strings "NaN", "Infinity", "-Infinity" (the
 * protocol allows string elements; the server reads them back the same way).
 */
export function encodeTensorData(tensor: TensorValue): string {
  const data = tensor.data;
  if (tensor.type === 'string') return JSON.stringify(data);
  if (tensor.type === 'bool') {
    const values = data as ArrayLike<number>;
    let text = '[';
    for (let i = 0; i < values.length; i++) text += (i > 0 ? ',' : '') + (values[i] ? 'true' : 'false');
    return `${text}]`;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return `[${data.join(',')}]`;
  const numbers =
    tensor.type === 'float16' && data instanceof Uint16Array
      ? Array.from(data, fromHalfBits)
      : (data as ArrayLike<number> & { join?: (separator: string) => string });
  let finite = true;
  for (let i = 0; i < numbers.length; i++) {
    if (!Number.isFinite(numbers[i])) {
      finite = false;
      break;
    }
  }
  if (finite && typeof numbers.join === 'function') return `[${numbers.join(',')}]`;
  const parts: string[] = new Array(numbers.length);
  for (let i = 0; i < numbers.length; i++) {
    const v = Number(numbers[i]);
    parts[i] = Number.isFinite(v)
      ? String(v)
      : Number.isNaN(v)
        ? '"NaN"'
        : v > 0
          ? '"Infinity"'
          : '"-Infinity"';
  }
  return `[${parts.join(',')}]`;
}

/** The body of a successful `infer` answer (`inference_response`). */
export function encodeInferenceResponse(
  model: { name: string; version: string },
  request: { id?: string; outputs: readonly string[] },
  results: Record<string, TensorValue>,
): string {
  const outputs = request.outputs.map((name) => {
    const tensor = results[name];
    return `{"name":${JSON.stringify(name)},"datatype":"${datatypeOf(tensor.type)}","shape":[${tensor.dims.join(',')}],"data":${encodeTensorData(tensor)}}`;
  });
  return (
    `{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)}` +
    (request.id !== undefined ? `,"id":${JSON.stringify(request.id)}` : '') +
    `,"outputs":[${outputs.join(',')}]}`
  );
}

/**
 * How deeply arrays and objects nest in JSON `text` (strings skipped), in one pass: refused above
 * {@link MAX_REQUEST_NESTING} before parsing, so a body of ten million `[` costs a scan, not a
 * recursion as deep in the checks that follow.
 */
export function jsonNesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) max = depth;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

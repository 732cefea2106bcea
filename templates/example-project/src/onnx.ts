/**
 * Writes a trained logistic regression as an ONNX model (IR version 8, default opset 17) with a
 * tiny protobuf encoder, so training needs no Python and no npm package.
 *
 * The graph, for a float32 input `features` [N, F] (N is the symbolic batch dimension):
 *
 *   features ─Sub(mean)─Div(std)─Gemm(coefficients, intercept)─Sigmoid─▶ p1 [N, 1]
 *   p0 = Sub(1, p1);  probabilities = Concat(p0, p1, axis 1) [N, 2]
 *   label = ArgMax(probabilities, axis 1) [N] int64   (ties → class 1, i.e. p1 ≥ 0.5)
 *
 * The standardization is part of the graph, so whoever serves the model feeds raw measurements.
 * `probabilities` is the only float output and is named like probabilities: the mlops model gate
 * reads it as P(0), P(1) without configuration.
 *
 * Field numbers are those of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto);
 * the wire format is https://protobuf.dev/programming-guides/encoding/.
 */
import type { LogisticRegressionModel } from './logistic-regression.ts';

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const PRODUCER_NAME = 'example-ml-project';
export const PRODUCER_VERSION = '1.0.0';
export const INPUT_NAME = 'features';
export const PROBABILITIES_NAME = 'probabilities';
export const LABEL_NAME = 'label';

/** TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType.INT. */
const ATTRIBUTE_INT = 2;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

const encoder = new TextEncoder();

/** Builds one protobuf message, field by field, in the order the caller writes them. */
export class ProtobufMessage {
  private readonly parts: Uint8Array[] = [];

  /** A varint field (int32, int64, enum): non-negative or negative integers (two's complement, 10 bytes). */
  varint(field: number, value: number | bigint): this {
    this.parts.push(encodeVarint(BigInt(field) * 8n + BigInt(WIRE_VARINT)), encodeVarint(value));
    return this;
  }

  /** A length-delimited field: bytes, a UTF-8 string, or an embedded message. */
  bytes(field: number, value: Uint8Array | string | ProtobufMessage): this {
    const body =
      typeof value === 'string'
        ? encoder.encode(value)
        : value instanceof ProtobufMessage
          ? value.finish()
          : value;
    this.parts.push(
      encodeVarint(BigInt(field) * 8n + BigInt(WIRE_LENGTH_DELIMITED)),
      encodeVarint(body.length),
      body,
    );
    return this;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const length = this.parts.reduce((sum, part) => sum + part.length, 0);
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** Base-128 varint; negative numbers as 64-bit two's complement, as protobuf encodes int64. */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`encodeVarint: ${value} is not a safe integer.`);
  }
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Uint8Array.from(bytes);
}

/** A float32 TensorProto (dims, data_type, name, raw_data little-endian). */
function floatTensor(name: string, dims: readonly number[], values: readonly number[]): ProtobufMessage {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected)
    throw new Error(`Tensor ${name}: ${values.length} values for dims [${dims}].`);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((value, i) => {
    view.setFloat32(i * 4, value, true);
  });
  const tensor = new ProtobufMessage();
  for (const dim of dims) tensor.varint(1, dim);
  return tensor.varint(2, FLOAT).bytes(8, name).bytes(9, raw);
}

/** A NodeProto (input, output, name, op_type, attribute) with integer attributes. */
function node(
  opType: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, number>> = {},
): ProtobufMessage {
  const message = new ProtobufMessage();
  for (const input of inputs) message.bytes(1, input);
  for (const output of outputs) message.bytes(2, output);
  message.bytes(3, name).bytes(4, opType);
  for (const [key, value] of Object.entries(attributes)) {
    message.bytes(5, new ProtobufMessage().bytes(1, key).varint(3, value).varint(20, ATTRIBUTE_INT));
  }
  return message;
}

/** A ValueInfoProto of a tensor; string dimensions are symbolic (dim_param), numbers fixed (dim_value). */
function tensorValueInfo(
  name: string,
  elementType: number,
  shape: readonly (number | string)[],
): ProtobufMessage {
  const shapeProto = new ProtobufMessage();
  for (const dim of shape) {
    shapeProto.bytes(
      1,
      typeof dim === 'number' ? new ProtobufMessage().varint(1, dim) : new ProtobufMessage().bytes(2, dim),
    );
  }
  const tensorType = new ProtobufMessage().varint(1, elementType).bytes(2, shapeProto);
  return new ProtobufMessage().bytes(1, name).bytes(2, new ProtobufMessage().bytes(1, tensorType));
}

/** What to write besides the graph. */
export interface OnnxExportOptions {
  /** ModelProto.doc_string: what the model is and how it was trained (default: a one-line description). */
  docString?: string;
  /** ModelProto.metadata_props, written sorted by key. */
  metadata?: Readonly<Record<string, string>>;
  /** Also output `label` int64 [N] (default true). */
  label?: boolean;
}

/**
 * Encodes `model` as an ONNX ModelProto (see the module comment for the graph). Deterministic:
 * the same model and options give the same bytes.
 */
export function encodeLogisticRegressionOnnx(
  model: LogisticRegressionModel,
  options: OnnxExportOptions = {},
): Uint8Array {
  const f = model.featureNames.length;
  if (model.weights.length !== f || model.statistics.mean.length !== f || model.statistics.std.length !== f) {
    throw new Error(
      `encodeLogisticRegressionOnnx: ${f} feature names, ${model.weights.length} weights, ` +
        `${model.statistics.mean.length} means and ${model.statistics.std.length} standard deviations must agree.`,
    );
  }
  const withLabel = options.label ?? true;
  const graph = new ProtobufMessage();
  const nodes = [
    node('Sub', 'standardize_center', [INPUT_NAME, 'mean'], ['centered']),
    node('Div', 'standardize_scale', ['centered', 'std'], ['standardized']),
    node('Gemm', 'linear', ['standardized', 'coefficients', 'intercept'], ['score']),
    node('Sigmoid', 'sigmoid', ['score'], ['p1']),
    node('Sub', 'complement', ['one', 'p1'], ['p0']),
    node('Concat', 'stack_classes', ['p0', 'p1'], [PROBABILITIES_NAME], { axis: 1 }),
  ];
  if (withLabel) {
    // select_last_index: on a tie (p1 = 0.5) pick class 1, the same as the threshold rule p1 ≥ 0.5.
    nodes.push(
      node('ArgMax', 'decide', [PROBABILITIES_NAME], [LABEL_NAME], {
        axis: 1,
        keepdims: 0,
        select_last_index: 1,
      }),
    );
  }
  for (const n of nodes) graph.bytes(1, n);
  graph.bytes(2, 'logistic_regression');
  const initializers = [
    floatTensor('mean', [f], model.statistics.mean),
    floatTensor('std', [f], model.statistics.std),
    floatTensor('coefficients', [f, 1], model.weights),
    floatTensor('intercept', [1], [model.bias]),
    floatTensor('one', [1], [1]),
  ];
  for (const initializer of initializers) graph.bytes(5, initializer);
  graph.bytes(10, `Inputs, in this order: ${model.featureNames.join(', ')}.`);
  graph.bytes(11, tensorValueInfo(INPUT_NAME, FLOAT, ['N', f]));
  graph.bytes(12, tensorValueInfo(PROBABILITIES_NAME, FLOAT, ['N', 2]));
  if (withLabel) graph.bytes(12, tensorValueInfo(LABEL_NAME, INT64, ['N']));

  // Top-level fields in field-number order, as protobuf serializers (and onnx.save) write them.
  const modelProto = new ProtobufMessage()
    .varint(1, IR_VERSION)
    .bytes(2, PRODUCER_NAME)
    .bytes(3, PRODUCER_VERSION)
    .varint(5, 1);
  modelProto.bytes(
    6,
    options.docString ??
      `Logistic regression on ${f} standardized features; probabilities = [P(0), P(1)], label = the likelier class.`,
  );
  modelProto.bytes(7, graph).bytes(8, new ProtobufMessage().bytes(1, '').varint(2, OPSET_VERSION));
  const metadata = options.metadata ?? {};
  for (const key of Object.keys(metadata).sort()) {
    modelProto.bytes(14, new ProtobufMessage().bytes(1, key).bytes(2, metadata[key]));
  }
  return modelProto.finish();
}

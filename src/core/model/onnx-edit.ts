/**
 * Edits of ONNX models at the protobuf level, leaving every other byte as it was (the graph and
 * the weights are never decoded and re-encoded).
 */
import { InputError } from '../errors.ts';
import { ONNX_ELEMENT_TYPES } from './onnx-inspect.ts';
import {
  concatBytes,
  encodeLengthDelimited,
  encodeVarintField,
  ProtobufError,
  ProtobufReader,
} from './protobuf.ts';

/** ModelProto.graph and GraphProto.output field numbers (onnx.proto). */
const MODEL_GRAPH = 7;
const GRAPH_OUTPUT = 12;

const ELEMENT_CODES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ONNX_ELEMENT_TYPES).map(([code, name]) => [name, Number(code)]),
);

/**
 * A copy of the model with more graph outputs: intermediate tensors (e.g. the probability tensor
 * that feeds scikit-learn's ZipMap, whose sequence-of-maps output onnxruntime-node cannot return)
 * become outputs that a session can fetch. `elementType` uses ONNX's names (`float`, `int64`, …).
 */
export function addGraphOutputs(
  model: Uint8Array,
  outputs: { name: string; elementType: string }[],
  path = 'model',
): Uint8Array {
  const encoded = outputs.map(({ name, elementType }) => {
    const code = ELEMENT_CODES[elementType];
    if (code === undefined) throw new Error(`unknown ONNX element type "${elementType}"`);
    // ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1 } } }
    const tensorType = encodeLengthDelimited(1, encodeVarintField(1, code));
    const valueInfo = concatBytes([
      encodeLengthDelimited(1, new TextEncoder().encode(name)),
      encodeLengthDelimited(2, tensorType),
    ]);
    return encodeLengthDelimited(GRAPH_OUTPUT, valueInfo);
  });
  try {
    const reader = new ProtobufReader(model);
    for (let field = reader.next(); field; field = reader.next()) {
      if (field.number !== MODEL_GRAPH) continue;
      const graph = concatBytes([model.subarray(field.start, field.end), ...encoded]);
      return concatBytes([
        model.subarray(0, field.offset),
        encodeLengthDelimited(MODEL_GRAPH, graph),
        model.subarray(field.end),
      ]);
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw new InputError(`${path} is not an ONNX model (${error.message}).`, { file: path });
  }
  throw new InputError(`${path} is not an ONNX model (it has no graph).`, { file: path });
}

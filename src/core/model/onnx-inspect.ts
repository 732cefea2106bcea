/**
 * Inspects an ONNX model without running it: IR version, opsets (including `ai.onnx.ml`),
 * producer, inputs and outputs with element types and shapes (symbolic dimensions kept),
 * `metadata_props`, initializers with their sizes, and external-data files, which are resolved
 * relative to the model and must exist.
 *
 * Field numbers are those of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { ProtobufError, type ProtobufField, ProtobufReader, toSigned64 } from './protobuf.ts';

/** TensorProto.DataType names, by number, as ONNX spells them (lower case). */
export const ONNX_ELEMENT_TYPES: Readonly<Record<number, string>> = {
  0: 'undefined',
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};

/** Bytes per element, for sizes of weights stored as typed fields rather than raw bytes. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
};

/** A value's type: a tensor, or a sequence/map/optional of types (e.g. ZipMap's output). */
export type OnnxType =
  | { kind: 'tensor'; elementType: string; shape: (number | string | null)[] | null }
  | { kind: 'sequence'; element: OnnxType }
  | { kind: 'map'; key: string; value: OnnxType }
  | { kind: 'optional'; element: OnnxType }
  | { kind: 'sparse_tensor_type' | 'unknown' };

export interface OnnxValueInfo {
  name: string;
  type: OnnxType;
}

export interface OnnxInitializer {
  name: string;
  dataType: string;
  dims: number[];
  /** Bytes of the weights (stored in the model, or in the external file). */
  bytes: number;
  /** `location`, `offset`, `length` … when the weights live in an external file. */
  external: Record<string, string> | null;
}

/** A graph node. Of its attributes only the class labels of `ai.onnx.ml` classifiers are read. */
export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** `classlabels_ints`/`classlabels_int64s`/`classlabels_strings` (classifiers, ZipMap), when present. */
  classLabels?: (number | string)[];
}

export interface OnnxModelInfo {
  path: string;
  /** Size of the .onnx file; with `externalBytes`, what the model weighs on disk. */
  fileBytes: number;
  externalBytes: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  opsets: { domain: string; version: number }[];
  graphName: string;
  /** Graph inputs that are fed by the caller (initializers listed as inputs are left out). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  metadata: Record<string, string>;
  initializers: OnnxInitializer[];
  /** External-data files, resolved next to the model, with their sizes. */
  externalFiles: { location: string; path: string; bytes: number }[];
}

/** The error for a model file that cannot be opened: missing, or unreadable (with the system's code). */
export function modelReadError(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(
    code === 'ENOENT'
      ? `Model ${path} not found. Check the path (relative to the working directory).`
      : `Model ${path} cannot be read (${code}).`,
    { file: path },
  );
}

/**
 * Reads and inspects an ONNX model file. Throws `InputError` naming the file when it is missing,
 * is not an ONNX model, or references external data that is not there.
 */
export async function inspectOnnxModel(path: string): Promise<OnnxModelInfo> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw modelReadError(path, error);
  }
  const info = parseOnnxModel(bytes, path);
  const seen = new Map<string, { location: string; path: string; bytes: number }>();
  for (const initializer of info.initializers) {
    const location = initializer.external?.location;
    if (location === undefined || seen.has(location)) continue;
    const externalPath = resolve(dirname(path), location);
    const size = await stat(externalPath).then(
      (s) => s.size,
      () => {
        throw new InputError(
          `Model ${path} keeps the weights of "${initializer.name}" in the external file "${location}", which is not next to it (${externalPath}). ` +
            'Ship the external-data files with the model (same folder), or save the model with its weights inside.',
          { file: path },
        );
      },
    );
    const needed = Number(initializer.external?.offset ?? 0) + initializer.bytes;
    if (size < needed) {
      throw new InputError(
        `Model ${path}: the external file "${location}" has ${size} bytes, but "${initializer.name}" needs bytes up to ${needed}: the file is truncated or belongs to another model.`,
        { file: path },
      );
    }
    seen.set(location, { location, path: externalPath, bytes: size });
  }
  info.externalFiles = [...seen.values()];
  info.externalBytes = info.externalFiles.reduce((total, file) => total + file.bytes, 0);
  return info;
}

/** Parses the bytes of an ONNX model (`path` is used in messages). External files are not checked. */
export function parseOnnxModel(bytes: Uint8Array, path: string): OnnxModelInfo {
  const info: OnnxModelInfo = {
    path,
    fileBytes: bytes.length,
    externalBytes: 0,
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    modelVersion: 0,
    docString: '',
    opsets: [],
    graphName: '',
    inputs: [],
    outputs: [],
    nodes: [],
    metadata: {},
    initializers: [],
    externalFiles: [],
  };
  let sawGraph = false;
  try {
    const model = new ProtobufReader(bytes);
    for (let field = model.next(); field; field = model.next()) {
      switch (field.number) {
        case 1:
          info.irVersion = field.value;
          break;
        case 2:
          info.producerName = model.string(field);
          break;
        case 3:
          info.producerVersion = model.string(field);
          break;
        case 5:
          info.modelVersion = field.value;
          break;
        case 6:
          info.docString = model.string(field);
          break;
        case 7:
          sawGraph = true;
          readGraph(model.message(field), info);
          break;
        case 8:
          info.opsets.push(readOpset(model.message(field)));
          break;
        case 14: {
          const [key, value] = readEntry(model.message(field));
          info.metadata[key] = value;
          break;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw notOnnx(path, error.message);
  }
  if (!sawGraph || info.irVersion === 0) {
    throw notOnnx(path, sawGraph ? 'it has no IR version' : 'it has no graph');
  }
  const initializerNames = new Set(info.initializers.map((i) => i.name));
  // Before IR 4, initializers were also listed as graph inputs; they are not fed by the caller.
  info.inputs = info.inputs.filter((input) => !initializerNames.has(input.name));
  return info;
}

function notOnnx(path: string, reason: string): InputError {
  return new InputError(
    `${path} is not an ONNX model (${reason}). Export the model to ONNX (torch.onnx.export, skl2onnx, tf2onnx) and point at the .onnx file.`,
    { file: path },
  );
}

function readOpset(reader: ProtobufReader): { domain: string; version: number } {
  const opset = { domain: '', version: 0 };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) opset.domain = reader.string(field);
    else if (field.number === 2) opset.version = field.value;
  }
  return opset;
}

function readEntry(reader: ProtobufReader): [string, string] {
  let key = '';
  let value = '';
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) key = reader.string(field);
    else if (field.number === 2) value = reader.string(field);
  }
  return [key, value];
}

function readGraph(reader: ProtobufReader, info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    switch (field.number) {
      case 1:
        info.nodes.push(readNode(reader.message(field)));
        break;
      case 2:
        info.graphName = reader.string(field);
        break;
      case 5:
        info.initializers.push(readTensor(reader.message(field)));
        break;
      case 11:
        info.inputs.push(readValueInfo(reader.message(field)));
        break;
      case 12:
        info.outputs.push(readValueInfo(reader.message(field)));
        break;
    }
  }
}

function readNode(reader: ProtobufReader): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [] };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) node.inputs.push(reader.string(field));
    else if (field.number === 2) node.outputs.push(reader.string(field));
    else if (field.number === 3) node.name = reader.string(field);
    else if (field.number === 4) node.opType = reader.string(field);
    else if (field.number === 5) {
      const labels = readClassLabels(reader.message(field));
      if (labels) node.classLabels = labels;
    } else if (field.number === 7) node.domain = reader.string(field);
  }
  return node;
}

const CLASS_LABEL_ATTRIBUTES = new Set(['classlabels_ints', 'classlabels_int64s', 'classlabels_strings']);

/** The labels of an AttributeProto named `classlabels_*` (name = 1, ints = 8, strings = 9), else undefined. */
function readClassLabels(reader: ProtobufReader): (number | string)[] | undefined {
  let name = '';
  const ints: number[] = [];
  const strings: string[] = [];
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) name = reader.string(field);
    else if (field.number === 8) {
      if (field.wireType === 2) ints.push(...reader.varints(field).map(toSigned64));
      else ints.push(toSigned64(field.value));
    } else if (field.number === 9) strings.push(reader.string(field));
  }
  if (!CLASS_LABEL_ATTRIBUTES.has(name)) return undefined;
  return name === 'classlabels_strings' ? strings : ints;
}

function readValueInfo(reader: ProtobufReader): OnnxValueInfo {
  let name = '';
  let type: OnnxType = { kind: 'unknown' };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) name = reader.string(field);
    else if (field.number === 2) type = readType(reader.message(field));
  }
  return { name, type };
}

function readType(reader: ProtobufReader): OnnxType {
  let type: OnnxType = { kind: 'unknown' };
  for (let field = reader.next(); field; field = reader.next()) {
    switch (field.number) {
      case 1:
        type = readTensorType(reader.message(field));
        break;
      case 4:
        type = { kind: 'sequence', element: readElementType(reader.message(field), 1) };
        break;
      case 5:
        type = readMapType(reader.message(field));
        break;
      case 8:
        type = { kind: 'sparse_tensor_type' };
        break;
      case 9:
        type = { kind: 'optional', element: readElementType(reader.message(field), 1) };
        break;
    }
  }
  return type;
}

/** The TypeProto held in field `number` of a Sequence or Optional type. */
function readElementType(reader: ProtobufReader, number: number): OnnxType {
  let element: OnnxType = { kind: 'unknown' };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === number) element = readType(reader.message(field));
  }
  return element;
}

function readMapType(reader: ProtobufReader): OnnxType {
  let key = 'undefined';
  let value: OnnxType = { kind: 'unknown' };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) key = elementTypeName(field.value);
    else if (field.number === 2) value = readType(reader.message(field));
  }
  return { kind: 'map', key, value };
}

function readTensorType(reader: ProtobufReader): OnnxType {
  let elementType = 'undefined';
  let shape: (number | string | null)[] | null = null;
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) elementType = elementTypeName(field.value);
    else if (field.number === 2) shape = readShape(reader.message(field));
  }
  return { kind: 'tensor', elementType, shape };
}

function readShape(reader: ProtobufReader): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number !== 1) continue;
    const dimension = reader.message(field);
    let dim: number | string | null = null;
    for (let part = dimension.next(); part; part = dimension.next()) {
      if (part.number === 1) dim = toSigned64(part.value);
      else if (part.number === 2) dim = dimension.string(part);
    }
    dims.push(dim);
  }
  return dims;
}

function readTensor(reader: ProtobufReader): OnnxInitializer {
  const tensor: OnnxInitializer = { name: '', dataType: 'undefined', dims: [], bytes: 0, external: null };
  let dataType = 0;
  let rawBytes = -1;
  let typedCount = 0;
  const external: Record<string, string> = {};
  for (let field: ProtobufField | undefined = reader.next(); field; field = reader.next()) {
    switch (field.number) {
      case 1:
        tensor.dims.push(...reader.varints(field).map(toSigned64));
        break;
      case 2:
        dataType = field.value;
        break;
      case 4: // float_data (packed fixed32)
      case 5: // int32_data (packed varints)
      case 7: // int64_data
      case 10: // double_data
      case 11: // uint64_data
        typedCount +=
          field.wireType === 2 && (field.number === 4 || field.number === 10)
            ? (field.end - field.start) / (field.number === 4 ? 4 : 8)
            : field.wireType === 2
              ? reader.varints(field).length
              : 1;
        break;
      case 8:
        tensor.name = reader.string(field);
        break;
      case 9:
        rawBytes = field.end - field.start;
        break;
      case 13: {
        const [key, value] = readEntry(reader.message(field));
        external[key] = value;
        break;
      }
    }
  }
  tensor.dataType = elementTypeName(dataType);
  const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
  if (Object.keys(external).length > 0) {
    tensor.external = external;
    tensor.bytes =
      external.length !== undefined ? Number(external.length) : elements * (ELEMENT_BYTES[dataType] ?? 0);
  } else {
    tensor.bytes = rawBytes >= 0 ? rawBytes : typedCount * (ELEMENT_BYTES[dataType] ?? 0);
  }
  return tensor;
}

function elementTypeName(code: number): string {
  return ONNX_ELEMENT_TYPES[code] ?? `type ${code}`;
}

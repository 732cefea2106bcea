/**
 * Inspects an ONNX model without running it: IR version, opsets (including `ai.onnx.ml`),
 * producer, inputs and outputs with element types and shapes (symbolic dimensions kept),
 * `metadata_props`, initializers with their sizes, and external-data files, which are resolved
 * relative to the model and must be regular files inside the model's folder.
 *
 * Field numbers are those of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { InputError } from '../errors.ts';
import {
  MAX_NESTING_DEPTH,
  ProtobufError,
  type ProtobufField,
  ProtobufNestingError,
  ProtobufReader,
  toSigned64,
} from './protobuf.ts';

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
  /**
   * Every tensor whose data is in an external file, wherever it is in the model: the graph's
   * initializers, and also sparse initializers, tensors in node attributes (a `Constant`'s value),
   * subgraphs (`If`, `Loop`, `Scan`), functions and training graphs, all of which ONNX Runtime
   * may load.
   */
  externalTensors: OnnxInitializer[];
  /** External-data files: their real paths (inside the model's folder) and sizes. */
  externalFiles: ExternalDataFile[];
}

/** An external-data file of a model. */
export interface ExternalDataFile {
  /** As the model names it, relative to the model's folder. */
  location: string;
  /** The real path (symlinks resolved), inside the model's folder. */
  path: string;
  bytes: number;
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
 * is not an ONNX model, or references external data that is not there, is not a regular file, or
 * lies outside the model's folder (an absolute location, `..`, or a symlink leading out).
 */
export async function inspectOnnxModel(path: string): Promise<OnnxModelInfo> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw modelReadError(path, error);
  }
  const info = parseOnnxModel(bytes, path);
  const files = new Map<string, ExternalDataFile>();
  for (const tensor of info.externalTensors) {
    const location = tensor.external?.location;
    if (location === undefined) continue;
    const offset = readExternalNumber(path, tensor, 'offset') ?? 0;
    readExternalNumber(path, tensor, 'length');
    let file = files.get(location);
    if (file === undefined) {
      file = { location, ...(await resolveExternalFile(path, location, tensor.name)) };
      files.set(location, file);
    }
    const needed = offset + tensor.bytes;
    if (file.bytes < needed) {
      throw new InputError(
        `Model ${path}: the external file "${location}" has ${file.bytes} bytes, but "${tensor.name}" needs bytes up to ${needed}: the file is truncated or belongs to another model.`,
        { file: path },
      );
    }
  }
  info.externalFiles = [...files.values()];
  info.externalBytes = info.externalFiles.reduce((total, file) => total + file.bytes, 0);
  return info;
}

/**
 * The real path and size of an external-data file of the model at `modelPath`. Throws `InputError`
 * (naming the model, the tensor when given, and the location) unless `location` is relative and
 * resolves, symlinks followed, to a regular file inside the model's folder: external data must
 * never bring a file from elsewhere on the machine (`/etc/passwd`, a checkout's `.git/config`) into
 * an evaluation or a package, nor make a read block on a FIFO or a device.
 */
export async function resolveExternalFile(
  modelPath: string,
  location: string,
  tensor?: string,
): Promise<{ path: string; bytes: number }> {
  const refuse = (reason: string): InputError =>
    new InputError(
      `Model ${modelPath}: ${tensor === undefined ? 'the external-data file' : `tensor "${tensor}" keeps its data in the external file`} ${JSON.stringify(location)}, which ${reason}. ` +
        "External-data files must be regular files in the model's folder or below it: save the model with its weights next to it (e.g. onnx.save_model(model, path, save_as_external_data=True, location='weights.bin')) or inside it.",
      { file: modelPath },
    );
  if (location === '' || location.includes('\0')) throw refuse('is not a file name');
  if (isAbsolute(location) || win32.isAbsolute(location)) {
    throw refuse(
      "is an absolute path (ONNX Runtime refuses them too): name the file relative to the model's folder",
    );
  }
  const folder = dirname(modelPath);
  let realFolder: string;
  try {
    realFolder = await realpath(folder);
  } catch (error) {
    throw modelReadError(modelPath, error);
  }
  const given = resolve(folder, location);
  let real: string;
  try {
    real = await realpath(given);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' || code === 'ENOTDIR'
      ? new InputError(
          `Model ${modelPath} keeps the weights of "${tensor ?? '?'}" in the external file "${location}", which is not next to it (${given}). ` +
            'Ship the external-data files with the model (same folder), or save the model with its weights inside.',
          { file: modelPath },
        )
      : refuse(`cannot be read (${code})`);
  }
  const inside = relative(realFolder, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw refuse(
      `leads outside the model's folder ${realFolder}${real === given ? '' : ` (through a symbolic link, to ${real})`}`,
    );
  }
  let stats: Awaited<ReturnType<typeof stat>>;
  try {
    stats = await stat(real);
  } catch (error) {
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  if (!stats.isFile()) throw refuse(`is ${describeFileKind(stats)}, not a regular file`);
  return { path: real, bytes: stats.size };
}

/** What a non-regular file is, for messages. */
function describeFileKind(stats: Awaited<ReturnType<typeof stat>>): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

/** An external-data `offset` or `length` as a number (undefined when absent); anything but digits is refused. */
function readExternalNumber(
  path: string,
  tensor: OnnxInitializer,
  key: 'offset' | 'length',
): number | undefined {
  const text = tensor.external?.[key];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(value)) {
    throw new InputError(
      `Model ${path}: tensor "${tensor.name}" has the external-data ${key} ${JSON.stringify(text)}, which is not a byte count. Save the model again with onnx.`,
      { file: path },
    );
  }
  return value;
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
    externalTensors: [],
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
        case 20: // training_info: TrainingInfoProto { initialization = 1; algorithm = 2 }
          scanGraphs(model.message(field), [1, 2], info);
          break;
        case 25: // functions: FunctionProto { node = 7 }
          scanFunction(model.message(field), info);
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
    if (error instanceof ProtobufNestingError) {
      throw new InputError(
        `Model ${path} nests its messages more than ${MAX_NESTING_DEPTH} levels deep (types or subgraphs inside each other), which no exporter writes and ONNX Runtime cannot load either. Export the model again; if it is yours, flatten the nested types or subgraphs.`,
        { file: path },
      );
    }
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

/** The main graph: its nodes, initializers, inputs and outputs, and every external tensor within. */
function readGraph(reader: ProtobufReader, info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    switch (field.number) {
      case 1:
        info.nodes.push(readNode(reader.message(field), info));
        break;
      case 2:
        info.graphName = reader.string(field);
        break;
      case 5: {
        const tensor = readTensor(reader.message(field));
        info.initializers.push(tensor);
        if (tensor.external) info.externalTensors.push(tensor);
        break;
      }
      case 11:
        info.inputs.push(readValueInfo(reader.message(field)));
        break;
      case 12:
        info.outputs.push(readValueInfo(reader.message(field)));
        break;
      case 15:
        scanSparseTensor(reader.message(field), info);
        break;
    }
  }
}

/** A subgraph (or a training graph): only its external tensors are collected. */
function scanGraph(reader: ProtobufReader, info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) readNode(reader.message(field), info);
    else if (field.number === 5) scanTensor(reader.message(field), info);
    else if (field.number === 15) scanSparseTensor(reader.message(field), info);
  }
}

/** The GraphProto fields `numbers` of a message (TrainingInfoProto). */
function scanGraphs(reader: ProtobufReader, numbers: number[], info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    if (numbers.includes(field.number)) scanGraph(reader.message(field), info);
  }
}

/** A FunctionProto: its nodes' attributes may hold tensors. */
function scanFunction(reader: ProtobufReader, info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 7) readNode(reader.message(field), info);
  }
}

function scanTensor(reader: ProtobufReader, info: OnnxModelInfo): void {
  const tensor = readTensor(reader);
  if (tensor.external) info.externalTensors.push(tensor);
}

/** SparseTensorProto { values = 1; indices = 2 }: both are tensors. */
function scanSparseTensor(reader: ProtobufReader, info: OnnxModelInfo): void {
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1 || field.number === 2) scanTensor(reader.message(field), info);
  }
}

function readNode(reader: ProtobufReader, info: OnnxModelInfo): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [] };
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 1) node.inputs.push(reader.string(field));
    else if (field.number === 2) node.outputs.push(reader.string(field));
    else if (field.number === 3) node.name = reader.string(field);
    else if (field.number === 4) node.opType = reader.string(field);
    else if (field.number === 5) {
      const labels = readAttribute(reader.message(field), info);
      if (labels) node.classLabels = labels;
    } else if (field.number === 7) node.domain = reader.string(field);
  }
  return node;
}

const CLASS_LABEL_ATTRIBUTES = new Set(['classlabels_ints', 'classlabels_int64s', 'classlabels_strings']);

/**
 * An AttributeProto: the labels of one named `classlabels_*` (name = 1, ints = 8, strings = 9),
 * else undefined; external tensors in its tensors (t = 5, tensors = 10, sparse_tensor = 22,
 * sparse_tensors = 23) and subgraphs (g = 6, graphs = 11) are collected on the way.
 */
function readAttribute(reader: ProtobufReader, info: OnnxModelInfo): (number | string)[] | undefined {
  let name = '';
  const ints: number[] = [];
  const strings: string[] = [];
  for (let field = reader.next(); field; field = reader.next()) {
    switch (field.number) {
      case 1:
        name = reader.string(field);
        break;
      case 5:
      case 10:
        scanTensor(reader.message(field), info);
        break;
      case 6:
      case 11:
        scanGraph(reader.message(field), info);
        break;
      case 8:
        if (field.wireType === 2) ints.push(...reader.varints(field).map(toSigned64));
        else ints.push(toSigned64(field.value));
        break;
      case 9:
        strings.push(reader.string(field));
        break;
      case 22:
      case 23:
        scanSparseTensor(reader.message(field), info);
        break;
    }
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

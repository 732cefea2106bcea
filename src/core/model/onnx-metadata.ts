/**
 * Writes `metadata_props` (ModelProto field 14, entries `StringStringEntryProto { key = 1; value = 2 }`)
 * into an ONNX model at the protobuf level: only ModelProto's top-level fields are walked, and every
 * field other than the metadata entries is copied byte for byte in its original order, so the graph
 * and the weights are never decoded and re-encoded (ONNX Runtime loads the same graph, bit for bit).
 *
 * Merging and order (both functions produce the same bytes):
 * - existing entries whose key is not in `entries` are kept, byte for byte, in their original order;
 * - then the given entries, sorted by key (JavaScript string order: UTF-16 code units, not the locale);
 * - this block is written where the first original metadata entry was (later original entries are
 *   dropped from their places); a model without metadata gets it where protobuf serializers (and so
 *   `onnx.save`) put field 14: before the first top-level field numbered above 14 (`training_info`,
 *   `functions`, …), or at the end.
 * Running the edit again with the same entries therefore gives the same bytes.
 *
 * Field numbers are those of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.ts';
import { modelReadError } from './onnx-inspect.ts';
import { concatBytes, encodeLengthDelimited, ProtobufError, ProtobufReader } from './protobuf.ts';

/** ModelProto and StringStringEntryProto field numbers. */
const MODEL_IR_VERSION = 1;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

/** Wire types used here (https://protobuf.dev/programming-guides/encoding/). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Bytes read at a field's offset to decode its header: a key and a length varint, 10 bytes each at most. */
const HEADER_BYTES = 20;
/** The window of the buffered header reader: metadata entries are small and adjacent, so one read covers many. */
const WINDOW_BYTES = 64 * 1024;
/** Chunk size when copying byte ranges (the graph) from the source to the target. */
const COPY_BYTES = 1024 * 1024;

/** A top-level field of ModelProto: where it lies, and what the edit needs to know of it. */
interface TopLevelField {
  number: number;
  wireType: number;
  /** The whole field, key and length included: bytes [offset, end). */
  offset: number;
  end: number;
  /** A varint field's value (`ir_version`). */
  value: number;
  /** A metadata entry's key. */
  key?: string;
}

/** A piece of the output: a byte range [start, end) of the source, or new bytes. */
type Segment = { start: number; end: number } | Uint8Array;

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/**
 * A copy of the model whose `metadata_props` hold `entries` merged over the existing ones: an
 * existing key given in `entries` is replaced, other existing entries are kept; the kept entries
 * come first in their original order, then the given ones sorted by key, all where the first
 * original entry was (or before the first field numbered above 14, or at the end, when the model
 * had none). Every other field is copied byte for byte in its original order: the graph and the
 * weights are never decoded. Deterministic: the same inputs give the same bytes, and setting the
 * same entries again changes nothing. `path` names the model in messages.
 * Throws `InputError` when the bytes are not an ONNX model (or are truncated).
 */
export function setOnnxMetadata(
  model: Uint8Array,
  entries: Readonly<Record<string, string>>,
  path = 'model',
): Uint8Array {
  const segments = planMetadataEdit(readTopLevelFields(model, path), entries, path);
  return concatBytes(
    segments.map((segment) =>
      segment instanceof Uint8Array ? segment : model.subarray(segment.start, segment.end),
    ),
  );
}

/**
 * Streaming version of {@link setOnnxMetadata} for large models (embedded weights can reach the
 * 2 GB protobuf limit): reads `source` and writes `target`, with the same bytes as
 * `setOnnxMetadata(readFile(source), entries)`, without holding the model in memory. Only the
 * headers of ModelProto's top-level fields (and the keys of metadata entries) are read, through a
 * small buffered reader; the other fields, the graph among them, are copied as byte ranges.
 * The target is written atomically (a temporary file in its folder, flushed, then renamed), so
 * `target` may be `source`. External-data files are not touched: the caller copies them next to
 * the target. Throws `InputError` naming `source` when it is missing or is not an ONNX model.
 */
export async function writeOnnxMetadata(
  source: string,
  target: string,
  entries: Readonly<Record<string, string>>,
): Promise<void> {
  const handle = await openModel(source);
  // In the target's folder, so that the rename is atomic (same file system).
  const temporary = join(dirname(target), `.${basename(target)}.${randomUUID().slice(0, 8)}.tmp`);
  try {
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new InputError(`Model ${source} is not a file.`, { file: source });
      const fields = await readTopLevelFieldsFromFile(handle, stats.size, source);
      const segments = planMetadataEdit(fields, entries, source);
      await pipeline(
        generateSegments(handle, segments, source),
        createWriteStream(temporary, { flags: 'wx', flush: true }),
      );
    } finally {
      // Closed before the rename: Windows cannot replace a file that is open (target === source).
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The output as segments: original fields as byte ranges (adjacent ones merged), the metadata block
 * (kept entries as ranges, new entries encoded) at its place. Shared by both functions, so they
 * cannot disagree on the bytes.
 */
function planMetadataEdit(
  fields: TopLevelField[],
  entries: Readonly<Record<string, string>>,
  path: string,
): Segment[] {
  checkModel(fields, path);
  const replaced = new Set(Object.keys(entries));
  const block: Segment[] = [];
  for (const field of fields) {
    if (field.number === MODEL_METADATA_PROPS && !replaced.has(field.key ?? '')) {
      block.push({ start: field.offset, end: field.end });
    }
  }
  // Default sort order compares UTF-16 code units: the same on every machine, unlike localeCompare.
  for (const key of Object.keys(entries).sort()) block.push(encodeEntry(key, entries[key]));

  let at = fields.findIndex((field) => field.number === MODEL_METADATA_PROPS);
  if (at < 0) at = fields.findIndex((field) => field.number > MODEL_METADATA_PROPS);
  if (at < 0) at = fields.length;
  const segments: Segment[] = [];
  for (const [index, field] of fields.entries()) {
    if (index === at) appendSegments(segments, block);
    if (field.number !== MODEL_METADATA_PROPS) {
      appendSegments(segments, [{ start: field.offset, end: field.end }]);
    }
  }
  if (at === fields.length) appendSegments(segments, block);
  return segments;
}

/** Appends segments, merging a byte range that continues the previous one (fewer copies, fewer reads). */
function appendSegments(segments: Segment[], added: Segment[]): void {
  for (const segment of added) {
    const last = segments.at(-1);
    if (
      !(segment instanceof Uint8Array) &&
      last !== undefined &&
      !(last instanceof Uint8Array) &&
      last.end === segment.start
    ) {
      last.end = segment.end;
    } else {
      segments.push(segment instanceof Uint8Array ? segment : { ...segment });
    }
  }
}

/** A metadata_props field: StringStringEntryProto { key = 1; value = 2 }. */
function encodeEntry(key: string, value: string): Uint8Array {
  return encodeLengthDelimited(
    MODEL_METADATA_PROPS,
    concatBytes([
      encodeLengthDelimited(ENTRY_KEY, encoder.encode(key)),
      encodeLengthDelimited(ENTRY_VALUE, encoder.encode(value)),
    ]),
  );
}

/** The same checks as parseOnnxModel: a model has a graph and an IR version. */
function checkModel(fields: TopLevelField[], path: string): void {
  const graph = fields.find((field) => field.number === MODEL_GRAPH);
  if (graph === undefined) throw notOnnx(path, 'it has no graph');
  if (graph.wireType !== LENGTH_DELIMITED) throw notOnnx(path, 'its graph is not a message');
  // Protobuf semantics: the last occurrence of a scalar field wins.
  const irVersion = fields.findLast((field) => field.number === MODEL_IR_VERSION);
  if (irVersion === undefined || irVersion.wireType !== VARINT || irVersion.value === 0) {
    throw notOnnx(path, 'it has no IR version');
  }
}

/** Same wording as onnx-inspect's messages, so the user sees one story whichever step fails. */
function notOnnx(path: string, reason: string): InputError {
  return new InputError(
    `${path} is not an ONNX model (${reason}). Export the model to ONNX (torch.onnx.export, skl2onnx, tf2onnx) and point at the .onnx file.`,
    { file: path },
  );
}

/** ModelProto's top-level fields, from the model's bytes in memory. */
function readTopLevelFields(model: Uint8Array, path: string): TopLevelField[] {
  const fields: TopLevelField[] = [];
  try {
    const reader = new ProtobufReader(model);
    for (let field = reader.next(); field; field = reader.next()) {
      // A varint's end is not reported: each field ends where the next begins (fixed below).
      const topLevel: TopLevelField = {
        number: field.number,
        wireType: field.wireType,
        offset: field.offset,
        end: model.length,
        value: field.value,
      };
      const previous = fields.at(-1);
      if (previous) previous.end = field.offset;
      if (field.number === MODEL_METADATA_PROPS) {
        if (field.wireType !== LENGTH_DELIMITED)
          throw notOnnx(path, 'a metadata_props entry is not a message');
        topLevel.key = readEntryKey(reader.message(field), path);
      }
      fields.push(topLevel);
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw notOnnx(path, error.message);
  }
  return fields;
}

/** The key of a metadata entry (the last one, as protobuf parsers read a repeated scalar). */
function readEntryKey(entry: ProtobufReader, path: string): string {
  let key = '';
  for (let field = entry.next(); field; field = entry.next()) {
    if (field.number !== ENTRY_KEY && field.number !== ENTRY_VALUE) continue;
    if (field.wireType !== LENGTH_DELIMITED)
      throw notOnnx(path, 'a metadata_props entry is not a string pair');
    if (field.number === ENTRY_KEY) key = entry.string(field);
  }
  return key;
}

/** Opens the source model, with the messages of inspectOnnxModel when it cannot be. */
async function openModel(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw modelReadError(path, error);
  }
}

/** A field's header, decoded from the bytes at its offset. */
interface FieldHeader {
  number: number;
  wireType: number;
  value: number;
  /** The payload of a length-delimited field: [payloadStart, end). */
  payloadStart: number;
  /** Where the whole field ends. */
  end: number;
}

/** Reads small byte ranges of a file through a window, so that walking many small fields takes few reads. */
class FileWindow {
  private readonly handle: FileHandle;
  private readonly size: number;
  private buffer = new Uint8Array(WINDOW_BYTES);
  private start = 0;
  private length = 0;

  constructor(handle: FileHandle, size: number) {
    this.handle = handle;
    this.size = size;
  }

  /** Bytes [position, position + length), cut at the end of the file. Valid until the next call. */
  async read(position: number, length: number): Promise<Uint8Array> {
    const end = Math.min(position + length, this.size);
    if (position < this.start || end > this.start + this.length) {
      if (end - position > this.buffer.length) this.buffer = new Uint8Array(end - position);
      const wanted = Math.min(this.buffer.length, this.size - position);
      const { bytesRead } = await this.handle.read(this.buffer, 0, wanted, position);
      this.start = position;
      this.length = bytesRead;
    }
    // A file that shrank since its size was read gives fewer bytes: the decoder then reports truncation.
    return this.buffer.subarray(position - this.start, Math.min(end, this.start + this.length) - this.start);
  }
}

/** ModelProto's top-level fields, from a file: headers are read, payloads skipped by position. */
async function readTopLevelFieldsFromFile(
  handle: FileHandle,
  size: number,
  path: string,
): Promise<TopLevelField[]> {
  const window = new FileWindow(handle, size);
  const fields: TopLevelField[] = [];
  try {
    for (let position = 0; position < size; ) {
      const header = await readFieldHeader(window, position, size);
      const field: TopLevelField = {
        number: header.number,
        wireType: header.wireType,
        offset: position,
        end: header.end,
        value: header.value,
      };
      if (header.number === MODEL_METADATA_PROPS) {
        if (header.wireType !== LENGTH_DELIMITED)
          throw notOnnx(path, 'a metadata_props entry is not a message');
        field.key = await readEntryKeyFromFile(window, header.payloadStart, header.end, path);
      }
      fields.push(field);
      position = header.end;
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw notOnnx(path, error.message);
  }
  return fields;
}

/** Like readEntryKey, walking the entry's fields in the file: only the key's bytes are read. */
async function readEntryKeyFromFile(
  window: FileWindow,
  start: number,
  end: number,
  path: string,
): Promise<string> {
  let key = '';
  for (let position = start; position < end; ) {
    const header = await readFieldHeader(window, position, end);
    position = header.end;
    if (header.number !== ENTRY_KEY && header.number !== ENTRY_VALUE) continue;
    if (header.wireType !== LENGTH_DELIMITED)
      throw notOnnx(path, 'a metadata_props entry is not a string pair');
    if (header.number === ENTRY_KEY) {
      key = decoder.decode(await window.read(header.payloadStart, header.end - header.payloadStart));
    }
  }
  return key;
}

/**
 * Decodes the header of the field at `position` of a message that ends at `limit`, with the
 * errors of ProtobufReader (the payload must fit in the message).
 */
async function readFieldHeader(window: FileWindow, position: number, limit: number): Promise<FieldHeader> {
  const bytes = await window.read(position, Math.min(HEADER_BYTES, limit - position));
  let cursor = 0;
  const readVarint = (): number => {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (cursor >= bytes.length) throw new ProtobufError('truncated varint');
      const byte = bytes[cursor++];
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  };
  const key = readVarint();
  const number = Math.floor(key / 8);
  const wireType = key % 8;
  if (number === 0) throw new ProtobufError(`field number 0 at byte ${position}`);
  const header: FieldHeader = { number, wireType, value: 0, payloadStart: 0, end: 0 };
  let length: number;
  switch (wireType) {
    case VARINT:
      header.value = readVarint();
      length = 0;
      break;
    case FIXED64:
      length = 8;
      break;
    case LENGTH_DELIMITED:
      length = readVarint();
      break;
    case FIXED32:
      length = 4;
      break;
    default:
      throw new ProtobufError(`unsupported wire type ${wireType} at byte ${position + cursor}`);
  }
  header.payloadStart = position + cursor;
  header.end = header.payloadStart + length;
  if (header.end > limit) {
    throw new ProtobufError(`a field of ${length} bytes runs past the end of its message`);
  }
  return header;
}

/** The output's bytes: new bytes as they are, byte ranges read from the source in chunks. */
async function* generateSegments(
  handle: FileHandle,
  segments: Segment[],
  path: string,
): AsyncGenerator<Uint8Array> {
  for (const segment of segments) {
    if (segment instanceof Uint8Array) {
      yield segment;
      continue;
    }
    for (let position = segment.start; position < segment.end; ) {
      // A fresh buffer per chunk: the write stream may still hold the previous one.
      const chunk = new Uint8Array(Math.min(COPY_BYTES, segment.end - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) {
        throw new InputError(`Model ${path} became shorter while it was being copied.`, { file: path });
      }
      yield chunk.subarray(0, bytesRead);
      position += bytesRead;
    }
  }
}

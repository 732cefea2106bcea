/**
 * A minimal reader of the protobuf wire format, enough to walk an ONNX model without a schema
 * compiler: fields are visited in order, length-delimited ones as sub-ranges of the same buffer
 * (no copy), so a model's large weights are skipped, never decoded.
 */

/** Wire types (https://protobuf.dev/programming-guides/encoding/). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/**
 * How deep messages may nest inside each other (a type inside a type, a subgraph inside a node's
 * attribute, …). The protobuf parsers' own default recursion limit (C++ `CodedInputStream`, which
 * ONNX Runtime loads models with, and Python's), so every model they can read is read here; deeper
 * bytes are refused before the walk could exhaust the stack.
 */
export const MAX_NESTING_DEPTH = 100;

/** Thrown on bytes that are not a valid protobuf message. */
export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

/** Thrown when messages nest deeper than {@link MAX_NESTING_DEPTH}. */
export class ProtobufNestingError extends ProtobufError {
  override name = 'ProtobufNestingError';
}

export interface ProtobufField {
  number: number;
  wireType: number;
  /** Byte offset of the field's key (where the whole field starts). */
  offset: number;
  /** For varints: the value (exact up to 2^53). */
  value: number;
  /** For length-delimited fields: the byte range [start, end). */
  start: number;
  end: number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Reads the fields of one message from `bytes[start, end)`. */
export class ProtobufReader {
  readonly bytes: Uint8Array;
  /** How many messages enclose this one (0 for the outermost). */
  readonly depth: number;
  private position: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length, depth = 0) {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
    this.depth = depth;
  }

  /** The next field, or undefined at the end of the message. */
  next(): ProtobufField | undefined {
    if (this.position >= this.end) return undefined;
    const offset = this.position;
    const key = this.readVarint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (number === 0) throw new ProtobufError(`field number 0 at byte ${this.position}`);
    const field: ProtobufField = { number, wireType, offset, value: 0, start: 0, end: 0 };
    switch (wireType) {
      case VARINT:
        field.value = this.readVarint();
        break;
      case FIXED64:
        field.start = this.position;
        this.skip(8);
        field.end = this.position;
        break;
      case LENGTH_DELIMITED: {
        const length = this.readVarint();
        field.start = this.position;
        this.skip(length);
        field.end = this.position;
        break;
      }
      case FIXED32:
        field.start = this.position;
        this.skip(4);
        field.end = this.position;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} at byte ${this.position}`);
    }
    return field;
  }

  /**
   * A reader over a length-delimited field's bytes (a sub-message). Throws `ProtobufNestingError`
   * past {@link MAX_NESTING_DEPTH} levels: every recursive walk goes through here, so none can
   * overflow the stack.
   */
  message(field: ProtobufField): ProtobufReader {
    if (this.depth >= MAX_NESTING_DEPTH) {
      throw new ProtobufNestingError(
        `messages nested more than ${MAX_NESTING_DEPTH} levels deep (at byte ${field.offset}; the limit of protobuf parsers and ONNX Runtime)`,
      );
    }
    return new ProtobufReader(this.bytes, field.start, field.end, this.depth + 1);
  }

  /** A length-delimited field as UTF-8 text. */
  string(field: ProtobufField): string {
    return decoder.decode(this.bytes.subarray(field.start, field.end));
  }

  /** A repeated varint field, packed (length-delimited) or not. */
  varints(field: ProtobufField): number[] {
    if (field.wireType === VARINT) return [field.value];
    const inner = new ProtobufReader(this.bytes, field.start, field.end);
    const values: number[] = [];
    while (inner.position < inner.end) values.push(inner.readVarint());
    return values;
  }

  private readVarint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new ProtobufError('truncated varint');
      const byte = this.bytes[this.position++];
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  private skip(length: number): void {
    if (this.position + length > this.end)
      throw new ProtobufError(`a field of ${length} bytes runs past the end of its message`);
    this.position += length;
  }
}

/** Two's complement of a 64-bit varint read as a non-negative double (for negative int64 values). */
export function toSigned64(value: number): number {
  return value >= 2 ** 63 ? value - 2 ** 64 : value;
}

/** Protobuf encoding helpers, for the few edits we make to models. */
export function encodeVarint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

/** A length-delimited field: key, length, payload. */
export function encodeLengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(number * 8 + LENGTH_DELIMITED), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** A varint field. */
export function encodeVarintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(number * 8 + VARINT), ...encodeVarint(value)]);
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let position = 0;
  for (const part of parts) {
    out.set(part, position);
    position += part.length;
  }
  return out;
}

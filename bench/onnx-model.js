// The benchmarks' ONNX model, encoded by hand (no Python needed to make a 2 GiB model): shared by
// bench/package.js and bench/oci.js, which measure the same model.

/** Protobuf encoding, just enough for an ONNX ModelProto. */
function varint(value) {
  const bytes = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
}
const field = {
  varint: (number, value) => Buffer.concat([varint((number << 3) | 0), varint(value)]),
  bytes: (number, value) => {
    const body = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
    return Buffer.concat([varint((number << 3) | 2), varint(body.length), body]);
  },
};
const message = (...parts) => Buffer.concat(parts);

/**
 * `y = Gather(w, i)`: w is a float32 initializer of `count` values stored in `location`
 * (external data), i an int64 index. Valid for onnx.checker and ONNX Runtime; tiny on its own.
 */
export function encodeModel(count, location, producer = 'mlops-actions bench') {
  const tensorType = (elemType, dim) =>
    field.bytes(1, message(field.varint(1, elemType), field.bytes(2, field.bytes(1, field.varint(1, dim)))));
  const valueInfo = (name, elemType, dim) =>
    message(field.bytes(1, name), field.bytes(2, tensorType(elemType, dim)));
  const external = (key, value) => field.bytes(13, message(field.bytes(1, key), field.bytes(2, value)));
  const initializer = message(
    field.varint(1, count), // dims
    field.varint(2, 1), // FLOAT
    field.bytes(8, 'w'),
    external('location', location),
    external('offset', '0'),
    external('length', String(count * 4)),
    field.varint(14, 1), // data_location: EXTERNAL
  );
  const node = message(
    field.bytes(1, 'w'),
    field.bytes(1, 'i'),
    field.bytes(2, 'y'),
    field.bytes(3, 'gather'),
    field.bytes(4, 'Gather'),
  );
  const graph = message(
    field.bytes(1, node),
    field.bytes(2, 'bench'),
    field.bytes(5, initializer),
    field.bytes(11, valueInfo('i', 7, 1)), // INT64 [1]
    field.bytes(12, valueInfo('y', 1, 1)), // FLOAT [1]
  );
  return message(
    field.varint(1, 8), // ir_version
    field.bytes(2, producer),
    field.bytes(7, graph),
    field.bytes(8, field.varint(2, 13)), // opset_import: default domain, version 13
  );
}

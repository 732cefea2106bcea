/**
 * The ONNX writer, checked without onnxruntime: the bytes are decoded again with a minimal
 * protobuf reader (written here, independently of the encoder) into the fields onnx.proto names,
 * and the decoded graph is evaluated node by node to give the trainer's predictions.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseNumericCsv, splitTarget } from '../src/features.ts';
import {
  type LogisticRegressionModel,
  predictProba,
  trainLogisticRegression,
} from '../src/logistic-regression.ts';
import { encodeLogisticRegressionOnnx, encodeVarint } from '../src/onnx.ts';

interface Field {
  number: number;
  wireType: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

/** Decodes the fields of one message (varint and length-delimited; fixed widths are not written). */
function decodeFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let position = 0;
  const readVarint = () => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      assert.ok(position < bytes.length, 'truncated varint');
      const byte = bytes[position++];
      value |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (position < bytes.length) {
    const key = readVarint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) fields.push({ number, wireType, varint: readVarint() });
    else if (wireType === 2) {
      const length = Number(readVarint());
      assert.ok(position + length <= bytes.length, 'truncated length-delimited field');
      fields.push({ number, wireType, bytes: bytes.subarray(position, position + length) });
      position += length;
    } else assert.fail(`unexpected wire type ${wireType} for field ${number}`);
  }
  return fields;
}

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const all = (fields: Field[], number: number) => fields.filter((f) => f.number === number);
const one = (fields: Field[], number: number) => {
  const found = all(fields, number);
  assert.equal(found.length, 1, `field ${number} occurs ${found.length} times`);
  return found[0];
};

interface DecodedTensor {
  name: string;
  dims: number[];
  dataType: number;
  values: number[];
}
interface DecodedNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, number>;
}
interface DecodedValueInfo {
  name: string;
  elementType: number;
  shape: (number | string)[];
}

function decodeValueInfo(bytes: Uint8Array): DecodedValueInfo {
  const fields = decodeFields(bytes);
  const tensorType = decodeFields(one(decodeFields(one(fields, 2).bytes!), 1).bytes!);
  const shape = all(decodeFields(one(tensorType, 2).bytes!), 1).map((dim) => {
    const [value] = decodeFields(dim.bytes!);
    return value.number === 1 ? Number(value.varint) : text(value.bytes);
  });
  return { name: text(one(fields, 1).bytes), elementType: Number(one(tensorType, 1).varint), shape };
}

function decodeModel(bytes: Uint8Array) {
  const fields = decodeFields(bytes);
  const graph = decodeFields(one(fields, 7).bytes!);
  const opset = decodeFields(one(fields, 8).bytes!);
  return {
    fieldOrder: fields.map((f) => f.number),
    irVersion: Number(one(fields, 1).varint),
    producerName: text(one(fields, 2).bytes),
    producerVersion: text(one(fields, 3).bytes),
    docString: text(one(fields, 6).bytes),
    opset: { domain: text(one(opset, 1).bytes), version: Number(one(opset, 2).varint) },
    metadata: all(fields, 14).map((entry) => {
      const e = decodeFields(entry.bytes!);
      return [text(one(e, 1).bytes), text(one(e, 2).bytes)];
    }),
    graphName: text(one(graph, 2).bytes),
    nodes: all(graph, 1).map((n): DecodedNode => {
      const f = decodeFields(n.bytes!);
      const attributes: Record<string, number> = {};
      for (const a of all(f, 5)) {
        const af = decodeFields(a.bytes!);
        assert.equal(Number(one(af, 20).varint), 2, 'attribute type INT');
        attributes[text(one(af, 1).bytes)] = Number(BigInt.asIntN(64, one(af, 3).varint!));
      }
      return {
        opType: text(one(f, 4).bytes),
        inputs: all(f, 1).map((x) => text(x.bytes)),
        outputs: all(f, 2).map((x) => text(x.bytes)),
        attributes,
      };
    }),
    initializers: all(graph, 5).map((t): DecodedTensor => {
      const f = decodeFields(t.bytes!);
      const raw = one(f, 9).bytes!;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return {
        name: text(one(f, 8).bytes),
        dims: all(f, 1).map((d) => Number(d.varint)),
        dataType: Number(one(f, 2).varint),
        values: Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true)),
      };
    }),
    inputs: all(graph, 11).map((v) => decodeValueInfo(v.bytes!)),
    outputs: all(graph, 12).map((v) => decodeValueInfo(v.bytes!)),
  };
}

type Matrix = number[][];

/**
 * Runs the decoded graph on `input` with just the operators it uses, in float32 like ONNX
 * Runtime. Broadcasting is the numpy kind the graph needs: [N, F] with [F], [N, 1] with [1].
 */
function evaluateGraph(model: ReturnType<typeof decodeModel>, input: Matrix): Record<string, Matrix> {
  const f32 = Math.fround;
  const values: Record<string, Matrix> = { [model.inputs[0].name]: input.map((row) => row.map(f32)) };
  for (const t of model.initializers) {
    values[t.name] =
      t.dims.length === 2 ? Array.from({ length: t.dims[0] }, (_, i) => [t.values[i]]) : [t.values];
  }
  const broadcast = (a: Matrix, b: Matrix, op: (x: number, y: number) => number): Matrix => {
    const rows = Math.max(a.length, b.length);
    const width = Math.max(a[0].length, b[0].length);
    return Array.from({ length: rows }, (_, i) =>
      Array.from({ length: width }, (_, j) =>
        f32(
          op(
            a[a.length === 1 ? 0 : i][a[0].length === 1 ? 0 : j],
            b[b.length === 1 ? 0 : i][b[0].length === 1 ? 0 : j],
          ),
        ),
      ),
    );
  };
  for (const node of model.nodes) {
    const [a, b, c] = node.inputs.map((name) => {
      assert.ok(values[name], `node ${node.opType} reads ${name} before it is computed`);
      return values[name];
    });
    let out: Matrix;
    switch (node.opType) {
      case 'Sub':
        out = broadcast(a, b, (x, y) => x - y);
        break;
      case 'Div':
        out = broadcast(a, b, (x, y) => x / y);
        break;
      case 'Gemm':
        assert.deepEqual(node.attributes, {}, 'Gemm with default alpha, beta, no transposes');
        out = a.map((row) => [f32(row.reduce((sum, x, k) => sum + x * b[k][0], 0) + c[0][0])]);
        break;
      case 'Sigmoid':
        out = a.map((row) => row.map((x) => f32(1 / (1 + Math.exp(-x)))));
        break;
      case 'Concat':
        assert.equal(node.attributes.axis, 1);
        out = a.map((row, i) => [...row, ...b[i]]);
        break;
      case 'ArgMax':
        assert.deepEqual(node.attributes, { axis: 1, keepdims: 0, select_last_index: 1 });
        out = a.map((row) => [row.lastIndexOf(Math.max(...row))]);
        break;
      default:
        assert.fail(`unexpected operator ${node.opType}`);
    }
    values[node.outputs[0]] = out;
  }
  return values;
}

async function trainOnProjectData() {
  const text = await readFile(new URL('../data/train.csv', import.meta.url), 'utf8');
  const dataset = splitTarget(parseNumericCsv(text, 'data/train.csv'), 'target');
  return { dataset, ...trainLogisticRegression(dataset, { l2: 0.01, maxIterations: 100 }) };
}

const small: LogisticRegressionModel = {
  featureNames: ['a', 'b', 'c'],
  statistics: { mean: [1, 2, 3], std: [0.5, 1, 2] },
  bias: -0.25,
  weights: [1.5, -2, 0.75],
};

describe('encodeVarint', () => {
  it('writes base-128 varints, negative numbers as 64-bit two’s complement', () => {
    assert.deepEqual([...encodeVarint(0)], [0]);
    assert.deepEqual([...encodeVarint(1)], [1]);
    assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
    assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.throws(() => encodeVarint(0.5), RangeError);
  });
});

describe('encodeLogisticRegressionOnnx', () => {
  it('writes the ModelProto header: IR 8, opset 17, producer, doc string, metadata sorted by key', () => {
    const model = decodeModel(
      encodeLogisticRegressionOnnx(small, { docString: 'a test model', metadata: { zeta: '1', alpha: '2' } }),
    );
    assert.equal(model.irVersion, 8);
    assert.deepEqual(model.opset, { domain: '', version: 17 });
    assert.equal(model.producerName, 'example-ml-project');
    assert.match(model.producerVersion, /^\d+\.\d+\.\d+$/);
    assert.equal(model.docString, 'a test model');
    assert.deepEqual(model.metadata, [
      ['alpha', '2'],
      ['zeta', '1'],
    ]);
    // Field-number order, as protobuf serializers write it.
    assert.deepEqual(
      model.fieldOrder,
      [...model.fieldOrder].sort((x, y) => x - y),
    );
  });

  it('declares input features float [N, F] and outputs probabilities float [N, 2] and label int64 [N]', () => {
    const model = decodeModel(encodeLogisticRegressionOnnx(small));
    assert.deepEqual(model.inputs, [{ name: 'features', elementType: 1, shape: ['N', 3] }]);
    assert.deepEqual(model.outputs, [
      { name: 'probabilities', elementType: 1, shape: ['N', 2] },
      { name: 'label', elementType: 7, shape: ['N'] },
    ]);
    const withoutLabel = decodeModel(encodeLogisticRegressionOnnx(small, { label: false }));
    assert.deepEqual(
      withoutLabel.outputs.map((o) => o.name),
      ['probabilities'],
    );
    assert.ok(!withoutLabel.nodes.some((n) => n.opType === 'ArgMax'));
  });

  it('bakes the standardization and the weights into float32 initializers', () => {
    const model = decodeModel(encodeLogisticRegressionOnnx(small));
    assert.deepEqual(
      model.nodes.map((n) => n.opType),
      ['Sub', 'Div', 'Gemm', 'Sigmoid', 'Sub', 'Concat', 'ArgMax'],
    );
    const byName = Object.fromEntries(model.initializers.map((t) => [t.name, t]));
    assert.deepEqual(byName.mean, { name: 'mean', dims: [3], dataType: 1, values: [1, 2, 3] });
    assert.deepEqual(byName.std, { name: 'std', dims: [3], dataType: 1, values: [0.5, 1, 2] });
    assert.deepEqual(byName.coefficients, {
      name: 'coefficients',
      dims: [3, 1],
      dataType: 1,
      values: [1.5, -2, 0.75],
    });
    assert.deepEqual(byName.intercept, { name: 'intercept', dims: [1], dataType: 1, values: [-0.25] });
  });

  it('computes what predictProba computes (the graph evaluated here in float32)', async () => {
    const { dataset, model } = await trainOnProjectData();
    const onnx = decodeModel(encodeLogisticRegressionOnnx(model));
    const rows = dataset.features.slice(0, 100);
    const values = evaluateGraph(onnx, rows);
    const expected = predictProba(model, rows);
    values.probabilities.forEach(([p0, p1], i) => {
      assert.ok(Math.abs(p1 - expected[i]) < 1e-5, `row ${i}: P(1) ${p1} vs ${expected[i]}`);
      assert.ok(Math.abs(p0 + p1 - 1) < 1e-6, `row ${i}: P(0) + P(1) = ${p0 + p1}`);
      assert.equal(values.label[i][0], p1 >= p0 ? 1 : 0);
    });
  });

  it('is deterministic and rejects inconsistent models', async () => {
    const { model } = await trainOnProjectData();
    assert.deepEqual(encodeLogisticRegressionOnnx(model), encodeLogisticRegressionOnnx(model));
    assert.throws(
      () => encodeLogisticRegressionOnnx({ ...small, weights: [1, 2] }),
      /3 feature names, 2 weights/,
    );
  });
});

/** Models with metadata written by onnx-metadata load in real ONNX Runtime and compute the same outputs. */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectOnnxModel, parseOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { setOnnxMetadata, writeOnnxMetadata } from '../../src/core/model/onnx-metadata.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { concatBytes, encodeLengthDelimited, ProtobufReader } from '../../src/core/model/protobuf.ts';
import { repoRoot } from '../harness/run-action.ts';
import { example, readSimpleCsv, temporaryDirectory } from '../helpers/example.ts';

const models = join(repoRoot, 'test/fixtures/models');
const onnxFixtures = join(repoRoot, 'test/fixtures/onnx');

const entries = {
  name: 'breast-cancer',
  version: '1.4.0',
  commit: '0123456789abcdef0123456789abcdef01234567',
  'package.sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'metrics.roc_auc': '0.9934',
};

/** The first rows of the example's test set, the 30 feature columns, as float32. */
async function readFeatures(rows: number): Promise<Float32Array> {
  const { header, rows: table } = await readSimpleCsv(example.test);
  const columns = header.flatMap((name, i) => (name === 'target' ? [] : [i]));
  expect(columns).toHaveLength(30);
  return Float32Array.from(table.slice(0, rows).flatMap((row) => columns.map((i) => row[i] as number)));
}

/** Runs a model (a file, or bytes named by it) and returns its outputs' bytes and values. */
async function runModel(
  path: string,
  feeds: Record<string, { type: 'float32'; data: Float32Array; dims: number[] }>,
  bytes?: Uint8Array,
): Promise<Record<string, { dims: readonly number[]; data: unknown; bytes: string }>> {
  const ort = await loadOnnxRuntime();
  const session = await createOnnxSession(path, bytes);
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([name, feed]) => [name, new ort.Tensor(feed.type, feed.data, feed.dims)]),
    );
    const results = await session.run(inputs);
    return Object.fromEntries(
      Object.entries(results).map(([name, tensor]) => {
        const data = tensor.data as Float32Array | BigInt64Array;
        // The raw bytes as well: bit-for-bit equality, -0 and NaN payloads included.
        const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
        return [name, { dims: tensor.dims, data, bytes: raw }];
      }),
    );
  } finally {
    await session.release();
  }
}

/**
 * torch-mlp-logits with 3 MB more in its graph (a doc_string, which ONNX Runtime loads without the
 * warning an unused initializer gives) and 3000 entries: a model the streaming path copies in chunks.
 */
async function buildLargeModel(): Promise<Uint8Array> {
  const model = await readFile(join(models, 'torch-mlp-logits.onnx'));
  // GraphProto.doc_string = 10.
  const docString = encodeLengthDelimited(10, new TextEncoder().encode('padding '.repeat(375_000)));
  const parts: Uint8Array[] = [];
  const reader = new ProtobufReader(model);
  const fields: { number: number; offset: number; start: number; end: number }[] = [];
  for (let field = reader.next(); field; field = reader.next()) fields.push(field);
  for (const [i, field] of fields.entries()) {
    const end = fields[i + 1]?.offset ?? model.length;
    parts.push(
      field.number === 7
        ? encodeLengthDelimited(7, concatBytes([model.subarray(field.start, field.end), docString]))
        : model.subarray(field.offset, end),
    );
  }
  const text = new TextEncoder();
  for (let i = 0; i < 3000; i++) {
    const entry = concatBytes([
      encodeLengthDelimited(1, text.encode(`key.${i}`)),
      encodeLengthDelimited(2, text.encode(`value ${i}`)),
    ]);
    parts.push(encodeLengthDelimited(14, entry));
  }
  return concatBytes(parts);
}

describe('ONNX Runtime on models with metadata written', () => {
  it('torch-mlp-logits: same logits, bit for bit, from the streamed file and from the in-memory copy', async () => {
    const source = join(models, 'torch-mlp-logits.onnx');
    const dir = await temporaryDirectory();
    const target = join(dir, 'model.onnx');
    await writeOnnxMetadata(source, target, entries);
    expect((await inspectOnnxModel(target)).metadata).toEqual(entries);
    const feeds = { input: { type: 'float32' as const, data: await readFeatures(5), dims: [5, 30] } };
    const original = await runModel(source, feeds);
    expect(original.logits.dims).toEqual([5, 2]);
    const streamed = await runModel(target, feeds);
    const inMemory = await runModel(source, feeds, setOnnxMetadata(await readFile(source), entries, source));
    expect(streamed.logits.data).toEqual(original.logits.data);
    expect(streamed).toEqual(original);
    expect(inMemory).toEqual(original);
  });

  it('sklearn-forest: same labels and probabilities on the whole test set', async () => {
    const source = join(models, 'sklearn-forest.onnx');
    const dir = await temporaryDirectory();
    const target = join(dir, 'model.onnx');
    await writeOnnxMetadata(source, target, entries);
    const data = await readFeatures(114);
    const feeds = { float_input: { type: 'float32' as const, data, dims: [114, 30] } };
    const original = await runModel(source, feeds);
    expect(Object.keys(original).sort()).toEqual(['label', 'probabilities']);
    const edited = await runModel(target, feeds);
    expect(edited.label.data).toEqual(original.label.data);
    expect(edited.probabilities.data).toEqual(original.probabilities.data);
    expect(edited).toEqual(original);
  });

  it('external.onnx: loads with its weights copied next to it and gives the same probabilities', async () => {
    const source = join(onnxFixtures, 'external.onnx');
    const dir = await temporaryDirectory();
    const target = join(dir, 'model.onnx');
    await writeOnnxMetadata(source, target, entries);
    await copyFile(join(onnxFixtures, 'external.weights'), join(dir, 'external.weights'));
    expect(await readFile(target)).toEqual(Buffer.from(setOnnxMetadata(await readFile(source), entries)));
    const expected = JSON.parse(await readFile(join(onnxFixtures, 'expected.json'), 'utf8'));
    const features: number[][] = expected[0].golden.features;
    const feeds = {
      features: {
        type: 'float32' as const,
        data: Float32Array.from(features.flat()),
        dims: [features.length, 4],
      },
    };
    const original = await runModel(source, feeds);
    const edited = await runModel(target, feeds);
    expect(edited.probability.data).toEqual(original.probability.data);
    expect(edited).toEqual(original);
  });

  it('a 3 MB model with 3000 entries: streamed and in-memory results load and agree', async () => {
    const dir = await temporaryDirectory();
    const source = join(dir, 'large.onnx');
    const large = await buildLargeModel();
    await writeFile(source, large);
    const target = join(dir, 'large-edited.onnx');
    await writeOnnxMetadata(source, target, { ...entries, 'key.7': 'replaced' });
    const written = await readFile(target);
    expect(Buffer.compare(written, setOnnxMetadata(large, { ...entries, 'key.7': 'replaced' }))).toBe(0);
    expect(parseOnnxModel(written, target).metadata['key.7']).toBe('replaced');
    const feeds = { input: { type: 'float32' as const, data: await readFeatures(5), dims: [5, 30] } };
    const reference = await runModel(join(models, 'torch-mlp-logits.onnx'), feeds);
    expect(await runModel(source, feeds)).toEqual(reference);
    expect(await runModel(target, feeds)).toEqual(reference);
  });
});

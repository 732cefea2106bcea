import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { inspectOnnxModel, parseOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { setOnnxMetadata, writeOnnxMetadata } from '../../src/core/model/onnx-metadata.ts';
import {
  concatBytes,
  encodeLengthDelimited,
  encodeVarintField,
  ProtobufReader,
} from '../../src/core/model/protobuf.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const onnxFixtures = join(repoRoot, 'test/fixtures/onnx');
const modelList: { models: { file: string }[] } = JSON.parse(
  await readFile(join(repoRoot, 'test/fixtures/models/expected.json'), 'utf8'),
);
/** Every fixture model: embedded weights (all), existing metadata (logistic, external), external data. */
const fixtures = [
  ...modelList.models.map((model) => join(repoRoot, model.file)),
  ...['logistic.onnx', 'linear-classifier-zipmap.onnx', 'external.onnx'].map((file) =>
    join(onnxFixtures, file),
  ),
];

const entries = {
  name: 'breast-cancer',
  version: '1.4.0',
  commit: '0123456789abcdef0123456789abcdef01234567',
  'package.sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'metrics.roc_auc': '0.9934',
};

interface Field {
  number: number;
  hex: string;
}

/** ModelProto's top-level fields in order, each as the hex of its whole bytes (key and length included). */
function topLevelFields(model: Uint8Array): Field[] {
  const reader = new ProtobufReader(model);
  const offsets: { number: number; offset: number }[] = [];
  for (let field = reader.next(); field; field = reader.next()) {
    offsets.push({ number: field.number, offset: field.offset });
  }
  return offsets.map(({ number, offset }, i) => ({
    number,
    hex: Buffer.from(model.subarray(offset, offsets[i + 1]?.offset ?? model.length)).toString('hex'),
  }));
}

/** The metadata entries in the order they are stored. */
function metadataInOrder(model: Uint8Array): [string, string][] {
  const reader = new ProtobufReader(model);
  const pairs: [string, string][] = [];
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number !== 14) continue;
    const entry = reader.message(field);
    const pair: [string, string] = ['', ''];
    for (let part = entry.next(); part; part = entry.next()) pair[part.number - 1] = entry.string(part);
    pairs.push(pair);
  }
  return pairs;
}

function graphBytes(model: Uint8Array): Uint8Array {
  const reader = new ProtobufReader(model);
  for (let field = reader.next(); field; field = reader.next()) {
    if (field.number === 7) return model.subarray(field.start, field.end);
  }
  throw new Error('no graph');
}

function withoutMetadata(model: Uint8Array): Field[] {
  return topLevelFields(model).filter((field) => field.number !== 14);
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

function encodeEntry(key: string, value: string): Uint8Array {
  const text = new TextEncoder();
  return encodeLengthDelimited(
    14,
    concatBytes([encodeLengthDelimited(1, text.encode(key)), encodeLengthDelimited(2, text.encode(value))]),
  );
}

/** Reassembles a model from its top-level fields (hex), for models laid out in unusual orders. */
function assemble(fields: (Field | Uint8Array)[]): Uint8Array {
  return concatBytes(
    fields.map((field) => (field instanceof Uint8Array ? field : Buffer.from(field.hex, 'hex'))),
  );
}

/**
 * A model of several MB with many metadata entries: torch-mlp-logits plus an unused 3 MB initializer,
 * 3000 entries (about 200 kB of headers to walk) and a 100 kB key, so the streaming reader crosses
 * its window and copies the graph in several chunks.
 */
async function buildLargeModel(): Promise<Uint8Array> {
  const model = await readFile(join(repoRoot, 'test/fixtures/models/torch-mlp-logits.onnx'));
  // TensorProto { dims = 1; data_type = 2 (uint8); name = 8; raw_data = 9 }
  const padding = new Uint8Array(3_000_000).map((_, i) => (i * 7919) % 251);
  const tensor = concatBytes([
    encodeVarintField(1, padding.length),
    encodeVarintField(2, 2),
    encodeLengthDelimited(8, new TextEncoder().encode('unused_padding')),
    encodeLengthDelimited(9, padding),
  ]);
  const fields = topLevelFields(model).map((field) => {
    if (field.number !== 7) return field;
    return concatBytes([
      encodeLengthDelimited(7, concatBytes([graphBytes(model), encodeLengthDelimited(5, tensor)])),
    ]);
  });
  const metadata = Array.from({ length: 3000 }, (_, i) =>
    encodeEntry(`key.${String(i).padStart(4, '0')}`, `value ${i}`),
  );
  return assemble([...fields, ...metadata, encodeEntry('k'.repeat(100_000), 'long key')]);
}

describe('setOnnxMetadata', () => {
  for (const path of fixtures) {
    it(`writes metadata into ${path.slice(repoRoot.length + 1)} and leaves every other field as it was`, async () => {
      const original = await readFile(path);
      const result = setOnnxMetadata(original, entries, path);
      const before = parseOnnxModel(original, path);
      const after = parseOnnxModel(result, path);
      expect(after.metadata).toEqual({ ...before.metadata, ...entries });
      expect(withoutMetadata(result)).toEqual(withoutMetadata(original));
      expect(Buffer.compare(graphBytes(result), graphBytes(original))).toBe(0);
      const { metadata: _m1, fileBytes: _f1, ...restBefore } = before;
      const { metadata: _m2, fileBytes: _f2, ...restAfter } = after;
      expect(restAfter).toEqual(restBefore);
    });
  }

  it('appends the entries, sorted by key, to a model without metadata whose fields all come before 14', async () => {
    const original = await readFile(join(repoRoot, 'test/fixtures/models/sklearn-forest.onnx'));
    const result = setOnnxMetadata(original, { b: '2', a: '1', 'a.b': '3', B: '4' });
    expect(Buffer.compare(result.subarray(0, original.length), original)).toBe(0);
    expect(metadataInOrder(result)).toEqual([
      ['B', '4'],
      ['a', '1'],
      ['a.b', '3'],
      ['b', '2'],
    ]);
  });

  it('replaces given keys, keeps the others first in their order, then writes the new ones sorted', async () => {
    const path = join(onnxFixtures, 'logistic.onnx');
    const original = await readFile(path);
    expect(metadataInOrder(original)).toEqual([
      ['task', 'binary'],
      ['features', 'a,b,c,d'],
    ]);
    const result = setOnnxMetadata(original, { task: 'regression', name: 'm', commit: 'abc' }, path);
    expect(metadataInOrder(result)).toEqual([
      ['features', 'a,b,c,d'],
      ['commit', 'abc'],
      ['name', 'm'],
      ['task', 'regression'],
    ]);
    // The kept entry is copied, not re-encoded.
    const originalFeatures = topLevelFields(original).filter((field) => field.number === 14)[1];
    expect(topLevelFields(result).find((field) => field.number === 14)).toEqual(originalFeatures);
  });

  it('is idempotent and deterministic', async () => {
    for (const path of fixtures) {
      const original = await readFile(path);
      const once = setOnnxMetadata(original, entries, path);
      expect(setOnnxMetadata(once, entries, path)).toEqual(once);
      expect(setOnnxMetadata(original, entries, path)).toEqual(once);
      // The order in which the caller lists the entries does not matter.
      const reversed = Object.fromEntries(Object.entries(entries).reverse());
      expect(setOnnxMetadata(original, reversed, path)).toEqual(once);
      // A second edit replaces what the first wrote and keeps the rest.
      const twice = setOnnxMetadata(once, { version: '1.5.0', stage: 'prod' }, path);
      expect(parseOnnxModel(twice, path).metadata).toEqual({
        ...parseOnnxModel(original, path).metadata,
        ...entries,
        version: '1.5.0',
        stage: 'prod',
      });
    }
  });

  it('returns the same bytes when there is nothing to change', async () => {
    for (const file of ['logistic.onnx', 'linear-classifier-zipmap.onnx']) {
      const original = await readFile(join(onnxFixtures, file));
      expect(Buffer.compare(setOnnxMetadata(original, {}), original)).toBe(0);
      expect(Buffer.compare(setOnnxMetadata(original, { task: 'binary' }), original)).not.toBe(0);
    }
    const logistic = await readFile(join(onnxFixtures, 'logistic.onnx'));
    // Re-setting the last entry to its value keeps the bytes.
    expect(Buffer.compare(setOnnxMetadata(logistic, { features: 'a,b,c,d' }), logistic)).toBe(0);
  });

  it('gathers scattered entries where the first one was, and puts new metadata before fields numbered above 14', async () => {
    const logistic = await readFile(join(onnxFixtures, 'logistic.onnx'));
    const fields = topLevelFields(logistic);
    const [task, features] = fields.filter((field) => field.number === 14);
    const others = fields.filter((field) => field.number !== 14);
    // training_info (20), an empty message, after everything.
    const trainingInfo = encodeLengthDelimited(20, new Uint8Array(0));
    const scattered = assemble([others[0], task, ...others.slice(1), trainingInfo, features]);
    const result = setOnnxMetadata(scattered, { name: 'm' });
    expect(topLevelFields(result).map((field) => field.number)).toEqual([
      1, 14, 14, 14, 2, 3, 5, 6, 7, 8, 20,
    ]);
    expect(metadataInOrder(result)).toEqual([
      ['task', 'binary'],
      ['features', 'a,b,c,d'],
      ['name', 'm'],
    ]);
    const bare = assemble([...others, trainingInfo]);
    expect(topLevelFields(setOnnxMetadata(bare, { name: 'm' })).map((field) => field.number)).toEqual([
      1, 2, 3, 5, 6, 7, 8, 14, 20,
    ]);
  });

  it('writes keys and values as UTF-8', async () => {
    const original = await readFile(join(onnxFixtures, 'logistic.onnx'));
    const result = setOnnxMetadata(original, { modèle: 'détecteur ✓ 🚀', empty: '' });
    expect(parseOnnxModel(result, 'x').metadata).toEqual({
      task: 'binary',
      features: 'a,b,c,d',
      empty: '',
      modèle: 'détecteur ✓ 🚀',
    });
  });

  it('refuses bytes that are not an ONNX model, naming the file', async () => {
    const model = await readFile(join(repoRoot, 'test/fixtures/models/torch-mlp-logits.onnx'));
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\n'), /is not an ONNX model/],
      [
        model.subarray(0, model.length - 100),
        /is not an ONNX model \(a field of \d+ bytes runs past the end/,
      ],
      [encodeVarintField(1, 8), /is not an ONNX model \(it has no graph\)/],
      [encodeLengthDelimited(7, graphBytes(model)), /it has no IR version/],
      [concatBytes([model, encodeVarintField(14, 3)]), /a metadata_props entry is not a message/],
      [new Uint8Array(0), /it has no graph/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => setOnnxMetadata(bytes, entries, 'models/x.onnx')).toThrow(InputError);
      expect(() => setOnnxMetadata(bytes, entries, 'models/x.onnx')).toThrow(message);
      expect(() => setOnnxMetadata(bytes, entries, 'models/x.onnx')).toThrow(
        /^models\/x\.onnx is not an ONNX model/,
      );
    }
  });
});

describe('writeOnnxMetadata', () => {
  it('writes the same bytes as setOnnxMetadata, for every fixture model', async () => {
    const dir = await temporaryDirectory();
    for (const [i, path] of fixtures.entries()) {
      const original = await readFile(path);
      const edits: Record<string, string>[] = [entries, {}, { task: 'regression' }];
      for (const given of edits) {
        const target = join(dir, `${i}.onnx`);
        await writeOnnxMetadata(path, target, given);
        expect(Buffer.compare(await readFile(target), setOnnxMetadata(original, given, path))).toBe(0);
      }
    }
  });

  it('writes the same bytes for a model with external data, which still finds its weights', async () => {
    const dir = await temporaryDirectory();
    const source = join(onnxFixtures, 'external.onnx');
    const target = join(dir, 'model.onnx');
    await writeOnnxMetadata(source, target, entries);
    await copyFile(join(onnxFixtures, 'external.weights'), join(dir, 'external.weights'));
    expect(Buffer.compare(await readFile(target), setOnnxMetadata(await readFile(source), entries))).toBe(0);
    const info = await inspectOnnxModel(target);
    expect(info.metadata).toEqual({ task: 'binary', features: 'a,b,c,d', ...entries });
    expect(info.externalBytes).toBe(20);
  });

  it('writes the same bytes for a large model with many entries and unusual layouts', async () => {
    const dir = await temporaryDirectory();
    const logistic = await readFile(join(onnxFixtures, 'logistic.onnx'));
    const fields = topLevelFields(logistic);
    const [task, features] = fields.filter((field) => field.number === 14);
    const others = fields.filter((field) => field.number !== 14);
    const trainingInfo = encodeLengthDelimited(20, new Uint8Array(0));
    const models = {
      large: await buildLargeModel(),
      scattered: assemble([others[0], task, ...others.slice(1), trainingInfo, features]),
      bare: assemble([...others, trainingInfo]),
    };
    const edits = [
      entries,
      { 'key.0042': 'replaced', 'key.2999': 'replaced too' },
      { ['k'.repeat(100_000)]: 'x' },
    ];
    for (const [name, model] of Object.entries(models)) {
      const source = join(dir, `${name}.onnx`);
      await writeFile(source, model);
      for (const [i, edit] of edits.entries()) {
        const target = join(dir, `${name}-${i}.onnx`);
        await writeOnnxMetadata(source, target, edit);
        expect(Buffer.compare(await readFile(target), setOnnxMetadata(model, edit))).toBe(0);
      }
    }
    const result = await readFile(join(dir, 'large-1.onnx'));
    const metadata = parseOnnxModel(result, 'large').metadata;
    expect(Object.keys(metadata)).toHaveLength(3001);
    expect([metadata['key.0042'], metadata['key.0041'], metadata['key.2999']]).toEqual([
      'replaced',
      'value 41',
      'replaced too',
    ]);
  });

  it('can write over its source, atomically, leaving no temporary file', async () => {
    const dir = await temporaryDirectory();
    const path = join(dir, 'model.onnx');
    const original = await readFile(join(repoRoot, 'test/fixtures/models/torch-mlp-logits.onnx'));
    await writeFile(path, original);
    await writeOnnxMetadata(path, path, entries);
    expect(Buffer.compare(await readFile(path), setOnnxMetadata(original, entries))).toBe(0);
    expect(await readdir(dir)).toEqual(['model.onnx']);
  });

  it('refuses a source that is missing or not an ONNX model, naming it, and writes nothing', async () => {
    const dir = await temporaryDirectory();
    const model = await readFile(join(repoRoot, 'test/fixtures/models/sklearn-forest.onnx'));
    const sources = {
      'lfs.onnx': new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n'),
      'truncated.onnx': model.subarray(0, model.length - 1000),
      'no-graph.onnx': encodeVarintField(1, 8),
      'empty.onnx': new Uint8Array(0),
    };
    const out = join(dir, 'out');
    await mkdir(out);
    for (const [file, bytes] of Object.entries(sources)) {
      const source = join(dir, file);
      await writeFile(source, bytes);
      const failure = writeOnnxMetadata(source, join(out, 'model.onnx'), entries);
      await expect(failure).rejects.toThrow(InputError);
      // The same message as the in-memory version gives.
      const message = messageOf(() => setOnnxMetadata(bytes, entries, source));
      expect(message).toMatch(`${source} is not an ONNX model (`);
      await expect(failure).rejects.toThrow(message);
    }
    await expect(
      writeOnnxMetadata(join(dir, 'missing.onnx'), join(out, 'model.onnx'), entries),
    ).rejects.toThrow(/Model .*missing\.onnx not found/);
    await expect(writeOnnxMetadata(out, join(dir, 'model.onnx'), entries)).rejects.toThrow(InputError);
    expect(await readdir(out)).toEqual([]);
  });
});

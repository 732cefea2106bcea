/** Real ONNX Runtime (onnxruntime-node, CPU) on the generated fixture models. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addGraphOutputs } from '../../src/core/model/onnx-edit.ts';
import { parseOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const fixtures = join(repoRoot, 'test/fixtures/onnx');
const expected = JSON.parse(await readFile(join(fixtures, 'expected.json'), 'utf8'));
const golden: { features: number[][]; probability: number[] } = expected[0].golden;

describe('ONNX Runtime sessions', () => {
  for (const file of ['logistic.onnx', 'external.onnx']) {
    it(`runs ${file} and matches numpy's outputs`, async () => {
      const ort = await loadOnnxRuntime();
      const session = await createOnnxSession(join(fixtures, file));
      expect(session.inputNames).toEqual(['features']);
      expect(session.outputNames).toEqual(['probability']);
      const features = new ort.Tensor('float32', Float32Array.from(golden.features.flat()), [
        golden.features.length,
        4,
      ]);
      const { probability } = await session.run({ features });
      expect(probability.dims).toEqual([5, 1]);
      const values = Array.from(probability.data as Float32Array);
      for (const [i, value] of values.entries())
        expect(Math.abs(value - golden.probability[i])).toBeLessThan(1e-6);
      await session.release();
    });
  }

  it('gets the probability tensor of a ZipMap classifier by exposing it as a graph output', async () => {
    const ort = await loadOnnxRuntime();
    const path = join(fixtures, 'linear-classifier-zipmap.onnx');
    const model = await readFile(path);
    const classifier: { X: number[][]; probability_tensor: number[][]; label: number[] } = expected[1].golden;
    const X = new ort.Tensor('float32', Float32Array.from(classifier.X.flat()), [classifier.X.length, 3]);
    // As exported, the probabilities come only as ZipMap's sequence of maps, which onnxruntime-node cannot return.
    const original = await createOnnxSession(path);
    await expect(original.run({ X })).rejects.toThrow(/Non tensor type/);
    const edited = addGraphOutputs(model, [{ name: 'probability_tensor', elementType: 'float' }], path);
    const info = parseOnnxModel(edited, path);
    expect(info.outputs.map((o) => o.name)).toEqual(['label', 'output_probability', 'probability_tensor']);
    expect(info.nodes).toEqual(parseOnnxModel(model, path).nodes);
    const session = await createOnnxSession(path, edited);
    const result = await session.run({ X }, ['label', 'probability_tensor']);
    expect(Array.from(result.label.data as BigInt64Array, Number)).toEqual(classifier.label);
    const probabilities = Array.from(result.probability_tensor.data as Float32Array);
    for (const [i, p] of classifier.probability_tensor.flat().entries()) {
      expect(Math.abs(probabilities[i] - p)).toBeLessThan(1e-6);
    }
  });

  it('says what is wrong with a file it cannot load', async () => {
    const dir = await temporaryDirectory();
    const fake = join(dir, 'fake.onnx');
    await writeFile(fake, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    await expect(createOnnxSession(fake)).rejects.toThrow(
      /Model .*fake\.onnx cannot be loaded by ONNX Runtime: .*not a valid ONNX model/,
    );
  });
});

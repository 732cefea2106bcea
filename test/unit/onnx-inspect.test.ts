import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { inspectOnnxModel, parseOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const fixtures = join(repoRoot, 'test/fixtures/onnx');

interface Expected {
  file: string;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  opsets: { domain: string; version: number }[];
  graphName: string;
  inputs: unknown[];
  outputs: unknown[];
  nodes: { opType: string; domain: string }[];
  metadata: Record<string, string>;
  initializers: { name: string; dataType: string; dims: number[]; external: Record<string, string> | null }[];
}

// Written by scripts/fixtures/make-onnx-fixtures.py from what the `onnx` package reads.
const expected: Expected[] = JSON.parse(await readFile(join(fixtures, 'expected.json'), 'utf8'));

describe('inspectOnnxModel', () => {
  for (const model of expected) {
    it(`reads ${model.file} as the onnx package does`, async () => {
      const info = await inspectOnnxModel(join(fixtures, model.file));
      expect({
        irVersion: info.irVersion,
        producerName: info.producerName,
        producerVersion: info.producerVersion,
        modelVersion: info.modelVersion,
        docString: info.docString,
        opsets: info.opsets,
        graphName: info.graphName,
        inputs: info.inputs,
        outputs: info.outputs,
        nodes: info.nodes.map(({ opType, domain }) => ({ opType, domain })),
        metadata: info.metadata,
        initializers: info.initializers.map(({ name, dataType, dims, external }) => ({
          name,
          dataType,
          dims,
          external,
        })),
      }).toEqual({
        irVersion: model.irVersion,
        producerName: model.producerName,
        producerVersion: model.producerVersion,
        modelVersion: model.modelVersion,
        docString: model.docString,
        opsets: model.opsets,
        graphName: model.graphName,
        inputs: model.inputs,
        outputs: model.outputs,
        nodes: model.nodes,
        metadata: model.metadata,
        initializers: model.initializers,
      });
    });
  }

  it('sizes weights inside the model and in external files', async () => {
    const inside = await inspectOnnxModel(join(fixtures, 'logistic.onnx'));
    expect(inside.initializers.map((i) => i.bytes)).toEqual([16, 4]);
    expect(inside.externalBytes).toBe(0);
    const outside = await inspectOnnxModel(join(fixtures, 'external.onnx'));
    expect(outside.initializers.map((i) => i.bytes)).toEqual([16, 4]);
    expect(outside.externalFiles).toEqual([
      { location: 'external.weights', path: join(fixtures, 'external.weights'), bytes: 20 },
    ]);
    expect(outside.externalBytes).toBe(20);
  });

  it('keeps symbolic and unknown dimensions and the sequence-of-maps type of ZipMap', async () => {
    const logistic = await inspectOnnxModel(join(fixtures, 'logistic.onnx'));
    expect(logistic.inputs[0].type).toEqual({ kind: 'tensor', elementType: 'float', shape: ['batch', 4] });
    const zipmap = await inspectOnnxModel(join(fixtures, 'linear-classifier-zipmap.onnx'));
    expect(zipmap.opsets).toContainEqual({ domain: 'ai.onnx.ml', version: 1 });
    expect(zipmap.outputs[1].type).toMatchObject({
      kind: 'sequence',
      element: { kind: 'map', key: 'int64' },
    });
  });

  it('names the file and the fix for what is not a usable model', async () => {
    const dir = await temporaryDirectory();
    await expect(inspectOnnxModel(join(dir, 'missing.onnx'))).rejects.toThrow(/missing\.onnx not found/);
    const csv = join(dir, 'data.onnx');
    await writeFile(csv, 'a,b,c\n1,2,3\n');
    await expect(inspectOnnxModel(csv)).rejects.toThrow(InputError);
    await expect(inspectOnnxModel(csv)).rejects.toThrow(/data\.onnx is not an ONNX model/);
    expect(() => parseOnnxModel(new Uint8Array(0), 'empty.onnx')).toThrow(
      /empty\.onnx is not an ONNX model \(it has no graph\)/,
    );
    const bytes = await readFile(join(fixtures, 'logistic.onnx'));
    expect(() => parseOnnxModel(bytes.subarray(0, bytes.length - 30), 'cut.onnx')).toThrow(
      /cut\.onnx is not an ONNX model/,
    );
    // External data that did not travel with the model.
    await copyFile(join(fixtures, 'external.onnx'), join(dir, 'external.onnx'));
    await expect(inspectOnnxModel(join(dir, 'external.onnx'))).rejects.toThrow(
      /external file "external\.weights", which is not next to it/,
    );
    await writeFile(join(dir, 'external.weights'), new Uint8Array(8));
    await expect(inspectOnnxModel(join(dir, 'external.onnx'))).rejects.toThrow(
      /has 8 bytes, but "weights" needs bytes up to 16/,
    );
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/core/config/config.ts';
import { type ModelRequestNames, resolveModelOptions } from '../../src/core/config/model-options.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { temporaryFolder } from '../helpers/temp.ts';

const NAMES: ModelRequestNames = {
  model: '--model',
  data: '--data',
  target: '--target',
  gates: '--gate',
  task: '--task',
  missing: '--missing',
  onMissingBaseline: '--on-missing-baseline',
  outputKind: '--output-kind',
  threshold: '--threshold',
  resamples: '--resamples',
  seed: '--seed',
  batchRows: '--batch-rows',
  minRows: '--min-rows',
  format: '--format',
};

const CONFIG = `version: 1
data:
  data: data/test.csv
  target: label
  contract: contract.json
model:
  model: build/model.onnx
  baseline: models/prod.onnx
  gates: ["roc_auc >= 0.9"]
  thresholds:
    - { metric: log_loss, max-increase: 0.05, relative: true, confidence: interval }
    - { metric: recall_macro, min: 0.8, slice: region }
  slices: { columns: [region], buckets: { age: [30, 50] }, min-rows: 20 }
  budgets: { latency-p95-ms: 5, size-mb: 1.5 }
  golden: { path: build/golden.json, atol: 0.001 }
  bootstrap: { resamples: 500, seed: 7 }
  missing: drop
`;

async function loaded(text: string) {
  const dir = await temporaryFolder('mlops-model-options-');
  const file = join(dir, 'mlops.yaml');
  await writeFile(file, text);
  return { dir, config: await loadConfig(file) };
}

describe('model options from mlops.yaml and flags', () => {
  it('reads the model part, resolving paths next to the config and falling back to the data part', async () => {
    const { dir, config } = await loaded(CONFIG);
    const options = resolveModelOptions({}, config, NAMES);
    expect(options).toMatchObject({
      model: join(dir, 'build/model.onnx'),
      baseline: join(dir, 'models/prod.onnx'),
      data: join(dir, 'data/test.csv'),
      contract: join(dir, 'contract.json'),
      target: 'label',
      missing: 'drop',
      bootstrap: { resamples: 500, seed: 7 },
      slices: { columns: ['region'], buckets: { age: [30, 50] }, minRows: 20 },
      budgets: { latencyP95Ms: 5, sizeBytes: 1_500_000 },
      golden: { path: join(dir, 'build/golden.json'), atol: 0.001 },
    });
    expect(
      options.gates.map((g) => [g.metric, g.rule, g.threshold, g.relative, g.confidence, g.slice]),
    ).toEqual([
      ['roc_auc', 'min', 0.9, false, 'point', undefined],
      ['log_loss', 'max-increase', 0.05, true, 'interval', undefined],
      ['recall_macro', 'min', 0.8, false, 'point', 'region'],
    ]);
  });

  it('lets flags win, adds their gates first, and turns the bootstrap off with 0 resamples', async () => {
    const { config } = await loaded(CONFIG);
    const options = resolveModelOptions(
      { model: 'other.onnx', target: 'y', gates: ['accuracy >= 0.8'], resamples: '0', missing: 'error' },
      config,
      NAMES,
    );
    expect(options.model).toBe('other.onnx');
    expect(options.target).toBe('y');
    expect(options.missing).toBe('error');
    expect(options.bootstrap).toBe(false);
    expect(options.gates[0]).toMatchObject({ metric: 'accuracy', source: '--gate: accuracy >= 0.8' });
    expect(options.gates).toHaveLength(4);
  });

  it('names what is missing and what is malformed', () => {
    expect(() => resolveModelOptions({}, undefined, NAMES)).toThrow(/No model to validate: set --model/);
    expect(() => resolveModelOptions({ model: 'm.onnx' }, undefined, NAMES)).toThrow(/No holdout data/);
    expect(() => resolveModelOptions({ model: 'm.onnx', data: 'd.csv' }, undefined, NAMES)).toThrow(
      /No target \(label\) column: set --target/,
    );
    const base = { model: 'm.onnx', data: 'd.csv', target: 'y' };
    expect(() => resolveModelOptions({ ...base, resamples: 'many' }, undefined, NAMES)).toThrow(
      /--resamples must be a whole number/,
    );
    expect(() => resolveModelOptions({ ...base, threshold: '1.5' }, undefined, NAMES)).toThrow(
      /--threshold must be a probability between 0 and 1; got "1.5"/,
    );
    expect(() => resolveModelOptions({ ...base, missing: 'impute' }, undefined, NAMES)).toThrow(
      /--missing must be one of error, nan, drop/,
    );
  });

  it('points at the line of a mistake in the model part', () => {
    const error = (() => {
      try {
        parseConfig(
          'model:\n  model: m.onnx\n  thresholds:\n    - { metric: auc, minimum: 0.9 }\n',
          'mlops.yaml',
        );
      } catch (e) {
        return e as ConfigurationError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.location.line).toBe(4);
    expect(error?.message).toMatch(
      /unknown key "model.thresholds.0.minimum"\. Allowed here: metric, min, max, max-decrease/,
    );
    expect(() => parseConfig('model:\n  treshold: 0.4\n', 'mlops.yaml')).toThrow(
      /Did you mean "threshold"\?/,
    );
  });
});

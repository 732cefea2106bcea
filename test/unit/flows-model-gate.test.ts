/**
 * runModelGate (src/core/flows/model-gate.ts), in process, with real ONNX models run by
 * onnxruntime-node on the example's holdout: the decisions behind the validate-model action's
 * outputs and failure (passed, metrics, failed-gates including a gate that errored), the one place
 * that chooses full, shard or merge (a merge of all shards decides as a full run), the order
 * input > mlops.yaml > built-in default, and the environment baseline as a port.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentBaselineSource } from '../../src/core/config/model-options.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import {
  type ModelGateFlowRequest,
  type ModelGateNames,
  type ModelGateResult,
  runModelGate,
} from '../../src/core/flows/model-gate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { repoRoot } from '../harness/run-action.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const MODELS = join(repoRoot, 'test/fixtures/models');
const NAMES: ModelGateNames = {
  model: 'input "model"',
  data: 'input "data"',
  target: 'input "target"',
  gates: 'input "gates"',
  task: 'input "task"',
  missing: 'input "missing"',
  onMissingBaseline: 'input "on-missing-baseline"',
  outputKind: 'input "output-kind"',
  threshold: 'input "threshold"',
  resamples: 'input "resamples"',
  seed: 'input "seed"',
  batchRows: 'input "batch-rows"',
  minRows: 'input "min-rows"',
  format: 'input "format"',
  environmentRepository: 'input "environment-repository"',
  deployedModel: 'input "deployed-model"',
  report: 'input "report-path"',
  outcomes: 'input "outcomes-path"',
  shard: 'input "shard"',
  merge: 'input "merge"',
};
const ports = { logger: silentLogger };

/** The torch MLP on the example holdout (114 rows), in a folder with no mlops.yaml. */
async function request(overrides: Partial<ModelGateFlowRequest> = {}): Promise<ModelGateFlowRequest> {
  return {
    cwd: await temporaryDirectory('flows-model-'),
    hostEnv: {},
    names: NAMES,
    model: join(MODELS, 'torch-mlp-logits.onnx'),
    data: example.test,
    target: 'target',
    resamples: '200',
    ...overrides,
  };
}

/** A folder whose mlops.yaml holds `model:` (and `deploy:`) settings only, no paths. */
async function project(yaml: string): Promise<string> {
  const dir = await temporaryDirectory('flows-model-project-');
  await writeFile(join(dir, 'mlops.yaml'), `version: 1\n${yaml}`);
  return dir;
}

function decided(result: ModelGateResult) {
  if (result.mode === 'shard') throw new Error('expected a decision, got a shard');
  return result;
}

describe('runModelGate: the decision behind the outputs', () => {
  it('passes a good model, writes the report, and gives the metrics and no failed gate', async () => {
    const dir = await temporaryDirectory('flows-model-');
    const reportPath = join(dir, 'reports/model-validation.json');
    const result = decided(
      await runModelGate(
        await request({ gates: ['roc_auc >= 0.9', 'accuracy >= 0.8'], report: reportPath }),
        ports,
      ),
    );
    expect(result.mode).toBe('full');
    expect(result.outputs.passed).toBe(true);
    expect(result.outputs.failedGates).toEqual([]);
    expect(result.outputs.metrics.accuracy).toBe(result.report.metrics.accuracy?.value);
    expect(result.outputs.metrics.roc_auc).toBeGreaterThan(0.9);
    expect(Object.keys(result.outputs.metrics).sort()).toEqual(Object.keys(result.report.metrics).sort());
    expect(result.reportPath).toBe(reportPath);
    expect(JSON.parse(await readFile(reportPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result.report)));
  });

  it('lists a failed gate and a gate that errored among the failed gates, and fails', async () => {
    // A slice gate on a slice the holdout does not have cannot be evaluated: an error, never a pass.
    const dir = await project(
      'model:\n  thresholds:\n    - metric: accuracy\n      min: 0.5\n      slice: "mean radius=1"\n',
    );
    const result = decided(
      await runModelGate(await request({ cwd: dir, gates: ['accuracy >= 0.999', 'roc_auc >= 0.5'] }), ports),
    );
    expect(result.outputs.passed).toBe(false);
    expect(result.reportPath).toBeUndefined();
    const statuses = Object.fromEntries(result.report.gates.map((g) => [g.expression, g.status]));
    const errored = result.report.gates.find((g) => g.status === 'error');
    expect(errored).toBeDefined();
    expect(statuses['accuracy >= 0.999']).toBe('failed');
    expect(statuses['roc_auc >= 0.5']).toBe('passed');
    expect(result.outputs.failedGates.sort()).toEqual(['accuracy >= 0.999', errored!.expression].sort());
  });
});

describe('runModelGate: full, shard or merge, chosen by the request in one place', () => {
  it('merges the outcomes of every shard into the decision of a full run on the same rows', async () => {
    const dir = await temporaryDirectory('flows-model-shards-');
    const gates = ['roc_auc >= 0.9 @interval', 'accuracy >= baseline - 0.05 @interval', 'f1 >= 0.8'];
    // (Not the forest: ONNX Runtime's tree ensembles sum probabilities differently per batch size, about 1e-9 apart.)
    const baseline = join(MODELS, 'torch-sigmoid.onnx');
    const shards: string[] = [];
    for (const k of [1, 2, 3]) {
      const outcomes = join(dir, `shard-${k}.json`);
      // A shard reads gates and writes no report: it only evaluates its rows.
      const result = await runModelGate(
        await request({ baseline, shard: `${k}/3`, outcomes, report: join(dir, 'unused.json') }),
        ports,
      );
      expect(result).toMatchObject({ mode: 'shard', shard: { index: k, count: 3 }, outcomes });
      if (result.mode === 'shard') expect(result.rows).toBe(38);
      shards.push(outcomes);
    }
    await expect(readFile(join(dir, 'unused.json'))).rejects.toThrow(/ENOENT/);
    // Without outcomes-path a shard saves its outcomes under mlops-reports/ in the working folder.
    const previous = process.cwd();
    process.chdir(dir);
    try {
      const result = await runModelGate(await request({ baseline, shard: '2/3' }), ports);
      expect(result).toMatchObject({ mode: 'shard', outcomes: 'mlops-reports/model-outcomes-2-of-3.json' });
      // The same rows' outcomes as the shard saved by outcomes-path (latencies are measured anew).
      const saved = JSON.parse(await readFile(join(dir, 'mlops-reports/model-outcomes-2-of-3.json'), 'utf8'));
      const named = JSON.parse(await readFile(shards[1], 'utf8'));
      expect([saved.shard, saved.outcomes]).toEqual([named.shard, named.outcomes]);
    } finally {
      process.chdir(previous);
    }
    // The merge job names no model or data; in a different order than the shards ran.
    const merged = decided(
      await runModelGate(
        {
          cwd: dir,
          hostEnv: {},
          names: NAMES,
          merge: [shards[2], shards[0], shards[1]],
          gates,
          resamples: '200',
          report: join(dir, 'merged.json'),
        },
        ports,
      ),
    );
    const full = decided(await runModelGate(await request({ baseline, gates }), ports));
    expect(merged.mode).toBe('merge');
    expect(merged.outputs).toEqual(full.outputs);
    for (const key of [
      'metrics',
      'baselineMetrics',
      'deltas',
      'confusionMatrix',
      'gates',
      'data',
      'passed',
    ] as const) {
      expect(merged.report[key], key).toEqual(full.report[key]);
    }
    expect(merged.report.data.rows).toBe(114);
    expect(JSON.parse(await readFile(join(dir, 'merged.json'), 'utf8')).passed).toBe(full.report.passed);
  });

  it('refuses shard settings in a merge and outcomes without a shard, naming the inputs, before any work', async () => {
    const dir = await temporaryDirectory('flows-model-modes-');
    const outcomes = join(dir, 'outcomes.json');
    const refused = async (overrides: Partial<ModelGateFlowRequest>) => {
      const error = await runModelGate(await request({ cwd: dir, ...overrides }), ports).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      locations.push((error as ConfigurationError).location);
      return (error as Error).message;
    };
    const locations: object[] = [];
    expect(await refused({ merge: [outcomes], shard: '1/2' })).toMatch(
      /^input "merge" decides on the outcomes every shard saved; input "shard" belongs to the shard jobs/,
    );
    expect(await refused({ merge: [outcomes], outcomes })).toMatch(
      /input "outcomes-path" belongs to the shard jobs/,
    );
    expect(await refused({ outcomes })).toMatch(/^input "outcomes-path" goes with input "shard"/);
    expect(await refused({ shard: '3/2' })).toMatch(/^input "shard" must be K\/N with 1 ≤ K ≤ N/);
    expect(locations.slice(0, 3)).toEqual([
      { key: 'input "shard"' },
      { key: 'input "outcomes-path"' },
      { key: 'input "outcomes-path"' },
    ]);
    // An empty merge is a merge of nothing, not a full run.
    await expect(runModelGate(await request({ merge: [] }), ports)).rejects.toThrow(
      /No shard files to merge/,
    );
    await expect(readFile(outcomes)).rejects.toThrow(/ENOENT/);
  });
});

describe('runModelGate: input, then mlops.yaml, then the built-in default', () => {
  it('applies min-rows from the config unless the input sets it, and the default without either', async () => {
    const dir = await project('model:\n  min-rows: 200\n  gates: ["accuracy >= 0.5"]\n');
    const fromConfig = decided(await runModelGate(await request({ cwd: dir }), ports));
    expect(fromConfig.report.minRows).toMatchObject({ required: 200, rows: 114, passed: false });
    expect(fromConfig.outputs.passed).toBe(false);
    const inputWins = decided(await runModelGate(await request({ cwd: dir, minRows: '100' }), ports));
    expect(inputWins.report.minRows).toMatchObject({ required: 100, passed: true });
    expect(inputWins.outputs.passed).toBe(true);
    const byDefault = decided(await runModelGate(await request({ gates: ['accuracy >= 0.5'] }), ports));
    expect(byDefault.report.minRows.required).toBe(50);
  });

  it('applies on-missing-baseline from the config unless the input sets it; gates from both count', async () => {
    const dir = await project(
      'model:\n  on-missing-baseline: fail\n  gates: ["accuracy >= baseline - 0.05"]\n',
    );
    const fromConfig = decided(
      await runModelGate(await request({ cwd: dir, gates: ['accuracy >= 0.5'] }), ports),
    );
    expect(fromConfig.report.onMissingBaseline).toBe('fail');
    expect(fromConfig.report.gates.map((g) => g.expression)).toEqual(
      expect.arrayContaining(['accuracy >= 0.5', 'accuracy >= baseline - 0.05']),
    );
    expect(fromConfig.outputs.failedGates).toEqual(['accuracy >= baseline - 0.05']);
    const inputWins = decided(
      await runModelGate(
        await request({ cwd: dir, gates: ['accuracy >= 0.5'], onMissingBaseline: 'value-only' }),
        ports,
      ),
    );
    expect(inputWins.report.onMissingBaseline).toBe('value-only');
    expect(inputWins.outputs).toMatchObject({ passed: true, failedGates: [] });
  });

  it('names a missing input in the adapter’s words and the config where it could be set', async () => {
    const dir = await project('model:\n  gates: ["accuracy >= 0.5"]\n');
    await expect(runModelGate(await request({ cwd: dir, model: undefined }), ports)).rejects.toThrow(
      /No model to validate: set input "model", or model\.model in .*mlops\.yaml/,
    );
    await expect(runModelGate(await request({ threshold: '2' }), ports)).rejects.toThrow(
      /^input "threshold" must be a probability between 0 and 1/,
    );
  });
});

describe('runModelGate: the environment baseline comes in as a port', () => {
  it('asks the port for the environment the config names, the input winning', async () => {
    const dir = await project('deploy:\n  repository: octo-org/environments\n  base: live\n');
    const asked: { source: EnvironmentBaselineSource; environment: string }[] = [];
    const environmentBaseline = (source: EnvironmentBaselineSource) => ({
      model: source.model,
      async resolve(environment: string) {
        asked.push({ source, environment });
        return { notDeployed: `${environment} runs no ${source.model} yet.` };
      },
    });
    const base = {
      cwd: dir,
      baseline: 'environment:production',
      deployedModel: 'breast-cancer',
      gates: ['accuracy >= 0.5', 'accuracy >= baseline - 0.05'],
    };
    const result = decided(await runModelGate(await request(base), { ...ports, environmentBaseline }));
    expect(asked).toEqual([
      {
        source: { repository: 'octo-org/environments', base: 'live', model: 'breast-cancer' },
        environment: 'production',
      },
    ]);
    expect(result.report.missingBaseline).toBe('production runs no breast-cancer yet.');
    expect(result.outputs.passed).toBe(true); // value-only: the change gate is reported, not failed

    await runModelGate(await request({ ...base, environmentRepository: 'octo-org/other' }), {
      ...ports,
      environmentBaseline,
    });
    expect(asked[1].source.repository).toBe('octo-org/other');

    await expect(
      runModelGate(await request({ ...base, deployedModel: undefined }), { ...ports, environmentBaseline }),
    ).rejects.toThrow(
      /needs the environment repository .* and the model's name there \(input "deployed-model"\)/,
    );
  });
});

describe('runModelGate: the default environment baseline reads the repository with the token', () => {
  let github: GitServer;
  beforeAll(async () => {
    github = await startGitServer();
    // An environment repository that runs nothing yet: read with the token, it says so.
    await github.createRepository('octo/environments', { 'README.md': 'Environments.\n' });
  });
  afterAll(() => github?.stop());

  it('sends the token to the environment repository, and cannot read it without one', async () => {
    const base = {
      baseline: 'environment:staging',
      environmentRepository: github.url('octo/environments'),
      deployedModel: 'breast-cancer',
      gates: ['accuracy >= 0.5', 'accuracy >= baseline - 0.05'],
      resamples: '0',
    };
    const result = decided(await runModelGate(await request({ ...base, token: github.token }), ports));
    expect(result.report.missingBaseline).toMatch(/staging runs no breast-cancer/);
    expect(github.requests.some((r) => r.authorization && r.status === 200)).toBe(true);

    const before = github.requests.length;
    await expect(runModelGate(await request(base), ports)).rejects.toThrow(
      new ConfigurationError(
        `The environment repository ${base.environmentRepository} cannot be read without a token (fatal: could not read Username for '${github.origin}': terminal prompts disabled). Pass a token with contents: read on that repository (a public repository needs none).`,
      ),
    );
    const anonymous = github.requests.slice(before);
    expect(anonymous.length).toBeGreaterThan(0);
    expect(anonymous.every((r) => !r.authorization)).toBe(true);

    await expect(runModelGate(await request({ ...base, token: 'ghs_wrong' }), ports)).rejects.toThrow(
      /^The environment repository \S+ refused the token \(.*\)\. Reading it needs a token with contents: read on that repository\.$/,
    );
  });
});

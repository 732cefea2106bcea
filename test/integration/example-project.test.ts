/**
 * templates/example-project, the ML project the workflow templates run on, as a user runs it in a
 * copy of its own: its unit tests pass on plain Node, training writes an ONNX model that ONNX
 * Runtime computes exactly as the TypeScript trainer does, and our config loader, data gate and
 * model gate (the built CLI) accept the project as it is, including against a weaker baseline
 * with the same signature (and reject that baseline as a candidate).
 */
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/config.ts';
import { planModelIo } from '../../src/core/model/model-io.ts';
import { inspectOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { parseNumericCsv, splitTarget } from '../../templates/example-project/src/features.ts';
import {
  predictProba,
  trainLogisticRegression,
} from '../../templates/example-project/src/logistic-regression.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const source = join(repoRoot, 'templates/example-project');
const cli = join(repoRoot, 'dist/cli/index.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Node 24 (the one running the tests: the project needs its type stripping) in `cwd`. */
async function node(cwd: string, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd,
      maxBuffer: 32 << 20,
      // The project's tests must not inherit vitest's environment (NODE_OPTIONS, VITEST…).
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const mlops = (cwd: string, ...args: string[]) => node(cwd, cli, ...args);

interface GateResult {
  metric: string;
  expression: string;
  status: 'passed' | 'failed' | 'skipped' | 'error';
}

let project: string;
let training: Run;
beforeAll(async () => {
  project = await temporaryDirectory('mlops-example-project-');
  // What a user clones: the sources and data, not a model left over from a local run.
  await cp(source, project, {
    recursive: true,
    filter: (path) => !/[/\\](build|node_modules)$/.test(path),
  });
  training = await node(project, 'train/train.ts');
});

describe('the example project on its own', () => {
  it('needs nothing but Node 24: package.json has the two scripts and no dependencies', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    expect(manifest).toEqual({
      name: 'example-ml-project',
      private: true,
      type: 'module',
      engines: { node: '>=24' },
      scripts: { test: 'node --test', train: 'node train/train.ts' },
    });
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('passes its unit tests (npm test = node --test)', async () => {
    const run = await node(project, '--test');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Both reporters (spec: "ℹ tests 29", TAP: "# tests 29") print the count; zero tests is no pass.
    const count = Number(/tests (\d+)/.exec(run.stdout)?.[1]);
    expect(count).toBeGreaterThanOrEqual(20);
    expect(run.stdout).toMatch(/fail 0/);
  });

  it('trains (npm run train) and writes build/model.onnx atomically with a one-line summary', async () => {
    expect(training.code, training.stderr).toBe(0);
    expect(training.stdout).toMatch(
      /^trained on 455 rows × 30 features: \d+ Newton iterations \(converged\), training log-loss 0\.\d{4}, l2 0\.01 → build\/model\.onnx \(\d+ bytes\)\n$/,
    );
    const size = Number(/\((\d+) bytes\)/.exec(training.stdout)?.[1]);
    expect((await stat(join(project, 'build/model.onnx'))).size).toBe(size);
    expect(await readdir(join(project, 'build'))).toEqual(['model.onnx']); // no temporary file left
  });

  it('reports mistakes in arguments and data with exit code 2, naming the line and column', async () => {
    const missing = await node(project, 'train/train.ts', '--data', 'data/nope.csv');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read --data data\/nope\.csv/);

    const lines = (await readFile(join(project, 'data/train.csv'), 'utf8')).split('\n');
    lines[3] = lines[3].replace(/^[^,]+/, 'n/a');
    await writeFile(join(project, 'broken.csv'), lines.join('\n'));
    const broken = await node(
      project,
      'train/train.ts',
      '--data',
      'broken.csv',
      '--out',
      'build/broken.onnx',
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.csv, line 4, column "mean radius": "n/a" is not a finite number');

    const iterations = await node(project, 'train/train.ts', '--iterations', '0', '--out', 'build/x.onnx');
    expect(iterations.code).toBe(2);
    expect(iterations.stderr).toMatch(/--iterations must be a positive integer/);
    const flag = await node(project, 'train/train.ts', '--itrations', '3');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/usage: node train\/train\.ts/);
    for (const name of ['broken.onnx', 'x.onnx']) {
      await expect(stat(join(project, 'build', name))).rejects.toThrow();
    }
  });
});

describe('the trained model', () => {
  it('gives in ONNX Runtime the probabilities of the TypeScript predictProba on data/test.csv (1e-5)', async () => {
    const path = join(project, 'build/model.onnx');
    const info = await inspectOnnxModel(path);
    // The same training, in process: the settings come from the model's own metadata.
    expect(info.metadata.l2).toBe('0.01');
    const train = splitTarget(
      parseNumericCsv(await readFile(join(project, 'data/train.csv'), 'utf8'), 'train.csv'),
      'target',
    );
    const { model, fit } = trainLogisticRegression(train, {
      l2: Number(info.metadata.l2),
      maxIterations: 100,
    });
    expect(String(fit.iterations)).toBe(info.metadata.iterations);
    expect(JSON.parse(info.metadata.features)).toEqual(train.featureNames);

    const test = splitTarget(
      parseNumericCsv(await readFile(join(project, 'data/test.csv'), 'utf8'), 'test.csv'),
      'target',
    );
    const expected = predictProba(model, test.features);
    const ort = await loadOnnxRuntime();
    const session = await createOnnxSession(path);
    const rows = test.features.length;
    const input = new ort.Tensor('float32', Float32Array.from(test.features.flat()), [rows, 30]);
    const result = await session.run({ features: input });
    expect(result.probabilities.dims).toEqual([rows, 2]);
    expect(result.label.dims).toEqual([rows]);
    const probabilities = result.probabilities.data as Float32Array;
    const labels = result.label.data as BigInt64Array;
    let largest = 0;
    for (let i = 0; i < rows; i++) {
      largest = Math.max(
        largest,
        Math.abs(probabilities[2 * i + 1] - expected[i]),
        Math.abs(probabilities[2 * i] - (1 - expected[i])),
      );
      expect(labels[i]).toBe(probabilities[2 * i + 1] >= 0.5 ? 1n : 0n);
    }
    expect(largest).toBeLessThanOrEqual(1e-5);
    // Not a constant model: the holdout gets confident answers both ways.
    expect(Math.min(...expected)).toBeLessThan(0.01);
    expect(Math.max(...expected)).toBeGreaterThan(0.99);
  });

  it('is what the model gate expects without extra configuration', async () => {
    const info = await inspectOnnxModel(join(project, 'build/model.onnx'));
    expect(info.irVersion).toBe(8);
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(info.producerName).toBe('example-ml-project');
    expect(info.docString).toMatch(/logistic regression/i);
    const contract = JSON.parse(await readFile(join(project, 'data/contract.json'), 'utf8'));
    const header = (await readFile(join(project, 'data/test.csv'), 'utf8')).split('\n')[0].split(',');
    const plan = planModelIo(info, header, {
      target: 'target',
      contractColumns: Object.keys(contract.properties),
    });
    expect(plan.output).toMatchObject({
      task: 'binary',
      name: 'probabilities',
      kind: 'probabilities',
      classes: [0, 1],
    });
    expect(plan.features).toEqual(header.filter((column) => column !== 'target'));
  });
});

describe('our gates on the project', () => {
  it('loads mlops.yaml through the config loader, and its paths exist', async () => {
    const loaded = await loadConfig(join(project, 'mlops.yaml'));
    expect(loaded.config.data?.target).toBe('target');
    expect(loaded.config.model?.gates).toEqual([
      'roc_auc >= 0.97',
      'f1_macro >= baseline - 0.01',
      'log_loss <= baseline * 1.10 @interval',
    ]);
    expect(loaded.config.model?.['on-missing-baseline']).toBe('value-only');
    const data = loaded.config.data ?? {};
    for (const path of [data.data, data.reference, data.train, data.contract]) {
      expect(path).toBeDefined();
      await stat(loaded.resolvePath(path as string));
    }
    expect(loaded.resolvePath(loaded.config.model?.model as string)).toBe(join(project, 'build/model.onnx'));
  });

  it('the data gate passes (mlops validate-data --config mlops.yaml)', async () => {
    const run = await mlops(project, 'validate-data', '--config', 'mlops.yaml', '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.passed).toBe(true);
  });

  it('the model gate passes with the project gates, without a baseline (change gates skipped)', async () => {
    const run = await mlops(
      project,
      'validate-model',
      '--config',
      'mlops.yaml',
      '--report',
      'build/model.json',
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const metric of ['roc_auc', 'f1_macro', 'log_loss']) expect(run.stdout).toContain(metric);
    const report = JSON.parse(await readFile(join(project, 'build/model.json'), 'utf8'));
    expect(report.passed).toBe(true);
    expect(report.output.name).toBe('probabilities');
    expect(report.metrics.roc_auc.value).toBeGreaterThan(0.97);
    expect(report.gates.map((g: GateResult) => [g.metric, g.status])).toEqual([
      ['roc_auc', 'passed'],
      ['f1_macro', 'skipped'],
      ['log_loss', 'skipped'],
    ]);
    expect(report.budgets.every((b: { passed: boolean }) => b.passed)).toBe(true);
  });

  it('against a weaker baseline with the same signature the change gates pass; swapped, they fail', async () => {
    const weaker = await node(project, 'train/train.ts', '--iterations', '1', '--out', 'build/baseline.onnx');
    expect(weaker.code, weaker.stderr).toBe(0);
    expect(weaker.stdout).toMatch(/1 Newton iteration, /);
    const baseline = await inspectOnnxModel(join(project, 'build/baseline.onnx'));
    const candidate = await inspectOnnxModel(join(project, 'build/model.onnx'));
    expect(baseline.inputs).toEqual(candidate.inputs);
    expect(baseline.outputs).toEqual(candidate.outputs);

    const better = await mlops(
      project,
      'validate-model',
      '--config',
      'mlops.yaml',
      '--baseline',
      'build/baseline.onnx',
      '--report',
      'build/vs-baseline.json',
    );
    expect(better.code, better.stdout + better.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(project, 'build/vs-baseline.json'), 'utf8'));
    expect(report.gates.map((g: GateResult) => g.status)).toEqual(['passed', 'passed', 'passed']);
    expect(report.metrics.log_loss.value).toBeLessThan(report.baselineMetrics.log_loss.value);

    const worse = await mlops(
      project,
      'validate-model',
      '--config',
      'mlops.yaml',
      '--model',
      'build/baseline.onnx',
      '--baseline',
      'build/model.onnx',
      '--json',
    );
    expect(worse.code, worse.stderr).toBe(1);
    const failed = JSON.parse(worse.stdout);
    const failedMetrics = failed.gates
      .filter((g: GateResult) => g.status === 'failed')
      .map((g: GateResult) => g.metric);
    expect(failedMetrics).toEqual(['f1_macro', 'log_loss']);
  });
});

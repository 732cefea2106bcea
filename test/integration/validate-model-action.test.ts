/**
 * The bundled validate-model action (run as the runner runs it, test/harness) and the built
 * `mlops validate-model` CLI, on real torch-exported and scikit-learn-shaped models.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../src/core/schemas/model-validation-report.schema.json' with { type: 'json' };
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const models = join(repoRoot, 'test/fixtures/models');
const holdout = join(repoRoot, 'templates/example/data/test.csv');
const validateReport = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

describe('validate-model action (bundle)', () => {
  it('passes a better candidate against its baseline, with outputs, report and summary', async () => {
    const run = await runAction('validate-model', {
      inputs: {
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: join(models, 'sklearn-forest.onnx'),
        data: holdout,
        target: 'target',
        gates: 'roc_auc >= 0.95\n# a comment line is ignored\nlog_loss <= baseline * 1.05\n',
        resamples: '200',
      },
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      passed: 'true',
      'report-path': 'mlops-reports/model-validation.json',
      'failed-gates': '[]',
    });
    const metrics = JSON.parse(run.outputs.metrics);
    expect(metrics.roc_auc).toBeGreaterThan(0.99);
    const report = JSON.parse(readFileSync(join(run.workspace, run.outputs['report-path']), 'utf8'));
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    expect(report).toMatchObject({ kind: 'model-validation', version: 2, passed: true, task: 'binary' });
    expect(report.output.inferredFrom).toMatch(/ZipMap/);
    expect(report.bootstrap).toMatchObject({ resamples: 200, paired: true, stratified: true });
    expect(run.summary).toContain('```mermaid');
    expect(run.summary).toContain('log_loss');
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });

  it('fails a worse candidate with the gate reason as the error', async () => {
    const run = await runAction('validate-model', {
      inputs: {
        model: join(models, 'sklearn-forest.onnx'),
        baseline: join(models, 'sklearn-logreg-zipmap.onnx'),
        data: holdout,
        target: 'target',
        gates: 'log_loss <= baseline * 1.05',
        resamples: '0',
        'report-path': 'out/model.json',
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(JSON.parse(run.outputs['failed-gates'])).toEqual(['log_loss <= baseline + 5%']);
    const errors = run.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/Model gate failed: log_loss rose by .* out\/model\.json/);
    const report = JSON.parse(readFileSync(join(run.workspace, 'out/model.json'), 'utf8'));
    expect(report.bootstrap).toBeNull();
  });

  it('lists a gate that could not be evaluated among the failed gates, and fails on it alone', async () => {
    // Without resamples there is no interval, so an @interval gate errors: never a pass.
    const inputs = {
      model: join(models, 'sklearn-logreg-zipmap.onnx'),
      data: holdout,
      target: 'target',
      resamples: '0',
    };
    const run = await runAction('validate-model', {
      inputs: { ...inputs, gates: 'roc_auc >= 0.5\nroc_auc >= 0.95 @interval\naccuracy >= 0.999' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(JSON.parse(run.outputs['failed-gates'])).toEqual([
      'roc_auc >= 0.95 @interval',
      'accuracy >= 0.999',
    ]);
    const report = JSON.parse(readFileSync(join(run.workspace, run.outputs['report-path']), 'utf8'));
    expect(
      Object.fromEntries(
        report.gates.map((g: { expression: string; status: string }) => [g.expression, g.status]),
      ),
    ).toEqual({
      'roc_auc >= 0.5': 'passed',
      'roc_auc >= 0.95 @interval': 'error',
      'accuracy >= 0.999': 'failed',
    });
    const alone = await runAction('validate-model', {
      inputs: { ...inputs, gates: 'roc_auc >= 0.95 @interval' },
    });
    expect(alone.exitCode).toBe(1);
    expect(alone.outputs).toMatchObject({ passed: 'false', 'failed-gates': '["roc_auc >= 0.95 @interval"]' });
  });

  it('runs shard jobs and a merge job, as a matrix workflow does', async () => {
    const shardFiles: string[] = [];
    for (const k of [1, 2]) {
      const run = await runAction('validate-model', {
        inputs: {
          model: join(models, 'torch-mlp-logits.onnx'),
          data: holdout,
          target: 'target',
          shard: `${k}/2`,
        },
      });
      expect(run.exitCode).toBe(0);
      expect(run.outputs['outcomes-path']).toBe(`mlops-reports/model-outcomes-${k}-of-2.json`);
      expect(run.outputs.passed).toBeUndefined();
      shardFiles.push(join(run.workspace, run.outputs['outcomes-path']));
    }
    const merge = await runAction('validate-model', {
      inputs: { merge: shardFiles.join('\n'), gates: 'roc_auc >= 0.95', resamples: '200' },
    });
    expect(merge.exitCode).toBe(0);
    expect(merge.outputs.passed).toBe('true');
    const report = JSON.parse(readFileSync(join(merge.workspace, merge.outputs['report-path']), 'utf8'));
    expect(report.data.rows).toBe(114);
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
  });

  it('reports bad input as one configuration error, never as a failed gate', async () => {
    const run = await runAction('validate-model', {
      inputs: {
        model: join(models, 'torch-mlp-logits.onnx'),
        data: holdout,
        target: 'target',
        gates: 'roc_auc >= 0.9\nauc >= 0.9',
      },
    });
    expect(run.exitCode).toBe(1);
    const errors = run.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].title).toBe('Configuration error');
    expect(errors[0].message).toMatch(/auc/);
    expect(errors[0].message).toMatch(/roc_auc/);
    expect(run.outputs.passed).toBeUndefined();
  });
});

const mlops = (...args: string[]) => runCli(args);

describe('mlops validate-model (CLI)', () => {
  it('evaluates a multiclass ZipMap model and a regression ensemble; exit codes 0 and 1', async () => {
    const iris = await mlops(
      'validate-model',
      '--model',
      join(models, 'sklearn-multiclass-zipmap.onnx'),
      '--data',
      join(models, 'iris-test.csv'),
      '--target',
      'class',
      '--gate',
      'accuracy >= 0.9',
      '--min-rows',
      '40',
      '--json',
    );
    expect(iris.code).toBe(0);
    const report = JSON.parse(iris.stdout);
    expect(report.task).toBe('multiclass');
    expect(report.confusionMatrix.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(report.confusionMatrix.matrix).toEqual([
      [15, 0, 0],
      [0, 15, 0],
      [0, 1, 14],
    ]);

    const dir = await temporaryDirectory();
    const reportPath = join(dir, 'gbr.json');
    const gbr = await mlops(
      'validate-model',
      '--model',
      join(models, 'sklearn-gbr.onnx'),
      '--baseline',
      join(models, 'sklearn-linear-regression.onnx'),
      '--data',
      join(models, 'diabetes-test.csv'),
      '--target',
      'progression',
      '--gate',
      'rmse <= 60 @interval',
      '--gate',
      'r2 >= baseline',
      '--report',
      reportPath,
    );
    expect(gbr.code).toBe(1);
    expect(gbr.stdout).toMatch(/FAILED/);
    expect(gbr.stdout).toMatch(/r2 fell by/);
    const saved = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(validateReport(saved), JSON.stringify(validateReport.errors)).toBe(true);

    // A saved report is a baseline too (values only, no paired intervals).
    const again = await mlops(
      'validate-model',
      '--model',
      join(models, 'sklearn-linear-regression.onnx'),
      '--baseline',
      reportPath,
      '--data',
      join(models, 'diabetes-test.csv'),
      '--target',
      'progression',
      '--gate',
      'rmse <= baseline',
      '--json',
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).baseline).toMatchObject({ report: true, sameData: true });
  });

  it("evaluates shards on separate runs and merges them into the single run's exact result", async () => {
    const dir = await temporaryDirectory();
    const pair = [
      '--model',
      join(models, 'sklearn-logreg-zipmap.onnx'),
      '--baseline',
      join(models, 'torch-sigmoid.onnx'),
    ];
    const common = [...pair, '--data', holdout, '--target', 'target'];
    const shards = await Promise.all(
      [1, 2, 3].map(async (k) => {
        const file = join(dir, `shard-${k}.json`);
        const run = await mlops(
          'validate-model',
          ...common,
          '--shard',
          `${k}/3`,
          '--save-outcomes',
          file,
          '--json',
        );
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ shard: { index: k, count: 3 }, rows: 38 });
        return file;
      }),
    );
    const gates = ['--gate', 'roc_auc >= 0.95', '--gate', 'accuracy >= baseline @interval'];
    // Any order of the files.
    const merged = await mlops(
      'validate-model',
      'merge',
      shards[2],
      shards[0],
      shards[1],
      ...gates,
      '--json',
    );
    const single = await mlops('validate-model', ...common, ...gates, '--json');
    expect(merged.code).toBe(single.code);
    const [a, b] = [JSON.parse(merged.stdout), JSON.parse(single.stdout)];
    for (const key of [
      'metrics',
      'baselineMetrics',
      'deltas',
      'confusionMatrix',
      'gates',
      'data',
      'roc',
      'passed',
    ]) {
      expect(a[key], key).toEqual(b[key]);
    }

    const missing = await mlops('validate-model', 'merge', shards[0], shards[2], ...gates);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Shards 2\/3 are missing/);
    const twice = await mlops('validate-model', 'merge', shards[0], shards[0], shards[1], ...gates);
    expect(twice.stderr).toMatch(/Shard 1\/3 is given twice/);
    const other = join(dir, 'other.json');
    await mlops(
      'validate-model',
      '--model',
      join(models, 'torch-mlp-logits.onnx'),
      '--data',
      holdout,
      '--target',
      'target',
      '--shard',
      '2/3',
      '--save-outcomes',
      other,
    );
    const mixed = await mlops('validate-model', 'merge', shards[0], other, shards[2], ...gates);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/does not belong with .*candidate model \(sha256\)/);
    const badShard = await mlops('validate-model', ...common, '--shard', '4/3', '--save-outcomes', other);
    expect(badShard.stderr).toMatch(/--shard must be K\/N with 1 ≤ K ≤ N/);
  });

  it('usage errors exit 2 and list what is valid', async () => {
    const unknown = await mlops(
      'validate-model',
      '--model',
      join(models, 'torch-mlp-logits.onnx'),
      '--data',
      holdout,
      '--target',
      'target',
      '--gate',
      'rocauc >= 0.9',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/roc_auc/);
    const strict = await mlops(
      'validate-model',
      '--model',
      join(models, 'torch-mlp-logits.onnx'),
      '--data',
      holdout,
      '--target',
      'target',
      '--gate',
      'roc_auc > 0.9',
    );
    expect(strict.code).toBe(2);
    const dir = await temporaryDirectory();
    const notOnnx = join(dir, 'model.onnx');
    await writeFile(notOnnx, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    const lfs = await mlops(
      'validate-model',
      '--model',
      notOnnx,
      '--data',
      holdout,
      '--target',
      'target',
      '--gate',
      'roc_auc >= 0.9',
    );
    expect(lfs.code).toBe(2);
    expect(lfs.stderr).toMatch(/is not an ONNX model/);
  });
});

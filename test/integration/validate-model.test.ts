/**
 * The model gate's engine on real models (torch exports and scikit-learn-shaped ai.onnx.ml graphs,
 * made by scripts/fixtures/make-model-fixtures.py) run by onnxruntime-node: outputs match the
 * training framework, metrics match sklearn's on the framework's predictions, the gate decides,
 * and every bad input is a clear error, never a pass.
 */
import { readFileSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { openTable } from '../../src/core/data/open-table.ts';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import { evaluateModels } from '../../src/core/model/evaluate-model.ts';
import { parseGateExpression } from '../../src/core/model/gates.ts';
import { planModelIo } from '../../src/core/model/model-io.ts';
import { inspectOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { createOnnxSession } from '../../src/core/model/onnx-session.ts';
import type { ClassificationOutcomes, RegressionOutcomes } from '../../src/core/model/outcomes.ts';
import { readTargetKind } from '../../src/core/model/target-kind.ts';
import { type ValidateModelOptions, validateModel } from '../../src/core/model/validate-model.ts';
import { summarizeModelReport } from '../../src/core/report/model-summary.ts';
import schema from '../../src/core/schemas/model-validation-report.schema.json' with { type: 'json' };
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

interface ExpectedModel {
  file: string;
  data: string;
  task: 'binary' | 'multiclass' | 'regression';
  target: string;
  features: string[];
  classes: (string | number)[] | null;
  rows: number;
  expected: Record<string, { shape: number[]; data: number[] | number[][] }>;
  metrics: Record<string, number>;
}

const fixtures: { models: ExpectedModel[] } = JSON.parse(
  readFileSync(join(repoRoot, 'test/fixtures/models/expected.json'), 'utf8'),
);
const at = (path: string) => join(repoRoot, path);
const models = join(repoRoot, 'test/fixtures/models');
const breastCancer = join(repoRoot, 'templates/example/data/test.csv');
const silent = { info() {}, warning() {}, debug() {} };
const validateReport = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

const gates = (...expressions: string[]) => expressions.map(parseGateExpression);

function options(overrides: Partial<ValidateModelOptions>): ValidateModelOptions {
  return {
    model: join(models, 'torch-mlp-logits.onnx'),
    data: breastCancer,
    target: 'target',
    gates: gates('accuracy >= 0.5'),
    bootstrap: { resamples: 200 },
    latency: false,
    ...overrides,
  };
}

/** Flattens nested arrays of numbers. */
const flat = (value: { data: number[] | number[][] }): number[] =>
  (value.data as (number | number[])[]).flat();

describe('evaluation of real models', () => {
  for (const fixture of fixtures.models) {
    it(`${fixture.file.split('/').pop()}: outputs match the framework, metrics match sklearn`, async () => {
      const path = at(fixture.file);
      const info = await inspectOnnxModel(path);
      const reader = await openTable(at(fixture.data), { batchRows: 37 }); // several batches, a ragged last one
      // The task comes from the model and, for one float output column, from the labels.
      const targetKind = await readTargetKind(at(fixture.data), fixture.target, undefined);
      expect(targetKind).toBe(fixture.task === 'regression' ? 'real' : 'classes');
      const plan = planModelIo(info, reader.columns, { target: fixture.target, targetKind });
      expect(plan.output.task).toBe(fixture.task);
      expect(plan.features).toEqual(fixture.features);
      const bytes = plan.output.exposeOutputs.length
        ? (await import('../../src/core/model/onnx-edit.ts')).addGraphOutputs(
            new Uint8Array(await readFile(path)),
            plan.output.exposeOutputs,
          )
        : undefined;
      const session = await createOnnxSession(path, bytes);
      const result = await evaluateModels(
        reader,
        { candidate: { role: 'candidate', path, session, plan } },
        { target: fixture.target, missing: 'error', threshold: 0.5 },
      );
      expect(result.rows).toBe(fixture.rows);

      // The framework's own outputs, through whatever the gate reads (logits → softmax etc.).
      if (fixture.task === 'regression') {
        const outcomes = result.outcomes.candidate as RegressionOutcomes;
        const expected = flat(Object.values(fixture.expected)[0]);
        expected.forEach((value, i) => {
          expect(Math.abs(outcomes.predictions[i] - value)).toBeLessThanOrEqual(
            1e-5 * Math.max(1, Math.abs(value)),
          );
        });
      } else {
        const outcomes = result.outcomes.candidate as ClassificationOutcomes;
        expect(outcomes.classes).toEqual(fixture.classes);
        const k = outcomes.classes.length;
        const raw = flat(fixture.expected[plan.output.name] ?? Object.values(fixture.expected)[0]);
        const probabilities =
          raw.length === fixture.rows
            ? raw.flatMap((p) => [1 - p, p])
            : softmaxIfLogits(raw, k, plan.output.kind);
        probabilities.forEach((value, i) => {
          expect(Math.abs(outcomes.probabilities[i] - value)).toBeLessThanOrEqual(2e-6);
        });
      }

      // Metrics of the whole gate against sklearn's on the framework's predictions: the inputs
      // differ by float32 rounding (~1e-7), so the comparison allows for that, not more.
      const report = await validateModel(
        options({
          model: path,
          data: at(fixture.data),
          target: fixture.target,
          gates: gates(fixture.task === 'regression' ? 'rmse <= 1000' : 'accuracy >= 0.5'),
          minRows: 10,
        }),
        silent,
      );
      expect(validateReport(JSON.parse(JSON.stringify(report))), JSON.stringify(validateReport.errors)).toBe(
        true,
      );
      for (const [name, value] of Object.entries(fixture.metrics)) {
        const actual = report.metrics[name as keyof typeof report.metrics]?.value as number;
        expect(Math.abs(actual - value), name).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(value)));
      }
    });
  }
});

function softmaxIfLogits(values: number[], k: number, kind: string | undefined): number[] {
  if (kind !== 'logits') return values;
  const out: number[] = [];
  for (let row = 0; row < values.length; row += k) {
    const slice = values.slice(row, row + k);
    const max = Math.max(...slice);
    const exps = slice.map((v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    out.push(...exps.map((e) => e / sum));
  }
  return out;
}

describe('the gate decides', () => {
  it('passes a better candidate and fails a worse one, with intervals and reasons', async () => {
    const better = await validateModel(
      options({
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: join(models, 'sklearn-forest.onnx'),
        gates: gates(
          'roc_auc >= 0.95',
          'log_loss <= baseline * 1.05',
          'accuracy >= baseline - 0.01 @interval',
        ),
      }),
      silent,
    );
    expect(better.passed).toBe(true);
    expect(better.gates.map((g) => g.status)).toEqual(['passed', 'passed', 'passed']);
    expect(better.deltas?.log_loss?.value).toBeLessThan(0);
    const [low, high] = better.metrics.roc_auc?.interval ?? [];
    expect(low).toBeLessThanOrEqual(better.metrics.roc_auc?.value as number);
    expect(high).toBeGreaterThanOrEqual(better.metrics.roc_auc?.value as number);

    // Swapped: the forest is the candidate, the logistic regression the baseline.
    const worse = await validateModel(
      options({
        model: join(models, 'sklearn-forest.onnx'),
        baseline: join(models, 'sklearn-logreg-zipmap.onnx'),
        gates: gates('roc_auc >= 0.95', 'log_loss <= baseline * 1.05'),
      }),
      silent,
    );
    expect(worse.passed).toBe(false);
    const failed = worse.gates.find((g) => g.status === 'failed');
    expect(failed?.metric).toBe('log_loss');
    expect(failed?.reason).toMatch(/log_loss rose by [\d.]+%.*more than max-increase 5%/);
    // Failed gates come first.
    expect(worse.gates[0].status).toBe('failed');
  });

  it('resamples blocks of rows through metric states on a large holdout', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'large.csv');
    const [header, ...rows] = readFileSync(breastCancer, 'utf8').trim().split('\n');
    // 900 copies of the holdout: 102,600 rows, above the block bootstrap's threshold.
    await writeFile(data, `${header}\n${Array.from({ length: 900 }, () => rows.join('\n')).join('\n')}\n`);
    const report = await validateModel(
      options({
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: join(models, 'sklearn-forest.onnx'),
        data,
        gates: gates('roc_auc >= 0.95', 'log_loss <= baseline @interval'),
      }),
      silent,
    );
    expect(report.data.rows).toBe(102_600);
    expect(report.bootstrap).toMatchObject({
      unit: 'blocks',
      paired: true,
      stratified: true,
      resamples: 200,
    });
    for (const name of ['accuracy', 'roc_auc', 'log_loss', 'average_precision'] as const) {
      const { value, interval } = report.metrics[name] ?? {};
      expect(interval?.[0]).toBeLessThanOrEqual(value as number);
      expect(interval?.[1]).toBeGreaterThanOrEqual(value as number);
      // 900× the rows: intervals ~30× narrower than on the 114-row holdout, yet not collapsed.
      expect((interval?.[1] ?? 0) - (interval?.[0] ?? 0)).toBeGreaterThan(0);
      expect((interval?.[1] ?? 1) - (interval?.[0] ?? 0)).toBeLessThan(0.01);
    }
    expect(report.deltas?.log_loss?.interval?.[1]).toBeLessThan(0);
    expect(report.passed).toBe(true);
  });

  it('gives the same intervals for the same seed and different ones for another', async () => {
    const run = (seed: number) => validateModel(options({ bootstrap: { resamples: 200, seed } }), silent);
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    expect(a.metrics.roc_auc?.interval).toEqual(b.metrics.roc_auc?.interval);
    expect(a.metrics.log_loss?.interval).not.toEqual(c.metrics.log_loss?.interval);
  });

  it('never passes without gates, and on-missing-baseline decides change gates without a baseline', async () => {
    await expect(validateModel(options({ gates: [] }), silent)).rejects.toThrow(/No gates are configured/);
    const valueOnly = await validateModel(
      options({ gates: gates('accuracy >= 0.9', 'f1_macro >= baseline - 0.01') }),
      silent,
    );
    expect(valueOnly.passed).toBe(true);
    expect(valueOnly.gates.find((g) => g.rule === 'max-decrease')?.status).toBe('skipped');
    const failing = await validateModel(
      options({ gates: gates('accuracy >= 0.9', 'f1_macro >= baseline - 0.01'), onMissingBaseline: 'fail' }),
      silent,
    );
    expect(failing.passed).toBe(false);
  });

  it('enforces the minimum holdout size, and reports slices with their sizes', async () => {
    const report = await validateModel(
      options({
        model: join(models, 'sklearn-multiclass-zipmap.onnx'),
        data: join(models, 'iris-test.csv'),
        target: 'class',
        slices: { columns: ['class'], minRows: 10 },
        gates: [
          parseGateExpression('accuracy >= 0.9'),
          { ...parseGateExpression('recall_macro >= 0.9'), slice: 'class' },
        ],
      }),
      silent,
    );
    expect(report.minRows).toEqual({ required: 50, rows: 45, passed: false, sliceRequired: 10 });
    expect(report.passed).toBe(false);
    expect(report.slices.map((s) => [s.value, s.rows])).toEqual([
      ['setosa', 15],
      ['versicolor', 15],
      ['virginica', 15],
    ]);
    // Within one true class, recall is that class's share predicted right (1 of 15 virginica missed).
    expect(report.slices.find((s) => s.value === 'virginica')?.metrics.accuracy).toBeCloseTo(14 / 15, 12);
    expect(report.gates.filter((g) => g.slice?.startsWith('class='))).toHaveLength(3);
  });

  it('cuts a numeric column into buckets and gates each bucket', async () => {
    const report = await validateModel(
      options({
        model: join(models, 'sklearn-gbr.onnx'),
        data: join(models, 'diabetes-test.csv'),
        target: 'progression',
        slices: { buckets: { age: [40, 60] }, minRows: 20 },
        gates: [parseGateExpression('rmse <= 1000'), { ...parseGateExpression('mae <= 45'), slice: 'age' }],
      }),
      silent,
    );
    const ages = readFileSync(join(models, 'diabetes-test.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => Number(line.split(',')[0]));
    const expected = [
      ['< 40', ages.filter((a) => a < 40).length],
      ['[40, 60)', ages.filter((a) => a >= 40 && a < 60).length],
      ['≥ 60', ages.filter((a) => a >= 60).length],
    ];
    expect(report.slices.map((s) => [s.value, s.rows])).toEqual(expected);
    const sliceGates = report.gates.filter((g) => g.slice?.startsWith('age='));
    expect(sliceGates).toHaveLength(3);
    // Each slice gate is decided on that slice's own value.
    for (const gate of sliceGates) {
      const slice = report.slices.find((s) => `age=${s.value}` === gate.slice);
      expect(gate.value).toBe(slice?.metrics.mae);
      expect(gate.status).toBe((slice?.metrics.mae as number) <= 45 ? 'passed' : 'failed');
    }
  });

  it('fails a model whose outputs drifted from the golden file (parity)', async () => {
    const golden = { path: join(models, 'torch-mlp.golden.json') };
    const same = await validateModel(options({ golden }), silent);
    expect(same.parity).toMatchObject({ passed: true, mismatches: 0, rows: 20 });
    const drifted = await validateModel(
      options({ model: join(models, 'torch-mlp-drifted.onnx'), golden }),
      silent,
    );
    expect(drifted.passed).toBe(false);
    expect(drifted.parity?.passed).toBe(false);
    expect(drifted.parity?.worst[0].absDiff).toBeCloseTo(0.05, 4);
  });

  it('measures latency and checks budgets', async () => {
    const report = await validateModel(
      options({ latency: true, budgets: { latencyP95Ms: 10_000, sizeBytes: 10 } }),
      silent,
    );
    expect(report.latency?.runs).toBe(200);
    expect(report.latency?.p50Ms).toBeGreaterThan(0);
    expect(report.latency?.p99Ms).toBeGreaterThanOrEqual(report.latency?.p50Ms as number);
    expect(report.budgets.map((b) => [b.budget, b.passed])).toEqual([
      ['latency-p95-ms', true],
      ['size-bytes', false],
    ]);
    expect(report.passed).toBe(false);
  });
});

describe('bad input is a clear error, never a pass', () => {
  const expectError = async (
    overrides: Partial<ValidateModelOptions>,
    pattern: RegExp,
    type = ConfigurationError,
  ) => {
    const error = await validateModel(options(overrides), silent).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(pattern);
  };

  it('not an ONNX file, or a truncated one', async () => {
    await expectError({ model: breastCancer }, /is not an ONNX model/, InputError);
    const dir = await temporaryDirectory();
    const truncated = join(dir, 'truncated.onnx');
    const bytes = await readFile(join(models, 'torch-mlp-logits.onnx'));
    await writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await expectError({ model: truncated }, /truncated\.onnx is not an ONNX model/, InputError);
  });

  it('a feature count that does not match names what is missing', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'fewer.csv');
    const lines = readFileSync(breastCancer, 'utf8').trim().split('\n');
    // Drop `mean perimeter` (the third column).
    await writeFile(
      data,
      `${lines
        .map((l) =>
          l
            .split(',')
            .filter((_, j) => j !== 2)
            .join(','),
        )
        .join('\n')}\n`,
    );
    const contract = join(repoRoot, 'templates/example/contract.json');
    await expectError(
      { data, contract },
      /expects 30 features \(input `input`\), the data has 29 .*: missing from the data: `mean perimeter`/,
    );
  });

  it('per-column inputs that match no column, and explicit features that do not exist', async () => {
    const perColumn = join(models, 'per-column-regression.onnx');
    await expectError(
      { model: perColumn, gates: gates('rmse <= 100') },
      /has inputs `age`, `bmi`, `bp`; input `age` matches no data column/,
    );
    // A column renamed in the data: the message suggests the closest one.
    const dir = await temporaryDirectory();
    const data = join(dir, 'renamed.csv');
    await writeFile(data, readFileSync(join(models, 'diabetes-test.csv'), 'utf8').replace(/^age,/, 'agee,'));
    await expectError(
      { model: perColumn, data, target: 'progression', gates: gates('rmse <= 100') },
      /input `age` matches no data column\. Did you mean "agee"\?/,
    );
    await expectError(
      { features: ['mean radius', 'mean radios'] },
      /names column `mean radios` that the data does not have\. Did you mean "mean radius"\?/,
    );
  });

  it('a label column that is absent, and labels the model never saw', async () => {
    await expectError({ target: 'label' }, /has no target column `label`/, InputError);
    const dir = await temporaryDirectory();
    const data = join(dir, 'labels.csv');
    const text = readFileSync(breastCancer, 'utf8').trim().split('\n');
    text[5] = text[5].replace(/,[01]$/, ',2');
    await writeFile(data, `${text.join('\n')}\n`);
    await expectError(
      { data },
      /labels\.csv:6: label "2" in `target` is not a class of the model \(classes: 0, 1\)/,
      InputError,
    );
  });

  it('missing and non-numeric feature cells name the file, line and column; drop skips rows', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'holes.csv');
    const text = readFileSync(breastCancer, 'utf8').trim().split('\n');
    text[3] = text[3].replace(/^[^,]+,/, ',');
    await writeFile(data, `${text.join('\n')}\n`);
    await expectError({ data }, /holes\.csv:4: column `mean radius` is missing/, InputError);
    const dropped = await validateModel(options({ data, missing: 'drop' }), silent);
    expect(dropped.data).toMatchObject({ rows: 113, droppedRows: 1 });
    text[3] = text[3].replace(/^,/, 'abc,');
    await writeFile(data, `${text.join('\n')}\n`);
    await expectError(
      { data },
      /holes\.csv:4: column `mean radius` holds "abc", which is not a number/,
      InputError,
    );
  });

  it('float64 values that do not fit a float32 input are an error, not an infinity', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'huge.csv');
    const text = readFileSync(breastCancer, 'utf8').trim().split('\n');
    text[7] = text[7].replace(/^[^,]+,/, '1e300,');
    await writeFile(data, `${text.join('\n')}\n`);
    await expectError(
      { data },
      /huge\.csv:8: column `mean radius` holds 1e\+300, which does not fit model input `input` .*float32/,
      InputError,
    );
  });

  it('NaN outputs (a NaN feature fed through) are an error naming the row', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'nan.csv');
    const text = readFileSync(breastCancer, 'utf8').trim().split('\n');
    text[2] = text[2].replace(/^[^,]+,/, 'NaN,');
    await writeFile(data, `${text.join('\n')}\n`);
    await expectError({ data, missing: 'nan' }, /produced NaN for the row at .*nan\.csv:3/, InputError);
  });

  it('an empty holdout', async () => {
    const dir = await temporaryDirectory();
    const data = join(dir, 'empty.csv');
    await writeFile(data, `${readFileSync(breastCancer, 'utf8').split('\n')[0]}\n`);
    await expectError({ data }, /empty\.csv has no rows to evaluate/, InputError);
  });

  it('a baseline with a different output signature', async () => {
    await expectError(
      {
        model: join(models, 'sklearn-gbr.onnx'),
        data: join(models, 'diabetes-test.csv'),
        target: 'progression',
        baseline: join(models, 'torch-mlp-logits.onnx'),
        gates: gates('rmse <= 100'),
      },
      /Baseline: .*expects 30 features/,
    );
    await expectError(
      { baseline: join(models, 'sklearn-gbr.onnx') },
      /Baseline: .*expects 10 features|does not predict the same thing/,
    );
  });

  it('a gate metric that does not exist for the task, and an undefined metric', async () => {
    await expectError({ gates: gates('rmse <= 3') }, /rmse/);
    const dir = await temporaryDirectory();
    const data = join(dir, 'one-class.csv');
    const lines = readFileSync(breastCancer, 'utf8').trim().split('\n');
    await writeFile(data, `${[lines[0], ...lines.slice(1).filter((l) => l.endsWith(',1'))].join('\n')}\n`);
    const report = await validateModel(options({ data, gates: gates('roc_auc >= 0.9') }), silent);
    expect(report.passed).toBe(false);
    expect(report.gates[0]).toMatchObject({ status: 'error' });
    expect(report.gates[0].reason).toMatch(/one class|only/i);
  });

  it('a copied model evaluates the same, and a model file that is not there is an error', async () => {
    const dir = await temporaryDirectory();
    await copyFile(join(models, 'torch-sigmoid.onnx'), join(dir, 'm.onnx'));
    const report = await validateModel(options({ model: join(dir, 'm.onnx') }), silent);
    expect(report.passed).toBe(true);
    await expectError({ model: join(dir, 'absent.onnx') }, /absent\.onnx/, InputError);
  });
});

describe('the task from the labels', () => {
  it('reads one float output column as a regression when the target holds real numbers', async () => {
    const model = join(models, 'torch-mlp-regression.onnx');
    const info = await inspectOnnxModel(model);
    const reader = await openTable(join(models, 'diabetes-test.csv'));
    // Without the labels, one float column is P(positive): binary.
    expect(planModelIo(info, reader.columns, { target: 'progression' }).output.task).toBe('binary');
    const report = await validateModel(
      options({
        model,
        data: join(models, 'diabetes-test.csv'),
        target: 'progression',
        gates: gates('r2 >= 0 @interval', 'rmse <= 80'),
        minRows: 10,
      }),
      silent,
    );
    expect(report).toMatchObject({
      task: 'regression',
      passed: true,
      output: { name: 'prediction', kind: 'values' },
    });
    expect(report.output.inferredFrom).toMatch(
      /read as regression values because the target holds real numbers/,
    );
    // On 0/1 labels the same output is read as P(positive), and the regression gates are refused.
    await expect(
      validateModel(
        options({ model: join(models, 'torch-sigmoid.onnx'), gates: gates('rmse <= 80') }),
        silent,
      ),
    ).rejects.toThrow(/a metric that a binary model does not have/);
  });
});

describe('no silent pass', () => {
  it('fails, saying why, when every gate was skipped (change gates without a baseline)', async () => {
    const report = await validateModel(
      options({ gates: gates('roc_auc >= baseline - 0.01 @noninferior', 'log_loss <= baseline + 0.03') }),
      silent,
    );
    expect(report.passed).toBe(false);
    expect(report.gates.every((gate) => gate.status === 'skipped')).toBe(true);
    expect(report.nothingChecked).toMatch(
      /^no gate was checked: every gate compares with a baseline and there is none/,
    );
    expect(validateReport(JSON.parse(JSON.stringify(report))), JSON.stringify(validateReport.errors)).toBe(
      true,
    );
    expect(summarizeModelReport(report)).toMatch(/^Model gate failed: no gate was checked/);
    // One absolute gate decides something: the run passes on it.
    const decided = await validateModel(
      options({ gates: gates('roc_auc >= 0.5 @interval', 'roc_auc >= baseline - 0.01 @noninferior') }),
      silent,
    );
    expect(decided.passed).toBe(true);
    expect(decided.nothingChecked).toBeUndefined();
  });
});

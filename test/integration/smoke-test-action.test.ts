/**
 * The smoke-test action through its bundle (dist/smoke-test/index.js), as the runner runs it: real
 * packages of the fixture models, served on loopback by ONNX Runtime, checked, and reported; and the
 * report action showing that report.
 */
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { parseGateExpression } from '../../src/core/model/gates.ts';
import { validateModel } from '../../src/core/model/validate-model.ts';
import { buildPackage } from '../../src/core/package/build-package.ts';
import type { SmokeTestReport } from '../../src/core/report/smoke-test-report.ts';
import schema from '../../src/core/schemas/smoke-test-report.schema.json' with { type: 'json' };
import { repoRoot, runAction } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { TEST_LINEAGE } from '../helpers/packages.ts';

const MODELS = join(repoRoot, 'test/fixtures/models');
const GOLDEN = join(MODELS, 'torch-mlp.golden.json');
const validateReport = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

/** A package of the torch MLP with the model gate's report (a p95 budget of 500 ms recorded in it). */
let validated: string;
/** The same network with a shifted bias: its outputs no longer match the golden file. */
let drifted: string;

beforeAll(async () => {
  const reports = await temporaryDirectory('smoke-reports-');
  const report = await validateModel(
    {
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      data: join(repoRoot, 'templates/example/data/test.csv'),
      target: 'target',
      gates: [parseGateExpression('roc_auc >= 0.9')],
      bootstrap: false,
      budgets: { latencyP95Ms: 500 },
      golden: { path: GOLDEN, atol: 2e-5, rtol: 2e-4 },
    },
    silentLogger,
  );
  expect(report.passed).toBe(true);
  await writeFile(join(reports, 'model-validation.json'), JSON.stringify(report));
  validated = (
    await buildPackage({
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      name: 'breast-cancer',
      version: '1.2.0',
      reports,
      out: await temporaryDirectory('smoke-package-'),
      lineage: TEST_LINEAGE,
    })
  ).archive;
  drifted = (
    await buildPackage({
      model: join(MODELS, 'torch-mlp-drifted.onnx'),
      name: 'breast-cancer',
      version: '1.3.0',
      out: await temporaryDirectory('smoke-package-'),
      lineage: TEST_LINEAGE,
    })
  ).archive;
}, 60_000);

async function readReport(
  workspace: string,
  path = 'mlops-reports/smoke-test.json',
): Promise<SmokeTestReport> {
  const report = JSON.parse(await readFile(join(workspace, path), 'utf8'));
  expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
  return report;
}

describe('the smoke-test action (bundle)', () => {
  it('serves a validated package and passes: health, metadata, parity and latency against the model report’s budget', async () => {
    const workspace = await temporaryDirectory('smoke-ws-');
    const run = await runAction('smoke-test', {
      cwd: workspace,
      inputs: { package: validated, golden: GOLDEN },
    });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.outputs).toMatchObject({
      passed: 'true',
      'report-path': 'mlops-reports/smoke-test.json',
      'failed-checks': '',
    });
    expect(Number(run.outputs['p95-ms'])).toBeGreaterThan(0);
    const report = await readReport(workspace);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['package', 'passed'],
      ['load', 'passed'],
      ['health', 'passed'],
      ['metadata', 'passed'],
      ['parity', 'passed'],
      ['latency', 'passed'],
    ]);
    expect(report.package).toMatchObject({ name: 'breast-cancer', version: '1.2.0' });
    expect(report.package.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(report.metadata).toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
      mismatches: [],
    });
    // The tolerances and the budget the model gate recorded in the package.
    expect(report.parity).toMatchObject({ source: 'given', atol: 2e-5, rtol: 2e-4, rows: 20, mismatches: 0 });
    expect(report.parity?.toleranceSource).toMatch(/model report/);
    expect(report.latency).toMatchObject({ runs: 200, warmupRuns: 20, input: 'golden', passed: true });
    expect(report.latency?.budget).toEqual({
      limitMs: 500,
      source: "the package's model report (the model gate's budget)",
    });
    expect(run.summary).toContain('## Smoke test (Open Inference Protocol v2)');
    expect(run.summary).toMatch(/\| \*\*parity\*\* \| ✅ passed \|/);
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });

  it('takes the budget and the golden file from mlops.yaml: a p95 over its budget fails the step, naming the check', async () => {
    const workspace = await temporaryDirectory('smoke-ws-');
    await mkdir(join(workspace, 'build'));
    await copyFile(GOLDEN, join(workspace, 'build/golden.json'));
    await writeFile(
      join(workspace, 'mlops.yaml'),
      'version: 1\nmodel:\n  budgets:\n    latency-p95-ms: 0.001\n  golden:\n    path: build/golden.json\n    atol: 0.001\n',
    );
    const run = await runAction('smoke-test', { cwd: workspace, inputs: { package: validated, runs: '30' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ passed: 'false', 'failed-checks': 'latency' });
    const errors = run.annotations.filter((a) => a.level === 'error');
    expect(errors.map((a) => a.title)).toContain('Smoke test: latency');
    expect(errors.at(-1)?.message).toMatch(
      /Smoke test failed: latency\. Details in the job summary and mlops-reports\/smoke-test\.json/,
    );
    const report = await readReport(workspace);
    expect(report.latency).toMatchObject({
      runs: 30,
      passed: false,
      budget: { limitMs: 0.001, source: 'mlops.yaml (model.budgets.latency-p95-ms)' },
    });
    expect(report.parity).toMatchObject({
      source: 'given',
      atol: 0.001,
      toleranceSource: 'mlops.yaml (model.golden)',
      passed: true,
    });
    expect(report.parity?.golden).toMatch(/build\/golden\.json$/);
  });

  it('fails parity for a model whose outputs drifted from the training framework’s, naming the worst value', async () => {
    const workspace = await temporaryDirectory('smoke-ws-');
    const run = await runAction('smoke-test', {
      cwd: workspace,
      inputs: { package: drifted, golden: GOLDEN },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('parity');
    const report = await readReport(workspace);
    expect(report.parity).toMatchObject({
      passed: false,
      mismatches: 20,
      toleranceSource: "the model gate's defaults",
    });
    expect(report.parity?.worst[0]).toMatchObject({ output: 'logits', index: 1 });
    expect(report.parity?.worst[0].absDiff).toBeCloseTo(0.05, 5);
    // No budget anywhere: the latency is measured and the check says why it decided nothing.
    expect(report.checks.find((c) => c.check === 'latency')).toMatchObject({ status: 'skipped' });
    expect(report.latency?.budget).toBeNull();
    expect(run.summary).toMatch(/\| \*\*parity\*\* \| ❌ failed \| 20 of 40 values outside/);
  });

  it('a package changed after packaging fails the package check and is not served', async () => {
    const built = await buildPackage({
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      name: 'breast-cancer',
      version: '1.4.0',
      out: await temporaryDirectory('smoke-package-'),
      lineage: TEST_LINEAGE,
    });
    await appendFile(join(built.directory, 'signature.json'), '\n');
    const workspace = await temporaryDirectory('smoke-ws-');
    const run = await runAction('smoke-test', { cwd: workspace, inputs: { package: built.directory } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('package');
    const report = await readReport(workspace);
    expect(report.checks[0]).toMatchObject({ check: 'package', status: 'failed' });
    expect(report.checks[0].reason).toMatch(/signature\.json: changed/);
    expect(report.checks.slice(1).every((c) => c.status === 'skipped')).toBe(true);
    expect(report.server.url).toBeNull();
  });

  it('mistakes are configuration errors naming the input', async () => {
    const workspace = await temporaryDirectory('smoke-ws-');
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /No package to test: set input "package"/],
      [
        { package: join(workspace, 'missing.zip') },
        /missing\.zip does not exist: give a package folder, its \.zip archive/,
      ],
      [
        { package: validated, runs: 'many' },
        /input "runs" must be a whole number from 1 to 100000; got "many"/,
      ],
      [
        { package: validated, golden: join(MODELS, 'expected.json') },
        /Golden file .*expected\.json: it is not a golden file/,
      ],
      [{ package: validated, 'report-path': validated }, /input "report-path" .* is input "package"/],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction('smoke-test', { cwd: workspace, inputs });
      expect(run.exitCode, JSON.stringify(inputs)).toBe(1);
      const errors = run.annotations.filter((a) => a.level === 'error');
      expect(errors, run.stdout).toHaveLength(1);
      expect(errors[0].title).toBe('Configuration error');
      expect(errors[0].message).toMatch(message);
    }
  });

  it('the report action shows the smoke test with the gates', async () => {
    const workspace = await temporaryDirectory('smoke-ws-');
    const smoke = await runAction('smoke-test', {
      cwd: workspace,
      inputs: { package: drifted, golden: GOLDEN },
    });
    expect(smoke.exitCode).toBe(1);
    const report = await runAction('report', {
      cwd: workspace,
      inputs: { reports: 'mlops-reports/*.json', comment: 'false', checks: 'false' },
    });
    expect(report.exitCode, `${report.stdout}\n${report.stderr}`).toBe(0);
    expect(report.outputs.passed).toBe('false');
    expect(report.summary).toMatch(/\*\*mlops \/ smoke-test\*\* \| ❌ failed \| parity failed/);
    expect(report.summary).toMatch(/### ❌ mlops \/ smoke-test: serving smoke test/);
    expect(report.summary).toMatch(/- ❌ mlops \/ smoke-test · parity: 20 of 40 values outside/);
  });
});

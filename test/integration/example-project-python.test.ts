/**
 * templates/example-project-python, the Python (scikit-learn → ONNX) example, as a user has it after
 * `python train.py`: a copy of the project with the model and golden file train.py writes in build/
 * (the committed prebuilt/ ones, made by scripts/fixtures/make-python-example.py with the project's own
 * train.py and skl2onnx's layout, since skl2onnx is not installable here). The model gives
 * scikit-learn's probabilities in ONNX Runtime; `mlops validate-model --model build/model.onnx`, run in
 * the project's folder with no other flag, finds mlops.yaml and passes its gates and the golden parity;
 * `mlops init` there detects the Python project.
 */
import { copyFile, cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/core/config/config.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { repoRoot } from '../harness/run-action.ts';
import { validateWorkflow } from '../harness/workflow-validation.ts';
import { runCli } from '../helpers/cli.ts';
import { readSimpleCsv, temporaryDirectory } from '../helpers/example.ts';

const source = join(repoRoot, 'templates/example-project-python');

interface Expected {
  rows: number;
  models: Record<
    'model.onnx' | 'baseline.onnx',
    { metrics: Record<'roc_auc' | 'log_loss' | 'accuracy' | 'f1_macro', number>; probabilities?: number[][] }
  >;
}

const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd });

let project: string;
let expected: Expected;
beforeAll(async () => {
  project = await temporaryDirectory('mlops-example-python-');
  await cp(source, project, { recursive: true, filter: (path) => !/[/\\](build|__pycache__)$/.test(path) });
  // What `python train.py` writes.
  await mkdir(join(project, 'build'));
  await copyFile(join(project, 'prebuilt/model.onnx'), join(project, 'build/model.onnx'));
  await copyFile(join(project, 'prebuilt/golden.json'), join(project, 'build/golden.json'));
  expected = JSON.parse(await readFile(join(source, 'prebuilt/expected.json'), 'utf8'));
});

describe('the Python example project', () => {
  it('pins scikit-learn, skl2onnx and onnx, exports with skl2onnx, and names itself in pyproject.toml', async () => {
    const requirements = await readFile(join(project, 'requirements.txt'), 'utf8');
    for (const name of ['scikit-learn', 'skl2onnx', 'onnx', 'pytest'])
      expect(requirements).toMatch(new RegExp(`^${name}==\\d+\\.\\d+\\.\\d+$`, 'm'));
    const train = await readFile(join(project, 'train.py'), 'utf8');
    expect(train).toContain('from skl2onnx import to_onnx');
    expect(train).toContain("options={'zipmap': False}");
    expect(await readFile(join(project, 'pyproject.toml'), 'utf8')).toContain(
      'name = "breast-cancer-classifier"',
    );
  });

  it('gives in ONNX Runtime the probabilities of scikit-learn on every holdout row (1e-5)', async () => {
    const { header, rows } = await readSimpleCsv(join(project, 'data/test.csv'));
    expect(header.at(-1)).toBe('target');
    expect(rows).toHaveLength(expected.rows);
    const ort = await loadOnnxRuntime();
    const session = await createOnnxSession(join(project, 'build/model.onnx'));
    const features = Float32Array.from(rows.flatMap((row) => row.slice(0, -1) as number[]));
    const result = await session.run({ X: new ort.Tensor('float32', features, [rows.length, 30]) });
    const probabilities = result.probabilities.data as Float32Array;
    const sklearn = expected.models['model.onnx'].probabilities ?? [];
    let worst = 0;
    sklearn.forEach((row, i) => {
      for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(probabilities[i * 2 + k] - row[k]));
    });
    expect(worst).toBeLessThan(1e-5);
  });

  it('mlops validate-model --model build/model.onnx, in the folder and with no other flag, passes its gates and the golden parity', async () => {
    const run = await mlops(project, 'validate-model', '--model', 'build/model.onnx');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^PASSED {2}model gate: build\/model\.onnx on data\/test\.csv \(binary, target target, 114 rows\)/,
    );
    expect(run.stdout).toMatch(/parity +passed +build\/golden\.json: 0 mismatches on 20 rows/);

    // The same run with the report as JSON (--json changes only the output): scikit-learn's metrics.
    const json = await mlops(project, 'validate-model', '--model', 'build/model.onnx', '--json');
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.passed).toBe(true);
    expect(report.data.path).toBe('data/test.csv'); // from mlops.yaml, found without --config
    expect(report.parity).toMatchObject({ passed: true, rows: 20, mismatches: 0 });
    expect(report.parity.maxAbsDiff).toBeLessThan(1e-5);
    for (const [metric, value] of Object.entries(expected.models['model.onnx'].metrics)) {
      expect(report.metrics[metric].value, metric).toBeCloseTo(value, 5);
    }
  });

  it('passes the change gates against the weaker prebuilt baseline, and fails them swapped', async () => {
    const better = await mlops(
      project,
      'validate-model',
      '--model',
      'build/model.onnx',
      '--baseline',
      'prebuilt/baseline.onnx',
    );
    expect(better.code, better.stdout + better.stderr).toBe(0);
    const worse = await mlops(
      project,
      'validate-model',
      '--model',
      'prebuilt/baseline.onnx',
      '--baseline',
      'build/model.onnx',
    );
    expect(worse.code, worse.stdout).toBe(1);
    expect(worse.stdout).toMatch(/FAILED +f1_macro >= baseline - 0\.01/);
  });

  it('passes the data gate with its mlops.yaml, found without --config', async () => {
    const run = await mlops(project, 'validate-data');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { config } = await loadConfig(join(project, 'mlops.yaml'));
    expect(config.model?.golden?.path).toBe('build/golden.json');
  });

  it('is set up by mlops init as a Python project: setup-python, pip install -r requirements.txt, pytest, python train.py', async () => {
    const copy = await temporaryDirectory('mlops-example-python-init-');
    await cp(source, copy, { recursive: true, filter: (path) => !/[/\\](build|__pycache__)$/.test(path) });
    const run = await mlops(copy, 'init', '--force', '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ modelName: 'breast-cancer-classifier', stack: { kind: 'python' } });
    const ci = await readFile(join(copy, '.github/workflows/mlops-ci.yml'), 'utf8');
    expect(await validateWorkflow('mlops-ci.yml', ci, repoRoot)).toEqual([]);
    const steps = (
      parseYaml(ci) as { jobs: { gates: { steps: { uses?: string; with?: object; run?: string }[] } } }
    ).jobs.gates.steps;
    expect(steps.find((step) => step.uses?.startsWith('actions/setup-python@'))?.with).toEqual({
      'python-version-file': '.python-version',
      cache: 'pip',
    });
    expect(steps.map((step) => step.run).filter(Boolean)).toEqual(
      expect.arrayContaining(['pip install -r requirements.txt', 'pytest', 'python train.py']),
    );
  });
});

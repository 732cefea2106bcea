/**
 * `mlops init` fits the repository it runs in (issue #13): a Python repository gets setup-python with
 * pip caching, its install, test and training commands and its own name; a repository of neither kind
 * gets marked placeholders; the workflows pass GitHub's parser; `--dir` is the base of every path;
 * `--dry-run` shows the diff of files that exist. And local = CI: in the folder where init wrote
 * mlops.yaml, `mlops validate-model --model model.onnx` with no other flag evaluates a real model on
 * the 45-row holdout and passes. The templates' own shell steps (the baseline switch, the deployment
 * settings check) run here with bash as the runner runs them, and the write token of the environment
 * repository reaches only the deployment steps.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/core/config/config.ts';
import { SETUP_PYTHON } from '../../src/core/init/workflow-steps.ts';
import { repoRoot } from '../harness/run-action.ts';
import { validateWorkflow } from '../harness/workflow-validation.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const example = join(repoRoot, 'templates/example-project-python');
const WORKFLOWS = ['mlops-cd.yml', 'mlops-ci.yml', 'mlops-ct.yml', 'mlops-promote.yml'];

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd });

/**
 * A Python repository as teams have it: pyproject.toml, requirements.txt, train.py, tests/, and the
 * breast cancer data split into 455 training rows and a 45-row holdout.
 */
async function pythonRepository(files: Record<string, string> = {}): Promise<string> {
  const dir = await temporaryDirectory('mlops-init-python-');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'tests'));
  copyFileSync(join(example, 'data/train.csv'), join(dir, 'data/train.csv'));
  const holdout = readFileSync(join(example, 'data/test.csv'), 'utf8').split('\n').slice(0, 46);
  writeFileSync(join(dir, 'data/test.csv'), `${holdout.join('\n')}\n`);
  const defaults: Record<string, string> = {
    'pyproject.toml':
      '[project]\nname = "Churn_Model"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    'requirements.txt': 'scikit-learn==1.7.1\nskl2onnx==1.20.0\nonnx==1.19.1\npandas==2.3.1\n',
    'train.py': 'print("training")\n',
    'tests/test_features.py': 'def test_nothing():\n    pass\n',
  };
  for (const [file, text] of Object.entries({ ...defaults, ...files })) {
    if (text === '') continue;
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

function readWorkflow(dir: string, file: string): { text: string; workflow: Workflow } {
  const text = readFileSync(join(dir, '.github/workflows', file), 'utf8');
  return { text, workflow: parseYaml(text) as Workflow };
}

function stepsOf(workflow: Workflow): Step[] {
  return Object.values(workflow.jobs).flatMap((job) => job.steps);
}

describe('mlops init in a Python repository', () => {
  it('writes Python workflows that GitHub parses, and mlops validate-model --model model.onnx passes there with no other flag', async () => {
    const dir = await pythonRepository();
    const init = await mlops(dir, 'init', '--data', 'data/train.csv');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('a Python project (pyproject.toml, requirements.txt)');

    for (const file of WORKFLOWS) {
      const { text, workflow } = readWorkflow(dir, file);
      expect(await validateWorkflow(file, text, repoRoot), file).toEqual([]);
      expect(workflow.env.MODEL_NAME).toBe('churn-model'); // pyproject's name, as pip normalizes it
      expect(text).not.toMatch(/npm |setup-node/);
    }
    const { workflow: ci } = readWorkflow(dir, 'mlops-ci.yml');
    const steps = stepsOf(ci);
    expect(steps.find((step) => step.uses === SETUP_PYTHON.split(' ')[0])?.with).toEqual({
      'python-version': '3.12',
      cache: 'pip',
    });
    expect(
      steps.filter((step) => step.name?.endsWith('(yours)')).map((step) => [step.name, step.run]),
    ).toEqual([
      ['Install dependencies (yours)', 'pip install -r requirements.txt pytest'],
      ['Unit tests (yours)', 'pytest'],
      ['Train (yours)', 'python train.py'],
    ]);
    // The four workflows differ from the templates only in the project's steps and the name.
    const { workflow: ct } = readWorkflow(dir, 'mlops-ct.yml');
    expect(stepsOf(ct).map((step) => step.name ?? step.uses?.split('@')[0])).toContain(
      'Fetch the new data (yours)',
    );

    // The gates init sized to the 45-row holdout.
    const { config } = await loadConfig(join(dir, 'mlops.yaml'));
    expect(config.model).toMatchObject({ model: 'build/model.onnx', task: 'binary', 'min-rows': 45 });

    // Local = CI: a real model (the Python example's, scikit-learn → ONNX), run where init wrote mlops.yaml.
    copyFileSync(join(example, 'prebuilt/model.onnx'), join(dir, 'model.onnx'));
    const gate = await mlops(dir, 'validate-model', '--model', 'model.onnx');
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
    expect(gate.stdout).toMatch(
      /^PASSED {2}model gate: model\.onnx on data\/test\.csv \(binary, target target, 45 rows\)/,
    );
    expect(gate.stdout).toMatch(/PASSED +roc_auc >= 0\.5 @interval +(1|0\.9\d*) /);
    // And from a sub-folder of the repository, mlops.yaml is found at its root.
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'notebooks'));
    const nested = await mlops(join(dir, 'notebooks'), 'validate-model', '--model', '../model.onnx');
    expect(nested.code, nested.stdout + nested.stderr).toBe(0);

    // The next steps are the commands just run, for this project.
    for (const command of [
      'pip install -r requirements.txt pytest',
      'python train.py',
      'mlops validate-data',
      'mlops validate-model --model build/model.onnx',
      'ENVIRONMENT_REPO_READ_TOKEN',
    ]) {
      expect(init.stdout).toContain(command);
    }
  });

  it('reads pyproject-only projects: pip install -e with the test extra, the cache keyed on pyproject.toml, Poetry names, .python-version, python -m for a packaged trainer', async () => {
    const dir = await pythonRepository({
      'pyproject.toml':
        '[tool.poetry]\nname = "fraud.detector"\nversion = "1.0.0"\n\n[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
      'requirements.txt': '',
      'train.py': '',
      '.python-version': '3.11\n',
      'fraud/__init__.py': '"""Fraud detection."""\n',
      'fraud/train.py': 'print(1)\n',
      'fetch_data.py': 'print(1)\n',
    });
    const init = await mlops(dir, 'init', '--json');
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({
      modelName: 'fraud-detector',
      modelNameFrom: 'pyproject.toml [tool.poetry] name',
      stack: { kind: 'python', evidence: ['pyproject.toml'] },
    });
    const { text, workflow } = readWorkflow(dir, 'mlops-ct.yml');
    expect(await validateWorkflow('mlops-ct.yml', text, repoRoot)).toEqual([]);
    const steps = stepsOf(workflow);
    expect(steps.find((step) => step.uses?.startsWith('actions/setup-python@'))?.with).toEqual({
      'python-version-file': '.python-version',
      cache: 'pip',
      'cache-dependency-path': 'pyproject.toml',
    });
    expect(steps.filter((step) => step.name?.endsWith('(yours)')).map((step) => step.run)).toEqual([
      'pip install -e ".[test]"',
      'python fetch_data.py',
      'pytest',
      'python -m fraud.train',
    ]);
  });

  it('marks what it cannot tell: no training script is a placeholder that fails the job, naming the file to edit', async () => {
    const dir = await pythonRepository({
      'pyproject.toml': '[project]\nname = "churn"\n',
      'train.py': '',
      'tests/test_features.py': '',
    });
    expect((await mlops(dir, 'init')).code).toBe(0);
    const { text, workflow } = readWorkflow(dir, 'mlops-ci.yml');
    expect(await validateWorkflow('mlops-ci.yml', text, repoRoot)).toEqual([]);
    const train = stepsOf(workflow).find((step) => step.name === 'Train (yours)');
    const run = spawnSync('bash', ['-e', '-c', train?.run ?? ''], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /^::error title=Train \(yours\)::mlops init found no training script \(train\.py\)\. Replace this step of \.github\/workflows\/mlops-ci\.yml/,
    );
    // No tests found: no test step, a comment where it goes.
    expect(text).toContain('# No tests found');
    expect(stepsOf(workflow).some((step) => step.run === 'pytest')).toBe(false);
  });
});

describe('mlops init in a repository of neither kind', () => {
  it('writes placeholders for setup, tests and training, and the workflows still parse', async () => {
    const dir = await temporaryDirectory('mlops-init-other-');
    const init = await mlops(dir, 'init', '--name', 'scorer');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('neither a Python nor a Node project');
    for (const file of WORKFLOWS) {
      const { text } = readWorkflow(dir, file);
      expect(await validateWorkflow(file, text, repoRoot), file).toEqual([]);
      expect(text).not.toMatch(/npm |uses: actions\/setup-(node|python)/);
    }
    const names = stepsOf(readWorkflow(dir, 'mlops-ci.yml').workflow)
      .map((step) => step.name)
      .filter((name) => name?.endsWith('(yours)'));
    expect(names).toEqual(['Set up your project (yours)', 'Unit tests (yours)', 'Train (yours)']);
  });

  it('follows --stack over the files', async () => {
    const dir = await pythonRepository();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tooling', scripts: { lint: 'x' } }));
    const python = await mlops(dir, 'init', '--dry-run', '--json');
    expect(JSON.parse(python.stdout).stack.kind).toBe('python'); // package.json without a train script
    const node = await mlops(dir, 'init', '--dry-run', '--json', '--stack', 'node');
    expect(JSON.parse(node.stdout)).toMatchObject({ stack: { kind: 'node' }, modelName: 'tooling' });
    const wrong = await mlops(dir, 'init', '--stack', 'ruby');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--stack ruby: use one of python, node, other');
  });
});

describe('--dir and --dry-run', () => {
  it('--dir is the base of every path, --data included, with a hint for a path given from the current folder', async () => {
    const parent = await temporaryDirectory('mlops-init-dir-');
    const dir = await pythonRepository();
    const repo = join(parent, 'repo');
    mkdirSync(repo);
    for (const entry of readdirSync(dir)) spawnSync('cp', ['-r', join(dir, entry), repo]);
    const hinted = await mlops(parent, 'init', '--dir', 'repo', '--data', 'repo/data/train.csv');
    expect(hinted.code).toBe(2);
    expect(hinted.stderr).toMatch(
      /--data repo\/data\/train\.csv: there is no such file in .*repo .* Did you mean --data data\/train\.csv\?/,
    );
    const run = await mlops(parent, 'init', '--dir', 'repo', '--data', 'data/train.csv');
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(repo, '.github/workflows/mlops-ci.yml'))).toBe(true);
    expect(existsSync(join(repo, 'data/contract.json'))).toBe(true);
    expect(existsSync(join(parent, 'mlops.yaml'))).toBe(false);
    // The local commands start by going there.
    expect(run.stdout).toMatch(/1\. Try the gates locally, as CI will run them:\n {5}cd repo\n/);
  });

  it('--dry-run shows a diff of each file that exists with other content, writes nothing, and says a real run needs --force', async () => {
    const dir = await pythonRepository();
    expect((await mlops(dir, 'init', '--data', 'data/train.csv')).code).toBe(0);
    const ci = join(dir, '.github/workflows/mlops-ci.yml');
    writeFileSync(ci, readFileSync(ci, 'utf8').replace('run: pytest', 'run: pytest -x'));
    const before = readFileSync(ci, 'utf8');
    const dry = await mlops(dir, 'init', '--data', 'data/train.csv', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would overwrite +\.github\/workflows\/mlops-ci\.yml/);
    expect(dry.stdout).toMatch(/unchanged +mlops\.yaml/);
    expect(dry.stdout).toContain(
      '--- .github/workflows/mlops-ci.yml (now)\n+++ .github/workflows/mlops-ci.yml (mlops init)\n',
    );
    expect(dry.stdout).toMatch(/^- {8}run: pytest -x\n\+ {8}run: pytest\n/m);
    expect(dry.stdout).toContain(
      'Without --force, mlops init would write nothing: .github/workflows/mlops-ci.yml exists',
    );
    expect(readFileSync(ci, 'utf8')).toBe(before);
    // The real run refuses for the changed file only; files with the same content are no conflict.
    const refused = await mlops(dir, 'init', '--data', 'data/train.csv');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('this file exists: .github/workflows/mlops-ci.yml');
  });
});

describe('the workflow templates without the environment repository', () => {
  /** Runs a step's `run` with bash as the runner does, its env set, with output and summary files. */
  function runStep(step: Step, env: Record<string, string>) {
    const dir = temporaryFolderSync('mlops-init-step-');
    const output = join(dir, 'output');
    const summary = join(dir, 'summary');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run ?? ''], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
    });
    return {
      status: result.status,
      stdout: result.stdout,
      output: readFileSync(output, 'utf8'),
      summary: readFileSync(summary, 'utf8'),
    };
  }
  /** A GitHub expression, as a workflow writes it. */
  const expression = (text: string) => `\${{ ${text} }}`;
  const template = (file: string) =>
    parseYaml(readFileSync(join(repoRoot, 'templates/workflows', file), 'utf8')) as Workflow;

  it("CI's baseline is off without ENVIRONMENT_REPO or the read token, and the job summary says how to turn it on", () => {
    for (const file of ['ci.yml', 'cd.yml', 'ct.yml']) {
      const steps = stepsOf(template(file));
      const baseline = steps.find((step) => step.id === 'baseline') as Step;
      expect(baseline.env).toEqual({
        ENVIRONMENT_REPO: expression('vars.ENVIRONMENT_REPO'),
        HAS_READ_TOKEN: expression("secrets.ENVIRONMENT_REPO_READ_TOKEN != ''"),
      });
      const gate = steps.find((step) => step.id === 'model') as Step;
      expect(gate.with).toMatchObject({
        baseline: expression('steps.baseline.outputs.baseline'),
        token: expression('secrets.ENVIRONMENT_REPO_READ_TOKEN'),
      });

      const on = runStep(baseline, { ENVIRONMENT_REPO: 'acme/environments', HAS_READ_TOKEN: 'true' });
      expect(on).toMatchObject({ status: 0, output: 'baseline=environment:staging\n', summary: '' });

      const noRepository = runStep(baseline, { ENVIRONMENT_REPO: '', HAS_READ_TOKEN: 'true' });
      expect(noRepository.status).toBe(0);
      expect(noRepository.output).toBe(''); // the model gate's baseline input is empty: no baseline
      expect(noRepository.summary).toContain('### Model gate without a baseline');
      expect(noRepository.summary).toContain('because the repository variable ENVIRONMENT_REPO is not set');
      expect(noRepository.summary).toContain('the variable `ENVIRONMENT_REPO`');
      expect(noRepository.summary).toContain('the secret `ENVIRONMENT_REPO_READ_TOKEN`');
      expect(noRepository.stdout).toMatch(/^::notice title=Model gate without a baseline::/);

      const noToken = runStep(baseline, { ENVIRONMENT_REPO: 'acme/environments', HAS_READ_TOKEN: 'false' });
      expect(noToken.output).toBe('');
      expect(noToken.summary).toContain('the secret ENVIRONMENT_REPO_READ_TOKEN is not available');
    }
  });

  it('CD, CT and promote stop at their first step naming ENVIRONMENT_REPO and how to set it', () => {
    for (const file of ['cd.yml', 'ct.yml', 'promote.yml']) {
      const workflow = template(file);
      const first = Object.values(workflow.jobs)[0].steps[0];
      expect(first.name, file).toBe('Check the environment repository settings');
      const missing = runStep(first, { ENVIRONMENT_REPO: '', HAS_TOKEN: 'false' });
      expect(missing.status).toBe(1);
      expect(missing.stdout).toMatch(
        /^::error title=ENVIRONMENT_REPO is not set::.*repository variable ENVIRONMENT_REPO.*Set it to owner\/name in Settings → Secrets and variables → Actions → Variables/m,
      );
      expect(missing.stdout).toMatch(/^::error title=ENVIRONMENT_REPO_TOKEN is not set::/m);
      expect(runStep(first, { ENVIRONMENT_REPO: 'acme/environments', HAS_TOKEN: 'true' }).status).toBe(0);
    }
  });

  it('hands the write token only to the deployment steps, and the read token only to the model gate', () => {
    for (const file of ['ci.yml', 'cd.yml', 'ct.yml', 'promote.yml']) {
      for (const [job, { steps }] of Object.entries(template(file).jobs)) {
        for (const step of steps) {
          const given = JSON.stringify({ with: step.with, env: step.env });
          if (given.includes('secrets.ENVIRONMENT_REPO_TOKEN }}')) {
            expect(step.uses, `${file} ${job}: ${step.name ?? step.id}`).toMatch(/\/actions\/deploy-pr@/);
          }
          if (given.includes('secrets.ENVIRONMENT_REPO_READ_TOKEN }}')) {
            expect(step.uses, `${file} ${job}: ${step.name ?? step.id}`).toMatch(
              /\/actions\/validate-model@/,
            );
          }
        }
      }
    }
    const ci = JSON.stringify(template('ci.yml'));
    expect(ci).not.toContain('secrets.ENVIRONMENT_REPO_TOKEN');
  });
});

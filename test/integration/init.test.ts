/**
 * `mlops init` as a user runs it (the built CLI, from a folder outside this repository): the files it
 * writes, that they load (mlops.yaml with the config loader, the contract with the contract loader, the
 * workflows with GitHub's parser and our actions' inputs), and that it never overwrites without --force.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/core/config/config.ts';
import { loadContract } from '../../src/core/data/contract.ts';
import { inferTask, startingGates } from '../../src/core/init/mlops-config.ts';
import { findTemplatesDirectory, setWorkflowEnv, yamlScalar } from '../../src/core/init/templates.ts';
import { repoRoot } from '../harness/run-action.ts';
import { validateWorkflow } from '../harness/workflow-validation.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const WORKFLOWS = ['mlops-cd.yml', 'mlops-ci.yml', 'mlops-ct.yml', 'mlops-promote.yml'];

/** The bundled CLI, run from `cwd` (outside the repository, so the templates are found from the bundle). */
const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd });

/** A user's repository with the example's train/test split under data/. */
async function userRepository(packageName?: string): Promise<string> {
  const dir = await temporaryDirectory('mlops-init-');
  mkdirSync(join(dir, 'data'));
  for (const file of ['train.csv', 'test.csv']) {
    copyFileSync(join(repoRoot, 'templates/example/data', file), join(dir, 'data', file));
  }
  if (packageName) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: packageName }));
  return dir;
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('mlops init --data', () => {
  it('writes the four workflows, an mlops.yaml inferred from the data and the contract, all loadable', async () => {
    const dir = await userRepository('@acme/Churn Model');
    const run = await mlops(dir, 'init', '--data', 'data/train.csv', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(listFiles(dir)).toEqual([
      ...WORKFLOWS.map((file) => `.github/workflows/${file}`),
      'data/contract.json',
      'data/test.csv',
      'data/train.csv',
      'mlops.yaml',
      'package.json',
    ]);
    const result = JSON.parse(run.stdout);
    expect(result.modelName).toBe('churn-model'); // from package.json, scope dropped, made a valid name
    expect(result.files.map((f: { status: string }) => f.status)).toEqual(Array(6).fill('written'));

    // The config loads with the loader the actions use; the train/test pair was recognised.
    const loaded = await loadConfig(join(dir, 'mlops.yaml'));
    expect(loaded.config.data).toMatchObject({
      data: 'data/test.csv',
      reference: 'data/train.csv',
      train: 'data/train.csv',
      contract: 'data/contract.json',
      target: 'target',
    });
    expect(loaded.config.model).toMatchObject({ model: 'build/model.onnx', task: 'binary' });
    // Gates sized to the 143-row holdout: a principled absolute gate and non-inferiority margins.
    expect(loaded.config.model?.gates).toEqual(
      startingGates('binary', { rows: 143, classes: 2 }).map((gate) => gate.expression),
    );
    expect(loaded.config.model?.gates).toEqual([
      'roc_auc >= 0.5 @interval',
      'roc_auc >= baseline - 0.01 @noninferior',
      'log_loss <= baseline + 0.03 @noninferior',
    ]);
    expect(loaded.config.model?.['min-rows']).toBe(50);

    // The contract describes both files (inferred from train alone, test's outliers would fail it).
    const contract = await loadContract(join(dir, 'data/contract.json'));
    expect(Object.keys(contract.properties ?? {})).toHaveLength(31);
    expect(contract.description).toContain('data/train.csv, data/test.csv (569 rows)');
    expect(contract.description).not.toContain(dir); // no path of this machine in a committed file

    // The data gate passes on the config init wrote, run by the same CLI.
    const gate = await mlops(dir, 'validate-data', '--config', 'mlops.yaml', '--report', 'report.json');
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);

    // The workflows: GitHub's parser, our actions' inputs, and the model's name filled in.
    for (const file of WORKFLOWS) {
      const text = readFileSync(join(dir, '.github/workflows', file), 'utf8');
      expect(await validateWorkflow(file, text, repoRoot)).toEqual([]);
      const workflow = parseYaml(text) as { env: Record<string, string> };
      expect(workflow.env.MODEL_NAME).toBe('churn-model');
      if ('CONTRACT' in workflow.env) expect(workflow.env.CONTRACT).toBe('data/contract.json');
      expect(text).toMatch(/^# Written by `mlops init`/);
    }
    // The rest of each template is kept byte for byte.
    const template = readFileSync(join(repoRoot, 'templates/workflows/ci.yml'), 'utf8');
    const written = readFileSync(join(dir, '.github/workflows/mlops-ci.yml'), 'utf8');
    expect(written.split('\n').slice(1).join('\n')).toBe(
      template.replace('MODEL_NAME: example\n', 'MODEL_NAME: churn-model\n'),
    );
  });

  it('names a misspelt --target with a suggestion, and refuses data outside the repository', async () => {
    const dir = await userRepository();
    const typo = await mlops(dir, 'init', '--data', 'data/train.csv', '--target', 'targte');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--target targte: .* has no such column\. Did you mean "target"\?/);
    // --data is relative to --dir: ../data/train.csv from sub is outside it.
    const outside = await mlops(dir, 'init', '--dir', 'sub', '--data', '../data/train.csv');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--data \.\.\/data\/train.csv is outside .*sub/);
    expect(listFiles(dir)).toEqual(['data/test.csv', 'data/train.csv']);
  });

  it('uses the given file alone when it has no train/test sibling', async () => {
    const dir = await temporaryDirectory('mlops-init-');
    mkdirSync(join(dir, 'input'));
    copyFileSync(join(repoRoot, 'templates/example/data/train.csv'), join(dir, 'input/history.csv'));
    const run = await mlops(dir, 'init', '--data', 'input/history.csv', '--name', 'cancer');
    expect(run.code, run.stderr).toBe(0);
    const { config } = await loadConfig(join(dir, 'mlops.yaml'));
    expect(config.data).toMatchObject({ data: 'input/history.csv', reference: 'input/history.csv' });
    expect(config.data?.train).toBeUndefined();
    expect(config.data?.contract).toBe('input/contract.json');
    expect(existsSync(join(dir, 'input/contract.json'))).toBe(true);
  });
});

describe('mlops init without --data', () => {
  it('writes a commented skeleton that loads, with the given target and name', async () => {
    const dir = await temporaryDirectory('mlops-init-');
    const run = await mlops(dir, 'init', '--target', 'churned', '--name', 'churn');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('ENVIRONMENT_REPO_TOKEN');
    expect(run.stdout).toContain('"mlops / data" and "mlops / model"');
    const text = readFileSync(join(dir, 'mlops.yaml'), 'utf8');
    expect(text).toContain('# make it: mlops schema infer');
    const { config } = await loadConfig(join(dir, 'mlops.yaml'));
    expect(config.data?.target).toBe('churned');
    expect(config.model?.gates?.length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'data/contract.json'))).toBe(false);
    expect(readFileSync(join(dir, '.github/workflows/mlops-promote.yml'), 'utf8')).toContain(
      '  MODEL_NAME: churn\n',
    );
  });

  it('refuses an invalid --name', async () => {
    const dir = await temporaryDirectory('mlops-init-');
    const run = await mlops(dir, 'init', '--name', 'Churn Model');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--name "Churn Model" is not a valid model name/);
    expect(listFiles(dir)).toEqual([]);
  });
});

describe('never overwriting', () => {
  it('writes nothing at all when a file exists, lists every such file, and overwrites with --force', async () => {
    const dir = await userRepository();
    mkdirSync(join(dir, '.github/workflows'), { recursive: true });
    writeFileSync(join(dir, '.github/workflows/mlops-ci.yml'), 'mine\n');
    writeFileSync(join(dir, 'mlops.yaml'), 'mine: true\n');
    const before = listFiles(dir);

    const refused = await mlops(dir, 'init', '--data', 'data/train.csv');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('these files exist: .github/workflows/mlops-ci.yml, mlops.yaml');
    expect(refused.stderr).toContain('--force');
    expect(listFiles(dir)).toEqual(before); // not even the files that did not exist
    expect(readFileSync(join(dir, 'mlops.yaml'), 'utf8')).toBe('mine: true\n');

    const forced = await mlops(dir, 'init', '--data', 'data/train.csv', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/overwrote +mlops\.yaml/);
    expect(forced.stdout).toMatch(/wrote +data\/contract\.json/);
    expect((await loadConfig(join(dir, 'mlops.yaml'))).config.data?.target).toBe('target');
    // Written through temporary files: none left behind.
    expect(listFiles(dir).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  });
});

describe('mlops init --dry-run', () => {
  it('prints the plan and writes nothing', async () => {
    const dir = await userRepository();
    const run = await mlops(dir, 'init', '--data', 'data/train.csv', '--dry-run', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(listFiles(dir)).toEqual(['data/test.csv', 'data/train.csv']);
    const result = JSON.parse(run.stdout);
    expect(result.dryRun).toBe(true);
    expect(result.files).toContainEqual({ path: 'mlops.yaml', status: 'would-write' });
    expect(run.stderr).toContain('nothing written');
  });

  it('shows, when a file exists, what it would change (a diff) and that a real run needs --force', async () => {
    const dir = await userRepository();
    writeFileSync(join(dir, 'mlops.yaml'), 'mine: true\n');
    const run = await mlops(dir, 'init', '--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/would overwrite +mlops\.yaml/);
    expect(run.stdout).toContain('--- mlops.yaml (now)\n+++ mlops.yaml (mlops init)\n@@ -1 +1,');
    expect(run.stdout).toContain('\n-mine: true\n+# mlops.yaml: the configuration');
    expect(run.stdout).toContain(
      'Without --force, mlops init would write nothing: mlops.yaml exists with other content',
    );
    const forced = await mlops(dir, 'init', '--dry-run', '--force', '--json');
    expect(forced.code).toBe(0);
    const result = JSON.parse(forced.stdout);
    expect(result.needsForce).toBe(false);
    expect(result.files).toContainEqual(
      expect.objectContaining({ path: 'mlops.yaml', status: 'would-overwrite' }),
    );
    expect(readFileSync(join(dir, 'mlops.yaml'), 'utf8')).toBe('mine: true\n');
  });
});

describe('templates', () => {
  it('are found from the sources and from the bundle', () => {
    const expected = join(repoRoot, 'templates', 'workflows');
    expect(findTemplatesDirectory(pathToFileURL(join(repoRoot, 'src/core/init/templates.ts')).href)).toBe(
      expected,
    );
    expect(findTemplatesDirectory(join(repoRoot, 'dist/cli/index.js'))).toBe(expected);
    expect(() => findTemplatesDirectory('/nonexistent/folder/index.js')).toThrow(/templates\/workflows/);
  });

  it('setWorkflowEnv changes only the values of the top-level env block', () => {
    const text =
      'on: push\nenv:\n  # the name\n  MODEL_NAME: example # set by init\n  OTHER: "x"\njobs:\n  a:\n    env:\n      MODEL_NAME: job-level\n';
    const changed = setWorkflowEnv(text, { MODEL_NAME: 'yes', OTHER: 'a: b', MISSING: 'z' }, 't.yml');
    expect(changed).toBe(
      'on: push\nenv:\n  # the name\n  MODEL_NAME: "yes" # set by init\n  OTHER: "a: b"\njobs:\n  a:\n    env:\n      MODEL_NAME: job-level\n',
    );
    expect((parseYaml(changed) as { env: object }).env).toEqual({ MODEL_NAME: 'yes', OTHER: 'a: b' });
    expect(() => setWorkflowEnv(text, { NAME: 'x' }, 't.yml', ['NAME'])).toThrow(/does not set NAME/);
  });

  it('yamlScalar quotes what YAML would read as something else', () => {
    for (const value of ['churn-model', 'build/model.onnx', '1.2.0', 'a.b_c'])
      expect(yamlScalar(value)).toBe(value);
    for (const value of ['true', 'no', '1', '1.5', '0x10', 'a b', '', '#x', '-x', 'on'])
      expect(parseYaml(`k: ${yamlScalar(value)}`)).toEqual({ k: value });
  });

  it('inferTask reads the target column', () => {
    const column = (type: string, distinct: number) =>
      ({ type, distinct: { count: distinct } }) as Parameters<typeof inferTask>[0];
    expect(inferTask(column('integer', 2))?.task).toBe('binary');
    expect(inferTask(column('string', 5))?.task).toBe('multiclass');
    expect(inferTask(column('integer', 200))?.task).toBe('regression');
    expect(inferTask(column('number', 2))?.task).toBe('regression');
    expect(inferTask(column('boolean', 2))?.task).toBe('binary');
    expect(inferTask(column('empty', 0))).toBeUndefined();
  });
});

/**
 * The built dist/ as a released action ships it: copied with each actions/<name>/action.yml into an
 * empty folder outside the repository (no node_modules anywhere above it), then every action and the
 * CLI run from there. A bundle that still resolves something from the repository's node_modules
 * (ONNX Runtime's JavaScript, its native library, a forgotten dependency) fails here with "Cannot
 * find module" instead of on a user's runner.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ActionRun, repoRoot, runAction } from '../harness/run-action.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const models = join(repoRoot, 'test/fixtures/models');
const example = join(repoRoot, 'templates/example');
const actionNames = readdirSync(join(repoRoot, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, 'actions', entry.name, 'action.yml')))
  .map((entry) => entry.name)
  .sort();

/** What a bundle that cannot find its code or native files prints. */
const moduleErrors = /Cannot find module|Cannot find package|ERR_MODULE|ERR_PACKAGE|ERR_DLOPEN|ERR_REQUIRE/;

let shipped: string;

beforeAll(() => {
  shipped = temporaryFolderSync('mlops-bundle-smoke-');
  copyDist(join(shipped, 'dist'));
  for (const name of actionNames) {
    mkdirSync(join(shipped, 'actions', name), { recursive: true });
    cpSync(join(repoRoot, 'actions', name, 'action.yml'), join(shipped, 'actions', name, 'action.yml'));
  }
});

/**
 * Copies dist/ (real copies: hard links into node_modules would still be files of the copy, but a
 * copy is what a checkout of the release gives). A colleague's build may swap dist/ while this reads
 * it; the swap is atomic, so starting over gets one consistent build.
 */
function copyDist(target: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(target, { recursive: true, force: true });
      cpSync(join(repoRoot, 'dist'), target, { recursive: true });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

/** Runs the copied action `name` through its copied action.yml, as the runner would. */
function runShipped(name: string, options: Parameters<typeof runAction>[1] = {}): Promise<ActionRun> {
  return runAction(name, { ...options, manifest: join(shipped, 'actions', name, 'action.yml') });
}

function expectNoModuleErrors(run: { stdout: string; stderr: string }): void {
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(moduleErrors);
}

function errors(run: ActionRun) {
  return run.annotations.filter((a) => a.level === 'error');
}

describe('dist/ copied to an empty folder', () => {
  it('is outside any node_modules tree and carries ONNX Runtime for this machine', () => {
    for (let dir = shipped; dirname(dir) !== dir; dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules exists`).toBe(false);
    }
    expect(existsSync(join(dirname(shipped), 'node_modules'))).toBe(false);
    const info = JSON.parse(readFileSync(join(shipped, 'dist/build-info.json'), 'utf8'));
    const installed = JSON.parse(
      readFileSync(join(repoRoot, 'node_modules/onnxruntime-node/package.json'), 'utf8'),
    );
    expect(info.runtime['onnxruntime-node']).toBe(installed.version);
    expect(info.platforms).toContain(`${process.platform}/${process.arch}`);
    const binaries = join(shipped, 'dist/node_modules/onnxruntime-node/bin/napi-v6');
    // Only the platforms asked for: a dev build carries this machine's binaries and no others.
    expect(
      readdirSync(binaries)
        .flatMap((os) => readdirSync(join(binaries, os)).map((arch) => `${os}/${arch}`))
        .sort(),
    ).toEqual([...info.platforms].sort());
    const binding = join(binaries, process.platform, process.arch, 'onnxruntime_binding.node');
    expect(statSync(binding).size).toBeGreaterThan(100_000);
    expect(readFileSync(join(shipped, 'dist/THIRD-PARTY-LICENSES.txt'), 'utf8')).toMatch(
      /^onnxruntime-node \d+\.\d+\.\d+ \(MIT\)$/m,
    );
  });

  // Every action folder, including ones added later: it loads, parses its inputs and reports the
  // missing one as a configuration error (not an internal error, not a module that cannot be found).
  it.each(actionNames)('%s starts and reports a missing input', async (name) => {
    const run = await runShipped(name);
    expectNoModuleErrors(run);
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0].title).toBe('Configuration error');
    expect(errors(run)[0].message).not.toMatch(/Internal error/);
  });

  it('validate-data checks the example data against its contract, reference and training set', async () => {
    const run = await runShipped('validate-data', {
      inputs: {
        data: join(example, 'data/test.csv'),
        reference: join(example, 'data/train.csv'),
        train: join(example, 'data/train.csv'),
        contract: join(example, 'contract.json'),
        target: 'target',
      },
    });
    expectNoModuleErrors(run);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.outputs.passed).toBe('true');
    const report = JSON.parse(readFileSync(join(run.workspace, run.outputs['report-path']), 'utf8'));
    expect(report).toMatchObject({ kind: 'data-validation', passed: true });
  });

  it('validate-model evaluates ONNX models with the copied ONNX Runtime', async () => {
    const run = await runShipped('validate-model', {
      inputs: {
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: join(models, 'sklearn-forest.onnx'),
        data: join(example, 'data/test.csv'),
        target: 'target',
        gates: 'roc_auc >= 0.95\nlog_loss <= baseline * 1.05',
        resamples: '100',
      },
    });
    expectNoModuleErrors(run);
    expect(run.stderr).toBe('');
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.passed).toBe('true');
    expect(JSON.parse(run.outputs.metrics).roc_auc).toBeGreaterThan(0.99);
    const report = JSON.parse(readFileSync(join(run.workspace, run.outputs['report-path']), 'utf8'));
    expect(report).toMatchObject({ kind: 'model-validation', passed: true, task: 'binary' });
    expect(report.data.rows).toBe(114);
  });

  it('package-model builds a package without uploading or releasing', async () => {
    const run = await runShipped('package-model', {
      inputs: {
        model: join(models, 'torch-sigmoid.onnx'),
        name: 'smoke-model',
        version: '1.0.0',
        contract: join(example, 'contract.json'),
        upload: 'false',
        release: 'false',
      },
    });
    expectNoModuleErrors(run);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(run.outputs.version).toBe('1.0.0');
    // Relative outputs are relative to the workspace; resolve() keeps an absolute one as it is.
    expect(existsSync(resolve(run.workspace, run.outputs.archive))).toBe(true);
  });

  it('deploy-pr without a token stops with the configuration error that names the token', async () => {
    const run = await runShipped('deploy-pr', {
      inputs: {
        environment: 'staging',
        'package-ref':
          'https://github.com/octo-org/mlops-demo/releases/download/v1.0.0/m-1.0.0.zip#sha256=' +
          '0'.repeat(64),
        repository: 'octo-org/environments',
      },
    });
    expectNoModuleErrors(run);
    expect(run.exitCode).toBe(1);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0].title).toBe('Configuration error');
    expect(errors(run)[0].message).toMatch(/token/);
  });

  describe('the CLI', () => {
    const mlops = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(
          process.execPath,
          [join(shipped, 'dist/cli/index.js'), ...args],
          { cwd: shipped, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: shipped } },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it('prints its version', async () => {
      const run = await mlops('--version');
      expectNoModuleErrors(run);
      expect(run.code).toBe(0);
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
      expect(run.stdout.trim()).toBe(version);
    });

    it('starts through its bin, dist/cli/mlops.cjs, on this Node and on the system Node 20', async () => {
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
      const bin = join(shipped, 'dist/cli/mlops.cjs');
      for (const node of [process.execPath, '/usr/bin/node']) {
        const { stdout } = await promisify(execFile)(node, [bin, '--version'], { cwd: shipped });
        expect(stdout.trim(), node).toBe(version);
      }
    });

    it('runs the model gate on a multiclass model', async () => {
      const run = await mlops(
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
      expectNoModuleErrors(run);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report).toMatchObject({ kind: 'model-validation', passed: true, task: 'multiclass' });
    });
  });
});

describe('scripts/build.js', () => {
  it('refuses a platform onnxruntime-node has no files for, naming the ones it has', async () => {
    const result = await promisify(execFile)(
      process.execPath,
      [join(repoRoot, 'scripts/build.js'), '--platforms', 'linux/x64,plan9/mips'],
      { cwd: repoRoot },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in result ? result.code : 0).toBe(2);
    expect(result.stderr).toMatch(/no native files for 'plan9\/mips'.*available: .*linux\/x64/);
  });
});

/**
 * Chain of custody (issue #12): nothing reaches an environment without its gates' verdicts, or
 * against them without someone saying so. Packages refuse failed gate reports (unless overridden,
 * which the manifest, the model card and `package verify` show) and reports of another model
 * (the candidate's sha256, and its external-data files'); deployments take the verdicts, metrics
 * and source commit from the package's manifest, refuse a failed package unless overridden (the
 * record and the pull request say who and why), deploy an unvalidated package loudly, unless the
 * environment's policy.yaml requires verdicts; records written before verdicts were recorded
 * (apiVersion v1) are still read and promotable, their verdicts "not recorded".
 *
 * Real parts: the built CLI and action bundles, the git smart-HTTP server (the environment
 * repository, seeded from templates/environment-repo with its production policy), the
 * OpenAPI-checked GitHub stand-in, and packages built from the committed fixture reports
 * (test/fixtures/reports/make-reports.js). A new case about verdicts, overrides or policies goes here.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironmentPolicy } from '../../src/core/deploy/custody.ts';
import { deployBranch, referencePath } from '../../src/core/deploy/deploy.ts';
import { readModelReference } from '../../src/core/deploy/model-reference.ts';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import { parseGateExpression } from '../../src/core/model/gates.ts';
import { validateModel } from '../../src/core/model/validate-model.ts';
import { buildPackage, type PackageManifest } from '../../src/core/package/build-package.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { FIXTURE_MODELS, FIXTURE_REPORTS, makeTestPackage, TEST_LINEAGE } from '../helpers/packages.ts';

const run = promisify(execFile);
const REPO = 'octo-org/environments';
const forest = join(FIXTURE_MODELS, 'sklearn-forest.onnx');
const logreg = join(FIXTURE_MODELS, 'sklearn-logreg-zipmap.onnx');
const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

let git: GitServer;
let github: GitHubApi;

/** The CLI with only PATH and HOME (no GITHUB_* of the test process) and `env`. */
const mlops = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  runCli(args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
    timeoutMs: 90_000,
  });

/** A reports folder holding copies of the given fixture reports. */
async function reportsFolder(...names: string[]): Promise<string> {
  const folder = await temporaryDirectory('mlops-reports-');
  for (const name of names)
    await copyFile(join(FIXTURE_REPORTS, `${name}.json`), join(folder, `${name}.json`));
  return folder;
}

/** The model reference on a branch of the environment repository. */
async function recordOn(branch: string, environment: string, model: string) {
  const text = await git.readFile(REPO, branch, referencePath(environment, model));
  return readModelReference(text ?? '', `${environment}/${model}`);
}

/** Merges a deployment branch into main (fast-forward), as GitHub's merge button would. */
async function merge(branch: string): Promise<void> {
  const work = await temporaryDirectory();
  const gitIn = (...args: string[]) =>
    run('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], { cwd: work });
  await gitIn('clone', '--quiet', git.url(REPO), '.');
  await gitIn('fetch', '--quiet', 'origin', branch);
  await gitIn('merge', '--quiet', '--ff-only', 'FETCH_HEAD');
  await gitIn('push', '--quiet', 'origin', 'HEAD:main');
}

/** A version 1 record, as deploy-pr wrote them before records carried verdicts. */
function versionOneRecord(
  environment: string,
  model: string,
  version: string,
  ref: string,
  digest: string,
): string {
  return [
    '# Written by an older mlops-actions.',
    'apiVersion: mlops-actions.dev/v1',
    'kind: ModelDeployment',
    'metadata:',
    `  name: ${model}`,
    `  environment: ${environment}`,
    'spec:',
    `  model: { name: ${model}, version: ${version} }`,
    `  package: { ref: '${ref}', sha256: ${digest} }`,
    `  source: { repository: octo-org/mlops-demo, commit: ${'d'.repeat(40)} }`,
    '  gates: {}',
    '  deployedAt: 2025-06-01T00:00:00Z',
    '',
  ].join('\n');
}

let legacy: { archive: string; digest: string };

beforeAll(async () => {
  git = await startGitServer();
  github = await startGitHubApi({
    repositories: [REPO],
    token: git.token,
    beforeOperation: async () => {
      for (const [ref, head] of Object.entries(await git.refs(REPO))) {
        if (ref.startsWith('refs/heads/'))
          github.state.setBranch(REPO, ref.slice('refs/heads/'.length), head);
      }
    },
  });
  const template = (path: string) => readFile(join(repoRoot, 'templates/environment-repo', path), 'utf8');
  // Two models deployed to staging before records carried verdicts: one whose package can still be
  // read (a local archive), one whose package cannot (a workflow artifact of a past run).
  const built = await makeTestPackage({ name: 'legacy', version: '0.9.0' });
  legacy = { archive: built.archive, digest: built.digest };
  await git.createRepository(REPO, {
    'environments/staging/kustomization.yaml': await template('environments/staging/kustomization.yaml'),
    'environments/production/values.yaml': await template('environments/production/values.yaml'),
    'environments/production/policy.yaml': await template('environments/production/policy.yaml'),
    'environments/staging/models/legacy.yaml': versionOneRecord(
      'staging',
      'legacy',
      '0.9.0',
      `file://${built.archive}`,
      built.digest,
    ),
    'environments/staging/models/oldest.yaml': versionOneRecord(
      'staging',
      'oldest',
      '0.1.0',
      'artifact://1234/oldest-0.1.0',
      'e'.repeat(64),
    ),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([git?.stop(), github?.stop()]);
});

describe('packages', () => {
  it('refuse a failed gate report (exit 2, nothing written) unless overridden, and show the override everywhere', async () => {
    const cwd = await temporaryDirectory();
    const out = join(cwd, 'out');
    const failedModel = await mlops(
      cwd,
      {},
      'package',
      '--model',
      forest,
      '--name',
      'forest',
      '--version',
      '1.0.0',
      '--reports',
      await reportsFolder('model-failed'),
      '--out',
      out,
    );
    expect(failedModel.code).toBe(2);
    expect(failedModel.stderr).toMatch(/model-failed\.json: the model gate failed \(log_loss <= baseline/);
    expect(failedModel.stderr).toMatch(/--allow-failed-gates/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
    const failedData = await mlops(
      cwd,
      {},
      'package',
      '--model',
      logreg,
      '--name',
      'm',
      '--version',
      '1.0.0',
      '--reports',
      await reportsFolder('data-failed', 'model-passed'),
      '--out',
      out,
    );
    expect(failedData.code).toBe(2);
    expect(failedData.stderr).toMatch(/data-failed\.json: the data gate failed \(3 error findings\)/);

    const allowed = await mlops(
      cwd,
      { GITHUB_ACTOR: 'octocat' },
      'package',
      '--model',
      forest,
      '--name',
      'forest',
      '--version',
      '1.0.0',
      '--reports',
      await reportsFolder('model-failed'),
      '--out',
      out,
      '--allow-failed-gates',
      '--override-reason',
      'known log-loss regression; hotfix',
      '--json',
    );
    expect(allowed.code).toBe(0);
    const manifest = JSON.parse(allowed.stdout).manifest as PackageManifest;
    expect(manifest.version).toBe(2);
    expect(manifest.gates).toEqual({
      model: { passed: false, report: 'reports/model-failed.json' },
      override: { allowedFailed: ['model'], by: 'octocat', reason: 'known log-loss regression; hotfix' },
    });
    expect(allowed.stderr).toMatch(/gates +model FAILED; failed gates packaged anyway by octocat/);
    const card = await readFile(join(out, 'forest-1.0.0/MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/- model: \*\*FAILED\*\*/);
    expect(card).toMatch(
      /\*\*Packaged despite failed gates\*\* \(model\): by octocat, because "known log-loss regression; hotfix"/,
    );
    const verified = await mlops(cwd, {}, 'package', 'verify', join(out, 'forest-1.0.0.zip'));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /gates: model FAILED; failed gates packaged anyway by octocat \("known log-loss regression; hotfix"\)/,
    );
    const reason = await mlops(
      cwd,
      {},
      'package',
      '--model',
      forest,
      '--name',
      'forest',
      '--override-reason',
      'why',
    );
    expect(reason.code).toBe(2);
    expect(reason.stderr).toMatch(/--override-reason goes with --allow-failed-gates/);
  }, 60_000);

  it("refuse another model's report even when failed gates are allowed, and say an unvalidated package is one", async () => {
    const cwd = await temporaryDirectory();
    const foreign = await mlops(
      cwd,
      {},
      'package',
      '--model',
      logreg,
      '--name',
      'm',
      '--version',
      '1.0.0',
      '--reports',
      await reportsFolder('model-failed'),
      '--out',
      'out',
      '--allow-failed-gates',
    );
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(
      `is the model gate's report of another model: its candidate test/fixtures/models/sklearn-forest.onnx has sha256 ${await sha256(forest)}, but ${logreg} has sha256 ${await sha256(logreg)}`,
    );
    const other = await mlops(
      cwd,
      {},
      'package',
      '--model',
      forest,
      '--name',
      'm',
      '--version',
      '1.0.0',
      '--reports',
      await reportsFolder('model-passed'),
      '--out',
      'out',
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/report of another model/);
    expect(await readdir(join(cwd, 'out')).catch(() => [])).toEqual([]);
    const unvalidated = await mlops(
      cwd,
      {},
      'package',
      '--model',
      forest,
      '--name',
      'm',
      '--version',
      '1.0.0',
      '--out',
      'out',
    );
    expect(unvalidated.code).toBe(0);
    expect(unvalidated.stdout).toMatch(/gates +none packaged \(UNVALIDATED/);
    expect(await readFile(join(cwd, 'out/m-1.0.0/MODEL_CARD.md'), 'utf8')).toMatch(
      /\*\*Unvalidated\*\*: no gate report was packaged/,
    );
  }, 60_000);

  it('bind the external-data files the model gate evaluated: other weights are refused', async () => {
    // The fixture model with its weights in a separate file, evaluated by the model gate.
    const folder = await temporaryDirectory();
    await copyFile(join(repoRoot, 'test/fixtures/onnx/external.onnx'), join(folder, 'model.onnx'));
    await copyFile(join(repoRoot, 'test/fixtures/onnx/external.weights'), join(folder, 'external.weights'));
    const rows = Array.from({ length: 80 }, (_, i) => {
      const x = [Math.sin(i), Math.cos(i * 1.3), Math.sin(i * 0.7), Math.cos(i * 0.4)].map((v) =>
        v.toFixed(4),
      );
      return `${x.join(',')},${i % 2}`;
    });
    await writeFile(join(folder, 'holdout.csv'), `a,b,c,d,label\n${rows.join('\n')}\n`);
    const report = await validateModel(
      {
        model: join(folder, 'model.onnx'),
        data: join(folder, 'holdout.csv'),
        target: 'label',
        gates: [parseGateExpression('accuracy >= 0')],
        bootstrap: false,
        latency: false,
      },
      { info() {}, warning() {}, debug() {} },
    );
    expect(report.candidate.externalData).toEqual([
      {
        location: 'external.weights',
        sha256: await sha256(join(folder, 'external.weights')),
        bytes: 20,
      },
    ]);
    const reports = join(folder, 'reports');
    await mkdir(reports);
    await writeFile(join(reports, 'model-validation.json'), JSON.stringify(report));
    const build = async (reportFolder = reports) =>
      buildPackage({
        model: join(folder, 'model.onnx'),
        name: 'external',
        version: '1.0.0',
        reports: reportFolder,
        out: join(folder, 'out'),
        lineage: TEST_LINEAGE,
      });
    const built = await build();
    expect(built.manifest.files.find((f) => f.path === 'external.weights')?.sha256).toBe(
      report.candidate.externalData?.[0].sha256,
    );

    // Other weights next to the same model file: not what was evaluated.
    const weights = await readFile(join(folder, 'external.weights'));
    weights[0] ^= 0xff;
    await writeFile(join(folder, 'external.weights'), weights);
    const swapped = await build().catch((e: unknown) => e);
    expect(swapped).toBeInstanceOf(InputError);
    expect((swapped as Error).message).toMatch(
      /the external-data file external\.weights of .* has sha256 [0-9a-f]{64}, but the model gate evaluated sha256 [0-9a-f]{64}/,
    );
    // The earlier package is still the one in place; no staging folder is left behind.
    expect((await readdir(join(folder, 'out'))).sort()).toEqual([
      'external-1.0.0',
      'external-1.0.0.zip',
      'provenance.intoto.json',
    ]);

    // A report that predates recorded external-data digests cannot bind them.
    const old = join(folder, 'old-reports');
    await mkdir(old);
    const { externalData: _, ...identity } = report.candidate;
    await writeFile(join(old, 'model-validation.json'), JSON.stringify({ ...report, candidate: identity }));
    weights[0] ^= 0xff;
    await writeFile(join(folder, 'external.weights'), weights);
    await expect(build(old)).rejects.toThrow(/does not record the digests of .*external-data files/);
  }, 60_000);

  it('package-model: a failed report fails the step; the override input is recorded with the actor', async () => {
    const workspace = await temporaryDirectory();
    await mkdir(join(workspace, 'mlops-reports'));
    await copyFile(
      join(FIXTURE_REPORTS, 'model-failed.json'),
      join(workspace, 'mlops-reports/model-validation.json'),
    );
    const inputs = {
      model: forest,
      name: 'forest',
      version: '1.0.0',
      reports: 'mlops-reports',
      upload: 'false',
    };
    const env = { GITHUB_ACTOR: 'octocat', GITHUB_SHA: 'a'.repeat(40), GITHUB_REF: 'refs/heads/main' };
    const refused = await runAction('package-model', { cwd: workspace, env, inputs });
    expect(refused.exitCode).toBe(1);
    expect(refused.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /the model gate failed .* input "allow-failed-gates: true"/,
    );
    const allowed = await runAction('package-model', {
      cwd: workspace,
      env,
      inputs: { ...inputs, 'allow-failed-gates': 'true', 'override-reason': 'hotfix' },
    });
    expect(allowed.exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(allowed.outputs.manifest, 'utf8')) as PackageManifest;
    expect(manifest.gates.override).toEqual({ allowedFailed: ['model'], by: 'octocat', reason: 'hotfix' });
    expect(allowed.annotations.find((a) => a.level === 'warning')?.message).toMatch(
      /packaged anyway by octocat/,
    );
    expect(allowed.summary).toMatch(/Gates: model FAILED; failed gates packaged anyway by octocat/);
  }, 60_000);
});

describe('deployments', () => {
  it('refuse a package whose gate failed unless overridden; the record and the pull request say who and why', async () => {
    const cwd = await temporaryDirectory();
    const failed = await makeTestPackage({
      name: 'forest',
      version: '2.0.0',
      reports: ['data-passed', 'model-failed'],
      allowFailedGates: { by: 'alice', reason: 'hotfix' },
    });
    const before = await git.refs(REPO);
    const args = ['deploy', '--env', 'staging', '--repo', git.url(REPO), '--package-ref', failed.archive];
    const refused = await mlops(cwd, { GITHUB_TOKEN: git.token }, ...args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /forest 2\.0\.0 is not deployed to staging: its package records a failed model gate .*packaged anyway by alice \("hotfix"\).*--allow-failed-gates/,
    );
    expect(await git.refs(REPO)).toEqual(before);

    const overridden = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token, GITHUB_ACTOR: 'bob' },
      ...args,
      '--allow-failed-gates',
      '--override-reason',
      'the old model is worse',
    );
    expect(overridden.code).toBe(0);
    const record = await recordOn(deployBranch('staging', 'forest'), 'staging', 'forest');
    expect(record.apiVersion).toBe('mlops-actions.dev/v2');
    expect(record.spec.gates).toMatchObject({
      verdict: 'overridden',
      data: true,
      model: false,
      override: {
        allowedFailed: ['model'],
        by: 'bob',
        reason: 'the old model is worse',
        package: { by: 'alice', reason: 'hotfix' },
      },
    });
    const body = JSON.parse(await readFile(join(cwd, 'mlops-deploy-pr.json'), 'utf8')).body as string;
    expect(body).toMatch(/Gates: data ✅ passed, model ❌ failed\./);
    expect(body).toMatch(
      /⚠️ \*\*Failed gates deployed by override\*\*: the model gate failed; deployed anyway by bob \("the old model is worse"\), packaged anyway by alice \("hotfix"\)/,
    );
    const [commit] = await git.log(REPO, deployBranch('staging', 'forest'), 1);
    expect(commit.message).toMatch(/Gates: overridden \(failed model; deployed by bob\)/);
    // Once merged, the history shows it.
    await merge(deployBranch('staging', 'forest'));
    const history = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'history',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--model',
      'forest',
    );
    expect(history.stdout).toMatch(/forest +2\.0\.0 .* OVERRIDDEN \(model failed; by bob\)/);
  }, 90_000);

  it("record the package's verdicts, metrics and source commit, not the deploying checkout's", async () => {
    const pkg = await makeTestPackage({ name: 'churn', version: '1.1.0' });
    // Deployed from another checkout, at another commit, by another workflow run.
    const cwd = await temporaryDirectory();
    await run('git', ['init', '--quiet'], { cwd });
    await run(
      'git',
      [
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@example.invalid',
        'commit',
        '--quiet',
        '--allow-empty',
        '-m',
        'other',
      ],
      { cwd },
    );
    const result = await mlops(
      cwd,
      {
        GITHUB_TOKEN: git.token,
        GITHUB_SHA: 'f'.repeat(40),
        GITHUB_REPOSITORY: 'octo-org/elsewhere',
        GITHUB_RUN_ID: '99',
      },
      'deploy',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--package-ref',
      pkg.packageRef,
    );
    expect(result.code).toBe(0);
    const record = await recordOn(deployBranch('staging', 'churn'), 'staging', 'churn');
    expect(record.spec.source).toEqual({
      repository: TEST_LINEAGE.repository,
      commit: TEST_LINEAGE.commit,
      runUrl: TEST_LINEAGE.runUrl,
    });
    expect(record.spec.gates).toEqual({
      verdict: 'passed',
      data: true,
      model: true,
      metrics: Object.fromEntries(
        Object.entries(pkg.manifest.metrics).filter(
          (entry): entry is [string, number] => typeof entry[1] === 'number',
        ),
      ),
    });
    const body = JSON.parse(await readFile(join(cwd, 'mlops-deploy-pr.json'), 'utf8')).body as string;
    expect(body).toContain(
      `Source: octo-org/mlops-demo@${TEST_LINEAGE.commit?.slice(0, 12)}, built by [this workflow run](${TEST_LINEAGE.runUrl})`,
    );
    expect(body).toMatch(
      /Gate verdicts, metrics and source: from the package's manifest, archive sha256 checked\./,
    );
  }, 60_000);

  it('deploy an unvalidated package loudly, and refuse it where the environment requires verdicts', async () => {
    const cwd = await temporaryDirectory();
    const pkg = await makeTestPackage({ name: 'bare', version: '1.0.0', reports: [] });
    const staging = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--package-ref',
      pkg.archive,
    );
    expect(staging.code).toBe(0);
    expect(staging.stdout).toMatch(/⚠️ Unvalidated package: it carries no gate report/);
    expect((await recordOn(deployBranch('staging', 'bare'), 'staging', 'bare')).spec.gates).toEqual({
      verdict: 'unvalidated',
    });
    const body = JSON.parse(await readFile(join(cwd, 'mlops-deploy-pr.json'), 'utf8')).body as string;
    expect(body).toMatch(/\| gates \| — \| ⚠️ \*\*unvalidated\*\* \|/);
    expect(body).toMatch(/⚠️ \*\*Unvalidated package\*\*: it carries no gate report/);

    const before = await git.refs(REPO);
    const production = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
      '--package-ref',
      pkg.archive,
    );
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(
      /bare 1\.0\.0 is not deployed to production: environments\/production\/policy\.yaml requires verdicts of the data and model gates, and its package carries no gate report \(unvalidated\)/,
    );
    // Overriding failed gates is not a way around a missing verdict.
    const forced = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
      '--package-ref',
      pkg.archive,
      '--allow-failed-gates',
    );
    expect(forced.code).toBe(2);
    expect(await git.refs(REPO)).toEqual(before);

    // The same through the action: the step fails naming the policy.
    const action = await runAction('deploy-pr', {
      env: { GITHUB_API_URL: github.baseUrl },
      inputs: {
        environment: 'production',
        'package-ref': pkg.packageRef,
        repository: git.url(REPO),
        token: git.token,
      },
    });
    expect(action.exitCode).toBe(1);
    expect(action.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /policy\.yaml requires verdicts/,
    );
    expect(github.violations).toEqual([]);
  }, 90_000);

  it('read environment policies strictly: a list of gates, or a mistake named with its line', () => {
    expect(parseEnvironmentPolicy('require-verdicts: [model]\n', 'p.yaml').requireVerdicts).toEqual([
      'model',
    ]);
    expect(parseEnvironmentPolicy('# nothing required\n', 'p.yaml').requireVerdicts).toEqual([]);
    const typo = (() => {
      try {
        parseEnvironmentPolicy('# policy\nrequire-verdict: true\n', 'environments/production/policy.yaml');
      } catch (error) {
        return error;
      }
    })();
    expect(typo).toBeInstanceOf(ConfigurationError);
    expect((typo as Error).message).toMatch(
      /^environments\/production\/policy\.yaml:2: unknown key "require-verdict"\. Did you mean "require-verdicts"\?/,
    );
    expect(() => parseEnvironmentPolicy('require-verdicts: yes please\n', 'p.yaml')).toThrow(
      /"require-verdicts" must be true .* found "yes please"/,
    );
    expect(() => parseEnvironmentPolicy('a: &a [x]\nrequire-verdicts: *a\n', 'p.yaml')).toThrow(
      ConfigurationError,
    );
  });

  it('read an artifact:// reference from the package folder of the job (deploy-pr)', async () => {
    const workspace = await temporaryDirectory();
    const pkg = await makeTestPackage({
      name: 'artifacted',
      version: '3.0.0',
      out: join(workspace, 'mlops-package'),
    });
    const inputs = {
      environment: 'staging',
      'package-ref': `artifact://42/artifacted-3.0.0@sha256:${pkg.digest}`,
      repository: git.url(REPO),
      token: git.token,
    };
    const env = { GITHUB_API_URL: github.baseUrl };
    const deployed = await runAction('deploy-pr', { cwd: workspace, env, inputs });
    expect(deployed.exitCode).toBe(0);
    const record = await recordOn(deployBranch('staging', 'artifacted'), 'staging', 'artifacted');
    expect(record.spec.package.ref).toBe('artifact://42/artifacted-3.0.0');
    expect(record.spec.gates).toMatchObject({ verdict: 'passed', data: true, model: true });
    // Another digest: no archive of the job has it.
    const wrong = await runAction('deploy-pr', {
      cwd: workspace,
      env,
      inputs: { ...inputs, 'package-ref': `artifact://42/artifacted-3.0.0@sha256:${'0'.repeat(64)}` },
    });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /No archive in mlops-package has its sha256 0{64}/,
    );
    expect(github.violations).toEqual([]);
  }, 60_000);
});

describe('records written before verdicts were recorded (apiVersion v1)', () => {
  it('are read, shown as "not recorded", and stay promotable', async () => {
    const cwd = await temporaryDirectory();
    const history = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'history',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--json',
    );
    expect(history.code).toBe(0);
    const records = JSON.parse(history.stdout).records as { model: string; verdict: string }[];
    expect(records.filter((r) => ['legacy', 'oldest'].includes(r.model)).map((r) => r.verdict)).toEqual([
      'not-recorded',
      'not-recorded',
    ]);

    // A package that can still be read: the promotion takes its verdicts from its manifest, and
    // production's policy is satisfied.
    const promoted = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--promote-from',
      'staging',
      '--model',
      'legacy',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
    );
    expect(promoted.stderr).toBe('');
    expect(promoted.code).toBe(0);
    const record = await recordOn(deployBranch('production', 'legacy'), 'production', 'legacy');
    expect(record.spec.package.sha256).toBe(legacy.digest);
    expect(record.spec.gates).toMatchObject({ verdict: 'passed', data: true, model: true });
    // The package's commit, not the one the v1 record took from the deploying checkout.
    expect(record.spec.source.commit).toBe(TEST_LINEAGE.commit);

    // A package that cannot be read any more: promotable, its verdicts "not recorded", said so.
    const oldest = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--promote-from',
      'staging',
      '--model',
      'oldest',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
    );
    expect(oldest.code).toBe(0);
    expect(oldest.stdout).toMatch(/Gate verdicts: not recorded/);
    const kept = await recordOn(deployBranch('production', 'oldest'), 'production', 'oldest');
    expect(kept.spec.gates).toEqual({ verdict: 'not-recorded' });
    expect(kept.spec.source.commit).toBe('d'.repeat(40));
    const body = JSON.parse(await readFile(join(cwd, 'mlops-deploy-pr.json'), 'utf8')).body as string;
    expect(body).toMatch(/Gate verdicts: not recorded/);
    expect(body).toMatch(
      /staging's record predates recorded verdicts, and the package's manifest cannot be read from here/,
    );
  }, 90_000);

  it('a promotion of a version 2 record carries its verdicts, and an override must be made again', async () => {
    // forest 2.0.0 runs in staging by override (merged in an earlier test).
    const cwd = await temporaryDirectory();
    const args = [
      'deploy',
      '--promote-from',
      'staging',
      '--model',
      'forest',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
    ];
    const refused = await mlops(cwd, { GITHUB_TOKEN: git.token }, ...args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/records a failed model gate \(staging's deployment record\)/);
    const promoted = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token, GITHUB_ACTOR: 'carol' },
      ...args,
      '--allow-failed-gates',
    );
    expect(promoted.code).toBe(0);
    const record = await recordOn(deployBranch('production', 'forest'), 'production', 'forest');
    expect(record.spec.gates.override).toEqual({
      allowedFailed: ['model'],
      by: 'carol',
      package: { by: 'alice', reason: 'hotfix' },
    });
    expect(record.spec.source.commit).toBe(TEST_LINEAGE.commit);
  }, 60_000);
});

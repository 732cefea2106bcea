/**
 * Deployment pull requests with real parts: a git smart-HTTP server on loopback holds the
 * environment repository, the OpenAPI-checked GitHub stand-in holds the pull requests, and each
 * version deployed is a real package (test/helpers/packages.ts) whose manifest gives the verdicts.
 * First deployment, re-run, new version, concurrent runs, bad token, protected branch, missing
 * environment: each asserted on the servers' state.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeployOptions,
  deploy,
  deployBranch,
  type PullRequestApi,
  referencePath,
} from '../../src/core/deploy/deploy.ts';
import { environmentBaselineResolver, readPackageSummary } from '../../src/core/deploy/deployed-baseline.ts';
import { readModelReference } from '../../src/core/deploy/model-reference.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { createGitHubPulls } from '../../src/github/pulls.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { makeTestPackage, TEST_LINEAGE } from '../helpers/packages.ts';

const REPO = 'octo-org/environments';
let git: GitServer;
let github: GitHubApi;

beforeAll(async () => {
  git = await startGitServer();
  // One token for both, as on GitHub; the API learns the branches the git server holds before
  // every operation (a push to GitHub makes them known at once).
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
  await git.createRepository(REPO, {
    'README.md': await template('README.md'),
    'environments/staging/inferenceservice.yaml': await template(
      'environments/staging/inferenceservice.yaml',
    ),
    'environments/staging/kustomization.yaml': await template('environments/staging/kustomization.yaml'),
    'environments/production/values.yaml': await template('environments/production/values.yaml'),
  });
}, 30_000);
afterAll(async () => {
  await Promise.all([git?.stop(), github?.stop()]);
});

function pulls(token = github.token): PullRequestApi {
  return createGitHubPulls({ token, repository: REPO, apiUrl: github.baseUrl });
}

/** The package reference (file://…#sha256=…) of breast-cancer `version`, built once per version. */
const packages = new Map<string, Promise<string>>();
function packageRef(version: string): Promise<string> {
  if (!packages.has(version))
    packages.set(
      version,
      makeTestPackage({ version }).then((built) => built.packageRef),
    );
  return packages.get(version) as Promise<string>;
}

async function options(version: string, overrides: Partial<DeployOptions> = {}): Promise<DeployOptions> {
  return {
    repository: git.url(REPO),
    base: 'main',
    environment: 'staging',
    hostEnv: process.env,
    model: { name: 'breast-cancer', version },
    packageRef: await packageRef(version),
    deployedAt: '2026-12-01T12:00:00Z',
    auth: { token: git.token },
    pullRequests: pulls(),
    labels: ['deploy'],
    backoffMs: 20,
    // Only local packages are read for the description: the tests have no internet.
    summarizePackage: async (uri, digest) =>
      uri.startsWith('file:') ? readPackageSummary(uri, digest) : undefined,
    ...overrides,
  };
}

const branch = deployBranch('staging', 'breast-cancer');
const file = referencePath('staging', 'breast-cancer');
const openPulls = () => github.state.pullRequests.filter((pr) => pr.state === 'open');

describe('deployment pull requests', () => {
  it('creates, then leaves alone on a re-run, then updates for a new version', async () => {
    const first = await deploy(await options('1.2.0'));
    expect(first).toMatchObject({
      operation: 'created',
      branch,
      file,
      pullRequestNumber: expect.any(Number),
    });
    const text = await git.readFile(REPO, branch, file);
    expect(readModelReference(text ?? '', file).spec).toMatchObject({
      model: { name: 'breast-cancer', version: '1.2.0' },
      package: { sha256: (await packageRef('1.2.0')).split('#sha256=')[1] },
    });
    expect(openPulls()).toHaveLength(1);
    expect(openPulls()[0]).toMatchObject({
      title: 'Deploy breast-cancer 1.2.0 to staging',
      head: branch,
      base: 'main',
    });
    expect(openPulls()[0].body).toMatch(
      /Deploys \*\*breast-cancer 1\.2\.0\*\* to \*\*staging\*\* \(first deployment\)/,
    );
    expect(openPulls()[0].body).toMatch(/Gates: data ✅ passed, model ✅ passed\./);
    expect(openPulls()[0].body).toMatch(/\| roc\\?_auc \| — \| 0\.99\d+ \|/);
    // Verdicts, metrics and source come from the package's manifest, not from the deploying checkout.
    const recorded = readModelReference(text ?? '', file).spec;
    expect(recorded.gates).toMatchObject({ verdict: 'passed', data: true, model: true });
    expect(recorded.gates.metrics?.roc_auc).toBeGreaterThan(0.99);
    expect(recorded.source).toEqual({
      repository: TEST_LINEAGE.repository,
      commit: TEST_LINEAGE.commit,
      runUrl: TEST_LINEAGE.runUrl,
    });
    const [commit] = await git.log(REPO, branch, 1);
    expect(commit.author.email).toBe('41898282+github-actions[bot]@users.noreply.github.com');
    expect(commit.message).toMatch(/^Deploy breast-cancer 1\.2\.0 to staging/);

    const pushes = git.requests.filter((r) => r.service === 'git-receive-pack' && r.method === 'POST').length;
    const again = await deploy(await options('1.2.0'));
    expect(again).toMatchObject({ operation: 'unchanged', pullRequestNumber: first.pullRequestNumber });
    expect(git.requests.filter((r) => r.service === 'git-receive-pack' && r.method === 'POST').length).toBe(
      pushes,
    );

    const next = await deploy(await options('1.3.0'));
    expect(next).toMatchObject({ operation: 'updated', pullRequestNumber: first.pullRequestNumber });
    expect(openPulls()).toHaveLength(1);
    expect(readModelReference((await git.readFile(REPO, branch, file)) ?? '', file).spec.model.version).toBe(
      '1.3.0',
    );
    expect(github.violations).toEqual([]);
  }, 30_000);

  it('changes target fields of other files in the same commit, leaving every other byte', async () => {
    const manifest = 'environments/staging/inferenceservice.yaml';
    const before = (await git.readFile(REPO, 'main', manifest)) ?? '';
    const result = await deploy(
      await options('1.3.1', {
        targets: [{ file: manifest, field: 'spec.predictor.model.storageUri', value: '{uri}' }],
      }),
    );
    expect(result.operation).toBe('updated');
    const after = (await git.readFile(REPO, branch, manifest)) ?? '';
    const uri = (await packageRef('1.3.1')).split('#sha256=')[0];
    const old = /storageUri: (\S+)/.exec(before)?.[1] ?? '';
    expect(after).toBe(before.replace(old, uri));
    const [commit] = await git.log(REPO, branch, 1);
    expect(commit.message).toMatch(/^Deploy breast-cancer 1\.3\.1 to staging/);
    const unknown = await deploy(
      await options('1.3.2', {
        targets: [{ file: manifest, field: 'spec.predictor.model.storageUrl', value: '{uri}' }],
      }),
    ).catch((e: unknown) => e);
    expect((unknown as Error).message).toMatch(/storageUri/);
  }, 30_000);

  it('closes the proposal when the environment already runs that package', async () => {
    // The proposal on the branch (previous tests) lands on main by hand; a new run then closes it.
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { temporaryDirectory } = await import('../helpers/example.ts');
    const work = await temporaryDirectory();
    const gitIn = (cwd: string, ...args: string[]) =>
      promisify(execFile)('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], { cwd });
    await gitIn(work, 'clone', '--quiet', git.url(REPO), 'env');
    const env = join(work, 'env');
    await gitIn(env, 'fetch', '--quiet', 'origin', branch);
    await gitIn(env, 'checkout', '--quiet', 'FETCH_HEAD', '--', file);
    await gitIn(
      env,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.test',
      'commit',
      '--quiet',
      '-m',
      'Merge the deployment by hand',
    );
    await gitIn(env, 'push', '--quiet', 'origin', 'HEAD:main');
    const deployed = readModelReference((await git.readFile(REPO, 'main', file)) ?? '', file).spec.model
      .version;
    const result = await deploy(await options(deployed));
    expect(result.operation).toBe('closed');
    expect(github.state.pullRequests.find((p) => p.number === result.pullRequestNumber)?.state).toBe(
      'closed',
    );
    expect(github.state.comments.at(-1)?.body).toMatch(/already runs breast-cancer/);
  }, 30_000);

  it("turns on auto-merge with a GraphQL mutation that GitHub's schema accepts", async () => {
    const result = await deploy(await options('1.3.5', { autoMerge: 'squash' }));
    const pr = github.state.pullRequests.find((p) => p.number === result.pullRequestNumber);
    expect(pr?.autoMerge?.mergeMethod).toBe('SQUASH');
    expect(github.violations).toEqual([]);
    // The stand-in's check is real: a query with a field GitHub's schema lacks is refused and recorded.
    const response = await fetch(`${github.baseUrl}/graphql`, {
      method: 'POST',
      headers: { authorization: `token ${github.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x"}) { pullRequest { autoMerge } } }',
      }),
    });
    expect(((await response.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    expect(github.violations).toHaveLength(1);
    github.violations.length = 0;
  }, 30_000);

  it('ends concurrent runs with one pull request holding the newest version', async () => {
    const versions = ['1.4.0', '1.5.0', '1.6.0', '1.7.0', '1.8.0'];
    const results = await Promise.all(
      versions.map(async (v) => deploy(await options(v, { maxAttempts: 10 }))),
    );
    expect(results.every((r) => ['created', 'updated', 'unchanged'].includes(r.operation))).toBe(true);
    expect(openPulls().filter((pr) => pr.head === branch)).toHaveLength(1);
    const deployed = readModelReference((await git.readFile(REPO, branch, file)) ?? '', file);
    expect(deployed.spec.model.version).toBe('1.8.0');
    expect(github.violations).toEqual([]);
  }, 60_000);

  it('explains a refused token, a protected branch and a missing environment, never showing the token', async () => {
    const refused = await deploy(await options('2.0.0', { auth: { token: 'wrong-token' } })).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigurationError);
    expect((refused as Error).message).toMatch(/refused the token/);
    expect((refused as Error).message).not.toContain('wrong-token');

    const missing = await deploy(await options('2.0.0', { environment: 'qa' })).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(
      /has no folder environments\/qa\/ on main.*environments\/<environment>\/models\/<model>\.yaml/,
    );

    await git.protect(REPO, deployBranch('production', 'breast-cancer'));
    // production needs its folder; the template's values.yaml is there.
    const protectedPush = await deploy(await options('2.0.0', { environment: 'production' })).catch(
      (e: unknown) => e,
    );
    expect(protectedPush).toBeInstanceOf(ConfigurationError);
    expect((protectedPush as Error).message).toMatch(
      /rejected the push to mlops\/deploy\/production\/breast-cancer/,
    );
    expect((protectedPush as Error).message).not.toContain(git.token);
    expect(git.requests.every((r) => !JSON.stringify(r).includes(git.token))).toBe(true);
  }, 30_000);
});

describe('deploy-pr action (bundle)', () => {
  it('opens the pull request, then reports unchanged on a re-run', async () => {
    const ref = await packageRef('3.1.0');
    const env = {
      GITHUB_API_URL: github.baseUrl,
      GITHUB_REPOSITORY: 'octo-org/mlops-demo',
      GITHUB_SHA: 'b'.repeat(40),
    };
    const inputs = {
      environment: 'staging',
      'package-ref': ref,
      repository: git.url(REPO),
      token: git.token,
      labels: 'deploy, staging',
    };
    const first = await runAction('deploy-pr', { env, inputs });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.outputs).toMatchObject({ operation: expect.stringMatching(/^(created|updated)$/), branch });
    const number = Number(first.outputs['pull-request-number']);
    const pr = github.state.pullRequests.find((p) => p.number === number);
    expect(pr?.title).toBe('Deploy breast-cancer 3.1.0 to staging');
    expect(readModelReference((await git.readFile(REPO, branch, file)) ?? '', file).spec.model.version).toBe(
      '3.1.0',
    );
    // The token is registered as a secret (the runner masks it) and printed nowhere else.
    expect(first.stdout).toContain(`::add-mask::${git.token}`);
    expect(first.stdout.replace(`::add-mask::${git.token}`, '')).not.toContain(git.token);
    const again = await runAction('deploy-pr', { env, inputs });
    expect(again.exitCode).toBe(0);
    expect(again.outputs.operation).toBe('unchanged');
    expect(again.outputs['pull-request-number']).toBe(String(number));

    // A missing environment folder, and a protected deployment branch (protected in an earlier test).
    const missing = await runAction('deploy-pr', { env, inputs: { ...inputs, environment: 'qa' } });
    expect(missing.exitCode).toBe(1);
    expect(missing.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /has no folder environments\/qa\//,
    );
    const protectedBranch = await runAction('deploy-pr', {
      env,
      inputs: { ...inputs, environment: 'production' },
    });
    expect(protectedBranch.exitCode).toBe(1);
    expect(protectedBranch.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /rejected the push/,
    );

    // A new version updates the same pull request; three runs at once end with one, holding the newest.
    const newer = await runAction('deploy-pr', {
      env,
      inputs: { ...inputs, 'package-ref': await packageRef('3.2.0') },
    });
    expect(newer.outputs).toMatchObject({ operation: 'updated', 'pull-request-number': String(number) });
    const racing = await Promise.all(
      ['3.3.0', '3.4.0', '3.5.0'].map(async (v) =>
        runAction('deploy-pr', { env, inputs: { ...inputs, 'package-ref': await packageRef(v) } }),
      ),
    );
    expect(racing.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(openPulls().filter((p) => p.head === branch)).toHaveLength(1);
    expect(readModelReference((await git.readFile(REPO, branch, file)) ?? '', file).spec.model.version).toBe(
      '3.5.0',
    );

    const wrong = await runAction('deploy-pr', { env, inputs: { ...inputs, token: 'not-the-token' } });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.annotations.find((a) => a.level === 'error')?.message).toMatch(/refused the token/);
    expect(github.violations).toEqual([]);
  }, 60_000);
});

describe('mlops deploy (CLI)', () => {
  it('pushes the branch and records the pull request without an API, opens it with one', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { temporaryDirectory } = await import('../helpers/example.ts');
    const dir = await temporaryDirectory();
    const ref = await packageRef('4.0.0');
    const mlops = async (env: Record<string, string>, ...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(
          process.execPath,
          [join(repoRoot, 'dist/cli/index.js'), ...args],
          { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const offline = await mlops(
      { DEPLOY_TOKEN: git.token },
      'deploy',
      '--env',
      'production',
      '--package-ref',
      ref,
      '--repo',
      git.url(REPO),
      '--token-env',
      'DEPLOY_TOKEN',
      '--json',
    );
    expect(offline.code).toBe(2); // production's deploy branch is protected (previous test): a clear refusal
    expect(offline.stderr).toMatch(/rejected the push/);
    const staging = await mlops(
      { DEPLOY_TOKEN: git.token },
      'deploy',
      '--env',
      'staging',
      '--model',
      'breast-cancer',
      '--version',
      '4.0.0',
      '--package-ref',
      ref,
      '--repo',
      git.url(REPO),
      '--token-env',
      'DEPLOY_TOKEN',
      '--json',
    );
    expect(staging.code).toBe(0);
    expect(JSON.parse(staging.stdout)).toMatchObject({ operation: 'updated', branch });
    const recorded = JSON.parse(await readFile(join(dir, 'mlops-deploy-pr.json'), 'utf8'));
    expect(recorded).toMatchObject({
      head: branch,
      base: 'main',
      title: 'Deploy breast-cancer 4.0.0 to staging',
    });
    const online = await mlops(
      { GITHUB_TOKEN: git.token, GITHUB_API_URL: github.baseUrl },
      'deploy',
      '--env',
      'staging',
      '--package-ref',
      ref,
      '--repo',
      git.url(REPO),
      '--json',
    );
    expect(online.code).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({
      operation: 'updated',
      pullRequestNumber: expect.any(Number),
    });
    expect(
      `${offline.stdout}${offline.stderr}${staging.stdout}${online.stdout}${online.stderr}`,
    ).not.toContain(git.token);
    // Promote needs the model running in the source environment: staging runs no "fraud".
    const promote = await mlops(
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--promote-from',
      'staging',
      '--model',
      'fraud',
      '--env',
      'production',
      '--repo',
      git.url(REPO),
    );
    expect(promote.code).toBe(2);
    expect(promote.stderr).toMatch(/staging runs no fraud/);
  }, 60_000);
});

describe('the deployed model as the baseline of the model gate', () => {
  it('fetches the package an environment runs, checks its digest, and evaluates it on the same rows', async () => {
    const { buildPackage } = await import('../../src/core/package/build-package.ts');
    const { validateModel } = await import('../../src/core/model/validate-model.ts');
    const { parseGateExpression } = await import('../../src/core/model/gates.ts');
    const { temporaryDirectory } = await import('../helpers/example.ts');
    const models = join(repoRoot, 'test/fixtures/models');
    const built = await buildPackage({
      model: join(models, 'sklearn-forest.onnx'),
      name: 'forest',
      version: '0.9.0',
      out: await temporaryDirectory(),
      lineage: {
        repository: null,
        commit: 'c'.repeat(40),
        ref: null,
        runUrl: null,
        commitTime: '2026-11-01T00:00:00Z',
      },
    });
    // The environment runs it: its reference lands on main (deploy, then merge by fast-forward).
    const result = await deploy(
      await options('0.9.0', {
        model: { name: 'forest', version: '0.9.0' },
        packageRef: built.packageRef,
        pullRequests: undefined,
      }),
    );
    expect(result.operation).toBe('created');
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const work = await temporaryDirectory();
    const run = (...args: string[]) =>
      promisify(execFile)('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], { cwd: work });
    await run('clone', '--quiet', git.url(REPO), 'env');
    const inEnv = (...args: string[]) =>
      promisify(execFile)('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], {
        cwd: join(work, 'env'),
      });
    await inEnv('fetch', '--quiet', 'origin', `${deployBranch('staging', 'forest')}`);
    await inEnv('merge', '--quiet', '--ff-only', 'FETCH_HEAD');
    await inEnv('push', '--quiet', 'origin', 'HEAD:main');

    const report = await validateModel(
      {
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: 'environment:staging',
        environmentBaseline: environmentBaselineResolver({
          repository: git.url(REPO),
          model: 'forest',
          auth: { token: git.token },
          hostEnv: process.env,
        }),
        data: join(repoRoot, 'templates/example/data/test.csv'),
        target: 'target',
        gates: [parseGateExpression('log_loss <= baseline')],
        bootstrap: { resamples: 100 },
        latency: false,
      },
      { info() {}, warning() {}, debug() {} },
    );
    expect(report.baseline?.path).toMatch(/^environment:staging \(forest 0\.9\.0, file:/);
    expect(report.baselineMetrics?.log_loss?.value).toBeCloseTo(0.1153, 3); // the forest's, on the same rows
    expect(report.passed).toBe(true);

    // The same through the action bundle.
    const action = await runAction('validate-model', {
      inputs: {
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: 'environment:staging',
        'environment-repository': git.url(REPO),
        'deployed-model': 'forest',
        token: git.token,
        data: join(repoRoot, 'templates/example/data/test.csv'),
        target: 'target',
        gates: 'log_loss <= baseline',
        resamples: '0',
      },
    });
    expect(action.exitCode).toBe(0);
    expect(action.outputs.passed).toBe('true');
    expect(action.stdout.replace(`::add-mask::${git.token}`, '')).not.toContain(git.token);

    // A package whose bytes changed after deployment is refused.
    const { appendFile } = await import('node:fs/promises');
    await appendFile(built.archive, 'x');
    const tampered = await validateModel(
      {
        model: join(models, 'sklearn-logreg-zipmap.onnx'),
        baseline: 'environment:staging',
        environmentBaseline: environmentBaselineResolver({
          repository: git.url(REPO),
          model: 'forest',
          auth: { token: git.token },
          hostEnv: process.env,
        }),
        data: join(repoRoot, 'templates/example/data/test.csv'),
        target: 'target',
        gates: [parseGateExpression('log_loss <= baseline')],
        latency: false,
      },
      { info() {}, warning() {}, debug() {} },
    ).catch((e: unknown) => e);
    expect((tampered as Error).message).toMatch(/changed after deployment/);

    // Promote: what staging runs (forest 0.9.0) is proposed for production, same package and digest.
    const cli = await promisify(execFile)(
      process.execPath,
      [
        join(repoRoot, 'dist/cli/index.js'),
        'deploy',
        '--promote-from',
        'staging',
        '--model',
        'forest',
        '--env',
        'production',
        '--repo',
        git.url(REPO),
        '--json',
      ],
      { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, GITHUB_TOKEN: git.token } },
    );
    expect(JSON.parse(cli.stdout)).toMatchObject({
      operation: 'created',
      branch: deployBranch('production', 'forest'),
    });
    const promoted = readModelReference(
      (await git.readFile(
        REPO,
        deployBranch('production', 'forest'),
        referencePath('production', 'forest'),
      )) ?? '',
      'forest.yaml',
    );
    expect(promoted.spec.model.version).toBe('0.9.0');
    expect(promoted.spec.package.sha256).toBe(built.digest);

    // The same promotion through the action: the branch is already there, so only the PR is opened.
    const promoteAction = await runAction('deploy-pr', {
      env: { GITHUB_API_URL: github.baseUrl },
      inputs: {
        environment: 'production',
        'promote-from': 'staging',
        'model-name': 'forest',
        repository: git.url(REPO),
        token: git.token,
      },
    });
    expect(promoteAction.exitCode).toBe(0);
    expect(promoteAction.outputs).toMatchObject({
      operation: 'created',
      branch: deployBranch('production', 'forest'),
    });
    const pr = github.state.pullRequests.find(
      (p) => p.number === Number(promoteAction.outputs['pull-request-number']),
    );
    expect(pr?.title).toBe('Deploy forest 0.9.0 to production');
  }, 60_000);

  it("treats a model the environment does not run yet as no baseline (the project's first model)", async () => {
    const { validateModel } = await import('../../src/core/model/validate-model.ts');
    const { parseGateExpression } = await import('../../src/core/model/gates.ts');
    const validateAgainstStaging = (gates: string[], onMissingBaseline?: 'fail') =>
      validateModel(
        {
          model: join(repoRoot, 'test/fixtures/models/sklearn-logreg-zipmap.onnx'),
          baseline: 'environment:staging',
          environmentBaseline: environmentBaselineResolver({
            repository: git.url(REPO),
            model: 'never-deployed',
            auth: { token: git.token },
            hostEnv: process.env,
          }),
          data: join(repoRoot, 'templates/example/data/test.csv'),
          target: 'target',
          gates: gates.map(parseGateExpression),
          ...(onMissingBaseline ? { onMissingBaseline } : {}),
          bootstrap: false,
          latency: false,
        },
        { info() {}, warning() {}, debug() {} },
      );
    const report = await validateAgainstStaging(['roc_auc >= 0.9', 'log_loss <= baseline']);
    expect(report.missingBaseline).toMatch(/staging runs no never-deployed/);
    expect(report.baseline).toBeUndefined();
    expect(report.gates.map((g) => g.status).sort()).toEqual(['passed', 'skipped']);
    expect(report.passed).toBe(true);
    // With on-missing-baseline: fail, the change gate fails instead.
    const strict = await validateAgainstStaging(['log_loss <= baseline'], 'fail');
    expect(strict.passed).toBe(false);
  }, 30_000);
});

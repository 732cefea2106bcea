// The whole level-2 flow as users run it: the built bundles, in the order the workflow templates
// (templates/workflows/) use them, on the example project (templates/example-project/), against real
// loopback servers: git over smart HTTP (the environment repository), the OpenAPI-checked GitHub stand-in
// (comments, check runs, releases, pull requests) and Azurite behind the artifact service.
// Assertions are on the servers' state, not on logs.
import { execFile } from 'node:child_process';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployBranch, referencePath } from '../../src/core/deploy/deploy.ts';
import { readModelReference } from '../../src/core/deploy/model-reference.ts';
import { type ArtifactService, startArtifactService } from '../harness/artifact-service.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { type ActionRun, repoRoot, runAction } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const run = promisify(execFile);
const MODEL_REPO = 'octo-org/mlops-demo';
const ENV_REPO = 'octo-org/environments';
const MODEL = 'breast-cancer';
const PR_HEAD = 'e'.repeat(40);
const TAG_COMMIT = 'f'.repeat(40);

let git: GitServer;
let github: GitHubApi;
let artifacts: ArtifactService;
let project: string;

beforeAll(async () => {
  git = await startGitServer();
  [github, artifacts] = await Promise.all([
    startGitHubApi({
      repositories: [MODEL_REPO, ENV_REPO],
      token: git.token,
      // A push to GitHub makes its branches known to the API at once.
      beforeOperation: async () => {
        for (const [ref, head] of Object.entries(await git.refs(ENV_REPO))) {
          if (ref.startsWith('refs/heads/'))
            github.state.setBranch(ENV_REPO, ref.slice('refs/heads/'.length), head);
        }
      },
    }),
    startArtifactService(),
  ]);
  // The environment repository, from the template users start from.
  const template = (path: string) => readFile(join(repoRoot, 'templates/environment-repo', path), 'utf8');
  const files: Record<string, string> = {};
  for (const path of [
    'README.md',
    'environments/staging/inferenceservice.yaml',
    'environments/staging/kustomization.yaml',
    'environments/production/values.yaml',
    'environments/production/policy.yaml',
  ]) {
    files[path] = await template(path);
  }
  await git.createRepository(ENV_REPO, files);

  // The user's repository: the example project, with its own unit tests and training (the steps the
  // templates leave to the user: `npm test`, `npm run train`).
  project = join(await temporaryDirectory(), 'project');
  await cp(join(repoRoot, 'templates/example-project'), project, { recursive: true });
  await run(process.execPath, ['--test'], { cwd: project });
  await run(process.execPath, ['train/train.ts'], { cwd: project });

  // The pull request the CI workflow runs for.
  github.state.setBranch(MODEL_REPO, 'main', 'd'.repeat(40));
  github.state.setBranch(MODEL_REPO, 'better-model', PR_HEAD);
  const created = await fetch(`${github.baseUrl}/repos/${MODEL_REPO}/pulls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${github.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'A better model', head: 'better-model', base: 'main' }),
  });
  expect(created.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await Promise.all([git?.stop(), github?.stop(), artifacts?.stop()]);
});

/** What every step of a job sees. */
function jobEnv(extra: Record<string, string>): Record<string, string> {
  return {
    ...artifacts.env,
    GITHUB_API_URL: github.baseUrl,
    GITHUB_REPOSITORY: MODEL_REPO,
    GITHUB_WORKFLOW: 'mlops-ci',
    ...extra,
  };
}

function expectSuccess(step: ActionRun, name: string): void {
  expect(step.exitCode, `${name}:\n${step.stdout}\n${step.stderr}`).toBe(0);
}

/** The gate steps of the CI workflow (templates/workflows/ci.yml), then the report. */
async function runPullRequestJob(): Promise<Record<string, ActionRun>> {
  const pr = github.state.pullRequests.find((p) => p.repository === MODEL_REPO.toLowerCase());
  const event = {
    action: 'synchronize',
    number: pr?.number,
    pull_request: { number: pr?.number, head: { sha: PR_HEAD, ref: 'better-model' }, base: { ref: 'main' } },
    repository: { name: 'mlops-demo', owner: { login: 'octo-org' }, full_name: MODEL_REPO },
  };
  const options = {
    cwd: project,
    eventName: 'pull_request',
    event,
    githubToken: github.token,
    env: jobEnv({ GITHUB_SHA: 'c'.repeat(40), GITHUB_REF: `refs/pull/${pr?.number}/merge` }),
  };
  const data = await runAction('validate-data', { ...options, inputs: { config: 'mlops.yaml' } });
  expectSuccess(data, 'validate-data');
  const model = await runAction('validate-model', {
    ...options,
    inputs: {
      config: 'mlops.yaml',
      baseline: 'environment:staging',
      'environment-repository': git.url(ENV_REPO),
      'deployed-model': MODEL,
      token: git.token,
    },
  });
  expectSuccess(model, 'validate-model');
  const report = await runAction('report', { ...options, inputs: {} });
  expectSuccess(report, 'report');
  return { data, model, report };
}

describe('the level-2 flow through the bundles', () => {
  it('a pull request: gates, one sticky comment and one check run per gate; a re-run updates them', async () => {
    const first = await runPullRequestJob();
    expect(first.model.outputs.passed).toBe('true');
    const comments = () => github.state.comments.filter((c) => c.repository === MODEL_REPO.toLowerCase());
    expect(comments()).toHaveLength(1);
    const [comment] = comments();
    expect(comment.body).toMatch(/mlops \/ data|data gate/i);
    expect(comment.body).toContain('roc_auc');
    // Nothing is deployed yet: the comment says why the change gates were skipped.
    expect(comment.body).toContain(`staging runs no ${MODEL}`);
    const checks = () => github.state.checkRuns.filter((c) => c.headSha === PR_HEAD);
    expect(
      checks()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['mlops / data', 'mlops / model']);
    expect(checks().every((c) => c.conclusion === 'success')).toBe(true);

    const again = await runPullRequestJob();
    expect(again.report.exitCode).toBe(0);
    expect(comments()).toHaveLength(1);
    expect(comments()[0].id).toBe(comment.id);
    expect(checks()).toHaveLength(2);
    expect(github.violations).toEqual([]);
  }, 120_000);

  it('a tag: the package is uploaded and released, and staging gets a deployment pull request', async () => {
    const options = {
      cwd: project,
      eventName: 'push',
      githubToken: github.token,
      env: jobEnv({
        GITHUB_SHA: TAG_COMMIT,
        GITHUB_REF: 'refs/tags/v1.1.0',
        GITHUB_WORKFLOW: 'mlops-cd',
        SOURCE_DATE_EPOCH: '1764000000',
      }),
    };
    const pkg = await runAction('package-model', {
      ...options,
      inputs: {
        model: 'build/model.onnx',
        name: MODEL,
        reports: 'mlops-reports',
        release: 'true',
        token: github.token,
      },
    });
    expectSuccess(pkg, 'package-model');
    expect(pkg.outputs.version).toBe('1.1.0');
    const digest = pkg.outputs.digest;
    // Uploaded as a workflow artifact (Azurite) and as the release's asset.
    expect(artifacts.artifacts().some((a) => a.finalized)).toBe(true);
    const release = github.state.findRelease(MODEL_REPO, 'v1.1.0');
    expect(release?.assets.map((a) => a.name)).toContain(`${MODEL}-1.1.0.zip`);

    // The package served on loopback before the deployment pull request (cd.yml's smoke test): the
    // example's mlops.yaml sets the p95 budget; it has no golden file, so parity is skipped and says so.
    const smoke = await runAction('smoke-test', {
      ...options,
      inputs: { package: pkg.outputs.archive, config: 'mlops.yaml' },
    });
    expectSuccess(smoke, 'smoke-test');
    const smokeReport = JSON.parse(await readFile(join(project, smoke.outputs['report-path']), 'utf8')) as {
      package: { digest: string };
      checks: { check: string; status: string }[];
      latency: { budget: { source: string } };
    };
    expect(smokeReport.package.digest).toBe(digest);
    expect(Object.fromEntries(smokeReport.checks.map((c) => [c.check, c.status]))).toEqual({
      package: 'passed',
      load: 'passed',
      health: 'passed',
      metadata: 'passed',
      parity: 'skipped',
      latency: 'passed',
    });
    expect(smokeReport.latency.budget.source).toBe('mlops.yaml (model.budgets.latency-p95-ms)');

    const deployStep = await runAction('deploy-pr', {
      ...options,
      inputs: {
        environment: 'staging',
        'package-ref': pkg.outputs['package-ref'],
        repository: git.url(ENV_REPO),
        token: git.token,
      },
    });
    expectSuccess(deployStep, 'deploy-pr');
    const pr = github.state.pullRequests.find((p) => p.repository === ENV_REPO.toLowerCase());
    expect(pr?.title).toBe(`Deploy ${MODEL} 1.1.0 to staging`);
    // Every output of deploy-pr (actions/deploy-pr/action.yml): the branch as pushed, its head commit.
    const branch = deployBranch('staging', MODEL);
    expect(deployStep.outputs).toEqual({
      operation: 'created',
      branch,
      commit: (await git.refs(ENV_REPO))[`refs/heads/${branch}`],
      'pull-request-number': String(pr?.number),
      'pull-request-url': `${github.baseUrl}/${ENV_REPO}/pull/${pr?.number}`,
    });
    expect(deployStep.outputs.commit).toMatch(/^[0-9a-f]{40}$/);
    const reference = readModelReference(
      (await git.readFile(ENV_REPO, deployBranch('staging', MODEL), referencePath('staging', MODEL))) ?? '',
      'reference',
    );
    expect(reference.spec.model.version).toBe('1.1.0');
    expect(reference.spec.package.sha256).toBe(digest);
    expect(reference.spec.source.commit).toBe(TAG_COMMIT);
    // The verdicts and metrics the package carries (its manifest, read from the release asset).
    expect(reference.spec.gates).toMatchObject({ verdict: 'passed', data: true, model: true });
    expect(reference.spec.gates.metrics?.roc_auc).toBeGreaterThan(0.9);
    expect(pr?.body).toMatch(/Gates: data ✅ passed, model ✅ passed\./);
    expect(github.violations).toEqual([]);
  }, 120_000);

  it('after the merge: the next pull request is judged against staging, and promote proposes it for production', async () => {
    // The reviewer merges the staging pull request (what GitHub's merge button pushes).
    const work = await temporaryDirectory();
    const gitIn = (cwd: string, ...args: string[]) =>
      run('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], { cwd });
    await gitIn(work, 'clone', '--quiet', git.url(ENV_REPO), 'env');
    const clone = join(work, 'env');
    await gitIn(clone, 'fetch', '--quiet', 'origin', deployBranch('staging', MODEL));
    await gitIn(clone, 'merge', '--quiet', '--ff-only', 'FETCH_HEAD');
    await gitIn(clone, 'push', '--quiet', 'origin', 'HEAD:main');

    // CI again: the baseline is now the package staging runs, downloaded from the release and verified.
    const again = await runPullRequestJob();
    const modelReport = JSON.parse(
      await readFile(join(project, 'mlops-reports/model-validation.json'), 'utf8'),
    ) as {
      baseline?: { path: string; sha256: string; bytes: number; producer: string };
      candidate: { path: string; sha256: string; bytes: number; producer: string };
      missingBaseline?: string;
      metrics: Record<string, { value: number }>;
      baselineMetrics?: Record<string, { value: number }>;
      deltas?: Record<string, { value: number; relative: number; interval: number[] }>;
      gates: { expression: string; status: string; value: number; interval?: number[] }[];
    };
    expect(again.model.outputs.passed).toBe('true');
    expect(modelReport.missingBaseline).toBeUndefined();
    expect(modelReport.baseline?.path).toBe(
      `environment:staging (breast-cancer 1.1.0, ${github.baseUrl}/${MODEL_REPO}/releases/download/v1.1.0/breast-cancer-1.1.0.zip)`,
    );
    // Staging runs the package of this very model: its model.onnx is the candidate with the package's
    // metadata added (other bytes, the same producer), and it predicts the same, so every metric of the
    // baseline equals the candidate's and every paired change is exactly 0.
    const { baseline, candidate } = modelReport;
    expect(baseline?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(baseline?.sha256).not.toBe(candidate.sha256);
    expect(baseline?.bytes).toBeGreaterThan(candidate.bytes);
    expect(baseline?.producer).toBe(candidate.producer);
    const metricNames = Object.keys(modelReport.metrics);
    expect(metricNames).toContain('roc_auc');
    expect(Object.keys(modelReport.baselineMetrics ?? {})).toEqual(metricNames);
    expect(Object.keys(modelReport.deltas ?? {})).toEqual(metricNames);
    for (const name of metricNames) {
      expect(modelReport.baselineMetrics?.[name].value, name).toBe(modelReport.metrics[name].value);
      expect(modelReport.deltas?.[name], name).toEqual({ value: 0, relative: 0, interval: [0, 0] });
    }
    // The change gates of the example's mlops.yaml were decided on those changes.
    const byExpression = Object.fromEntries(modelReport.gates.map((g) => [g.expression, g]));
    expect(byExpression['f1_macro >= baseline - 0.01']).toMatchObject({ status: 'passed', value: 0 });
    expect(byExpression['log_loss <= baseline + 10% @interval']).toMatchObject({
      status: 'passed',
      value: 0,
      interval: [0, 0],
    });

    // Promote (workflow_dispatch): production gets the package staging runs, same digest.
    const staging = readModelReference(
      (await git.readFile(ENV_REPO, 'main', referencePath('staging', MODEL))) ?? '',
      'staging',
    );
    const promoteOptions = {
      cwd: project,
      eventName: 'workflow_dispatch',
      githubToken: github.token,
      env: jobEnv({
        GITHUB_SHA: TAG_COMMIT,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_WORKFLOW: 'mlops-promote',
      }),
    };
    const promoteInputs = {
      environment: 'production',
      'promote-from': 'staging',
      'model-name': MODEL,
      repository: git.url(ENV_REPO),
      token: git.token,
    };
    // The version typed in the dispatch form must be the one staging runs: else nothing is proposed.
    const mistyped = await runAction('deploy-pr', {
      ...promoteOptions,
      inputs: { ...promoteInputs, 'model-version': '1.0.9' },
    });
    expect(mistyped.exitCode).toBe(1);
    expect(mistyped.annotations.map((a) => a.message).join('\n')).toMatch(
      /staging runs breast-cancer 1\.1\.0, not 1\.0\.9/,
    );
    expect(await git.refs(ENV_REPO)).not.toHaveProperty(`refs/heads/${deployBranch('production', MODEL)}`);

    const promote = await runAction('deploy-pr', {
      ...promoteOptions,
      inputs: { ...promoteInputs, 'model-version': 'v1.1.0' },
    });
    expectSuccess(promote, 'deploy-pr (promote)');
    expect(promote.outputs.operation).toBe('created');
    const production = readModelReference(
      (await git.readFile(ENV_REPO, deployBranch('production', MODEL), referencePath('production', MODEL))) ??
        '',
      'production',
    );
    expect(production.spec.package.sha256).toBe(staging.spec.package.sha256);
    expect(production.spec.model.version).toBe('1.1.0');
    // Production's policy requires verdicts: the promotion carries staging's, and the package's commit.
    expect(production.spec.gates).toEqual(staging.spec.gates);
    expect(production.spec.source).toEqual(staging.spec.source);
    const prs = github.state.pullRequests.filter((p) => p.repository === ENV_REPO.toLowerCase());
    expect(prs.map((p) => p.title)).toContain(`Deploy ${MODEL} 1.1.0 to production`);
    expect(github.violations).toEqual([]);
  }, 120_000);
});

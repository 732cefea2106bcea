/**
 * `mlops history` against a real environment repository: a git smart-HTTP server on loopback whose
 * main branch gets a deployment merged as a pull request, a noise commit, a squash-merged
 * deployment, a comment-only edit, a rollback and a direct production commit. The history read
 * back must list exactly the deployments, newest first, with their pull requests and the rollback.
 */
import { execFile } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeployOptions, deploy, deployBranch, referencePath } from '../../src/core/deploy/deploy.ts';
import { readDeploymentHistory } from '../../src/core/deploy/history.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { runCli } from '../helpers/cli.ts';
import { makeTestPackage } from '../helpers/packages.ts';
import { temporaryFolder } from '../helpers/temp.ts';

const REPO = 'octo-org/environments';
const run = promisify(execFile);
/** The package of churn `version` (a real one: deploy reads its manifest), built once per version. */
const packages = new Map<string, Promise<{ uri: string; sha256: string }>>();
function churnPackage(version: string): Promise<{ uri: string; sha256: string }> {
  if (!packages.has(version)) {
    packages.set(
      version,
      makeTestPackage({ name: 'churn', version }).then((built) => ({
        uri: built.packageRef.split('#sha256=')[0],
        sha256: built.digest,
      })),
    );
  }
  return packages.get(version) as Promise<{ uri: string; sha256: string }>;
}

let git: GitServer;
let work: string;
let home: string;
const merges: Record<string, string> = {};

/** git in the temporary clone (asynchronous: the server runs in this process). */
async function inClone(args: string[], date = '2026-01-01T00:00:00Z'): Promise<string> {
  const { stdout } = await run('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Octo Maintainer',
      GIT_AUTHOR_EMAIL: 'maintainer@octo.invalid',
      GIT_COMMITTER_NAME: 'Octo Maintainer',
      GIT_COMMITTER_EMAIL: 'maintainer@octo.invalid',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  return stdout.trim();
}

async function deployment(environment: string, version: string, deployedAt: string): Promise<DeployOptions> {
  const pkg = await churnPackage(version);
  return {
    repository: git.url(REPO),
    base: 'main',
    environment,
    hostEnv: process.env,
    model: { name: 'churn', version },
    packageRef: `${pkg.uri}#sha256=${pkg.sha256}`,
    deployedAt,
    auth: { token: git.token },
  };
}

/** Deploys (the branch is pushed, no pull request API) and returns the branch to merge. */
async function deployAndFetch(environment: string, version: string, deployedAt: string): Promise<string> {
  const result = await deploy(await deployment(environment, version, deployedAt));
  expect(result.operation).toBe('created');
  const branch = deployBranch(environment, 'churn');
  await inClone(['fetch', '--quiet', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
  await inClone(['pull', '--quiet', '--ff-only', 'origin', 'main']);
  return `origin/${branch}`;
}

/** Pushes main and deletes the merged branch, as GitHub's "delete branch on merge" does. */
async function pushMain(branch?: string): Promise<string> {
  await inClone(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
  if (branch) await inClone(['push', '--quiet', 'origin', '--delete', branch.replace('origin/', '')]);
  return inClone(['rev-parse', 'HEAD']);
}

beforeAll(async () => {
  git = await startGitServer();
  await git.createRepository(REPO, {
    'README.md': '# Environments\n',
    'environments/staging/kustomization.yaml': 'resources: []\n',
    'environments/production/kustomization.yaml': 'resources: []\n',
    'environments/dev/kustomization.yaml': 'resources: []\n',
  });
  home = await temporaryFolder('history-home-');
  work = await temporaryFolder('history-work-');
  await inClone(['clone', '--quiet', git.url(REPO), work]);

  // 1. churn 1.2.0 to staging, merged as pull request #1 (a merge commit).
  let branch = await deployAndFetch('staging', '1.2.0', '2026-01-10T09:00:00Z');
  await inClone(
    [
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      'Merge pull request #1 from octo-org/mlops/deploy/staging/churn',
      branch,
    ],
    '2026-01-10T10:00:00Z',
  );
  merges.first = await pushMain(branch);

  // Noise: a commit on staging outside models/ is no deployment.
  await writeFile(join(work, 'environments/staging/kustomization.yaml'), 'resources: [service.yaml]\n');
  await inClone(['commit', '--quiet', '-am', 'Add the service to staging'], '2026-01-15T10:00:00Z');
  await pushMain();

  // 2. churn 1.3.0, squash-merged as pull request #2.
  branch = await deployAndFetch('staging', '1.3.0', '2026-02-01T09:00:00Z');
  await inClone(['merge', '--quiet', '--squash', branch]);
  await inClone(['commit', '--quiet', '-m', 'Deploy churn 1.3.0 to staging (#2)'], '2026-02-01T10:00:00Z');
  merges.second = await pushMain(branch);

  // A comment added to the reference file: no new version, no record.
  const file = join(work, referencePath('staging', 'churn'));
  await writeFile(file, `# Owned by the churn team.\n${await readFile(file, 'utf8')}`);
  await inClone(['commit', '--quiet', '-am', 'Note the owner'], '2026-02-10T10:00:00Z');
  await pushMain();

  // 3. Back to 1.2.0 (the rollback), merged as pull request #3.
  branch = await deployAndFetch('staging', '1.2.0', '2026-03-01T09:00:00Z');
  await inClone(
    [
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      'Merge pull request #3 from octo-org/mlops/deploy/staging/churn',
      branch,
    ],
    '2026-03-01T10:00:00Z',
  );
  merges.rollback = await pushMain(branch);

  // 4. churn 1.3.0 to production as a direct commit (the deploy branch fast-forwarded onto main).
  branch = await deployAndFetch('production', '1.3.0', '2026-03-05T09:00:00Z');
  await inClone(['merge', '--quiet', '--ff-only', branch]);
  merges.production = await pushMain(branch);
}, 60_000);

afterAll(async () => {
  await git?.stop();
});

const read = (environment: string, extra: Partial<Parameters<typeof readDeploymentHistory>[0]> = {}) =>
  readDeploymentHistory({
    repository: git.url(REPO),
    environment,
    auth: { token: git.token },
    hostEnv: process.env,
    ...extra,
  });

describe('readDeploymentHistory', () => {
  it('lists what landed on main, newest first, with pull requests and the rollback', async () => {
    const staging = await read('staging');
    const [v120, v130] = [await churnPackage('1.2.0'), await churnPackage('1.3.0')];
    expect(staging).toEqual([
      {
        model: 'churn',
        version: '1.2.0',
        previousVersion: '1.3.0',
        packageRef: v120.uri,
        sha256: v120.sha256,
        deployedAt: '2026-03-01T09:00:00Z',
        mergedAt: '2026-03-01T10:00:00Z',
        commit: merges.rollback,
        pullRequest: 3,
        author: 'Octo Maintainer',
        rollback: true,
        verdict: 'passed',
      },
      {
        model: 'churn',
        version: '1.3.0',
        previousVersion: '1.2.0',
        packageRef: v130.uri,
        sha256: v130.sha256,
        deployedAt: '2026-02-01T09:00:00Z',
        mergedAt: '2026-02-01T10:00:00Z',
        commit: merges.second,
        pullRequest: 2,
        author: 'Octo Maintainer',
        rollback: false,
        verdict: 'passed',
      },
      {
        model: 'churn',
        version: '1.2.0',
        packageRef: v120.uri,
        sha256: v120.sha256,
        deployedAt: '2026-01-10T09:00:00Z',
        mergedAt: '2026-01-10T10:00:00Z',
        commit: merges.first,
        pullRequest: 1,
        author: 'Octo Maintainer',
        rollback: false,
        verdict: 'passed',
      },
    ]);
    expect(staging[2]).not.toHaveProperty('previousVersion');

    const production = await read('production');
    expect(production).toEqual([
      expect.objectContaining({
        model: 'churn',
        version: '1.3.0',
        commit: merges.production,
        mergedAt: '2026-03-05T09:00:00Z',
        author: 'github-actions[bot]',
        rollback: false,
      }),
    ]);
    expect(production[0]).not.toHaveProperty('pullRequest');
    expect(production[0]).not.toHaveProperty('previousVersion');

    expect(await read('staging', { limit: 1 })).toEqual([staging[0]]);
    expect(await read('staging', { model: 'churn' })).toEqual(staging);
    expect(await read('staging', { model: 'fraud' })).toEqual([]);
    expect(await read('dev')).toEqual([]);
  });

  it('reads the same history from a partial clone when the server supports filters', async () => {
    const posts = () =>
      git.requests.filter((r) => r.service === 'git-upload-pack' && r.method === 'POST').length;
    const full: string[] = [];
    let start = posts();
    const before = await read('staging', { debug: (m) => full.push(m) });
    const fullPosts = posts() - start;
    // The harness's http-backend ignores --filter unless uploadpack.allowFilter is set.
    expect(full.join('\n')).toMatch(/does not support --filter: cloned main in full/);
    await appendFile(join(git.root, `${REPO}.git`, 'config'), '[uploadpack]\n\tallowFilter = true\n');
    const partial: string[] = [];
    start = posts();
    expect(await read('staging', { debug: (m) => partial.push(m) })).toEqual(before);
    expect(partial.join('\n')).toMatch(/without blobs \(--filter=blob:none\)[\s\S]*Fetched 4 reference file/);
    // The clone's requests and one more for the four blobs (not one per blob, fetched lazily).
    expect(posts() - start).toBe(fullPosts + 1);
  });

  it('explains a missing environment and a refused token without showing the token', async () => {
    const missing = await read('qa').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigurationError);
    expect((missing as Error).message).toMatch(
      /has no folder environments\/qa\/ on main.*environments\/<environment>\/models\/<model>\.yaml/,
    );
    const refused = await read('staging', { auth: { token: 'ghs_wrong_token_value' } }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigurationError);
    expect((refused as Error).message).toMatch(/refused the token/);
    expect((refused as Error).message).not.toContain('ghs_wrong_token_value');
    const branch = await read('staging', { base: 'release' }).catch((e: unknown) => e);
    expect((branch as Error).message).toMatch(/has no branch release/);
  });
});

describe('mlops history', () => {
  /** `mlops history` with the test process's environment but its GITHUB_TOKEN, and `env`. */
  const mlops = (env: Record<string, string>, ...args: string[]) => {
    const { GITHUB_TOKEN: _, ...rest } = process.env;
    return runCli(['history', ...args], { env: { ...rest, ...env } });
  };

  it('prints the records as JSON and as a table', async () => {
    const json = await mlops(
      { DEPLOY_TOKEN: git.token },
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--token-env',
      'DEPLOY_TOKEN',
      '--json',
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ environment: 'staging', records: await read('staging') });

    const table = await mlops({ GITHUB_TOKEN: git.token }, '--env', 'staging', '--repo', git.url(REPO));
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DATE\s+MODEL\s+VERSION\s+FROM\s+PR\s+COMMIT\s+GATES$/);
    expect(lines[1]).toMatch(
      /^2026-03-01 10:00Z\s+churn\s+1\.2\.0\s+1\.3\.0\s+#3\s+[0-9a-f]{12}\s+passed\s+rollback$/,
    );
    expect(lines[3]).toMatch(/^2026-01-10 10:00Z\s+churn\s+1\.2\.0\s+-\s+#1\s+[0-9a-f]{12}\s+passed$/);
    // Aligned: every row's commit starts in the header's COMMIT column.
    const column = lines[0].indexOf('COMMIT');
    expect(lines.slice(1).every((line) => /^[0-9a-f]{12}/.test(line.slice(column)))).toBe(true);

    const none = await mlops({ GITHUB_TOKEN: git.token }, '--env', 'dev', '--repo', git.url(REPO));
    expect(none).toMatchObject({ code: 0, stdout: expect.stringMatching(/no deployments/) });
  });

  it('exits 2 for a wrong token (never printed) and a missing environment', async () => {
    const wrong = await mlops(
      { GITHUB_TOKEN: 'ghs_cli_wrong_token' },
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the token/);
    expect(wrong.stdout + wrong.stderr).not.toContain('ghs_cli_wrong_token');
    expect(wrong.stdout + wrong.stderr).not.toContain(
      Buffer.from('x-access-token:ghs_cli_wrong_token').toString('base64'),
    );

    const missing = await mlops({ GITHUB_TOKEN: git.token }, '--env', 'qa', '--repo', git.url(REPO));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/environments\/<environment>\/models\/<model>\.yaml/);
  });
});

/**
 * The deployment flow in process (src/core/flows/deployment.ts), as both adapters call it: which
 * setting wins (the request, then mlops.yaml, then the default), which mistakes are refused before
 * git or the network are used (in the adapter's words), where the model's name and version come
 * from, when a pull-request API is made and how it is named, a local archive hashed, and an
 * override recorded with the actor of the adapter's environment. The environment repositories are
 * on the loopback git server, the pull requests on the OpenAPI-checked GitHub stand-in.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_FLAG_NAMES } from '../../src/cli/commands/deploy.ts';
import { deployBranch, referencePath } from '../../src/core/deploy/deploy.ts';
import { readModelReference } from '../../src/core/deploy/model-reference.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import {
  type DeploymentNames,
  type DeploymentPorts,
  type DeploymentRequest,
  runDeployment,
} from '../../src/core/flows/deployment.ts';
import type { Logger } from '../../src/core/logger.ts';
import { createGitHubPulls } from '../../src/github/pulls.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage } from '../helpers/packages.ts';

const CONFIGURED = 'octo-org/configured';
const GIVEN = 'octo-org/given';
const FILES = {
  'README.md': '# Environments\n',
  'environments/staging/kustomization.yaml': 'resources: []\n',
  'environments/production/kustomization.yaml': 'resources: []\n',
};

/** The CLI's words, so that each message can be checked for the name it must carry. */
const NAMES: DeploymentNames = DEPLOY_FLAG_NAMES;

let git: GitServer;
let github: GitHubApi;
let ref: string;
let failedRef: string;
let archive: string;

beforeAll(async () => {
  git = await startGitServer();
  github = await startGitHubApi({
    repositories: [CONFIGURED, GIVEN],
    token: git.token,
    beforeOperation: async () => {
      for (const repository of [CONFIGURED, GIVEN]) {
        for (const [name, head] of Object.entries(await git.refs(repository))) {
          if (name.startsWith('refs/heads/'))
            github.state.setBranch(repository, name.slice('refs/heads/'.length), head);
        }
      }
    },
  });
  await git.createRepository(CONFIGURED, FILES, { branch: 'trunk' });
  await git.createRepository(GIVEN, FILES);
  const built = await makeTestPackage({ version: '2.0.0' });
  ref = built.packageRef;
  archive = built.archive;
  failedRef = (
    await makeTestPackage({
      version: '2.0.1',
      reports: ['data-passed', 'model-failed'],
      allowFailedGates: { by: 'alice', reason: 'hotfix' },
    })
  ).packageRef;
}, 60_000);

afterAll(async () => {
  await Promise.all([git?.stop(), github?.stop()]);
});

/** A project folder whose mlops.yaml names CONFIGURED (base trunk) and staging's labels. */
async function project(): Promise<string> {
  const cwd = await temporaryDirectory();
  await writeFile(
    join(cwd, 'mlops.yaml'),
    `deploy:\n  repository: ${git.url(CONFIGURED)}\n  base: trunk\n  environments:\n    staging:\n      labels: [from-config]\n`,
  );
  return cwd;
}

interface Recorded {
  apis: Parameters<DeploymentPorts['pullRequests']>[0][];
  said: string[];
}

/** Ports with the real pull-request API on the stand-in, recording how it was asked for. */
function ports(recorded: Recorded = { apis: [], said: [] }): DeploymentPorts {
  const logger: Logger = { info: (message) => recorded.said.push(message), warning() {}, debug() {} };
  return {
    pullRequests: (options) => {
      recorded.apis.push(options);
      return createGitHubPulls({ ...options, apiUrl: github.baseUrl });
    },
    logger,
    now: () => new Date('2026-12-01T12:00:00Z'),
    summarizePackage: async () => undefined,
  };
}

function request(cwd: string, overrides: Partial<DeploymentRequest> = {}): DeploymentRequest {
  return {
    environment: 'staging',
    packageRef: ref,
    cwd,
    token: git.token,
    packageFolders: [],
    allowFailedGates: false,
    hostEnv: { PATH: process.env.PATH, HOME: cwd },
    names: NAMES,
    ...overrides,
  };
}

const pushes = () => git.requests.filter((r) => r.service === 'git-receive-pack').length;
const gitRequests = () => git.requests.length;

describe('the deployment flow', () => {
  it('takes the repository and base from the request, then mlops.yaml, then the default', async () => {
    const cwd = await project();
    const configured = await runDeployment(request(cwd), ports());
    expect(configured).toMatchObject({
      repository: { fullName: CONFIGURED },
      base: 'trunk',
      labels: ['from-config'],
      model: { name: 'breast-cancer', version: '2.0.0' },
      pullRequestApi: false,
    });
    const file = referencePath('staging', 'breast-cancer');
    const branch = deployBranch('staging', 'breast-cancer');
    expect(await git.readFile(CONFIGURED, branch, file)).toBeDefined();

    // The request wins; its base falls back to mlops.yaml's, then to main when there is no config.
    const given = await runDeployment(
      request(cwd, { repository: git.url(GIVEN), base: 'main', labels: ['given'] }),
      ports(),
    );
    expect(given).toMatchObject({ repository: { fullName: GIVEN }, base: 'main', labels: ['given'] });
    expect(readModelReference((await git.readFile(GIVEN, branch, file)) ?? '', file).spec.model.version).toBe(
      '2.0.0',
    );
    const bare = await temporaryDirectory();
    const defaults = await runDeployment(request(bare, { repository: git.url(GIVEN) }), ports());
    expect(defaults).toMatchObject({ base: 'main', labels: [], operation: 'unchanged' });

    await expect(runDeployment(request(bare), ports())).rejects.toThrow(
      /No environment repository: set --repo\.$/,
    );
    await expect(runDeployment(request(cwd, { config: 'missing.yaml' }), ports())).rejects.toThrow(
      /missing\.yaml cannot be read/,
    );
  }, 60_000);

  it.each([
    [{ overrideReason: 'hotfix' }, /override reason \(--override-reason\) goes with --allow-failed-gates/],
    [{ registry: { plainHttp: true } }, /--plain-http goes with --oci-ref/],
    [{ promoteFrom: 'staging', packageRef: undefined }, /promotion \(--promote-from\) needs .*set --model/],
    [{ packageRef: undefined }, /No package to deploy: set --package-ref .* or --promote-from/],
    [{ autoMerge: 'yes' }, /--auto-merge.*merge, squash, rebase/],
    [{ apiUrl: 'not a url' }, /--api-url "not a url" is not a URL/],
    [{ repository: 'ssh://git@example.com/o/r.git' }, /ssh URL; ssh is not supported/],
  ] as [Partial<DeploymentRequest>, RegExp][])(
    'refuses %o before git or the network are used, naming the input',
    async (overrides, message) => {
      const cwd = await project();
      const before = gitRequests();
      const recorded: Recorded = { apis: [], said: [] };
      const error = await runDeployment(request(cwd, overrides), ports(recorded)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect(gitRequests()).toBe(before);
      expect(recorded.apis).toEqual([]);
    },
  );

  it('names the model from the request, else from the package file, and says which inputs to set', async () => {
    const cwd = await project();
    const sha256 = ref.split('#sha256=')[1];
    const error = await runDeployment(
      request(cwd, { packageRef: `file:///elsewhere/package.zip#sha256=${sha256}` }),
      ports(),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/name and version .* set --model and --version\./);
    // Given, they win over the file name; the manifest then says it is another model.
    const renamed = await runDeployment(
      request(cwd, { modelName: 'other', modelVersion: '2.0.0' }),
      ports(),
    ).catch((e: unknown) => e);
    expect((renamed as Error).message).toMatch(
      /is breast-cancer 2\.0\.0 \(its manifest says so\), not other 2\.0\.0/,
    );
  });

  it('makes a pull-request API only with a token and an API URL, named as the user set it', async () => {
    const cwd = await project();
    // No API URL (neither given nor in the environment, no default): the proposal is returned.
    const none: Recorded = { apis: [], said: [] };
    const offline = await runDeployment(request(cwd), ports(none));
    expect(offline.pullRequestApi).toBe(false);
    expect(offline.proposal?.title).toBe('Deploy breast-cancer 2.0.0 to staging');
    // No token (a local repository needs none): no API either, even with a URL.
    const local = await runDeployment(
      request(cwd, {
        token: undefined,
        repository: join(git.root, `${GIVEN}.git`),
        base: 'main',
        hostEnv: { PATH: process.env.PATH, HOME: cwd, GITHUB_API_URL: github.baseUrl },
      }),
      ports(none),
    );
    expect(local.pullRequestApi).toBe(false);
    expect(none.apis).toEqual([]);

    const fromEnvironment: Recorded = { apis: [], said: [] };
    const opened = await runDeployment(
      request(cwd, { hostEnv: { PATH: process.env.PATH, HOME: cwd, GITHUB_API_URL: github.baseUrl } }),
      ports(fromEnvironment),
    );
    expect(opened).toMatchObject({ pullRequestApi: true, pullRequestNumber: expect.any(Number) });
    expect(fromEnvironment.apis).toEqual([
      { token: git.token, repository: CONFIGURED, apiUrl: github.baseUrl, apiUrlName: 'GITHUB_API_URL' },
    ]);
    expect(github.state.pullRequests.find((pr) => pr.number === opened.pullRequestNumber)).toMatchObject({
      base: 'trunk',
      labels: ['from-config'],
    });

    // The request's URL wins over the environment's; the default is the last resort.
    const given: Recorded = { apis: [], said: [] };
    await runDeployment(
      request(cwd, {
        apiUrl: 'https://github.example.com/api/v3',
        hostEnv: { PATH: process.env.PATH, HOME: cwd, GITHUB_API_URL: github.baseUrl },
      }),
      ports(given),
    );
    expect(given.apis[0]).toMatchObject({
      apiUrl: 'https://github.example.com/api/v3',
      apiUrlName: '--api-url',
    });
    const fallback: Recorded = { apis: [], said: [] };
    await runDeployment(request(cwd, { defaultApiUrl: 'https://api.github.com' }), ports(fallback));
    expect(fallback.apis[0]).toMatchObject({
      apiUrl: 'https://api.github.com',
      apiUrlName: 'GITHUB_API_URL',
    });
    expect(github.violations).toEqual([]);
  }, 60_000);

  it('hashes a local archive only where the adapter accepts paths', async () => {
    const cwd = await project();
    const recorded: Recorded = { apis: [], said: [] };
    const sha256 = ref.split('#sha256=')[1];
    const result = await runDeployment(
      request(cwd, { packageRef: archive, acceptArchivePath: true }),
      ports(recorded),
    );
    expect(result.model).toEqual({ name: 'breast-cancer', version: '2.0.0' });
    expect(recorded.said).toEqual([`Package ${archive}: sha256 ${sha256}`]);
    await expect(runDeployment(request(cwd, { packageRef: archive }), ports())).rejects.toThrow(
      /^Package reference "/,
    );
    await expect(
      runDeployment(request(cwd, { packageRef: join(cwd, 'missing.zip'), acceptArchivePath: true }), ports()),
    ).rejects.toThrow(/--package-ref ".*missing\.zip" is neither a reference with a digest/);
  }, 60_000);

  it("records an override with the actor of the adapter's environment, and refuses it without one", async () => {
    const cwd = await project();
    const before = pushes();
    await expect(runDeployment(request(cwd, { packageRef: failedRef }), ports())).rejects.toThrow(
      /records a failed model gate.*deploy it anyway with --allow-failed-gates/,
    );
    expect(pushes()).toBe(before);
    const result = await runDeployment(
      request(cwd, {
        packageRef: failedRef,
        environment: 'production',
        allowFailedGates: true,
        overrideReason: 'the old model is worse',
        hostEnv: { PATH: process.env.PATH, HOME: cwd, GITHUB_ACTOR: 'octocat' },
      }),
      ports(),
    );
    expect(result.gates).toMatchObject({
      verdict: 'overridden',
      override: { allowedFailed: ['model'], by: 'octocat', reason: 'the old model is worse' },
    });
  }, 60_000);
});

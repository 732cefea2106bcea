/**
 * runHistory (src/core/flows/history.ts), in process, against a real environment repository (a
 * local bare git repository with three deployments on main): the records newest first, the limit and
 * the model filter, `owner/name` resolved on the environment's GITHUB_SERVER_URL, the token variable
 * the request names, and the mistakes refused before any git work, in the adapter's own words.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_FLAG_NAMES } from '../../src/cli/commands/history.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type HistoryRequest, runHistory } from '../../src/core/flows/history.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const exec = promisify(execFile);
const SHA = (digit: string) => digit.repeat(64);
/** The test process's environment without a token: the repository is read anonymously. */
const { GITHUB_TOKEN: _, ...hostEnv } = process.env;

/** The folder GITHUB_SERVER_URL points at in the tests: it holds octo/environments.git. */
let server: string;
let repository: string;

beforeAll(async () => {
  server = await temporaryDirectory('flows-history-server-');
  repository = join(server, 'octo/environments.git');
  const work = await temporaryDirectory('flows-history-work-');
  const git = (args: string[], env: Record<string, string> = {}) =>
    exec('git', ['-c', 'user.name=Octo', '-c', 'user.email=octo@example.invalid', ...args], {
      cwd: work,
      env: { ...hostEnv, GIT_CONFIG_NOSYSTEM: '1', ...env },
    });
  await git(['init', '--quiet', '--initial-branch=main']);
  const models = join(work, 'environments/staging/models');
  await mkdir(models, { recursive: true });
  const deployments: [string, string, string, string][] = [
    ['churn', '1.0.0', 'a', 'Deploy churn 1.0.0 to staging (#1)'],
    ['fraud', '2.0.0', 'b', 'Deploy fraud 2.0.0 to staging (#2)'],
    ['churn', '1.1.0', 'c', 'Merge pull request #3 from octo/deploy/staging/churn'],
  ];
  for (const [index, [model, version, digit, message]] of deployments.entries()) {
    await writeFile(
      join(models, `${model}.yaml`),
      `spec:\n  model:\n    name: ${model}\n    version: ${version}\n  package:\n    ref: https://example.invalid/${model}-${version}.zip\n    sha256: ${SHA(digit)}\n  gates:\n    verdict: passed\n`,
    );
    await git(['add', '.']);
    const date = `2026-01-0${index + 1}T10:00:00Z`;
    await git(['commit', '--quiet', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  }
  await mkdir(join(server, 'octo'), { recursive: true });
  await git(['clone', '--quiet', '--bare', work, repository]);
});

const run = (request: Partial<HistoryRequest>) =>
  runHistory(
    { environment: 'staging', repository, hostEnv, names: HISTORY_FLAG_NAMES, ...request },
    { logger: silentLogger },
  );

describe('runHistory', () => {
  it('lists the deployments newest first, with their pull requests and previous versions', async () => {
    const { environment, records } = await run({});
    expect(environment).toBe('staging');
    expect(records.map((r) => [r.model, r.version, r.previousVersion, r.pullRequest, r.sha256])).toEqual([
      ['churn', '1.1.0', '1.0.0', 3, SHA('c')],
      ['fraud', '2.0.0', undefined, 2, SHA('b')],
      ['churn', '1.0.0', undefined, 1, SHA('a')],
    ]);
  });

  it('keeps the newest within the limit, and only the model asked for', async () => {
    expect((await run({ limit: '2' })).records.map((r) => r.version)).toEqual(['1.1.0', '2.0.0']);
    expect((await run({ model: 'churn' })).records.map((r) => r.version)).toEqual(['1.1.0', '1.0.0']);
    expect((await run({ model: 'churn', limit: '1' })).records.map((r) => r.version)).toEqual(['1.1.0']);
    expect((await run({ environment: 'staging', model: 'other' })).records).toEqual([]);
  });

  it('reads owner/name on the GitHub server of the environment', async () => {
    const { records } = await run({
      repository: 'octo/environments',
      hostEnv: { ...hostEnv, GITHUB_SERVER_URL: server },
    });
    expect(records).toHaveLength(3);
  });

  describe('over HTTP with a token, as from GitHub', () => {
    let github: GitServer;
    beforeAll(async () => {
      github = await startGitServer();
      await mkdir(join(github.root, 'octo'), { recursive: true });
      await exec('git', [
        'clone',
        '--quiet',
        '--bare',
        repository,
        join(github.root, 'octo/environments.git'),
      ]);
    });
    afterAll(() => github?.stop());

    it('sends GITHUB_TOKEN by default, the named variable with token-env, and fails without a token', async () => {
      const remote = github.url('octo/environments');
      const viaDefault = await run({
        repository: remote,
        hostEnv: { ...hostEnv, GITHUB_TOKEN: github.token },
      });
      expect(viaDefault.records.map((r) => r.version)).toEqual(['1.1.0', '2.0.0', '1.0.0']);
      const named = await run({
        repository: remote,
        tokenEnv: 'DEPLOY_TOKEN',
        hostEnv: { ...hostEnv, DEPLOY_TOKEN: github.token },
      });
      expect(named.records).toHaveLength(3);
      await expect(run({ repository: remote })).rejects.toThrow(ConfigurationError);
    });
  });

  it('reads the token from the variable the request names', async () => {
    const { records } = await run({
      tokenEnv: 'DEPLOY_TOKEN',
      hostEnv: { ...hostEnv, DEPLOY_TOKEN: 'ghs_test' },
    });
    expect(records).toHaveLength(3);
  });

  it.each([
    [{ limit: '0' }, 'mlops history: --limit must be a positive whole number; got "0".'],
    [{ limit: '1.5' }, 'mlops history: --limit must be a positive whole number; got "1.5".'],
    [{ limit: 'ten' }, 'mlops history: --limit must be a positive whole number; got "ten".'],
    [
      { tokenEnv: 'DEPLOY_TOKEN' },
      'mlops history: --token-env DEPLOY_TOKEN names an environment variable that is not set or empty.',
    ],
    [
      { tokenEnv: 'DEPLOY_TOKEN', hostEnv: { ...hostEnv, DEPLOY_TOKEN: '' } },
      'mlops history: --token-env DEPLOY_TOKEN names an environment variable that is not set or empty.',
    ],
  ] as [Partial<HistoryRequest>, string][])('refuses %o before any git work', async (request, message) => {
    // A repository that does not exist: a clone would fail with another message.
    const error = await run({ repository: '/nonexistent/environments.git', ...request }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(message);
  });

  it('names the missing environment folder', async () => {
    await expect(run({ environment: 'production' })).rejects.toThrow(
      /has no folder environments\/production\//,
    );
  });
});

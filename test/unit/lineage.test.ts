/**
 * Lineage and identity from the adapter's environment and a real git checkout: the commit and ref
 * of a package, who overrides a gate, and whose name a local deployment commit carries.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readActor, readGitAuthor, readLineage } from '../../src/core/package/lineage.ts';
import { temporaryFolder } from '../helpers/temp.ts';

const run = promisify(execFile);
let folder: string;
let repo: string;
/** A HOME with no git configuration, so the machine's own ~/.gitconfig never leaks into a case. */
let home: string;

beforeAll(async () => {
  folder = await temporaryFolder('mlops-lineage-');
  repo = join(folder, 'repo');
  home = join(folder, 'home');
  await run('mkdir', ['-p', repo, home]);
  await run('git', ['init', '--quiet', '--initial-branch', 'main', repo]);
  await writeFile(join(repo, 'a.txt'), 'a\n');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
    GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
  };
  await run('git', ['-c', 'user.name=Seed', '-c', 'user.email=seed@example.invalid', 'add', 'a.txt'], {
    cwd: repo,
    env,
  });
  await run(
    'git',
    ['-c', 'user.name=Seed', '-c', 'user.email=seed@example.invalid', 'commit', '--quiet', '-m', 'a'],
    {
      cwd: repo,
      env,
    },
  );
});

const localEnv = () => ({ PATH: process.env.PATH ?? '', HOME: home, GIT_CONFIG_NOSYSTEM: '1' });

describe('readGitAuthor', () => {
  it("is the repository's configured user outside a workflow run", async () => {
    await run('git', ['config', 'user.name', 'Ada Lovelace'], { cwd: repo, env: localEnv() });
    await run('git', ['config', 'user.email', 'ada@example.invalid'], { cwd: repo, env: localEnv() });
    expect(await readGitAuthor(localEnv(), repo)).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.invalid',
    });
    // git's own variables win over the configuration, as they do for git commit.
    expect(
      await readGitAuthor(
        { ...localEnv(), GIT_AUTHOR_NAME: 'Grace', GIT_AUTHOR_EMAIL: 'grace@example.invalid' },
        repo,
      ),
    ).toEqual({ name: 'Grace', email: 'grace@example.invalid' });
  });

  it('is undefined inside a workflow run (the bot identity is right there) and without an identity', async () => {
    expect(await readGitAuthor({ ...localEnv(), GITHUB_ACTIONS: 'true' }, repo)).toBeUndefined();
    // Outside the repository and with an empty HOME nothing is configured.
    expect(await readGitAuthor(localEnv(), home)).toBeUndefined();
    // A name alone is not an identity.
    await writeFile(join(home, '.gitconfig'), '[user]\n\tname = Only Name\n');
    expect(await readGitAuthor(localEnv(), home)).toBeUndefined();
    await writeFile(join(home, '.gitconfig'), '[user]\n\tname = Global\n\temail = global@example.invalid\n');
    expect(await readGitAuthor(localEnv(), home)).toEqual({
      name: 'Global',
      email: 'global@example.invalid',
    });
    await rm(join(home, '.gitconfig'));
  });
});

describe('readLineage and readActor', () => {
  it("take a workflow run's GITHUB_* variables over the checkout", async () => {
    const lineage = await readLineage(
      {
        PATH: process.env.PATH,
        GITHUB_SHA: 'f'.repeat(40),
        GITHUB_REF: 'refs/tags/v1.2.3',
        GITHUB_REPOSITORY: 'octo-org/churn',
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2',
        GITHUB_SERVER_URL: 'https://ghe.example.invalid',
        SOURCE_DATE_EPOCH: '1700000000',
      },
      repo,
    );
    expect(lineage).toEqual({
      repository: 'octo-org/churn',
      commit: 'f'.repeat(40),
      ref: 'refs/tags/v1.2.3',
      runUrl: 'https://ghe.example.invalid/octo-org/churn/actions/runs/42/attempts/2',
      commitTime: '2023-11-14T22:13:20.000Z',
    });
    expect(readActor({ GITHUB_ACTOR: 'octocat' })).toBe('octocat');
  });

  it('read the commit, branch and commit time of the checkout outside a run', async () => {
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
    expect(await readLineage({ PATH: process.env.PATH }, repo)).toEqual({
      repository: null,
      commit: head,
      ref: 'refs/heads/main',
      runUrl: null,
      commitTime: '2026-01-02T03:04:05.000Z',
    });
    expect(readActor({})).not.toBe('');
  });
});

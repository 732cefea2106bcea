/**
 * Where a package comes from, and which version it is: the repository, commit, ref and workflow run
 * (from the GitHub Actions environment, or from the local git checkout for the CLI), the commit
 * time (the package's created-at, so that the same commit packages to the same bytes), and the
 * version (semver; the tag's on tag pushes).
 */
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import { isSemver } from '../semver.ts';

export interface Lineage {
  /** `owner/name` on GitHub, or the local checkout's remote, or null. */
  repository: string | null;
  /** Full commit SHA, or null outside a git checkout. */
  commit: string | null;
  /** `refs/heads/main`, `refs/tags/v1.2.0`, … or null. */
  ref: string | null;
  /** The workflow run's URL inside GitHub Actions, else null. */
  runUrl: string | null;
  /** ISO 8601 UTC time of the commit (the package's created-at), or null. */
  commitTime: string | null;
}

/**
 * Reads the lineage: GITHUB_* variables of `env` (the adapter's environment) inside a workflow run,
 * the git checkout at `cwd` otherwise. `SOURCE_DATE_EPOCH` (the reproducible-builds convention)
 * overrides the commit time.
 */
export async function readLineage(env: HostEnvironment, cwd: string): Promise<Lineage> {
  const git = async (...args: string[]): Promise<string | null> => {
    try {
      const { stdout } = await promisify(execFile)('git', args, { cwd, env: { PATH: env.PATH ?? '' } });
      return stdout.trim() || null;
    } catch {
      return null;
    }
  };
  const commit = env.GITHUB_SHA || (await git('rev-parse', 'HEAD'));
  const ref = env.GITHUB_REF || (await git('symbolic-ref', '-q', 'HEAD'));
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  const repository = env.GITHUB_REPOSITORY || null;
  const runUrl =
    repository && env.GITHUB_RUN_ID
      ? `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`
      : null;
  let commitTime: string | null = null;
  if (env.SOURCE_DATE_EPOCH && /^\d+$/.test(env.SOURCE_DATE_EPOCH)) {
    commitTime = new Date(Number(env.SOURCE_DATE_EPOCH) * 1000).toISOString();
  } else if (commit) {
    const text = await git('show', '-s', '--format=%cI', commit);
    commitTime = text ? new Date(text).toISOString() : null;
  }
  return { repository, commit, ref, runUrl, commitTime };
}

/**
 * Who is acting, for overrides recorded in manifests and deployment records: the workflow's actor
 * (GITHUB_ACTOR of `env`, the adapter's environment) inside a run, else the local user's name.
 */
export function readActor(env: HostEnvironment): string {
  if (env.GITHUB_ACTOR) return env.GITHUB_ACTOR;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return env.USER || env.USERNAME || 'unknown';
  }
}

/**
 * The git identity commits made on the user's behalf carry outside a workflow run: git's own
 * `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, else `user.name`/`user.email` of the configuration that
 * applies at `cwd` (repository, global, system). Undefined inside a workflow run (GITHUB_ACTIONS),
 * where the bot identity is right, and when no identity is configured (the caller falls back to it
 * and says so), so a laptop's deployment commit is the person's, not github-actions[bot]'s.
 */
export async function readGitAuthor(
  env: HostEnvironment,
  cwd: string,
): Promise<{ name: string; email: string } | undefined> {
  if (env.GITHUB_ACTIONS === 'true') return undefined;
  // Only what locates git's configuration files: a runner's other GIT_* variables stay out.
  const gitEnv: Record<string, string> = {};
  for (const key of [
    'PATH',
    'HOME',
    'XDG_CONFIG_HOME',
    'GIT_CONFIG_GLOBAL',
    'GIT_CONFIG_SYSTEM',
    'GIT_CONFIG_NOSYSTEM',
  ]) {
    const value = env[key];
    if (value !== undefined) gitEnv[key] = value;
  }
  const config = async (key: string): Promise<string | undefined> => {
    try {
      const { stdout } = await promisify(execFile)('git', ['config', '--get', key], { cwd, env: gitEnv });
      return stdout.trim() || undefined;
    } catch {
      return undefined; // not set (exit 1), or no git: no identity
    }
  };
  const name = env.GIT_AUTHOR_NAME || (await config('user.name'));
  const email = env.GIT_AUTHOR_EMAIL || (await config('user.email'));
  return name && email ? { name, email } : undefined;
}

/**
 * The package version: the given one (must be semver; a leading `v` is dropped), the tag's on a
 * tag push (`refs/tags/vX.Y.Z`), else `0.0.0-<sha7>`. A given version that differs from the
 * pushed tag is an error, so a release cannot carry another version than its tag.
 */
export function resolveVersion(given: string | undefined, lineage: Lineage, name = 'version'): string {
  const tag = lineage.ref?.startsWith('refs/tags/') ? lineage.ref.slice('refs/tags/'.length) : undefined;
  const tagVersion = tag?.replace(/^v/, '');
  if (given !== undefined) {
    const version = given.replace(/^v/, '');
    if (!isSemver(version)) {
      throw new ConfigurationError(
        `${name} "${given}" is not a semantic version (MAJOR.MINOR.PATCH, optionally -prerelease and +build, e.g. 1.4.0 or 1.4.0-rc.1).`,
        { key: name },
      );
    }
    if (tagVersion !== undefined && isSemver(tagVersion) && tagVersion !== version) {
      throw new ConfigurationError(
        `${name} ${version} does not match the pushed tag ${tag}: a release must carry its tag's version. Leave ${name} empty on tag pushes, or tag v${version}.`,
        { key: name },
      );
    }
    return version;
  }
  if (tagVersion !== undefined) {
    if (!isSemver(tagVersion)) {
      throw new ConfigurationError(
        `The pushed tag ${tag} is not a version tag (vMAJOR.MINOR.PATCH, e.g. v1.4.0): set ${name} explicitly, or push a version tag.`,
        { key: name },
      );
    }
    return tagVersion;
  }
  if (lineage.commit) return `0.0.0-${lineage.commit.slice(0, 7)}`;
  throw new ConfigurationError(
    `No ${name}: give one (e.g. 1.0.0), or run inside a git checkout or a workflow so that 0.0.0-<commit> can be used.`,
    { key: name },
  );
}

/**
 * A working copy of the environment repository, for one deployment: cloned over HTTPS with the
 * token passed as an extra HTTP header on each git command (never in the remote URL, never in
 * .git/config, never in messages), shallow, committed as github-actions[bot] unless configured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { ConfigurationError } from '../errors.ts';

/** The bot identity GitHub uses for commits made by workflows. */
export const BOT_AUTHOR = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
} as const;

export interface GitAuth {
  token: string;
  /** Basic-auth user; GitHub accepts any with a token (`x-access-token` by convention). */
  user?: string;
}

export interface Workspace {
  dir: string;
  git: SimpleGit;
  /** The base branch's head when last fetched. */
  baseHead: string;
  /** Replaces the token (and its encodings) in text that may reach a log. */
  mask(text: string): string;
  remove(): Promise<void>;
}

/** Git's answers to a push that lost a race (another push moved the branch first). */
const STALE_PUSH =
  /\(fetch first\)|\(non-fast-forward\)|stale info|\(stale info\)|failed to update ref|cannot lock ref/i;

/** True when a push failed because the remote moved meanwhile (retry after fetching). */
export function isStalePush(message: string): boolean {
  return STALE_PUSH.test(message);
}

/**
 * Clones `url` (branch `base`, shallow) into a temporary folder. Throws `ConfigurationError` with
 * a plain reason for a refused token, a missing repository or branch.
 */
export async function cloneWorkspace(
  url: string,
  options: { auth?: GitAuth; base: string; author?: { name: string; email: string } },
): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-deploy-'));
  const secrets: string[] = [];
  const config: string[] = [];
  if (options.auth) {
    const basic = Buffer.from(`${options.auth.user ?? 'x-access-token'}:${options.auth.token}`).toString(
      'base64',
    );
    secrets.push(options.auth.token, basic);
    // `-c` on each command: the header lives in the process's arguments only, not in .git/config.
    config.push(`http.extraHeader=AUTHORIZATION: basic ${basic}`);
  }
  const mask = (text: string) => secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  const author = options.author ?? BOT_AUTHOR;
  const git = simpleGit({
    baseDir: dir,
    config: [...config, `user.name=${author.name}`, `user.email=${author.email}`],
    allowEnvironment: ['GIT_AUTHOR_DATE', 'GIT_COMMITTER_DATE', 'GIT_TERMINAL_PROMPT'],
  }).env(gitEnvironment());
  try {
    await git.clone(url, dir, ['--depth', '1', '--branch', options.base, '--single-branch', '--no-tags']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw explainGitFailure(mask((error as Error).message), url, options.base);
  }
  const baseHead = (await git.revparse(['HEAD'])).trim();
  return {
    dir,
    git,
    baseHead,
    mask,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The environment of git commands: the path, a home, proxies and a locale; no GIT_* variables from
 * outside (a runner's GIT_DIR or GIT_SSL_* would change what the commands do).
 */
export function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const keep = [
    'PATH',
    'HOME',
    'LANG',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
  ];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key] as string;
  return { ...env, ...extra };
}

/** Turns git's failures into what to do about them. */
export function explainGitFailure(message: string, url: string, branch?: string): ConfigurationError {
  const first =
    message.split('\n').find((line) => /fatal|error|remote:/.test(line)) ?? message.split('\n')[0];
  if (/Authentication failed|could not read Username|401|403|denied/i.test(message)) {
    return new ConfigurationError(
      `The environment repository ${url} refused the token (${first.trim()}). GITHUB_TOKEN cannot push to another repository: use a GitHub App token (actions/create-github-app-token) or a fine-grained PAT with contents: write and pull-requests: write on that repository.`,
    );
  }
  if (/Remote branch .* not found|couldn't find remote ref/i.test(message)) {
    return new ConfigurationError(
      `The environment repository ${url} has no branch ${branch ?? ''} (${first.trim()}). Set the base branch of the deployment.`,
    );
  }
  if (/not found|does not appear to be a git repository|Repository not found/i.test(message)) {
    return new ConfigurationError(
      `The environment repository ${url} was not found (${first.trim()}). Check the URL and that the token can see it.`,
    );
  }
  return new ConfigurationError(`git failed on ${url}: ${first.trim()}`);
}

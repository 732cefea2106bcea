/**
 * A working copy of the environment repository, for one deployment: cloned over HTTPS with the
 * token passed as an extra HTTP header through git's environment (`GIT_CONFIG_COUNT`/`KEY`/`VALUE`:
 * never in the remote URL, .git/config, the process's arguments that `ps` shows to every local
 * user, or messages), scoped to the repository's origin, shallow, committed as github-actions[bot]
 * unless configured. Remotes are checked by transport.ts first (https, loopback http, local), and
 * git may use no other protocol (`GIT_ALLOW_PROTOCOL`); stalled transfers and silent commands are
 * stopped (TIME_LIMITS).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import { classifyGitRemote, TIME_LIMITS } from './transport.ts';

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
  /** The environment of this workspace's git commands (with the token's header), plus `extra`. */
  environment(extra?: Record<string, string>): Record<string, string>;
  remove(): Promise<void>;
}

/** Git's answers to a push that lost a race (another push moved the branch first). */
const STALE_PUSH =
  /\(fetch first\)|\(non-fast-forward\)|stale info|\(stale info\)|failed to update ref|cannot lock ref/i;

/** True when a push failed because the remote moved meanwhile (retry after fetching). */
export function isStalePush(message: string): boolean {
  return STALE_PUSH.test(message);
}

/** The variables through which git receives its configuration (and the token) in these commands. */
const CONFIG_VARIABLES = [
  'GIT_CONFIG_COUNT',
  ...[0, 1, 2, 3].flatMap((i) => [`GIT_CONFIG_KEY_${i}`, `GIT_CONFIG_VALUE_${i}`]),
];

/**
 * How git runs against `url`: the environment that carries the token's header (for the remote's
 * origin only) and the transfer limits, and the secrets to mask. Throws `ConfigurationError` for a
 * remote transport.ts refuses.
 */
export function gitAccess(
  url: string,
  auth: GitAuth | undefined,
): { url: string; env: Record<string, string>; secrets: string[]; allowEnvironment: string[] } {
  const remote = classifyGitRemote(url);
  const config: [string, string][] = [
    ['http.lowSpeedLimit', String(TIME_LIMITS.gitLowSpeedBytes)],
    ['http.lowSpeedTime', String(Math.round(TIME_LIMITS.gitLowSpeedMs / 1000))],
  ];
  const secrets: string[] = [];
  // Never to a local repository (nothing to authenticate), only to the remote's own origin.
  if (auth && remote.origin) {
    const basic = Buffer.from(`${auth.user ?? 'x-access-token'}:${auth.token}`).toString('base64');
    secrets.push(auth.token, basic);
    config.push([`http.${remote.origin}/.extraHeader`, `AUTHORIZATION: basic ${basic}`]);
  }
  const env: Record<string, string> = {
    GIT_ALLOW_PROTOCOL: remote.kind,
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return { url: remote.url, env, secrets, allowEnvironment: ['GIT_ALLOW_PROTOCOL', ...CONFIG_VARIABLES] };
}

/**
 * Clones `url` (branch `base`, shallow) into a temporary folder. Throws `ConfigurationError` with
 * a plain reason for a refused remote or token, a missing repository or branch.
 */
export async function cloneWorkspace(
  url: string,
  options: {
    auth?: GitAuth;
    base: string;
    author?: { name: string; email: string };
    /** The adapter's environment: git gets its PATH, HOME, locale and proxies (see {@link gitEnvironment}). */
    hostEnv: HostEnvironment;
    /**
     * What the clone is for: `write` (a deployment, the default) or `read` (a baseline or a
     * promotion's source); it decides what a refusal asks of the token.
     */
    access?: GitAccessNeed;
  },
): Promise<Workspace> {
  const access = gitAccess(url, options.auth);
  const dir = await mkdtemp(join(tmpdir(), 'mlops-deploy-'));
  const mask = (text: string) =>
    access.secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  const author = options.author ?? BOT_AUTHOR;
  const environment = (extra: Record<string, string> = {}) =>
    gitEnvironment(options.hostEnv, { ...access.env, ...extra });
  const git = simpleGit({
    baseDir: dir,
    config: [`user.name=${author.name}`, `user.email=${author.email}`],
    allowEnvironment: [
      'GIT_AUTHOR_DATE',
      'GIT_COMMITTER_DATE',
      'GIT_TERMINAL_PROMPT',
      ...access.allowEnvironment,
    ],
    // The token's header comes through GIT_CONFIG_*: simple-git checks such keys like -c ones.
    unsafe: { allowUnsafeConfigEnvCount: true },
    timeout: { block: TIME_LIMITS.gitSilenceMs },
  }).env(environment());
  try {
    await git.clone(access.url, dir, [
      '--depth',
      '1',
      '--branch',
      options.base,
      '--single-branch',
      '--no-tags',
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw explainGitFailure(mask((error as Error).message), url, options.base, {
      access: options.access ?? 'write',
      tokenSent: options.auth !== undefined,
    });
  }
  const baseHead = (await git.revparse(['HEAD'])).trim();
  return {
    dir,
    git,
    baseHead,
    mask,
    environment,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The environment of git commands: the path, a home, proxies and a locale of the host's
 * environment (`host`, which the adapter passes); no GIT_* variables from outside (a runner's
 * GIT_DIR or GIT_SSL_* would change what the commands do).
 */
export function gitEnvironment(
  host: HostEnvironment,
  extra: Record<string, string> = {},
): Record<string, string> {
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
  for (const key of keep) {
    const value = host[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** What a git command needs of the repository: to read it, or to push to it. */
export type GitAccessNeed = 'read' | 'write';

/**
 * Turns git's failures into what to do about them. A refusal asks for what the command needs:
 * `write` (the default) push access, `read` read access, or a token at all when none was sent.
 */
export function explainGitFailure(
  message: string,
  url: string,
  branch?: string,
  need: { access: GitAccessNeed; tokenSent: boolean } = { access: 'write', tokenSent: true },
): ConfigurationError {
  const first =
    message.split('\n').find((line) => /fatal|error|remote:/.test(line)) ?? message.split('\n')[0];
  if (/block timeout reached/i.test(message)) {
    return new ConfigurationError(
      `git gave up on ${url}: it printed nothing for ${Math.round(TIME_LIMITS.gitSilenceMs / 60_000)} minutes (a stalled connection or server). Try again, or check that the repository is reachable from here.`,
    );
  }
  if (/too slow|low speed/i.test(message)) {
    return new ConfigurationError(
      `git gave up on ${url}: the transfer stalled (below ${TIME_LIMITS.gitLowSpeedBytes} bytes/s for ${Math.round(TIME_LIMITS.gitLowSpeedMs / 1000)} s) (${first.trim()}).`,
    );
  }
  if (/Authentication failed|could not read Username|401|403|denied/i.test(message)) {
    if (need.access === 'read') {
      return new ConfigurationError(
        need.tokenSent
          ? `The environment repository ${url} refused the token (${first.trim()}). Reading it needs a token with contents: read on that repository.`
          : `The environment repository ${url} cannot be read without a token (${first.trim()}). Pass a token with contents: read on that repository (a public repository needs none).`,
      );
    }
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

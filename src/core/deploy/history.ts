/**
 * The deployment history of an environment: which model version landed on the environment
 * repository's base branch, when, through which pull request and by whom. It is read from git
 * itself (the audit trail a reviewer can re-check), not from the pull-request API: the first-parent
 * history of the base branch (merges of deployment PRs, squash merges and direct commits alike),
 * and for each commit that changed `environments/<env>/models/*.yaml`, the reference files before
 * and after it.
 *
 * The clone asks for `--filter=blob:none` (commits and trees only; GitHub supports it), then
 * fetches the reference files' blobs it needs in one request. A server that does not support
 * filters (plain `git http-backend` without `uploadpack.allowFilter`) ignores the request and sends
 * a full clone, which works just as well. Never shallow: the history is the point.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import { compareSemver, isSemver } from '../semver.ts';
import { VERDICTS, type Verdict } from './custody.ts';
import { explainGitFailure, type GitAuth, gitAccess, gitEnvironment } from './git-workspace.ts';
import { TIME_LIMITS } from './transport.ts';

/** One change of a model's deployed package in an environment, as it landed on the base branch. */
export interface DeploymentRecord {
  model: string;
  version: string;
  /** The version the environment ran before this commit; undefined for a first deployment. */
  previousVersion?: string;
  /** `spec.package.ref` of the reference file (the package's URI, without the digest). */
  packageRef: string;
  sha256: string;
  /** `spec.deployedAt` of the reference file: when the deployment was proposed. */
  deployedAt?: string;
  /** The commit time on the base branch (when it was merged), ISO 8601 UTC. */
  mergedAt: string;
  /** The base branch's commit that made the change (the merge commit for a merged PR). */
  commit: string;
  /** From "Merge pull request #12 from …" or a squash title "… (#12)". */
  pullRequest?: number;
  /** The commit's author name (for a merge, who merged). */
  author: string;
  /** True when the new version is lower than the previous one, or is the previous state's `spec.previous`. */
  rollback: boolean;
  /**
   * What the record says of the gates (`spec.gates.verdict`); `not-recorded` for records written
   * before deployments carried verdicts (apiVersion v1).
   */
  verdict: Verdict;
  /** Failed gates deployed on purpose: which, by whom, why. */
  override?: { allowedFailed: string[]; by: string; reason?: string };
  /** `spec.modelcar`: the KServe modelcar image the environment ran the package from, when it did. */
  modelcar?: { ref: string; sha256: string };
}

/** What {@link readDeploymentHistory} reads. */
export interface DeploymentHistoryOptions {
  /** HTTPS URL of the environment repository. */
  repository: string;
  environment: string;
  /** The branch deployments are merged into (default `main`). */
  base?: string;
  /** Only this model's records. */
  model?: string;
  /** Without it, the repository is cloned anonymously. */
  auth?: GitAuth;
  /** The adapter's environment, for git's PATH, HOME, locale and proxies. */
  hostEnv: HostEnvironment;
  /** At most this many records (the newest). */
  limit?: number;
  /** Progress notes (which clone was used, how many blobs were fetched). */
  debug?: (message: string) => void;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SAFE_BRANCH = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/;
const ZERO_OID = /^0+$/;

/** The fields of a reference file the history needs; any other content is ignored. */
interface ReferenceState {
  version: string;
  packageRef: string;
  sha256: string;
  deployedAt?: string;
  previous?: { version?: string; sha256?: string };
  verdict: Verdict;
  override?: { allowedFailed: string[]; by: string; reason?: string };
  modelcar?: { ref: string; sha256: string };
}

/**
 * Reads the deployment history of `environment` from the base branch of the environment
 * repository, newest first. Throws `ConfigurationError` for a refused token, a missing repository
 * or branch, or an environment without its folder (naming the expected layout).
 */
export async function readDeploymentHistory(options: DeploymentHistoryOptions): Promise<DeploymentRecord[]> {
  const base = options.base ?? 'main';
  checkName('environment', options.environment, SAFE_SEGMENT);
  if (options.model !== undefined) checkName('model name', options.model, SAFE_SEGMENT);
  checkName('base branch', base, SAFE_BRANCH);
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new ConfigurationError(`The limit must be a positive whole number; got ${options.limit}.`);
  }
  const git = createGit(options.repository, options.auth, options.hostEnv);
  const dir = await mkdtemp(join(tmpdir(), 'mlops-history-'));
  try {
    const clone = await git
      .run([
        'clone',
        '--bare',
        '--filter=blob:none',
        '--single-branch',
        '--branch',
        base,
        '--no-tags',
        '--quiet',
        git.url,
        dir,
      ])
      .catch((error: Error) => {
        throw explainReadFailure(git.mask(error.message), options.repository, base);
      });
    // The server says so when it ignores the filter (LC_ALL=C keeps the message in English).
    const partial = !/filtering not recognized/i.test(clone.stderr);
    options.debug?.(
      partial
        ? `Cloned ${options.repository} (${base}) without blobs (--filter=blob:none).`
        : `The server of ${options.repository} does not support --filter: cloned ${base} in full.`,
    );

    const folder = `environments/${options.environment}`;
    const listing = await git.run(['ls-tree', '-d', '--name-only', 'HEAD', `${folder}`], { cwd: dir });
    if (listing.stdout.toString('utf8').trim() === '') {
      throw new ConfigurationError(
        `The environment repository ${options.repository} has no folder ${folder}/ on ${base}. ` +
          'Expected layout: environments/<environment>/models/<model>.yaml (see templates/environment-repo/ in mlops-actions).',
      );
    }

    const commits = await listChanges(git, dir, options.environment, options.model);
    const oids = [...new Set(commits.flatMap((c) => c.changes.flatMap((f) => [f.before, f.after])))].filter(
      (oid): oid is string => oid !== undefined,
    );
    if (partial && oids.length > 0) {
      // One request for every blob, instead of git fetching each one lazily as it is read.
      await git
        .run(
          [
            '-c',
            'fetch.negotiationAlgorithm=noop',
            'fetch',
            'origin',
            '--no-tags',
            '--no-write-fetch-head',
            '--recurse-submodules=no',
            '--filter=blob:none',
            '--stdin',
          ],
          { cwd: dir, input: `${oids.join('\n')}\n` },
        )
        .catch((error: Error) => {
          throw explainReadFailure(git.mask(error.message), options.repository, base);
        });
      options.debug?.(`Fetched ${oids.length} reference file version(s).`);
    }
    const blobs = await readBlobs(git, dir, oids);

    const records: DeploymentRecord[] = [];
    for (const commit of commits) {
      const found: DeploymentRecord[] = [];
      for (const change of commit.changes) {
        const before = change.before ? readState(blobs.get(change.before)) : undefined;
        const after = change.after ? readState(blobs.get(change.after)) : undefined;
        // A removed or unreadable reference deploys nothing; an edit of other fields changes nothing.
        if (!after) continue;
        if (
          before &&
          before.version === after.version &&
          before.sha256 === after.sha256 &&
          before.modelcar?.sha256 === after.modelcar?.sha256
        )
          continue;
        found.push({
          model: change.model,
          version: after.version,
          ...(before ? { previousVersion: before.version } : {}),
          packageRef: after.packageRef,
          sha256: after.sha256,
          ...(after.modelcar ? { modelcar: after.modelcar } : {}),
          ...(after.deployedAt ? { deployedAt: after.deployedAt } : {}),
          mergedAt: commit.mergedAt,
          commit: commit.sha,
          ...(commit.pullRequest !== undefined ? { pullRequest: commit.pullRequest } : {}),
          author: commit.author,
          rollback: isRollback(before, after),
          verdict: after.verdict,
          ...(after.override ? { override: after.override } : {}),
        });
      }
      records.push(...found.sort((a, b) => a.model.localeCompare(b.model)));
      if (options.limit !== undefined && records.length >= options.limit) break;
    }
    return options.limit !== undefined ? records.slice(0, options.limit) : records;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The pull request a base-branch commit came from, by GitHub's merge and squash messages. */
export function findPullRequestNumber(message: string): number | undefined {
  const subject = message.split('\n')[0] ?? '';
  const match = /^Merge pull request #(\d+) from /.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return match ? Number(match[1]) : undefined;
}

function checkName(what: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) {
    throw new ConfigurationError(
      `The ${what} "${value}" must be letters, digits, '.', '_' or '-'${what === 'base branch' ? " (and '/')" : ''}.`,
    );
  }
}

function isRollback(before: ReferenceState | undefined, after: ReferenceState): boolean {
  if (!before) return false;
  if (
    isSemver(before.version) &&
    isSemver(after.version) &&
    compareSemver(after.version, before.version) < 0
  ) {
    return true;
  }
  const previous = before.previous;
  return (
    previous?.version === after.version &&
    (previous.sha256 === undefined || previous.sha256.toLowerCase() === after.sha256.toLowerCase())
  );
}

/**
 * The fields of a reference file, read leniently: history may hold files written by older
 * versions of the schema, or edited by hand, and an audit should still show what they said.
 */
function readState(text: string | undefined): ReferenceState | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    return undefined;
  }
  const spec = (value as { spec?: Record<string, unknown> } | null)?.spec;
  const model = spec?.model as { version?: unknown } | undefined;
  const pkg = spec?.package as { ref?: unknown; sha256?: unknown } | undefined;
  if (typeof model?.version !== 'string') return undefined;
  const previous = spec?.previous as { version?: unknown; sha256?: unknown } | undefined;
  const modelcar = spec?.modelcar as { ref?: unknown; sha256?: unknown } | undefined;
  const gates = spec?.gates as { verdict?: unknown; override?: Record<string, unknown> } | undefined;
  const verdict = (VERDICTS as readonly unknown[]).includes(gates?.verdict)
    ? (gates?.verdict as Verdict)
    : 'not-recorded';
  const override = gates?.override;
  return {
    verdict,
    ...(override && typeof override.by === 'string' && Array.isArray(override.allowedFailed)
      ? {
          override: {
            allowedFailed: override.allowedFailed.map(String),
            by: override.by,
            ...(typeof override.reason === 'string' ? { reason: override.reason } : {}),
          },
        }
      : {}),
    version: model.version,
    packageRef: typeof pkg?.ref === 'string' ? pkg.ref : '',
    sha256: typeof pkg?.sha256 === 'string' ? pkg.sha256 : '',
    ...(typeof modelcar?.ref === 'string' && typeof modelcar.sha256 === 'string'
      ? { modelcar: { ref: modelcar.ref, sha256: modelcar.sha256 } }
      : {}),
    ...(typeof spec?.deployedAt === 'string' ? { deployedAt: spec.deployedAt } : {}),
    ...(previous && typeof previous === 'object'
      ? {
          previous: {
            ...(typeof previous.version === 'string' ? { version: previous.version } : {}),
            ...(typeof previous.sha256 === 'string' ? { sha256: previous.sha256 } : {}),
          },
        }
      : {}),
  };
}

interface CommitChanges {
  sha: string;
  author: string;
  mergedAt: string;
  pullRequest?: number;
  changes: { model: string; before?: string; after?: string }[];
}

/**
 * The base branch's first-parent commits that touched the environment's reference files, newest
 * first, with the blob ids before and after. Merges are diffed against their first parent: what
 * the merge brought onto the base branch.
 */
async function listChanges(
  git: Git,
  dir: string,
  environment: string,
  model: string | undefined,
): Promise<CommitChanges[]> {
  const folder = `environments/${environment}/models/`;
  const { stdout } = await git.run(
    [
      'log',
      '--first-parent',
      '--diff-merges=first-parent',
      '--root',
      '--no-renames',
      '--raw',
      '--no-abbrev',
      '-z',
      // RS before each commit, US between fields: a message may hold any other character.
      '--format=%x1e%H%x1f%an%x1f%ct%x1f%B%x1f',
      'HEAD',
      '--',
      model ? `${folder}${model}.yaml` : folder,
    ],
    { cwd: dir },
  );
  const commits: CommitChanges[] = [];
  for (const entry of stdout.toString('utf8').split('\x1e')) {
    if (entry === '') continue;
    const fields = entry.split('\x1f');
    const [sha, author, time] = fields;
    const raw = fields.at(-1) ?? '';
    const message = fields.slice(3, -1).join('\x1f');
    // -z raw output: ":<modes> <old> <new> <status>" NUL "<path>" NUL, repeated.
    const parts = raw.split('\0').map((part) => part.replace(/^\n+/, ''));
    const changes: CommitChanges['changes'] = [];
    for (let i = 0; i < parts.length - 1; i++) {
      if (!parts[i].startsWith(':')) continue;
      const [, , before, after] = parts[i].slice(1).split(' ');
      const path = parts[++i];
      if (!path.startsWith(folder)) continue;
      const name = path.slice(folder.length);
      // Only files directly in models/ are references; others (READMEs, subfolders) are not.
      if (!name.endsWith('.yaml') || name.includes('/')) continue;
      changes.push({
        model: name.slice(0, -'.yaml'.length),
        ...(ZERO_OID.test(before) ? {} : { before }),
        ...(ZERO_OID.test(after) ? {} : { after }),
      });
    }
    if (changes.length === 0) continue;
    const pullRequest = findPullRequestNumber(message);
    commits.push({
      sha,
      author,
      mergedAt: new Date(Number(time) * 1000).toISOString().replace('.000Z', 'Z'),
      ...(pullRequest !== undefined ? { pullRequest } : {}),
      changes,
    });
  }
  return commits;
}

/** Reads blobs by id with one `git cat-file --batch`. */
async function readBlobs(git: Git, dir: string, oids: string[]): Promise<Map<string, string>> {
  const blobs = new Map<string, string>();
  if (oids.length === 0) return blobs;
  const { stdout } = await git.run(['cat-file', '--batch'], { cwd: dir, input: `${oids.join('\n')}\n` });
  // Each answer: "<oid> blob <size>\n<content>\n", or "<oid> missing\n".
  let at = 0;
  while (at < stdout.length) {
    const end = stdout.indexOf(0x0a, at);
    if (end === -1) break;
    const [oid, type, size] = stdout.subarray(at, end).toString('utf8').split(' ');
    at = end + 1;
    if (type === 'missing' || size === undefined) continue;
    const length = Number(size);
    if (type === 'blob') blobs.set(oid, stdout.subarray(at, at + length).toString('utf8'));
    at += length + 1;
  }
  return blobs;
}

interface Git {
  /** The remote as git is given it (checked by transport.ts). */
  url: string;
  run(
    args: string[],
    options?: { cwd?: string; input?: string },
  ): Promise<{ stdout: Buffer; stderr: string }>;
  /** Replaces the token (and its encodings) in text that may reach a log. */
  mask(text: string): string;
}

/**
 * Runs git with the token's header in its environment, the way cloneWorkspace does (never in its
 * arguments, the URL or .git/config), masks it in every message, and stops a command that prints
 * nothing for TIME_LIMITS.gitSilenceMs.
 */
function createGit(repository: string, auth: GitAuth | undefined, hostEnv: HostEnvironment): Git {
  const access = gitAccess(repository, auth);
  const mask = (text: string) =>
    access.secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  // Every command carries the header: in a partial clone, even a local one may fetch a missing
  // object lazily.
  const env = gitEnvironment(hostEnv, { ...access.env, LC_ALL: 'C' });
  return {
    url: access.url,
    mask,
    run: (args, options = {}) =>
      new Promise((resolveRun, reject) => {
        const child = spawn('git', args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let silent: NodeJS.Timeout | undefined;
        let stalled = false;
        const watch = () => {
          clearTimeout(silent);
          silent = setTimeout(() => {
            stalled = true;
            child.kill('SIGKILL');
          }, TIME_LIMITS.gitSilenceMs);
        };
        watch();
        child.stdout.on('data', (chunk: Buffer) => {
          stdout.push(chunk);
          watch();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr.push(chunk);
          watch();
        });
        child.once('error', (error) => {
          clearTimeout(silent);
          reject(new Error(mask(error.message)));
        });
        child.once('close', (code) => {
          clearTimeout(silent);
          const err = Buffer.concat(stderr).toString('utf8');
          if (code === 0) resolveRun({ stdout: Buffer.concat(stdout), stderr: err });
          else if (stalled) reject(new Error(`git ${args[0]} failed: block timeout reached`));
          else reject(new Error(mask(`git ${args[0] === '-c' ? args[2] : args[0]} failed: ${err.trim()}`)));
        });
        child.stdin.on('error', () => {
          // git may exit before reading all of its input; the exit code tells what happened.
        });
        child.stdin.end(options.input ?? '');
      }),
  };
}

/** Read-only failures: a refused token needs read access, not the push access deployments need. */
function explainReadFailure(message: string, url: string, base: string): ConfigurationError {
  if (/Authentication failed|could not read Username|401|403|denied/i.test(message)) {
    const first =
      message.split('\n').find((line) => /fatal|error|remote:/.test(line)) ?? message.split('\n')[0];
    return new ConfigurationError(
      `The environment repository ${url} refused the token (${first.trim()}). Reading the deployment history needs contents: read on that repository (pass the token in GITHUB_TOKEN or the variable --token-env names; none for a public repository).`,
    );
  }
  return explainGitFailure(message, url, base);
}

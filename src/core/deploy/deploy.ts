/**
 * A deployment pull request against the environment repository: one deterministic branch per
 * environment and model (`mlops/deploy/<env>/<model>`), rebuilt from the base branch on every run
 * (the edit is re-generated, never a stale diff replayed), pushed with a lease on what was seen
 * (never over commits that are not ours), retried with backoff when another run moved it first,
 * and the pull request created or updated, never duplicated.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import { isSemver } from '../package/lineage.ts';
import { type PackageSummary, readPackageSummary } from './deployed-baseline.ts';
import { type DocumentSelector, detectTargetFormat, setField, type TargetFormat } from './edit-target.ts';
import {
  cloneWorkspace,
  explainGitFailure,
  type GitAuth,
  gitEnvironment,
  isStalePush,
  type Workspace,
} from './git-workspace.ts';
import {
  parsePackageRef,
  readModelReference,
  referencePath,
  updateModelReference,
} from './model-reference.ts';

export const DEPLOY_OPERATIONS = ['created', 'updated', 'unchanged', 'closed'] as const;
export type DeployOperation = (typeof DEPLOY_OPERATIONS)[number];

/** What the deployment needs from GitHub's pull-request API (adapters implement it with Octokit). */
export interface PullRequestApi {
  findOpen(
    branch: string,
    base: string,
  ): Promise<{ number: number; url: string; title: string; body: string } | undefined>;
  create(
    request: PullRequestContent & { branch: string; base: string },
  ): Promise<{ number: number; url: string }>;
  update(number: number, request: PullRequestContent): Promise<{ number: number; url: string }>;
  close(number: number, comment: string): Promise<void>;
  /** GitHub's auto-merge: the pull request merges itself once its checks and reviews pass. */
  enableAutoMerge(number: number, method: AutoMergeMethod): Promise<void>;
}

export const AUTO_MERGE_METHODS = ['merge', 'squash', 'rebase'] as const;
export type AutoMergeMethod = (typeof AUTO_MERGE_METHODS)[number];

export interface PullRequestContent {
  title: string;
  body: string;
  labels: string[];
  reviewers: string[];
  draft: boolean;
}

/**
 * Another file of the environment repository that must follow the deployment in the same commit,
 * e.g. an InferenceService's `spec.predictor.model.storageUri`, a Helm value, a kustomize tag.
 * `value` is a template: `{uri}` (the package URI), `{ref}` (URI with its digest), `{sha256}`,
 * `{version}`, `{model}`, `{environment}`.
 */
export interface DeployTarget {
  /** Path in the environment repository, relative to its root. */
  file: string;
  /** Dot path of the field (`spec.predictor.model.storageUri`, `images[0].newTag`). */
  field: string;
  value: string;
  format?: TargetFormat;
  /** For multi-document YAML: which document. */
  selector?: DocumentSelector;
}

export interface DeployOptions {
  /** HTTPS URL of the environment repository. */
  repository: string;
  base: string;
  environment: string;
  model: { name: string; version: string };
  packageRef: string;
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  gates?: { data?: boolean; model?: boolean; metrics?: Record<string, number> };
  /** ISO time written into the reference (the caller's clock, so tests are deterministic). */
  deployedAt: string;
  auth?: GitAuth;
  author?: { name: string; email: string };
  /** Without it, the branch is pushed and no pull request is opened (the CLI records it instead). */
  pullRequests?: PullRequestApi;
  labels?: string[];
  reviewers?: string[];
  draft?: boolean;
  /** Pull-request body from the caller (rendered from the reports); default: a short summary. */
  body?: string;
  /** Push attempts before giving up on a moving branch (default 5). */
  maxAttempts?: number;
  /** Backoff base in ms (default 200; doubled each attempt, with jitter). */
  backoffMs?: number;
  /** Other files whose fields follow the deployment, in the same commit. */
  targets?: DeployTarget[];
  /** Turn on auto-merge for the pull request (e.g. staging), with this merge method. */
  autoMerge?: AutoMergeMethod;
  /**
   * Reads what a package says of itself (metrics, drift) for the description; default: fetch it
   * (release assets and local files; not workflow artifacts).
   */
  summarizePackage?: (uri: string, sha256: string) => Promise<PackageSummary | undefined>;
}

export interface DeployResult {
  operation: DeployOperation;
  branch: string;
  commit?: string;
  pullRequestNumber?: number;
  pullRequestUrl?: string;
  attempts: number;
  /** The reference file's path in the environment repository. */
  file: string;
  /** The version the environment ran before (from the base branch), if any. */
  previousVersion?: string;
  /**
   * Without a pull request API: the title and description the pull request would have, so the caller
   * can record it (the CLI writes them to a file).
   */
  proposal?: { title: string; body: string };
}

// Where a model's reference lives; defined with the reference format, re-exported for callers here.
export { referencePath } from './model-reference.ts';

/** The deterministic branch of a model in an environment. */
export function deployBranch(environment: string, model: string): string {
  return `mlops/deploy/${environment}/${model}`;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Opens or updates the deployment pull request. */
export async function deploy(options: DeployOptions): Promise<DeployResult> {
  for (const [what, value] of [
    ['environment', options.environment],
    ['model name', options.model.name],
  ] as const) {
    if (!SAFE_SEGMENT.test(value)) {
      throw new ConfigurationError(
        `The ${what} "${value}" must be letters, digits, '.', '_' or '-' (it names a folder and a branch).`,
      );
    }
  }
  if (!isSemver(options.model.version)) {
    throw new ConfigurationError(`The model version "${options.model.version}" is not a semantic version.`);
  }
  const pkg = parsePackageRef(options.packageRef);
  const branch = deployBranch(options.environment, options.model.name);
  const file = referencePath(options.environment, options.model.name);
  const maxAttempts = options.maxAttempts ?? 5;
  const workspace = await cloneWorkspace(options.repository, {
    auth: options.auth,
    base: options.base,
    author: options.author,
  });
  try {
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptDeploy(workspace, options, { branch, file, pkg, attempt });
      if (outcome !== 'retry') return outcome;
      if (attempt >= maxAttempts) {
        throw new ConfigurationError(
          `Gave up after ${attempt} attempts: ${branch} of ${options.repository} kept moving while this run pushed (other deployments running at once). Re-run the job.`,
        );
      }
      const wait = (options.backoffMs ?? 200) * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, wait));
      await refreshBase(workspace, options);
    }
  } finally {
    await workspace.remove();
  }
}

async function refreshBase(workspace: Workspace, options: DeployOptions): Promise<void> {
  try {
    await workspace.git.fetch([
      '--depth',
      '1',
      'origin',
      `+refs/heads/${options.base}:refs/remotes/origin/${options.base}`,
    ]);
  } catch (error) {
    throw explainGitFailure(workspace.mask((error as Error).message), options.repository, options.base);
  }
  workspace.baseHead = (await workspace.git.revparse([`refs/remotes/origin/${options.base}`])).trim();
}

/** The deploy branch on the remote: its head, and the reference file's version there. */
async function readRemoteBranch(
  workspace: Workspace,
  options: DeployOptions,
  branch: string,
  file: string,
): Promise<{ head: string; parent: string; version?: string; sha256?: string; ours: boolean } | undefined> {
  const listing = await workspace.git.listRemote(['origin', `refs/heads/${branch}`]).catch((error: Error) => {
    throw explainGitFailure(workspace.mask(error.message), options.repository);
  });
  const head = listing.split(/\s/)[0];
  if (!head) return undefined;
  // Depth 2: the branch's commit and its parent (the base it was made on).
  await workspace.git.fetch([
    '--depth',
    '2',
    'origin',
    `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
  ]);
  const parent = (
    await workspace.git
      .raw(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^`])
      .catch(() => '')
  ).trim();
  const text = await workspace.git.show([`refs/remotes/origin/${branch}:${file}`]).catch(() => undefined);
  const author = (
    await workspace.git.raw(['log', '-1', '--format=%ae%n%s', `refs/remotes/origin/${branch}`])
  ).split('\n');
  const expected = (options.author ?? { email: '41898282+github-actions[bot]@users.noreply.github.com' })
    .email;
  let version: string | undefined;
  let sha256: string | undefined;
  try {
    const spec = text ? readModelReference(text, file).spec : undefined;
    version = spec?.model.version;
    sha256 = spec?.package.sha256;
  } catch {
    version = undefined;
  }
  return {
    head,
    parent,
    version,
    sha256,
    ours: author[0] === expected && (author[1] ?? '').startsWith('Deploy '),
  };
}

async function attemptDeploy(
  workspace: Workspace,
  options: DeployOptions,
  context: { branch: string; file: string; pkg: { uri: string; sha256: string }; attempt: number },
): Promise<DeployResult | 'retry'> {
  const { git } = workspace;
  const { branch, file, pkg, attempt } = context;
  await git.raw(['checkout', '--quiet', '-B', branch, workspace.baseHead]);
  const environmentDir = join(workspace.dir, 'environments', options.environment);
  if (!existsSync(environmentDir)) {
    throw new ConfigurationError(
      `The environment repository ${options.repository} has no folder environments/${options.environment}/ on ${options.base}. ` +
        "Expected layout: environments/<environment>/models/<model>.yaml (see templates/environment-repo/ in mlops-actions); create the environment's folder first.",
    );
  }
  const path = join(workspace.dir, file);
  const existing = existsSync(path) ? await readFile(path, 'utf8') : undefined;
  // What the environment runs now (the reference on the base), parsed once.
  const current = existing ? readModelReference(existing, file) : undefined;
  const previousVersion = current?.spec.model.version;
  const next = updateModelReference(existing, {
    name: options.model.name,
    environment: options.environment,
    version: options.model.version,
    packageRef: pkg.uri,
    sha256: pkg.sha256,
    source: options.source,
    gates: options.gates,
    deployedAt: options.deployedAt,
  });
  const targetFiles = await applyTargets(workspace, options, pkg);
  const remote = await readRemoteBranch(workspace, options, branch, file);
  const open = options.pullRequests ? await options.pullRequests.findOpen(branch, options.base) : undefined;
  const base = { branch, attempts: attempt, file, ...(previousVersion ? { previousVersion } : {}) };

  // The environment already runs this package: nothing to propose, and a stale proposal goes.
  const sameAsBase =
    current?.spec.model.version === options.model.version && current.spec.package.sha256 === pkg.sha256;
  if (sameAsBase) {
    if (open && options.pullRequests) {
      await options.pullRequests.close(
        open.number,
        `Closed by mlops-actions: ${options.environment} already runs ${options.model.name} ${options.model.version} (sha256 ${pkg.sha256.slice(0, 12)}…).`,
      );
      return { operation: 'closed', ...base, pullRequestNumber: open.number, pullRequestUrl: open.url };
    }
    return { operation: 'unchanged', ...base };
  }
  if (remote && !remote.ours) {
    throw new ConfigurationError(
      `Branch ${branch} of ${options.repository} has commits that were not made by this deployment (its head ${remote.head.slice(0, 12)} has another author or message). It will not be overwritten: delete or rename that branch.`,
    );
  }
  // Concurrent runs (the branch was made on the same base): the newest version wins, an older one
  // does not replace it. A branch made on an older base is a stale proposal (merged, or left behind):
  // it is rebuilt, so a rollback to an older version is proposed as asked.
  if (
    remote?.version &&
    remote.parent === workspace.baseHead &&
    isSemver(remote.version) &&
    compareSemver(remote.version, options.model.version) > 0
  ) {
    return {
      operation: 'unchanged',
      ...base,
      commit: remote.head,
      ...(open ? { pullRequestNumber: open.number, pullRequestUrl: open.url } : {}),
    };
  }

  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, next);
  await git.add([file, ...targetFiles]);
  const message =
    `Deploy ${options.model.name} ${options.model.version} to ${options.environment}\n\n` +
    `Package: ${pkg.uri}\nsha256: ${pkg.sha256}\n` +
    (options.source.repository
      ? `Source: ${options.source.repository}@${options.source.commit ?? 'unknown'}\n`
      : '') +
    (previousVersion ? `Previous: ${previousVersion}\n` : '');
  // A fixed date: the same change on the same base gives the same commit, so re-runs see no change.
  const date = options.deployedAt;
  await git.env(gitEnvironment({ GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date })).commit(message);
  const commit = (await git.revparse(['HEAD'])).trim();
  // Already proposed: the branch holds this package, made on the current base (a re-run).
  const upToDate =
    remote !== undefined &&
    remote.parent === workspace.baseHead &&
    remote.version === options.model.version &&
    remote.sha256 === pkg.sha256;
  if (!upToDate) {
    try {
      // The lease: replace the branch only if it is still what was read (or still absent).
      await git.push([
        'origin',
        `HEAD:refs/heads/${branch}`,
        `--force-with-lease=refs/heads/${branch}:${remote?.head ?? ''}`,
      ]);
    } catch (error) {
      const text = workspace.mask((error as Error).message);
      if (isStalePush(text)) return 'retry';
      if (/protected|declined|hook/i.test(text)) {
        throw new ConfigurationError(
          `The environment repository ${options.repository} rejected the push to ${branch}: ${
            text
              .split('\n')
              .find((l) => /remote:|error/.test(l))
              ?.trim() ?? text.trim()
          }. Deployment branches mlops/deploy/* must be pushable (protect the base branch, not these).`,
        );
      }
      throw explainGitFailure(text, options.repository, branch);
    }
  }
  const pushedCommit = upToDate && remote ? remote.head : commit;
  const title = `Deploy ${options.model.name} ${options.model.version} to ${options.environment}`;
  const body =
    options.body ?? renderPullRequestBody(options, pkg, current, await summarize(options, pkg, current));
  if (!options.pullRequests) {
    return {
      operation: upToDate ? 'unchanged' : remote ? 'updated' : 'created',
      ...base,
      commit: pushedCommit,
      proposal: { title, body },
    };
  }
  const content: PullRequestContent = {
    title,
    body,
    labels: options.labels ?? [],
    reviewers: options.reviewers ?? [],
    draft: options.draft ?? false,
  };
  if (open) {
    const unchanged = upToDate && open.title === content.title && open.body === content.body;
    const updated = unchanged ? open : await options.pullRequests.update(open.number, content);
    if (options.autoMerge) await options.pullRequests.enableAutoMerge(updated.number, options.autoMerge);
    return {
      operation: unchanged ? 'unchanged' : 'updated',
      ...base,
      commit: pushedCommit,
      pullRequestNumber: updated.number,
      pullRequestUrl: updated.url,
    };
  }
  const created = await options.pullRequests.create({ ...content, branch, base: options.base });
  if (options.autoMerge) await options.pullRequests.enableAutoMerge(created.number, options.autoMerge);
  return {
    operation: 'created',
    ...base,
    commit: pushedCommit,
    pullRequestNumber: created.number,
    pullRequestUrl: created.url,
  };
}

/** Sets every target field (files changed in the work tree); returns the files that changed. */
async function applyTargets(
  workspace: Workspace,
  options: DeployOptions,
  pkg: { uri: string; sha256: string },
): Promise<string[]> {
  const changed: string[] = [];
  const values: Record<string, string> = {
    uri: pkg.uri,
    ref: `${pkg.uri}#sha256=${pkg.sha256}`,
    sha256: pkg.sha256,
    version: options.model.version,
    model: options.model.name,
    environment: options.environment,
  };
  for (const target of options.targets ?? []) {
    const path = join(workspace.dir, target.file);
    if (!existsSync(path) || target.file.split('/').includes('..')) {
      throw new ConfigurationError(
        `The deployment target ${target.file} does not exist in ${options.repository} (${options.base}). Targets are paths from the repository's root.`,
      );
    }
    const value = target.value.replace(/\{(\w+)\}/g, (_whole, key: string) => {
      const replacement = values[key];
      if (replacement === undefined) {
        throw new ConfigurationError(
          `The value template "${target.value}" of target ${target.file} uses {${key}}; known: ${Object.keys(
            values,
          )
            .map((k) => `{${k}}`)
            .join(', ')}.`,
        );
      }
      return replacement;
    });
    const text = await readFile(path, 'utf8');
    const edit = setField(
      text,
      target.format ?? detectTargetFormat(target.file),
      target.field,
      value,
      target.file,
      target.selector,
    );
    if (edit.changed) {
      await writeFile(path, edit.text);
      changed.push(target.file);
    }
  }
  return changed;
}

/**
 * The pull request's description: what changes (old → new version and package, digests), the gate
 * verdicts and headline metrics given, where it came from, and how to roll back.
 */
export function renderPullRequestBody(
  options: DeployOptions,
  pkg: { uri: string; sha256: string },
  current: ReturnType<typeof readModelReference> | undefined,
  summaries: { proposed?: PackageSummary; current?: PackageSummary } = {},
): string {
  const { name, version } = options.model;
  const lines = [
    `Deploys **${name} ${version}** to **${options.environment}**${current ? `, replacing ${current.spec.model.version}` : ' (first deployment)'}.`,
    '',
    '| | now | proposed |',
    '| --- | --- | --- |',
    `| version | ${current?.spec.model.version ?? '—'} | ${version} |`,
    `| package | ${current ? current.spec.package.ref : '—'} | ${pkg.uri} |`,
    `| sha256 | ${current ? `\`${current.spec.package.sha256.slice(0, 16)}…\`` : '—'} | \`${pkg.sha256.slice(0, 16)}…\` |`,
    '',
  ];
  const gates = options.gates;
  if (gates) {
    const verdict = (passed: boolean | undefined) =>
      passed === undefined ? 'not run' : passed ? '✅ passed' : '❌ failed';
    lines.push(`Gates: data ${verdict(gates.data)}, model ${verdict(gates.model)}.`);
    const metrics = Object.entries(gates.metrics ?? {});
    if (metrics.length > 0)
      lines.push('', `Metrics: ${metrics.map(([metric, value]) => `${metric} ${value}`).join(', ')}.`);
    lines.push('');
  }
  const { proposed, current: running } = summaries;
  if (proposed) {
    const names = [
      ...new Set([...Object.keys(proposed.metrics), ...Object.keys(running?.metrics ?? {})]),
    ].sort();
    if (names.length > 0) {
      lines.push('| metric | now | proposed | Δ |', '| --- | --- | --- | --- |');
      for (const name of names) {
        const now = running?.metrics[name];
        const next = proposed.metrics[name];
        const delta = typeof now === 'number' && typeof next === 'number' ? next - now : undefined;
        const show = (v: number | null | undefined) => (typeof v === 'number' ? v.toPrecision(4) : '—');
        const change = delta === undefined ? '—' : `${delta >= 0 ? '+' : ''}${delta.toPrecision(3)}`;
        lines.push(`| ${name} | ${show(now)} | ${show(next)} | ${change} |`);
      }
      lines.push('');
    }
    if (proposed.drifted) {
      const count = proposed.drifted.length;
      lines.push(
        count === 0
          ? 'Data drift: no column drifted from the reference.'
          : `Data drift: ${count} column${count === 1 ? '' : 's'} drifted (${proposed.drifted.join(', ')}).`,
        '',
      );
    }
  } else {
    lines.push(
      'Metrics of the packages: not readable from here (a workflow artifact cannot be fetched by other runs).',
      '',
    );
  }
  if (options.source.repository) {
    lines.push(
      `Source: ${options.source.repository}${options.source.commit ? `@${options.source.commit.slice(0, 12)}` : ''}` +
        `${options.source.runUrl ? `, built by [this workflow run](${options.source.runUrl})` : ''}; package: ${pkg.uri}.`,
      '',
    );
  }
  lines.push(
    current
      ? `Rollback: deploy ${current.spec.model.version} again (\`${current.spec.package.ref}\`, recorded as \`spec.previous\` once this merges).`
      : 'Rollback: close this pull request; nothing runs in this environment yet.',
    '',
    '<sub>Opened by mlops-actions deploy-pr. The branch is rebuilt on every run: edit the model reference through a new deployment, not by hand.</sub>',
    '',
  );
  return lines.join('\n');
}

/** The summaries of the proposed and the running package (a failure to read one is not fatal). */
async function summarize(
  options: DeployOptions,
  pkg: { uri: string; sha256: string },
  current: ReturnType<typeof readModelReference> | undefined,
): Promise<{ proposed?: PackageSummary; current?: PackageSummary }> {
  const read =
    options.summarizePackage ??
    ((uri: string, sha256: string) => readPackageSummary(uri, sha256, { token: options.auth?.token }));
  const safely = (uri: string, sha256: string) => read(uri, sha256).catch(() => undefined);
  const [proposed, running] = await Promise.all([
    safely(pkg.uri, pkg.sha256),
    current ? safely(current.spec.package.ref, current.spec.package.sha256) : Promise.resolve(undefined),
  ]);
  return { ...(proposed ? { proposed } : {}), ...(running ? { current: running } : {}) };
}

/** Semver precedence (https://semver.org/#spec-item-11): negative, zero or positive. */
export function compareSemver(a: string, b: string): number {
  const split = (v: string) => {
    const [core, pre] = v.split('+')[0].split(/-(.*)/s, 2);
    return { core: core.split('.').map(Number), pre: pre === undefined ? [] : pre.split('.') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}

/**
 * `owner/name` of a repository URL (`https://host/owner/name(.git)`), or of `owner/name` itself;
 * with `server` (e.g. https://github.com), `owner/name` becomes the HTTPS clone URL.
 */
export function resolveRepository(
  value: string,
  server = 'https://github.com',
): { url: string; fullName: string } {
  const short = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(value);
  if (short)
    return {
      url: `${server.replace(/\/+$/, '')}/${short[1]}/${short[2]}.git`,
      fullName: `${short[1]}/${short[2]}`,
    };
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError(
      `The environment repository "${value}" is neither owner/name nor an https URL.`,
    );
  }
  if (parsed.username || parsed.password) {
    throw new ConfigurationError(
      'The environment repository URL carries credentials: pass the token separately (it is sent as a header and never written to disk).',
    );
  }
  const parts = parsed.pathname
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (parts.length < 2)
    throw new ConfigurationError(`The environment repository URL "${value}" has no owner/name path.`);
  return { url: value, fullName: `${parts.at(-2)}/${parts.at(-1)}` };
}

/**
 * Model name and version from a package reference's file name (`…/<name>-<version>.zip#sha256=…`,
 * as package-model names archives), when not given.
 */
export function modelFromPackageRef(ref: string): { name: string; version: string } | undefined {
  const path = ref.split(/[#@]sha256[:=]/)[0];
  const file = decodeURIComponent(path.split('/').at(-1) ?? '').replace(/\.zip$/, '');
  const match = /^([a-z0-9][a-z0-9._-]*?)-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/.exec(
    file,
  );
  return match ? { name: match[1], version: match[2] } : undefined;
}

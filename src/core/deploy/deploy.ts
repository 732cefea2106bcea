/**
 * A deployment pull request against the environment repository: one deterministic branch per
 * environment and model (`mlops/deploy/<env>/<model>`), rebuilt from the base branch on every run
 * (the edit is re-generated, never a stale diff replayed), pushed with a lease on what was seen
 * (never over commits that are not ours), retried with backoff when another run moved it first,
 * and the pull request created or updated, never duplicated.
 *
 * What is recorded comes from the package itself: its manifest (read and, where the whole archive
 * is read, checked against the reference's sha256) gives the gate verdicts, metrics and the commit
 * and run it was built from; the environment's policy and custody.ts decide whether it may go.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigurationError, InputError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import { renderDeploymentPullRequest } from '../report/render-deployment-pr.ts';
import { isSemver } from '../semver.ts';
import {
  type DeployOverride,
  decideCustody,
  type PackageVerdicts,
  readEnvironmentPolicy,
  verdictsFromManifest,
  verdictsFromRecord,
} from './custody.ts';
import {
  backoffDelay,
  classifyPushFailure,
  decideOperation,
  planBranch,
  type RemoteBranch,
  shouldRetry,
} from './deploy-plan.ts';
import { type PackageSummary, readPackageSummary, summarizePackage } from './deployed-baseline.ts';
import { type DocumentSelector, detectTargetFormat, setField, type TargetFormat } from './edit-target.ts';
import {
  BOT_AUTHOR,
  cloneWorkspace,
  explainGitFailure,
  type GitAuth,
  type Workspace,
} from './git-workspace.ts';
import {
  type ModelcarRef,
  type ModelDeployment,
  type ModelDeploymentGates,
  modelcarStorageUri,
  type PackageRef,
  parseModelcarRef,
  parsePackageRef,
  readModelReference,
  referencePath,
  updateModelReference,
} from './model-reference.ts';
import { DigestMismatchError, type OpenPackageOptions, openPackage } from './package-reader.ts';

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
 * `{version}`, `{model}`, `{environment}`; with a modelcar, `{modelcar}` (`oci://…@sha256:…`,
 * pinned by digest), and `{storageUri}` (the modelcar when there is one, else the package URI).
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
  /** The environment repository's URL (https, loopback http, or file://; see transport.ts). */
  repository: string;
  base: string;
  environment: string;
  model: { name: string; version: string };
  packageRef: string;
  /**
   * How the package is read: the credential for downloads (sent only where transport.ts allows),
   * and local folders holding the archive for references that cannot be fetched (`artifact://`).
   */
  packageAccess?: OpenPackageOptions;
  /**
   * A promotion: the source environment and its record of the package. Its verdicts are used when it
   * carries them (v2); otherwise the package's manifest is read, and where it cannot be, the
   * verdicts are "not recorded" (packages deployed before records carried them stay promotable).
   */
  promotedFrom?: { environment: string; record: ModelDeployment };
  /** Deploy a package whose manifest records a failed gate: who decided, and why (recorded). */
  allowFailedGates?: DeployOverride;
  /** How the user overrides failed gates, for messages (e.g. "--allow-failed-gates"). */
  overrideHint?: string;
  /** ISO time written into the reference (the caller's clock, so tests are deterministic). */
  deployedAt: string;
  auth?: GitAuth;
  /** The adapter's environment, for git's PATH, HOME, locale and proxies. */
  hostEnv: HostEnvironment;
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
   * The KServe modelcar made from the package (`mlops oci push --modelcar`), pinned by digest:
   * recorded next to the package, and `{modelcar}`/`{storageUri}` in targets. `inspect` reads which
   * package the image was made from (its `dev.mlops-actions.package.digest` annotation), so that an
   * image of another package is refused; without it, or when the registry cannot be read, the
   * description says the link was not checked.
   */
  modelcar?: {
    reference: string;
    inspect?: (reference: string) => Promise<{ packageDigest?: string }>;
  };
  /**
   * Reads what the running package says of itself (metrics, drift) for the description, when its
   * record does not carry its metrics; default: fetch it (release assets and local files).
   */
  summarizePackage?: (uri: string, sha256: string) => Promise<PackageSummary | undefined>;
}

/** What a deployment records about its package, decided before the environment repository is touched. */
export interface PackageFacts {
  /** Undefined: not recorded (a promotion of a v1 record whose manifest cannot be read). */
  verdicts?: PackageVerdicts;
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  /** What the proposed package says of itself, for the description. */
  summary?: PackageSummary;
  /** Notes for the description: where the verdicts came from, a digest that could not be checked. */
  notes: string[];
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
  /** What the record says of the gates (verdict, an override). */
  gates?: ModelDeploymentGates;
  /**
   * Without a pull request API: the title and description the pull request would have, so the caller
   * can record it (the CLI writes them to a file).
   */
  proposal?: { title: string; body: string };
}

// Where a model's reference lives; defined with the reference format, re-exported for callers here.
export { referencePath } from './model-reference.ts';

/**
 * The last line of every deployment commit: with the "Deploy …" subject, how a run recognizes a
 * branch head it may replace, whoever authored it (the bot in Actions, the person on a laptop).
 */
const DEPLOYMENT_TRAILER = 'Deployed-with: mlops-actions';

/**
 * Whether a branch head is a deployment commit: its subject is "Deploy …" and it carries the
 * trailer, or (commits made before the trailer existed) its author is this run's author. Anything
 * else is someone's own work on the branch, never overwritten.
 */
function isDeploymentCommit(
  authorEmail: string,
  message: readonly string[],
  author: { email: string } | undefined,
): boolean {
  if (!(message[0] ?? '').startsWith('Deploy ')) return false;
  return message.includes(DEPLOYMENT_TRAILER) || authorEmail === (author ?? BOT_AUTHOR).email;
}

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
  const modelcar = options.modelcar ? parseModelcarRef(options.modelcar.reference, 'oci-ref') : undefined;
  const facts = await readPackageFacts(options, pkg);
  if (modelcar && options.modelcar)
    facts.notes.push(await checkModelcar(modelcar, pkg, options.modelcar.inspect));
  // A failed gate without an override stops here, before the environment repository is cloned.
  decideCustody(
    facts.verdicts,
    { file: '', requireVerdicts: [] },
    options.allowFailedGates,
    custodyContext(options),
  );
  const branch = deployBranch(options.environment, options.model.name);
  const file = referencePath(options.environment, options.model.name);
  const maxAttempts = options.maxAttempts ?? 5;
  const workspace = await cloneWorkspace(options.repository, {
    auth: options.auth,
    base: options.base,
    author: options.author,
    hostEnv: options.hostEnv,
  });
  try {
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptDeploy(workspace, options, {
        branch,
        file,
        pkg,
        attempt,
        facts,
        modelcar,
      });
      if (outcome !== 'retry') return outcome;
      if (!shouldRetry(attempt, maxAttempts)) {
        throw new ConfigurationError(
          `Gave up after ${attempt} attempts: ${branch} of ${options.repository} kept moving while this run pushed (other deployments running at once). Re-run the job.`,
        );
      }
      const wait = backoffDelay(attempt, options.backoffMs ?? 200, Math.random());
      await new Promise((resolve) => setTimeout(resolve, wait));
      await refreshBase(workspace, options);
    }
  } finally {
    await workspace.remove();
  }
}

/**
 * Checks that the modelcar was made from the package (its annotation names the archive's sha256);
 * refuses one made from another package. Returns the note for the description.
 */
async function checkModelcar(
  modelcar: ModelcarRef,
  pkg: PackageRef,
  inspect: ((reference: string) => Promise<{ packageDigest?: string }>) | undefined,
): Promise<string> {
  const uri = modelcarStorageUri(modelcar);
  if (!inspect) return `Modelcar ${uri}: recorded; which package it was made from was not checked here.`;
  let made: { packageDigest?: string };
  try {
    made = await inspect(uri);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return `⚠️ Modelcar ${uri}: its registry could not be read from here (${error.message.split('. ')[0]}), so which package it was made from was not checked.`;
  }
  if (made.packageDigest === undefined) {
    return `⚠️ Modelcar ${uri}: it does not name the package it was made from (not pushed by mlops oci push?), so that was not checked.`;
  }
  if (made.packageDigest !== pkg.sha256) {
    throw new InputError(
      `The modelcar ${uri} was made from the package with sha256 ${made.packageDigest}, not from ${pkg.uri} (sha256 ${pkg.sha256}): push this package's modelcar (package-model with oci) and deploy its modelcar-uri.`,
      { key: 'oci-ref' },
    );
  }
  return `Modelcar ${uri}: made from this package (its annotation names the archive's sha256).`;
}

function custodyContext(options: DeployOptions) {
  return {
    environment: options.environment,
    name: options.model.name,
    version: options.model.version,
    overrideHint: options.overrideHint ?? 'allow-failed-gates',
  };
}

/**
 * The package's verdicts, lineage and summary: from the source environment's record on a
 * promotion (when it carries verdicts), else from the package's manifest, whose name and version
 * must be the ones deployed.
 */
export async function readPackageFacts(options: DeployOptions, pkg: PackageRef): Promise<PackageFacts> {
  const promoted = options.promotedFrom;
  const recorded = promoted ? verdictsFromRecord(promoted.record, promoted.environment) : undefined;
  if (promoted && recorded) {
    return {
      verdicts: recorded,
      source: recorded.source,
      summary: { metrics: recorded.metrics },
      notes: [
        `Gate verdicts, metrics and source: from ${promoted.environment}'s deployment record of this package.`,
      ],
    };
  }
  let opened: Awaited<ReturnType<typeof openPackage>>;
  try {
    opened = await openPackage(pkg, options.packageAccess);
  } catch (error) {
    // A promotion of a package deployed before records carried verdicts stays possible when its
    // package cannot be read from here; bytes that are not the referenced ones never are.
    if (promoted && !(error instanceof DigestMismatchError) && error instanceof ConfigurationError) {
      return {
        source: promoted.record.spec.source,
        notes: [
          `Gate verdicts: not recorded. ${promoted.environment}'s record predates recorded verdicts, and the package's manifest cannot be read from here (${error.message.split('. ')[0]}).`,
        ],
      };
    }
    throw error;
  }
  try {
    const { manifest } = opened;
    const { name, version } = options.model;
    if (manifest.package.name !== name || manifest.package.version !== version) {
      throw new InputError(
        `The package ${pkg.uri} is ${manifest.package.name} ${manifest.package.version} (its manifest says so), not ${name} ${version}: deploy it under its own name and version, or give the reference of ${name} ${version}.`,
      );
    }
    const how =
      opened.method === 'archive'
        ? "the package's manifest, archive sha256 checked"
        : opened.method === 'range'
          ? "the package's manifest, read by range requests (the archive's sha256 was not checked here)"
          : "the package's sidecar manifest (the archive's sha256 was not checked here)";
    const verdicts = verdictsFromManifest(manifest, how);
    const notes = [`Gate verdicts, metrics and source: from ${how}.`];
    if (!opened.digestChecked) {
      notes.push(
        `⚠️ The archive${opened.bytes ? ` (${Math.round(opened.bytes / 1048576)} MiB)` : ''} was not downloaded here, so its sha256 was not checked against the reference: whatever fetches it for serving must check sha256 ${pkg.sha256}.`,
      );
    }
    return { verdicts, source: verdicts.source, summary: await summarizePackage(opened), notes };
  } finally {
    await opened.close();
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
): Promise<RemoteBranch | undefined> {
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
  const [authorEmail = '', ...message] = (
    await workspace.git.raw(['log', '-1', '--format=%ae%n%B', `refs/remotes/origin/${branch}`])
  ).split('\n');
  let version: string | undefined;
  let sha256: string | undefined;
  let modelcar: string | undefined;
  try {
    const spec = text ? readModelReference(text, file).spec : undefined;
    version = spec?.model.version;
    sha256 = spec?.package.sha256;
    modelcar = spec?.modelcar?.sha256;
  } catch {
    version = undefined;
  }
  return {
    head,
    parent,
    version,
    sha256,
    modelcar,
    ours: isDeploymentCommit(authorEmail, message, options.author),
  };
}

async function attemptDeploy(
  workspace: Workspace,
  options: DeployOptions,
  context: {
    branch: string;
    file: string;
    pkg: { uri: string; sha256: string };
    attempt: number;
    facts: PackageFacts;
    modelcar?: ModelcarRef;
  },
): Promise<DeployResult | 'retry'> {
  const { git } = workspace;
  const { branch, file, pkg, attempt, facts, modelcar } = context;
  await git.raw(['checkout', '--quiet', '-B', branch, workspace.baseHead]);
  const environmentDir = join(workspace.dir, 'environments', options.environment);
  if (!existsSync(environmentDir)) {
    throw new ConfigurationError(
      `The environment repository ${options.repository} has no folder environments/${options.environment}/ on ${options.base}. ` +
        "Expected layout: environments/<environment>/models/<model>.yaml (see templates/environment-repo/ in mlops-actions); create the environment's folder first.",
    );
  }
  const policy = await readEnvironmentPolicy(workspace.dir, options.environment);
  const gates = decideCustody(facts.verdicts, policy, options.allowFailedGates, custodyContext(options));
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
    source: facts.source,
    gates,
    deployedAt: options.deployedAt,
    ...(modelcar ? { modelcar } : {}),
  });
  const targetFiles = await applyTargets(workspace, options, pkg, modelcar);
  const remote = await readRemoteBranch(workspace, options, branch, file);
  const open = options.pullRequests ? await options.pullRequests.findOpen(branch, options.base) : undefined;
  const base = { branch, attempts: attempt, file, gates, ...(previousVersion ? { previousVersion } : {}) };

  const plan = planBranch({
    running: current && {
      version: current.spec.model.version,
      sha256: current.spec.package.sha256,
      modelcar: current.spec.modelcar?.sha256,
    },
    remote,
    proposed: { version: options.model.version, sha256: pkg.sha256, modelcar: modelcar?.sha256 },
    baseHead: workspace.baseHead,
  });
  if (plan.action === 'already-running') {
    // Nothing to propose, and a stale proposal goes.
    if (open && options.pullRequests) {
      await options.pullRequests.close(
        open.number,
        `Closed by mlops-actions: ${options.environment} already runs ${options.model.name} ${options.model.version} (sha256 ${pkg.sha256.slice(0, 12)}…).`,
      );
      return { operation: 'closed', ...base, pullRequestNumber: open.number, pullRequestUrl: open.url };
    }
    return { operation: 'unchanged', ...base };
  }
  if (plan.action === 'refuse-foreign') {
    throw new ConfigurationError(
      `Branch ${branch} of ${options.repository} has commits that were not made by this deployment (its head ${remote?.head.slice(0, 12)} has another author or message). It will not be overwritten: delete or rename that branch.`,
    );
  }
  if (plan.action === 'keep-newer') {
    return {
      operation: 'unchanged',
      ...base,
      commit: remote?.head,
      ...(open ? { pullRequestNumber: open.number, pullRequestUrl: open.url } : {}),
    };
  }

  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, next);
  await git.add([file, ...targetFiles]);
  const message =
    `Deploy ${options.model.name} ${options.model.version} to ${options.environment}\n\n` +
    `Package: ${pkg.uri}\nsha256: ${pkg.sha256}\n` +
    (modelcar ? `Modelcar: ${modelcarStorageUri(modelcar)}\n` : '') +
    (facts.source.repository
      ? `Source: ${facts.source.repository}@${facts.source.commit ?? 'unknown'}\n`
      : '') +
    `Gates: ${gates.verdict}${gates.override ? ` (failed ${gates.override.allowedFailed.join(', ')}; deployed by ${gates.override.by})` : ''}\n` +
    (previousVersion ? `Previous: ${previousVersion}\n` : '') +
    `${DEPLOYMENT_TRAILER}\n`;
  // A fixed date: the same change on the same base gives the same commit, so re-runs see no change.
  const date = options.deployedAt;
  await git.env(workspace.environment({ GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date })).commit(message);
  const commit = (await git.revparse(['HEAD'])).trim();
  if (plan.push) {
    try {
      // The lease: replace the branch only if it is still what was read (or still absent).
      await git.push([
        'origin',
        `HEAD:refs/heads/${branch}`,
        `--force-with-lease=refs/heads/${branch}:${remote?.head ?? ''}`,
      ]);
    } catch (error) {
      const text = workspace.mask((error as Error).message);
      const failure = classifyPushFailure(text);
      if (failure === 'stale') return 'retry';
      if (failure === 'refused') {
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
  const pushedCommit = !plan.push && remote ? remote.head : commit;
  const title = `Deploy ${options.model.name} ${options.model.version} to ${options.environment}`;
  const body =
    options.body ??
    renderPullRequestBody(
      {
        environment: options.environment,
        model: options.model,
        gates,
        source: facts.source,
        notes: facts.notes,
        ...(modelcar ? { modelcar } : {}),
      },
      pkg,
      current,
      {
        ...(facts.summary ? { proposed: facts.summary } : {}),
        ...(await summarizeCurrent(options, current)),
      },
    );
  if (!options.pullRequests) {
    return {
      operation: decideOperation({
        pushed: plan.push,
        branchExisted: remote !== undefined,
        pullRequest: 'none',
      }),
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
    const operation = decideOperation({
      pushed: plan.push,
      branchExisted: remote !== undefined,
      pullRequest: { sameContent: open.title === content.title && open.body === content.body },
    });
    const updated =
      operation === 'unchanged' ? open : await options.pullRequests.update(open.number, content);
    if (options.autoMerge) await options.pullRequests.enableAutoMerge(updated.number, options.autoMerge);
    return {
      operation,
      ...base,
      commit: pushedCommit,
      pullRequestNumber: updated.number,
      pullRequestUrl: updated.url,
    };
  }
  // decideOperation's 'absent' case: a new pull request is always 'created'.
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
  modelcar: ModelcarRef | undefined,
): Promise<string[]> {
  const changed: string[] = [];
  const values: Record<string, string> = {
    uri: pkg.uri,
    ref: `${pkg.uri}#sha256=${pkg.sha256}`,
    sha256: pkg.sha256,
    version: options.model.version,
    model: options.model.name,
    environment: options.environment,
    // What the server loads: the modelcar, pinned by digest, when there is one.
    storageUri: modelcar ? modelcarStorageUri(modelcar) : pkg.uri,
    ...(modelcar ? { modelcar: modelcarStorageUri(modelcar) } : {}),
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
        if (key === 'modelcar') {
          throw new ConfigurationError(
            `The value template "${target.value}" of target ${target.file} uses {modelcar}, but this deployment has no modelcar: give its reference (oci-ref, --oci-ref), or use {storageUri}, which is the package's URI without one.`,
          );
        }
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

/** What the description says about a proposal (see {@link renderPullRequestBody}). */
export interface ProposalFacts {
  environment: string;
  model: { name: string; version: string };
  /** The record's gates, as decided (custody.ts). */
  gates: ModelDeploymentGates;
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  /** Plain-text notes: where the verdicts came from, digests not checked. */
  notes?: string[];
  /** The modelcar the environment will run, when there is one. */
  modelcar?: ModelcarRef;
}

/**
 * The pull request's description of a proposal (rendered by report/render-deployment-pr.ts): the
 * proposed package against the reference on the base (`current`), with what each package says of
 * itself.
 */
export function renderPullRequestBody(
  proposal: ProposalFacts,
  pkg: { uri: string; sha256: string },
  current: ModelDeployment | undefined,
  summaries: { proposed?: PackageSummary; current?: PackageSummary } = {},
): string {
  const modelcar = (ref: ModelcarRef | undefined) =>
    ref ? { modelcar: { uri: modelcarStorageUri(ref), sha256: ref.sha256 } } : {};
  return renderDeploymentPullRequest({
    environment: proposal.environment,
    model: proposal.model.name,
    proposed: {
      version: proposal.model.version,
      packageUri: pkg.uri,
      sha256: pkg.sha256,
      ...modelcar(proposal.modelcar),
      gates: proposal.gates,
    },
    ...(current
      ? {
          current: {
            version: current.spec.model.version,
            packageUri: current.spec.package.ref,
            sha256: current.spec.package.sha256,
            ...modelcar(current.spec.modelcar),
            gates: current.spec.gates,
          },
        }
      : {}),
    figures: summaries,
    source: proposal.source,
    notes: proposal.notes ?? [],
  });
}

/**
 * What the running package says of itself: its record's metrics when it carries them (v2), else
 * the package read (a failure to read it is not fatal: the description says less).
 */
async function summarizeCurrent(
  options: DeployOptions,
  current: ModelDeployment | undefined,
): Promise<{ current?: PackageSummary }> {
  if (!current) return {};
  if (current.spec.gates.verdict !== undefined && current.spec.gates.verdict !== 'not-recorded') {
    return { current: { metrics: { ...(current.spec.gates.metrics ?? {}) } } };
  }
  const read =
    options.summarizePackage ??
    ((uri: string, sha256: string) =>
      readPackageSummary(uri, sha256, { credential: options.packageAccess?.credential }));
  const running = await read(current.spec.package.ref, current.spec.package.sha256).catch(() => undefined);
  return running ? { current: running } : {};
}

// Repository addresses are parsed with the transport rules; re-exported for callers here.
export { resolveRepository } from './transport.ts';

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

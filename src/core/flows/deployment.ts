/**
 * The deployment as one flow, shared by the deploy-pr action and `mlops deploy`: the request is
 * checked before anything is read, mlops.yaml is found and loaded once, every setting is resolved in
 * the documented order (input or flag, then mlops.yaml, then the built-in default), a promotion
 * reads the package the source environment runs, the model's name and version come from the
 * request or the package's file name, and `deploy` proposes it. The adapters only map their inputs
 * to the request and the result to their outputs (and the CLI records the pull request it would
 * open without an API).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DeploySettingsRequest, resolveDeploySettings } from '../config/deploy-options.ts';
import { loadProjectConfig } from '../config/find-config.ts';
import type { DeployOverride } from '../deploy/custody.ts';
import {
  type DeployResult,
  deploy,
  modelFromPackageRef,
  type PullRequestApi,
  resolveRepository,
} from '../deploy/deploy.ts';
import type { PackageSummary } from '../deploy/deployed-baseline.ts';
import type { ModelDeployment } from '../deploy/model-reference.ts';
import { checkApiUrl, githubCredential } from '../deploy/transport.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import { checkOutputPath } from '../files.ts';
import type { HostEnvironment } from '../host-environment.ts';
import type { Logger } from '../logger.ts';
import { readActor, readGitAuthor } from '../package/lineage.ts';

/** How each adapter names its inputs in messages, e.g. `--repo` or `input "repository"`. */
export interface DeploymentNames {
  config: string;
  repository: string;
  autoMerge: string;
  apiUrl: string;
  packageRef: string;
  promoteFrom: string;
  modelName: string;
  modelVersion: string;
  /** How failed gates are overridden, e.g. `--allow-failed-gates` or `input "allow-failed-gates: true"`. */
  allowFailedGates: string;
  overrideReason: string;
  ociRef: string;
  /** Only where the adapter has the option (the CLI). */
  plainHttp?: string;
}

/**
 * Everything the user gave one deployment. Optional settings are undefined when not given; the
 * repository, base, labels, reviewers, draft and auto-merge fall back to mlops.yaml's `deploy:`.
 */
export interface DeploymentRequest extends DeploySettingsRequest {
  environment: string;
  /** The package reference with its digest; with `acceptArchivePath`, also a local archive's path. */
  packageRef?: string;
  /** A path to a local archive is accepted as `packageRef`: hashed here, referenced as `file://` (the CLI). */
  acceptArchivePath?: boolean;
  /** Promote what this environment runs instead of `packageRef` (needs `modelName`). */
  promoteFrom?: string;
  modelName?: string;
  /** The version; with `promoteFrom`, the version the source environment must run. */
  modelVersion?: string;
  /** The mlops.yaml given (`--config`, input `config`); else the project's is looked for from `cwd`. */
  config?: string;
  /** The folder the run starts in: where mlops.yaml is looked for and relative paths start. */
  cwd: string;
  /** The token for the environment repository and its pull requests; without one, none is sent. */
  token?: string;
  /** The token for downloading the package from this GitHub's releases; default `token`. */
  packageToken?: string;
  /** The GitHub API; else the environment's GITHUB_API_URL, else `defaultApiUrl`. */
  apiUrl?: string;
  /** The API when neither the request nor the environment names one; without it no pull request is opened. */
  defaultApiUrl?: string;
  /** Folders holding the package archive, for references that cannot be fetched (`artifact://`). */
  packageFolders: string[];
  allowFailedGates: boolean;
  overrideReason?: string;
  /** The package's modelcar, pinned by digest. */
  ociRef?: string;
  /** How the modelcar's registry is read: over plain http (a registry on this machine), with a credential. */
  registry?: {
    plainHttp?: boolean;
    credential?: { username: string; password: string };
    /** The registries the credential is sent to; undefined: any. */
    credentialRegistries?: string[];
  };
  /** Files the adapter writes after the deployment: refused before any work if they would overwrite an input. */
  outputFiles?: { path: string; label: string }[];
  /** The adapter's environment: GITHUB_SERVER_URL, GITHUB_API_URL and the actor, git's PATH and HOME. */
  hostEnv: HostEnvironment;
  names: DeploymentNames;
}

/** The side effects the flow is given. */
export interface DeploymentPorts {
  /** Makes the pull-request API of `repository` (owner/name) at `apiUrl` (Octokit in the adapters). */
  pullRequests(options: {
    token: string;
    repository: string;
    apiUrl: string;
    /** How the user set the API URL, for messages. */
    apiUrlName: string;
  }): PullRequestApi | Promise<PullRequestApi>;
  /** What the flow says while it works (the local archive's sha256). */
  logger: Logger;
  /** The clock of the deployment record; default the system's. */
  now?: () => Date;
  /** Reads what a running package says of itself; default: fetch it (see DeployOptions). */
  summarizePackage?: (uri: string, sha256: string) => Promise<PackageSummary | undefined>;
}

/** What happened, with the settings as resolved (for the adapters' outputs and the CLI's record). */
export interface DeploymentResult extends DeployResult {
  model: { name: string; version: string };
  environment: string;
  repository: { url: string; fullName: string };
  base: string;
  labels: string[];
  reviewers: string[];
  /** Whether a pull-request API was used; without one, `proposal` holds what would be opened. */
  pullRequestApi: boolean;
}

/**
 * Runs one deployment: loads mlops.yaml once, resolves the settings and checks the request (before
 * any network or git work), reads a promotion's package, and opens or updates the deployment pull
 * request. Throws `ConfigurationError`/`InputError` naming the input in the adapter's words.
 */
export async function runDeployment(
  request: DeploymentRequest,
  ports: DeploymentPorts,
): Promise<DeploymentResult> {
  const { names, hostEnv } = request;
  const loaded = await loadProjectConfig(request.config, request.cwd);
  for (const output of request.outputFiles ?? []) {
    checkOutputPath(output.path, [loaded && { label: names.config, path: loaded.file }], output.label, {
      cwd: request.cwd,
    });
  }
  const settings = resolveDeploySettings(request, request.environment, loaded, {
    repository: names.repository,
    autoMerge: names.autoMerge,
  });
  const target = resolveRepository(settings.repository, hostEnv.GITHUB_SERVER_URL);
  const givenApiUrl = request.apiUrl
    ? checkApiUrl(request.apiUrl, names.apiUrl)
    : hostEnv.GITHUB_API_URL
      ? checkApiUrl(hostEnv.GITHUB_API_URL, 'GITHUB_API_URL')
      : undefined;
  const source = checkRequest(request);
  const auth = request.token ? { token: request.token } : undefined;

  let packageRef: string;
  let promoted: { name: string; version: string; packageRef: string; record: ModelDeployment } | undefined;
  if ('promoteFrom' in source) {
    // Promote: the package the source environment runs, with its digest, for this environment.
    const { resolvePromotion } = await import('../deploy/deployed-baseline.ts');
    promoted = await resolvePromotion({
      repository: target.url,
      base: settings.base,
      environment: source.promoteFrom,
      model: source.model,
      ...(auth ? { auth } : {}),
      hostEnv,
      expectedVersion: request.modelVersion,
    });
    packageRef = promoted.packageRef;
  } else {
    packageRef = request.acceptArchivePath
      ? await referenceLocalArchive(source.packageRef, request.cwd, names.packageRef, ports.logger)
      : source.packageRef;
  }
  const model = resolveModel(request, packageRef, promoted);

  const apiUrl = givenApiUrl ?? request.defaultApiUrl;
  const pullRequests =
    apiUrl && request.token
      ? await ports.pullRequests({
          token: request.token,
          repository: target.fullName,
          apiUrl,
          apiUrlName: request.apiUrl ? names.apiUrl : 'GITHUB_API_URL',
        })
      : undefined;
  const packageToken = request.packageToken ?? request.token;
  // Outside Actions the commit is the person's (their git identity at cwd); in a run, the bot's.
  const author = await readGitAuthor(hostEnv, request.cwd);
  const result = await deploy({
    repository: target.url,
    base: settings.base,
    environment: request.environment,
    model,
    packageRef,
    packageAccess: {
      // The package's token goes only to this GitHub's server and API (release downloads).
      ...(packageToken
        ? {
            credential: githubCredential(packageToken, {
              serverUrl: hostEnv.GITHUB_SERVER_URL,
              apiUrl: givenApiUrl,
            }),
          }
        : {}),
      localFolders: request.packageFolders,
    },
    ...(promoted && 'promoteFrom' in source
      ? { promotedFrom: { environment: source.promoteFrom, record: promoted.record } }
      : {}),
    ...(request.allowFailedGates ? { allowFailedGates: override(request) } : {}),
    overrideHint: names.allowFailedGates,
    deployedAt: (ports.now?.() ?? new Date()).toISOString(),
    ...(auth ? { auth } : {}),
    ...(author ? { author } : {}),
    hostEnv,
    ...(pullRequests ? { pullRequests } : {}),
    labels: settings.labels,
    reviewers: settings.reviewers,
    draft: settings.draft,
    targets: settings.targets,
    ...(settings.autoMerge ? { autoMerge: settings.autoMerge } : {}),
    ...(request.ociRef
      ? {
          modelcar: {
            reference: request.ociRef,
            inspect: (reference) => inspectModelcar(reference, request),
          },
        }
      : {}),
    ...(ports.summarizePackage ? { summarizePackage: ports.summarizePackage } : {}),
  });
  return {
    ...result,
    model,
    environment: request.environment,
    repository: { url: target.url, fullName: target.fullName },
    base: settings.base,
    labels: settings.labels,
    reviewers: settings.reviewers,
    pullRequestApi: pullRequests !== undefined,
  };
}

/**
 * The mistakes a request shows by itself (after the settings' own), refused before git or the
 * network are used; returns what is deployed: a package, or what another environment runs.
 */
function checkRequest(
  request: DeploymentRequest,
): { packageRef: string } | { promoteFrom: string; model: string } {
  const { names } = request;
  if (request.overrideReason && !request.allowFailedGates) {
    throw new ConfigurationError(
      `An override reason (${names.overrideReason}) goes with ${names.allowFailedGates}: it says why failed gates are deployed.`,
      { key: names.overrideReason },
    );
  }
  if (request.registry?.plainHttp && !request.ociRef) {
    throw new ConfigurationError(
      `${names.plainHttp ?? 'Plain http'} goes with ${names.ociRef}: it says how the modelcar's registry is read.`,
      { key: names.plainHttp },
    );
  }
  if (request.promoteFrom) {
    if (!request.modelName) {
      throw new ConfigurationError(
        `A promotion (${names.promoteFrom}) needs the model to promote: set ${names.modelName}.`,
        { key: names.modelName },
      );
    }
    return { promoteFrom: request.promoteFrom, model: request.modelName };
  }
  if (!request.packageRef) {
    throw new ConfigurationError(
      `No package to deploy: set ${names.packageRef} (package-model's package-ref output), or ${names.promoteFrom} with ${names.modelName} to promote what another environment runs.`,
      { key: names.packageRef },
    );
  }
  return { packageRef: request.packageRef };
}

/**
 * The model's name and version: a promotion's (the version the source environment runs), else the
 * request's, else the package file's name (`…/<name>-<version>.zip`).
 */
function resolveModel(
  request: DeploymentRequest,
  packageRef: string,
  promoted: { name: string; version: string } | undefined,
): { name: string; version: string } {
  const fromRef = promoted ?? modelFromPackageRef(packageRef);
  const name = request.modelName ?? fromRef?.name;
  const version = promoted?.version ?? request.modelVersion ?? fromRef?.version;
  if (!name || !version) {
    const { names } = request;
    throw new ConfigurationError(
      `Cannot tell the model's name and version from the package reference (expected …/<name>-<version>.zip): set ${names.modelName} and ${names.modelVersion}.`,
      { key: names.modelName },
    );
  }
  return { name, version };
}

/** Who overrides failed gates (the workflow's actor, else the local user), and why. */
function override(request: DeploymentRequest): DeployOverride {
  return {
    by: readActor(request.hostEnv),
    ...(request.overrideReason ? { reason: request.overrideReason } : {}),
  };
}

/** Which package the modelcar was made from, read with the request's registry credential where it may go. */
async function inspectModelcar(
  reference: string,
  request: DeploymentRequest,
): Promise<{ packageDigest?: string }> {
  const { inspectImage } = await import('../oci/inspect.ts');
  const { parseOciReference } = await import('../oci/reference.ts');
  const registry = request.registry ?? {};
  const allowed =
    registry.credential !== undefined &&
    (registry.credentialRegistries === undefined ||
      registry.credentialRegistries.includes(parseOciReference(reference).registry));
  return inspectImage(reference, {
    ...(registry.plainHttp ? { plainHttp: true } : {}),
    ...(allowed ? { credential: registry.credential } : {}),
  });
}

/**
 * A package reference, or the path of a local archive: a path (with or without a digest) becomes a
 * `file://` reference with the archive's sha256, computed here and said (a digest given with the
 * path is checked when the package is read).
 */
async function referenceLocalArchive(
  ref: string,
  cwd: string,
  name: string,
  logger: Logger,
): Promise<string> {
  const text = ref.trim();
  // A URI scheme (not a Windows drive letter): already a reference.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) && !/^[A-Za-z]:[\\/]/.test(text)) return text;
  const [path, digest] = text.split(/#sha256=|@sha256:/);
  const absolute = resolve(cwd, path);
  const url = pathToFileURL(absolute).href;
  if (digest !== undefined) return `${url}#sha256=${digest}`;
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) {
    throw new InputError(
      `${name} "${ref}" is neither a reference with a digest (…#sha256=…) nor a package archive on disk.`,
      { key: name },
    );
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absolute)) hash.update(chunk as Uint8Array);
  const sha256 = hash.digest('hex');
  logger.info(`Package ${path}: sha256 ${sha256}`);
  return `${url}#sha256=${sha256}`;
}

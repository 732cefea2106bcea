/**
 * The model deployed in an environment, as a baseline for the model gate
 * (`baseline: environment:<name>`): read the environment repository's reference for the model,
 * fetch the package it names, check its sha256, and unpack model.onnx (with its external data)
 * into a temporary folder.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigurationError, InputError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import type { EnvironmentBaselineResolver } from '../model/environment-baseline.ts';
import { unpackPackage } from '../package/verify-package.ts';
import { readZipEntries } from '../zip/zip.ts';
import { cloneWorkspace, type GitAuth } from './git-workspace.ts';
import {
  formatPackageRef,
  type ModelDeployment,
  readModelReference,
  referencePath,
} from './model-reference.ts';
import {
  DigestMismatchError,
  downloadArchive,
  type OpenedPackage,
  type OpenPackageOptions,
  openPackage,
} from './package-reader.ts';
import { type Credential, type GitHubUrls, githubCredential } from './transport.ts';

export interface DeployedBaseline {
  /** Path of the unpacked model.onnx. */
  model: string;
  version: string;
  packageRef: string;
  sha256: string;
  /** Removes the temporary folder. */
  remove(): Promise<void>;
}

/**
 * Fetches a package archive (`file:` or `https:` URI) to `target`, hashing it on the way; throws
 * `InputError` when its sha256 is not `sha256` (nothing is used from a package that does not
 * match). The credential goes only where transport.ts allows.
 */
export async function fetchPackage(
  uri: string,
  sha256: string,
  target: string,
  options: { credential?: Credential; timeoutMs?: number } = {},
): Promise<void> {
  if (!/^(file|https?):/i.test(uri)) {
    throw new ConfigurationError(
      `The deployed package ${uri} cannot be fetched from here: only release assets (https:) and local files (file:) can. Workflow artifacts (artifact://) expire and belong to their run: publish packages to releases to use them as baselines.`,
    );
  }
  await mkdir(dirname(target), { recursive: true });
  try {
    await downloadArchive(uri, sha256, target, { ...options, what: 'The deployed package' });
  } catch (error) {
    if (error instanceof DigestMismatchError) {
      throw new DigestMismatchError(
        `${error.message} The environment's reference names that digest: the package changed after deployment.`,
      );
    }
    throw error;
  }
}

/**
 * The ModelDeployment of `model` in `environment` on the environment repository's base branch
 * (what runs there). Throws `ConfigurationError` when the environment has no such model.
 */
/**
 * The environment has no reference for the model (nothing deployed yet). A user's mistake for a
 * promotion; for a baseline it means "no baseline yet" (the first model of a project).
 */
export class NotDeployedError extends ConfigurationError {
  override name = 'NotDeployedError';
}

export async function readDeployment(options: {
  repository: string;
  base?: string;
  environment: string;
  model: string;
  auth?: GitAuth;
  /** The adapter's environment, for git's PATH, HOME, locale and proxies. */
  hostEnv: HostEnvironment;
}): Promise<ModelDeployment> {
  const workspace = await cloneWorkspace(options.repository, {
    auth: options.auth,
    base: options.base ?? 'main',
    hostEnv: options.hostEnv,
    access: 'read',
  });
  const file = referencePath(options.environment, options.model);
  try {
    let text: string;
    try {
      text = await workspace.git.show([`HEAD:${file}`]);
    } catch {
      throw new NotDeployedError(
        `${options.environment} runs no ${options.model}: ${file} is not on ${options.base ?? 'main'} of ${options.repository}.`,
      );
    }
    return readModelReference(text, file);
  } finally {
    await workspace.remove();
  }
}

/**
 * Promotion: the package `model` runs on in `environment` (e.g. staging), as a reference with its
 * digest and version, to propose for another environment.
 */
export async function resolvePromotion(options: {
  repository: string;
  base?: string;
  environment: string;
  model: string;
  auth?: GitAuth;
  hostEnv: HostEnvironment;
  /**
   * The version the person promoting expects the source environment to run (`1.4.0` or `v1.4.0`):
   * anything else is refused, so a promotion never carries a version nobody looked at, even when
   * the source environment changed since.
   */
  expectedVersion?: string;
}): Promise<{ name: string; version: string; packageRef: string; record: ModelDeployment }> {
  const running = await readDeployment(options);
  const expected = options.expectedVersion?.replace(/^v(?=\d)/, '');
  if (expected !== undefined && expected !== running.spec.model.version) {
    throw new ConfigurationError(
      `${options.environment} runs ${options.model} ${running.spec.model.version}, not ${expected} (${referencePath(options.environment, options.model)} of ${options.repository}): nothing was proposed. Check ${options.environment}, then promote the version it runs.`,
    );
  }
  return {
    name: options.model,
    version: running.spec.model.version,
    packageRef: formatPackageRef({ uri: running.spec.package.ref, sha256: running.spec.package.sha256 }),
    record: running,
  };
}

/**
 * The model running in `environment` (per the environment repository's reference for `model`),
 * unpacked and verified. Throws `ConfigurationError` when the environment has no such model.
 */
export async function resolveDeployedBaseline(options: {
  repository: string;
  base?: string;
  environment: string;
  model: string;
  auth?: GitAuth;
  hostEnv: HostEnvironment;
  /**
   * For downloading release assets: default the git token, sent only to the GitHub server and API
   * of `github` (the run's GITHUB_SERVER_URL, GITHUB_API_URL; github.com by default).
   */
  credential?: Credential;
  github?: GitHubUrls;
}): Promise<DeployedBaseline> {
  const reference = await readDeployment(options);
  const folder = await mkdtemp(join(tmpdir(), 'mlops-baseline-'));
  try {
    const archive = join(folder, 'package.zip');
    const credential =
      options.credential ??
      (options.auth ? githubCredential(options.auth.token, options.github ?? {}) : undefined);
    await fetchPackage(reference.spec.package.ref, reference.spec.package.sha256, archive, { credential });
    // model.onnx and every file next to it at the package root (external data), not the reports.
    const entries = (await readZipEntries(archive)).filter(
      (e) => !e.name.includes('/') && !e.name.endsWith('.json') && !e.name.endsWith('.md'),
    );
    if (!entries.some((e) => e.name === 'model.onnx')) {
      throw new InputError(
        `The deployed package ${reference.spec.package.ref} has no model.onnx: is it a package made by package-model?`,
      );
    }
    const unpacked = join(folder, 'model');
    // Only the files its manifest lists, within the archive limits (entries, unpacked size).
    await unpackPackage(archive, unpacked);
    await rm(archive);
    return {
      model: join(unpacked, 'model.onnx'),
      version: reference.spec.model.version,
      packageRef: reference.spec.package.ref,
      sha256: reference.spec.package.sha256,
      remove: () => rm(folder, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The model gate's resolver for `baseline: environment:<name>`: the model `model` as the
 * environment repository says it runs there, or `notDeployed` when the environment runs no such
 * model yet (the project's first model), which the gate treats as a missing baseline.
 */
export function environmentBaselineResolver(options: {
  repository: string;
  base?: string;
  model: string;
  auth?: GitAuth;
  hostEnv: HostEnvironment;
  credential?: Credential;
  github?: GitHubUrls;
}): EnvironmentBaselineResolver {
  return {
    model: options.model,
    async resolve(environment) {
      try {
        return await resolveDeployedBaseline({ ...options, environment });
      } catch (error) {
        if (error instanceof NotDeployedError) return { notDeployed: error.message };
        throw error;
      }
    },
  };
}

/** What a package says of itself, for the deployment pull request's description. */
export interface PackageSummary {
  /** Headline metrics of its model-validation report (from the manifest). */
  metrics: Record<string, number | null>;
  /** Columns its data gate found drifted, when it packaged a data-validation report. */
  drifted?: string[];
}

/**
 * The manifest's metrics and the data report's drifted columns of a package, fetched (file: or
 * https:) and verified against `sha256` where the whole archive is read. Undefined when the package
 * cannot be fetched from here (a workflow artifact): the description then says so instead.
 */
export async function readPackageSummary(
  uri: string,
  sha256: string,
  options: OpenPackageOptions = {},
): Promise<PackageSummary | undefined> {
  if (!/^(file|https?):/i.test(uri)) return undefined;
  const opened = await openPackage({ uri, sha256 }, options);
  try {
    return await summarizePackage(opened);
  } finally {
    await opened.close();
  }
}

/** The summary of an opened package: its manifest's metrics, and the drifted columns of its data report. */
export async function summarizePackage(opened: OpenedPackage): Promise<PackageSummary> {
  const summary: PackageSummary = { metrics: { ...opened.manifest.metrics } };
  const dataGate = opened.manifest.gates.data;
  const dataReport = dataGate
    ? ((await opened.readJson(dataGate.report)) as Record<string, unknown> | undefined)
    : undefined;
  const drift = dataReport?.drift as { columns?: { column: string; drifted: boolean }[] } | undefined;
  if (Array.isArray(drift?.columns))
    summary.drifted = drift.columns.filter((c) => c.drifted).map((c) => c.column);
  return summary;
}

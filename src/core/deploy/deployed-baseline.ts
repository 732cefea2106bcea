/**
 * The model deployed in an environment, as a baseline for the model gate
 * (`baseline: environment:<name>`): read the environment repository's reference for the model,
 * fetch the package it names, check its sha256, and unpack model.onnx (with its external data)
 * into a temporary folder.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, InputError } from '../errors.ts';
import { unpackPackage } from '../package/verify-package.ts';
import { openZipEntry, readZipEntries } from '../package/zip.ts';
import { cloneWorkspace, type GitAuth } from './git-workspace.ts';
import {
  formatPackageRef,
  type ModelDeployment,
  readModelReference,
  referencePath,
} from './model-reference.ts';

export const ENVIRONMENT_BASELINE = /^environment:([A-Za-z0-9][A-Za-z0-9._-]*)$/;

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
 * `InputError` when its sha256 is not `sha256` (nothing is used from a package that does not match).
 */
export async function fetchPackage(
  uri: string,
  sha256: string,
  target: string,
  options: { token?: string; timeoutMs?: number } = {},
): Promise<void> {
  const hash = createHash('sha256');
  let source: Readable;
  if (uri.startsWith('file:')) {
    const { createReadStream } = await import('node:fs');
    source = createReadStream(fileURLToPath(uri));
  } else if (uri.startsWith('https:') || uri.startsWith('http:')) {
    const response = await fetch(uri, {
      headers: {
        accept: 'application/octet-stream',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? 300_000),
    });
    if (!response.ok || !response.body) {
      throw new InputError(
        `The deployed package ${uri} cannot be downloaded (HTTP ${response.status}). Is the release public, or the token allowed to read it?`,
      );
    }
    source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  } else {
    throw new ConfigurationError(
      `The deployed package ${uri} cannot be fetched from here: only release assets (https:) and local files (file:) can. Workflow artifacts (artifact://) expire and belong to their run: publish packages to releases to use them as baselines.`,
    );
  }
  await mkdir(dirname(target), { recursive: true });
  await pipeline(
    source,
    async function* (chunks) {
      for await (const chunk of chunks) {
        hash.update(chunk as Uint8Array);
        yield chunk;
      }
    },
    createWriteStream(target),
  );
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    throw new InputError(
      `The deployed package ${uri} has sha256 ${actual}, but the environment's reference says ${sha256}: it was changed after deployment. Refusing to use it.`,
    );
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
}): Promise<ModelDeployment> {
  const workspace = await cloneWorkspace(options.repository, {
    auth: options.auth,
    base: options.base ?? 'main',
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
  /**
   * The version the person promoting expects the source environment to run (`1.4.0` or `v1.4.0`):
   * anything else is refused, so a promotion never carries a version nobody looked at, even when
   * the source environment changed since.
   */
  expectedVersion?: string;
}): Promise<{ name: string; version: string; packageRef: string }> {
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
  /** Token for downloading release assets (default: the git token). */
  downloadToken?: string;
}): Promise<DeployedBaseline> {
  const reference = await readDeployment(options);
  const folder = await mkdtemp(join(tmpdir(), 'mlops-baseline-'));
  try {
    const archive = join(folder, 'package.zip');
    await fetchPackage(reference.spec.package.ref, reference.spec.package.sha256, archive, {
      token: options.downloadToken ?? options.auth?.token,
    });
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

/** What a package says of itself, for the deployment pull request's description. */
export interface PackageSummary {
  /** Headline metrics of its model-validation report (from the manifest). */
  metrics: Record<string, number | null>;
  /** Columns its data gate found drifted, when it packaged a data-validation report. */
  drifted?: string[];
}

/**
 * The manifest's metrics and the data report's drifted columns of a package, fetched (file: or
 * https:) and verified against `sha256`. Undefined when the package cannot be fetched from here
 * (a workflow artifact) or carries no manifest: the description then says so instead.
 */
export async function readPackageSummary(
  uri: string,
  sha256: string,
  options: { token?: string } = {},
): Promise<PackageSummary | undefined> {
  if (!/^(file|https?):/.test(uri)) return undefined;
  const folder = await mkdtemp(join(tmpdir(), 'mlops-summary-'));
  try {
    const archive = join(folder, 'package.zip');
    // A description is not worth a long wait: a package that does not come quickly is left out.
    await fetchPackage(uri, sha256, archive, { ...options, timeoutMs: 15_000 });
    const entries = await readZipEntries(archive);
    const readJson = async (name: string): Promise<Record<string, unknown> | undefined> => {
      const entry = entries.find((e) => e.name === name);
      if (!entry) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of await openZipEntry(archive, entry)) chunks.push(chunk as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    };
    const manifest = await readJson('manifest.json');
    if (!manifest) return undefined;
    const summary: PackageSummary = { metrics: (manifest.metrics as PackageSummary['metrics']) ?? {} };
    const dataGate = (manifest.gates as { data?: { report: string } } | undefined)?.data;
    const dataReport = dataGate ? await readJson(dataGate.report) : undefined;
    const drift = dataReport?.drift as { columns: { column: string; drifted: boolean }[] } | undefined;
    if (drift) summary.drifted = drift.columns.filter((c) => c.drifted).map((c) => c.column);
    return summary;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

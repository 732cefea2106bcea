/**
 * Pulls a model package pushed by `mlops oci push` back into a package folder: the ModelPack
 * artifact's layers are written under their titles (`org.opencontainers.image.title`, the names
 * ORAS uses), each checked against its digest as it streams, and the folder is exactly the package
 * that was pushed (`mlops package verify` passes on it). A modelcar reference is followed to the
 * ModelPack artifact it was made from.
 *
 * The folder must not exist; it is written under a temporary name next to it and renamed into
 * place, so an error never leaves a half-pulled package.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigurationError, InputError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  manifestSchemaErrors,
  PACKAGE_FILES,
  type PackageManifest,
  PROVENANCE_FILE,
} from '../package/build-package.ts';
import type { RegistryCredential } from './auth.ts';
import { ANNOTATIONS, MODELPACK, modelPackConfigErrors } from './modelpack.ts';
import { formatOciReference, parseOciReference } from './reference.ts';
import { type Descriptor, type FetchedManifest, MEDIA_TYPES, RegistryClient } from './registry-client.ts';

/** What {@link pullPackage} may do. */
export interface PullOptions {
  /** Plain http to a loopback registry. */
  plainHttp?: boolean;
  /** Sent only to the reference's registry (and its token realm). */
  credential?: RegistryCredential;
  /** How the user gives a credential, for the message when the registry asks for one. */
  credentialHint?: string;
  /** Largest total of layer bytes written (default 64 GiB). */
  maxBytes?: number;
  /** Where to write the provenance statement the artifact carries (not into the package folder). */
  provenanceFile?: string;
  /** Layers downloaded at once (default 4). */
  concurrency?: number;
  logger?: Logger;
}

/** A pulled package. */
export interface PulledPackage {
  /** `<registry>/<repository>[:<tag>]@<digest>` of the ModelPack artifact read. */
  reference: string;
  /** The ModelPack artifact's manifest digest. */
  digest: string;
  /** The package folder written. */
  folder: string;
  manifest: PackageManifest;
  /** Files written (manifest.json included). */
  files: number;
  bytes: number;
  /** The package's archive digest, when the artifact records it. */
  packageDigest?: string;
  /** The provenance statement the artifact carries, when it carries one. */
  provenance?: Record<string, unknown>;
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const MAX_CONFIG_BYTES = 1024 * 1024;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;

/**
 * Pulls the ModelPack artifact at `reference` (`<registry>/<repository>:<tag>` or `@sha256:…`,
 * optionally `oci://…`) into `folder`. Throws `ConfigurationError`/`InputError` (exit 2) for a bad
 * reference, an artifact that is not a package pushed by mlops (no manifest.json layer, a layer
 * path that would leave the folder, layers that are not the manifest's files), a folder that
 * exists, and registry refusals.
 */
export async function pullPackage(
  reference: string,
  folder: string,
  options: PullOptions = {},
): Promise<PulledPackage> {
  const parsed = parseOciReference(reference, 'The package reference');
  if (!parsed.tag && !parsed.digest) {
    throw new ConfigurationError(
      `The package reference "${reference}" names no tag or digest: add :<tag> (e.g. :1.2.0) or @sha256:<digest>.`,
    );
  }
  const target = resolve(folder);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  ) {
    throw new ConfigurationError(`${folder} exists: pull a package into a folder that does not exist yet.`, {
      file: folder,
    });
  }
  const client = new RegistryClient({
    registry: parsed.registry,
    plainHttp: options.plainHttp,
    credential: options.credential,
    credentialHint: options.credentialHint,
    logger: options.logger,
  });
  const name = formatOciReference(parsed);
  const repository = parsed.repository;
  let artifact = await client.getManifest(repository, parsed.digest ?? parsed.tag!);
  if (!artifact) throw new InputError(`${name} is not in the registry (no such tag or digest).`);
  artifact = await followModelcar(client, repository, artifact, name);
  const json = artifact.json as {
    artifactType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    annotations?: Record<string, string>;
  };
  if (json.artifactType !== MODELPACK.artifactType && json.config?.mediaType !== MODELPACK.config) {
    throw new InputError(
      `${name} is not a ModelPack artifact (artifactType ${json.artifactType ?? 'none'}, config ${json.config?.mediaType ?? 'none'}): pull a reference that mlops oci push wrote.`,
    );
  }
  if (!json.config?.digest) throw new InputError(`${name} has no config.`);
  const config = JSON.parse(
    new TextDecoder().decode(await client.readBlob(repository, json.config, MAX_CONFIG_BYTES)),
  ) as unknown;
  const configErrors = modelPackConfigErrors(config);
  if (configErrors.length > 0) {
    throw new InputError(
      `${name}: its ModelPack config fails ModelPack's schema (${configErrors.slice(0, 3).join('; ')}).`,
    );
  }

  // Every layer names a safe path inside the folder, once.
  const layers = new Map<string, Descriptor>();
  for (const layer of json.layers ?? []) {
    const path = layer.annotations?.[ANNOTATIONS.title] ?? layer.annotations?.[MODELPACK.filepath];
    if (!path)
      throw new InputError(
        `${name}: layer ${layer.digest} has no title (org.opencontainers.image.title): not a package pushed by mlops.`,
      );
    checkLayerPath(path, name);
    if (layers.has(path)) throw new InputError(`${name}: two layers are titled ${path}.`);
    if (!/^sha256:[0-9a-f]{64}$/.test(layer.digest) || !Number.isSafeInteger(layer.size) || layer.size < 0) {
      throw new InputError(`${name}: layer ${path} has no valid sha256 digest and size.`);
    }
    layers.set(path, layer);
  }
  const manifestLayer = layers.get(PACKAGE_FILES.manifest);
  if (!manifestLayer)
    throw new InputError(
      `${name} has no ${PACKAGE_FILES.manifest} layer: it is not a package pushed by mlops oci push.`,
    );
  const manifestBytes = await client.readBlob(repository, manifestLayer, MAX_MANIFEST_BYTES);
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch {
    throw new InputError(`${name}: its ${PACKAGE_FILES.manifest} is not JSON.`);
  }
  const schemaErrors = manifestSchemaErrors(manifest);
  if (schemaErrors.length > 0) {
    throw new InputError(
      `${name}: its ${PACKAGE_FILES.manifest} fails the package schema (${schemaErrors.slice(0, 3).join('; ')}).`,
    );
  }
  // The layers are exactly the manifest's files (plus the manifest and the provenance statement).
  for (const file of manifest.files) {
    const layer = layers.get(file.path);
    if (!layer) throw new InputError(`${name}: ${file.path} is in the package's manifest but has no layer.`);
    if (layer.digest !== `sha256:${file.sha256}` || layer.size !== file.bytes) {
      throw new InputError(
        `${name}: the layer of ${file.path} is ${layer.digest} (${layer.size} bytes), the package's manifest lists sha256:${file.sha256} (${file.bytes} bytes).`,
      );
    }
  }
  const listed = new Set(manifest.files.map((file) => file.path));
  for (const path of layers.keys()) {
    if (path !== PACKAGE_FILES.manifest && path !== PROVENANCE_FILE && !listed.has(path)) {
      throw new InputError(
        `${name}: layer ${path} is not a file of the package's manifest: refusing to pull unlisted files.`,
      );
    }
  }
  const total = manifest.files.reduce((sum, file) => sum + file.bytes, manifestBytes.length);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (total > maxBytes) {
    throw new InputError(`${name} holds ${total} bytes, more than the ${maxBytes} this pull may write.`);
  }

  const staging = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  await mkdir(staging, { recursive: true });
  try {
    await writeFile(join(staging, PACKAGE_FILES.manifest), manifestBytes);
    const queue = [...manifest.files].sort((a, b) => b.bytes - a.bytes);
    const work = async () => {
      for (;;) {
        const file = queue.shift();
        if (!file) return;
        const path = join(staging, ...file.path.split('/'));
        await mkdir(dirname(path), { recursive: true });
        await client.downloadBlob(repository, layers.get(file.path)!, path, file.path);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, work));
    let provenance: Record<string, unknown> | undefined;
    const provenanceLayer = layers.get(PROVENANCE_FILE);
    if (provenanceLayer) {
      const bytes = await client.readBlob(repository, provenanceLayer, MAX_MANIFEST_BYTES);
      try {
        provenance = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw new InputError(`${name}: its ${PROVENANCE_FILE} layer is not JSON.`);
      }
      if (options.provenanceFile) await writeFile(options.provenanceFile, bytes);
    }
    await rename(staging, target);
    const packageDigest = json.annotations?.[ANNOTATIONS.packageDigest]?.replace(/^sha256:/, '');
    return {
      reference: formatOciReference({ ...parsed, digest: artifact.digest }),
      digest: artifact.digest,
      folder: target,
      manifest,
      files: manifest.files.length + 1,
      bytes: total,
      ...(packageDigest && /^[0-9a-f]{64}$/.test(packageDigest) ? { packageDigest } : {}),
      ...(provenance ? { provenance } : {}),
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** A modelcar (image or index) names the ModelPack artifact it was made from: that one is read. */
async function followModelcar(
  client: RegistryClient,
  repository: string,
  manifest: FetchedManifest,
  name: string,
): Promise<FetchedManifest> {
  if (manifest.json.artifactType === MODELPACK.artifactType) return manifest;
  const annotations = manifest.json.annotations as Record<string, string> | undefined;
  const digest = annotations?.[ANNOTATIONS.modelpackDigest];
  if (!digest) {
    if (manifest.mediaType === MEDIA_TYPES.index) {
      throw new InputError(
        `${name} is an image index that names no ModelPack artifact: not a package pushed by mlops.`,
      );
    }
    return manifest;
  }
  const artifact = await client.getManifest(repository, digest);
  if (!artifact)
    throw new InputError(
      `${name} names the ModelPack artifact ${digest}, which ${repository} does not have.`,
    );
  return artifact;
}

/** A layer's path must stay inside the folder: relative, '/'-separated, no '..' or empty parts. */
function checkLayerPath(path: string, name: string): void {
  const parts = path.split('/');
  if (
    path.length > 1024 ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    parts.some((part) => part === '' || part === '.' || part === '..') ||
    /^[A-Za-z]:/.test(path)
  ) {
    throw new InputError(
      `${name}: a layer is titled "${path.slice(0, 200)}", a path that would leave the package folder: refusing it.`,
    );
  }
}

/**
 * A KServe modelcar (https://kserve.github.io/website/docs/model-serving/storage/providers/oci):
 * a runnable image whose `/models` holds the model. KServe runs it next to the model server with a
 * shared process namespace, as `sh -c 'ln -sf /proc/$$/root/models /mnt/ && sleep infinity'`, so
 * the image needs `sh`, `ln` and `sleep`: those come from a small base image (default: BusyBox,
 * pinned by digest; ours ships no base layer) whose layers are mounted from the same registry or
 * copied from the base's registry at push time.
 *
 * The model layer (uncompressed tar, reproducible) lays the package out as Triton's model
 * repository, which KServe's ONNX runtime serves:
 *
 *   models/<name>/config.pbtxt         name and platform "onnxruntime_onnx"
 *   models/<name>/1/model.onnx         the package's model, byte for byte
 *   models/<name>/1/<external data>    its external-data files, at their paths
 *
 * A base that is an image index gives a modelcar index with one image per platform asked for (the
 * model layer is shared); a single image gives a single image.
 */
import { createHash } from 'node:crypto';
import { ConfigurationError, InputError } from '../errors.ts';
import { PACKAGE_FILES, type PackageManifest } from '../package/build-package.ts';
import { ANNOTATIONS } from './modelpack.ts';
import type { PackageFile } from './package-source.ts';
import { formatOciReference, type OciReference } from './reference.ts';
import {
  type Descriptor,
  type FetchedManifest,
  MEDIA_TYPES,
  type RegistryClient,
  sha256Digest,
} from './registry-client.ts';
import { type TarEntry, tarChunks, tarSize } from './tar.ts';

export { DEFAULT_BASE_IMAGE, DEFAULT_PLATFORMS } from './defaults.ts';

export const IMAGE_MEDIA_TYPES = {
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** Docker's layer media types and their OCI names (the bytes are the same). */
const DOCKER_LAYER_TYPES: Record<string, string> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': IMAGE_MEDIA_TYPES.layerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': IMAGE_MEDIA_TYPES.layer,
};

/** Largest image config read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The Triton model configuration KServe's ONNX runtime reads. */
export function tritonConfig(name: string): string {
  return `name: "${name}"\nplatform: "onnxruntime_onnx"\n`;
}

/** The model layer's entries: directories first, then files, in a fixed order. */
export function modelcarEntries(manifest: PackageManifest, files: readonly PackageFile[]): TarEntry[] {
  const name = manifest.package.name;
  const root = `models/${name}`;
  const weights = files.filter(
    (file) =>
      file.path === PACKAGE_FILES.model ||
      (![PACKAGE_FILES.manifest, PACKAGE_FILES.card, PACKAGE_FILES.signature, PACKAGE_FILES.profile].includes(
        file.path as never,
      ) &&
        !file.path.startsWith(`${PACKAGE_FILES.reports}/`)),
  );
  const directories = new Set<string>(['models', root, `${root}/1`]);
  for (const file of weights) {
    const parts = file.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) directories.add(`${root}/1/${parts.slice(0, i).join('/')}`);
  }
  const config = new TextEncoder().encode(tritonConfig(name));
  return [
    ...[...directories].sort().map((directory): TarEntry => ({ type: 'directory', name: directory })),
    { type: 'file', name: `${root}/config.pbtxt`, size: config.length, source: { bytes: config } },
    ...[...weights]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map(
        (file): TarEntry => ({
          type: 'file',
          name: `${root}/1/${file.path}`,
          size: file.bytes,
          source: file.source,
        }),
      ),
  ];
}

/** A model layer ready to push: its descriptor, and its bytes made anew for each read. */
export interface ModelLayer {
  descriptor: Descriptor;
  stream: () => AsyncIterable<Uint8Array>;
}

/**
 * Hashes the model layer (one streaming pass) and checks, in the same pass, that every weight file
 * has the sha256 the package manifest lists: the layer must carry the bytes that were validated.
 */
export async function buildModelLayer(
  manifest: PackageManifest,
  files: readonly PackageFile[],
): Promise<ModelLayer> {
  const entries = modelcarEntries(manifest, files);
  const mtime = Math.max(0, Math.floor(Date.parse(manifest.createdAt) / 1000) || 0);
  const expected = new Map(
    files.map((file) => [
      `models/${manifest.package.name}/1/${file.path}`,
      { sha256: file.sha256, path: file.path },
    ]),
  );
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  const layerHash = createHash('sha256');
  let size = 0;
  for await (const chunk of tarChunks(entries, mtime, (name, bytes) => {
    if (!expected.has(name)) return;
    let hash = hashes.get(name);
    if (!hash) {
      hash = createHash('sha256');
      hashes.set(name, hash);
    }
    hash.update(bytes);
  })) {
    layerHash.update(chunk);
    size += chunk.length;
  }
  for (const entry of entries) {
    const file = expected.get(entry.name);
    if (entry.type !== 'file' || !file) continue;
    const actual = hashes.get(entry.name)?.digest('hex') ?? createHash('sha256').digest('hex');
    if (actual !== file.sha256) {
      throw new InputError(
        `${file.path} has sha256 ${actual.slice(0, 12)}…, the package manifest lists ${file.sha256.slice(0, 12)}…: the package changed after it was made. Run \`mlops package verify\` on it and package the model again.`,
      );
    }
  }
  if (size !== tarSize(entries))
    throw new Error(`internal: the model layer has ${size} bytes, not ${tarSize(entries)}`);
  return {
    descriptor: {
      mediaType: IMAGE_MEDIA_TYPES.layer,
      digest: `sha256:${layerHash.digest('hex')}`,
      size,
      annotations: { [ANNOTATIONS.title]: `models/${manifest.package.name}` },
    },
    stream: () => tarChunks(entries, mtime),
  };
}

/** One platform's image of the base. */
export interface BaseImage {
  platform?: { architecture: string; os: string; variant?: string };
  config: Record<string, unknown>;
  layers: Descriptor[];
}

/** The base image, resolved: where it is and the images to build on. */
export interface ResolvedBase {
  reference: OciReference;
  /** The digest of what the reference names (an image or an index). */
  digest: string;
  images: BaseImage[];
}

/**
 * Reads the base image's manifest (an image, or an index from which the linux `platforms` are
 * taken) and each image's config. Throws `ConfigurationError` naming `--base-image` for a base
 * that is missing, has none of the platforms, or has layers that are not plain image layers.
 */
export async function resolveBaseImage(
  client: RegistryClient,
  reference: OciReference,
  platforms: readonly string[],
): Promise<ResolvedBase> {
  const name = formatOciReference(reference);
  const top = await client.getManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest');
  if (!top) {
    throw new ConfigurationError(
      `The base image ${name} is not in its registry: give an image that exists (--base-image), pinned by digest.`,
      { key: '--base-image' },
    );
  }
  if (reference.digest && top.digest !== reference.digest) {
    throw new InputError(`The base image ${name} answered the digest ${top.digest}.`);
  }
  const images: BaseImage[] = [];
  if (top.mediaType === MEDIA_TYPES.index || top.mediaType === MEDIA_TYPES.dockerManifestList) {
    const entries = (top.json.manifests as Descriptor[] | undefined) ?? [];
    for (const wanted of platforms) {
      const [os, architecture, variant] = wanted.split('/');
      const entry = entries.find(
        (candidate) =>
          candidate.platform?.os === os &&
          candidate.platform.architecture === architecture &&
          (variant === undefined || candidate.platform.variant === variant),
      );
      if (!entry) {
        const offered = entries
          .map((candidate) => candidate.platform)
          .filter((platform) => platform && platform.os !== 'unknown')
          .map((platform) =>
            [platform!.os, platform!.architecture, platform!.variant].filter(Boolean).join('/'),
          );
        throw new ConfigurationError(
          `The base image ${name} has no ${wanted} image (it has ${offered.join(', ') || 'none'}): choose the platforms it has (--platform), or another base image.`,
          { key: '--platform' },
        );
      }
      const image = await client.getManifest(reference.repository, entry.digest);
      if (!image)
        throw new InputError(
          `The base image ${name} lists ${entry.digest}, which its registry does not have.`,
        );
      images.push(await readBaseImage(client, reference, image, entry.platform));
    }
  } else {
    images.push(await readBaseImage(client, reference, top, undefined));
  }
  return { reference, digest: top.digest, images };
}

async function readBaseImage(
  client: RegistryClient,
  reference: OciReference,
  manifest: FetchedManifest,
  platform: BaseImage['platform'] | undefined,
): Promise<BaseImage> {
  const name = formatOciReference(reference);
  if (manifest.mediaType !== MEDIA_TYPES.manifest && manifest.mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new ConfigurationError(`The base image ${name} is not a container image (${manifest.mediaType}).`, {
      key: '--base-image',
    });
  }
  const configDescriptor = manifest.json.config as Descriptor | undefined;
  if (!configDescriptor?.digest) throw new InputError(`The base image ${name} has no config.`);
  const config = JSON.parse(
    new TextDecoder().decode(await client.readBlob(reference.repository, configDescriptor, MAX_CONFIG_BYTES)),
  ) as Record<string, unknown>;
  const layers = ((manifest.json.layers as Descriptor[] | undefined) ?? []).map((layer) => {
    const mediaType = DOCKER_LAYER_TYPES[layer.mediaType] ?? layer.mediaType;
    if (
      !Object.values(IMAGE_MEDIA_TYPES).includes(mediaType as never) ||
      mediaType === IMAGE_MEDIA_TYPES.config
    ) {
      throw new ConfigurationError(
        `The base image ${name} has a layer of type ${layer.mediaType}, which a modelcar cannot build on: choose a plain Linux image (e.g. BusyBox).`,
        { key: '--base-image' },
      );
    }
    return { mediaType, digest: layer.digest, size: layer.size };
  });
  const os = (config.os as string | undefined) ?? platform?.os;
  if (os !== 'linux') {
    throw new ConfigurationError(`The base image ${name} is not a Linux image (os: ${os ?? 'unknown'}).`, {
      key: '--base-image',
    });
  }
  return { ...(platform ? { platform } : {}), config, layers };
}

/** The annotations of a modelcar (image or index). */
export function modelcarAnnotations(
  manifest: PackageManifest,
  base: ResolvedBase,
  modelpackDigest: string,
  archiveSha256: string | undefined,
  source: string | undefined,
): Record<string, string> {
  return {
    [ANNOTATIONS.created]: manifest.createdAt,
    [ANNOTATIONS.title]: `${manifest.package.name} (modelcar)`,
    [ANNOTATIONS.version]: manifest.package.version,
    ...(manifest.lineage.commit ? { [ANNOTATIONS.revision]: manifest.lineage.commit } : {}),
    ...(source ? { [ANNOTATIONS.source]: source } : {}),
    [ANNOTATIONS.baseName]: formatOciReference({ ...base.reference, digest: undefined }),
    [ANNOTATIONS.baseDigest]: base.digest,
    [ANNOTATIONS.modelpackDigest]: modelpackDigest,
    ...(archiveSha256 ? { [ANNOTATIONS.packageDigest]: `sha256:${archiveSha256}` } : {}),
  };
}

/** One platform's modelcar image: its config and manifest (deterministic). */
export function buildModelcarImage(
  base: BaseImage,
  layer: Descriptor,
  manifest: PackageManifest,
  annotations: Record<string, string>,
): { config: Uint8Array; configDescriptor: Descriptor; manifest: Uint8Array; descriptor: Descriptor } {
  const rootfs = (base.config.rootfs as { diff_ids?: string[] } | undefined) ?? {};
  const history = Array.isArray(base.config.history) ? base.config.history : [];
  const config = {
    created: manifest.createdAt,
    architecture: base.config.architecture ?? base.platform?.architecture,
    ...(base.config.variant ? { variant: base.config.variant } : {}),
    os: 'linux',
    config: base.config.config ?? {},
    rootfs: { type: 'layers', diff_ids: [...(rootfs.diff_ids ?? []), layer.digest] },
    history: [
      ...history,
      {
        created: manifest.createdAt,
        created_by: `mlops oci push --modelcar (${manifest.package.name} ${manifest.package.version})`,
        comment: `the model under /models/${manifest.package.name}/1 (Triton layout)`,
      },
    ],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDescriptor: Descriptor = {
    mediaType: IMAGE_MEDIA_TYPES.config,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const image = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: configDescriptor,
    layers: [...base.layers, layer],
    annotations,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(image));
  return {
    config: configBytes,
    configDescriptor,
    manifest: bytes,
    descriptor: {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha256Digest(bytes),
      size: bytes.length,
      ...(base.platform ? { platform: base.platform } : {}),
    },
  };
}

/** The modelcar index over the platforms' images. */
export function buildModelcarIndex(
  images: readonly Descriptor[],
  annotations: Record<string, string>,
): { manifest: Uint8Array; descriptor: Descriptor } {
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: images, annotations };
  const bytes = new TextEncoder().encode(JSON.stringify(index));
  return {
    manifest: bytes,
    descriptor: { mediaType: MEDIA_TYPES.index, digest: sha256Digest(bytes), size: bytes.length },
  };
}

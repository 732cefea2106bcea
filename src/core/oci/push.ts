/**
 * `mlops oci push`: a model package to an OCI registry, as a ModelPack artifact (modelpack.ts) at
 * `<registry>/<repository>:<tag>` and, when asked, as a runnable KServe modelcar (modelcar.ts) at
 * `<tag>-modelcar`; the package's provenance statement is attached to both as a referrer.
 *
 * Reproducible: the same package gives the same manifests and digests. Idempotent: a blob the
 * registry has is not sent (HEAD first), a manifest already under its tag is not put again, a
 * referrer already indexed is not added again, so a re-push sends nothing but those checks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { silentLogger } from '../logger.ts';
import type { RegistryCredential } from './auth.ts';
import {
  buildModelcarImage,
  buildModelcarIndex,
  buildModelLayer,
  DEFAULT_BASE_IMAGE,
  DEFAULT_PLATFORMS,
  modelcarAnnotations,
  type ResolvedBase,
  resolveBaseImage,
} from './modelcar.ts';
import { buildModelPackArtifact, buildProvenanceReferrer, MODELPACK, sourceUrl } from './modelpack.ts';
import { openPackageSource, type PackageSource } from './package-source.ts';
import {
  formatOciReference,
  formatPinnedUri,
  modelcarTag,
  type OciReference,
  parseOciReference,
} from './reference.ts';
import { type BlobSource, type Descriptor, RegistryClient, type TransferStats } from './registry-client.ts';

/** What {@link pushPackage} does. */
export interface PushOptions {
  /** A package folder or its .zip archive. */
  package: string;
  /** `<registry>/<repository>[:<tag>]`; the tag defaults to the package's version. */
  to: string;
  /** Plain http to a loopback registry. */
  plainHttp?: boolean;
  /** Sent only to the target registry (and its token realm). */
  credential?: RegistryCredential;
  /** How the user gives a credential, for the message when the registry asks for one. */
  credentialHint?: string;
  /** Push a modelcar image too, at `<tag>-modelcar`. */
  modelcar?: boolean;
  /** The modelcar's base image (default {@link DEFAULT_BASE_IMAGE}); pulled anonymously unless it is on the target registry. */
  baseImage?: string;
  /** Platforms taken from a multi-platform base (default linux/amd64 and linux/arm64). */
  platforms?: readonly string[];
  /** The archive's sha256 when the caller knows it (saves hashing the archive again). */
  archiveSha256?: string;
  /** Blobs sent at once (default 4). */
  concurrency?: number;
  /** Chunk size of chunked uploads (used when a registry refuses a whole blob with 413). */
  chunkBytes?: number;
  logger?: Logger;
}

/** What was pushed. */
export interface PushResult {
  /** `<registry>/<repository>:<tag>` of the ModelPack artifact. */
  reference: string;
  digest: string;
  mediaType: string;
  artifactType: string;
  /** `oci://<registry>/<repository>@<digest>`. */
  uri: string;
  modelcar?: {
    reference: string;
    digest: string;
    mediaType: string;
    /** `oci://<registry>/<repository>@<digest>`: KServe's storageUri, pinned by digest. */
    uri: string;
    base: { reference: string; digest: string };
    platforms: string[];
  };
  /** The provenance statement's referrers, and how each was indexed (the referrers API, or the `sha256-<hex>` tag). */
  referrers: { subject: string; digest: string; via: 'api' | 'tag' }[];
  /** The package digest (archive sha256), when known. */
  packageDigest?: string;
  stats: TransferStats;
  notes: string[];
}

/** Pushes a package; see the module's description. Errors name the flag or file to fix (exit 2). */
export async function pushPackage(options: PushOptions): Promise<PushResult> {
  const logger = options.logger ?? silentLogger;
  const target = parseOciReference(options.to, '--to');
  if (target.digest) {
    throw new ConfigurationError(
      `--to ${options.to} names a digest: push to a tag (<registry>/<repository>:<tag>); the digest is the result.`,
      { key: '--to' },
    );
  }
  const base = options.modelcar
    ? parseOciReference(options.baseImage ?? DEFAULT_BASE_IMAGE, '--base-image')
    : undefined;
  if (base && !base.digest) {
    throw new ConfigurationError(
      `--base-image ${options.baseImage} is not pinned by digest: add @sha256:<digest> (skopeo inspect --format '{{.Digest}}' docker://<image> shows it), so that the same package always builds the same modelcar.`,
      { key: '--base-image' },
    );
  }
  const client = new RegistryClient({
    registry: target.registry,
    plainHttp: options.plainHttp,
    credential: options.credential,
    credentialHint: options.credentialHint,
    logger,
    chunkBytes: options.chunkBytes,
  });
  const source = await openPackageSource(options.package, { archiveSha256: options.archiveSha256 });
  try {
    const tag = target.tag ?? source.manifest.package.version.replace(/\+/g, '_');
    const reference: OciReference = { ...target, tag };
    const artifact = buildModelPackArtifact({
      manifest: source.manifest,
      manifestBytes: source.manifestBytes,
      files: source.files,
      provenance: source.provenance?.bytes,
      archiveSha256: source.archiveSha256,
    });
    const notes = [...source.notes];
    if (!source.provenance)
      notes.push('No provenance statement of this package next to it: none is attached.');

    // 1. The ModelPack artifact: its blobs (the largest first, a few at once), then its manifest.
    const sources = new Map<string, BlobSource>();
    for (const file of source.files) sources.set(`sha256:${file.sha256}`, file.source);
    sources.set(artifact.layers.find((layer) => layer.path === 'manifest.json')!.descriptor.digest, {
      bytes: source.manifestBytes,
    });
    if (source.provenance) {
      const layer = artifact.layers.find((candidate) => candidate.path === 'provenance.intoto.json');
      if (layer) sources.set(layer.descriptor.digest, { bytes: source.provenance.bytes });
    }
    const blobs = [
      {
        descriptor: artifact.configDescriptor,
        source: { bytes: artifact.config } as BlobSource,
        what: 'the ModelPack config',
      },
      ...artifact.layers.map((layer) => ({
        descriptor: layer.descriptor,
        source: sources.get(layer.descriptor.digest)!,
        what: layer.path,
      })),
    ];
    await pushBlobs(client, reference.repository, blobs, options.concurrency ?? 4, logger);
    await client.putManifest(
      reference.repository,
      tag,
      artifact.manifest,
      artifact.manifestDescriptor.mediaType,
    );
    logger.info(`Pushed ${formatOciReference(reference)} (${artifact.manifestDescriptor.digest}).`);

    const referrers: PushResult['referrers'] = [];
    const attach = async (subject: Descriptor) => {
      if (!source.provenance) return;
      const referrer = buildProvenanceReferrer(source.provenance.bytes, subject, source.manifest.createdAt);
      await client.pushBlob(
        reference.repository,
        { digest: referrer.layer.digest, size: referrer.layer.size },
        {
          bytes: source.provenance.bytes,
        },
      );
      await client.pushBlob(reference.repository, { digest: EMPTY_DIGEST, size: 2 }, { bytes: EMPTY_JSON });
      const via = await client.pushReferrer(
        reference.repository,
        referrer.manifest,
        referrer.descriptor,
        subject.digest,
      );
      referrers.push({ subject: subject.digest, digest: referrer.descriptor.digest, via });
    };
    await attach(artifact.manifestDescriptor);

    // 2. The modelcar: base layers mounted or copied, the model layer, one image per platform.
    let modelcar: (NonNullable<PushResult['modelcar']> & { size: number }) | undefined;
    if (base) {
      modelcar = await pushModelcar(
        client,
        reference,
        base,
        source,
        artifact.manifestDescriptor.digest,
        options,
        logger,
      );
      await attach({ mediaType: modelcar.mediaType, digest: modelcar.digest, size: modelcar.size });
    }
    return {
      reference: formatOciReference(reference),
      digest: artifact.manifestDescriptor.digest,
      mediaType: artifact.manifestDescriptor.mediaType,
      artifactType: MODELPACK.artifactType,
      uri: formatPinnedUri(reference, artifact.manifestDescriptor.digest),
      ...(modelcar ? { modelcar: withoutSize(modelcar) } : {}),
      referrers,
      ...(source.archiveSha256 ? { packageDigest: source.archiveSha256 } : {}),
      stats: client.stats,
      notes,
    };
  } finally {
    await source.close();
  }
}

const EMPTY_JSON = new TextEncoder().encode('{}');
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

async function pushModelcar(
  client: RegistryClient,
  reference: OciReference,
  baseReference: OciReference,
  source: PackageSource,
  modelpackDigest: string,
  options: PushOptions,
  logger: Logger,
): Promise<NonNullable<PushResult['modelcar']> & { size: number }> {
  const sameRegistry = baseReference.registry === reference.registry;
  // The base is read with the target's credential only when it is on the target registry.
  const baseClient = sameRegistry
    ? client
    : new RegistryClient({
        registry: baseReference.registry,
        plainHttp: options.plainHttp && isLoopbackRegistry(baseReference.registry),
        logger,
      });
  const platforms = options.platforms ?? DEFAULT_PLATFORMS;
  const base: ResolvedBase = await resolveBaseImage(baseClient, baseReference, platforms);
  const layer = await buildModelLayer(source.manifest, source.files);
  const tag = modelcarTag(reference.tag!);
  const annotations = modelcarAnnotations(
    source.manifest,
    base,
    modelpackDigest,
    source.archiveSha256,
    sourceUrl(source.manifest),
  );

  // Base layers: mounted from the base's repository on the same registry, else copied through a
  // temporary file (verified against its digest on the way).
  const baseLayers = new Map<string, Descriptor>();
  for (const image of base.images)
    for (const baseLayer of image.layers) baseLayers.set(baseLayer.digest, baseLayer);
  const temporary = await mkdtemp(join(tmpdir(), 'mlops-base-'));
  try {
    for (const baseLayer of baseLayers.values()) {
      if (
        sameRegistry &&
        (await client.mountBlob(reference.repository, baseLayer.digest, baseReference.repository))
      ) {
        continue;
      }
      const what = `base layer ${baseLayer.digest}`;
      if (!sameRegistry && (await client.hasBlob(reference.repository, baseLayer.digest))) {
        client.stats.blobsExisting++;
        continue;
      }
      // Not on the target registry, or not mounted there (the registry declined): copied.
      const file = join(temporary, baseLayer.digest.replace(':', '-'));
      await baseClient.downloadBlob(baseReference.repository, baseLayer, file, what);
      await client.pushBlob(reference.repository, baseLayer, { path: file }, { what });
    }
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  await client.pushBlob(
    reference.repository,
    layer.descriptor,
    { stream: layer.stream },
    { what: 'the modelcar model layer' },
  );

  const images: Descriptor[] = [];
  let single: { manifest: Uint8Array; descriptor: Descriptor } | undefined;
  for (const image of base.images) {
    const built = buildModelcarImage(image, layer.descriptor, source.manifest, annotations);
    await client.pushBlob(
      reference.repository,
      built.configDescriptor,
      { bytes: built.config },
      {
        what: 'the modelcar config',
      },
    );
    if (base.images.length === 1 && !image.platform) {
      single = { manifest: built.manifest, descriptor: built.descriptor };
    } else {
      await client.putManifest(
        reference.repository,
        built.descriptor.digest,
        built.manifest,
        built.descriptor.mediaType,
      );
      images.push(built.descriptor);
    }
  }
  const top = single ?? buildModelcarIndex(images, annotations);
  await client.putManifest(reference.repository, tag, top.manifest, top.descriptor.mediaType);
  const modelcarReference = { ...reference, tag };
  logger.info(`Pushed the modelcar ${formatOciReference(modelcarReference)} (${top.descriptor.digest}).`);
  return {
    reference: formatOciReference(modelcarReference),
    digest: top.descriptor.digest,
    mediaType: top.descriptor.mediaType,
    uri: formatPinnedUri(reference, top.descriptor.digest),
    base: { reference: formatOciReference(baseReference), digest: base.digest },
    platforms: base.images.map((image) =>
      image.platform
        ? [image.platform.os, image.platform.architecture, image.platform.variant].filter(Boolean).join('/')
        : `${String(image.config.os)}/${String(image.config.architecture)}`,
    ),
    size: top.descriptor.size,
  };
}

function withoutSize<T extends { size: number }>(value: T): Omit<T, 'size'> {
  const { size: _size, ...rest } = value;
  return rest;
}

function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Pushes blobs, the largest first, `concurrency` at once. */
async function pushBlobs(
  client: RegistryClient,
  repository: string,
  blobs: { descriptor: Descriptor; source: BlobSource; what: string }[],
  concurrency: number,
  logger: Logger,
): Promise<void> {
  const queue = [...blobs].sort((a, b) => b.descriptor.size - a.descriptor.size);
  const seen = new Set<string>();
  const work = async () => {
    for (;;) {
      const blob = queue.shift();
      if (!blob) return;
      if (seen.has(blob.descriptor.digest)) continue;
      seen.add(blob.descriptor.digest);
      const how = await client.pushBlob(repository, blob.descriptor, blob.source, { what: blob.what });
      logger.debug(`${blob.what} (${blob.descriptor.digest}, ${blob.descriptor.size} bytes): ${how}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, work));
}

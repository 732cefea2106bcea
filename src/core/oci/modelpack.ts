/**
 * A model package as a CNCF ModelPack artifact (https://github.com/modelpack/model-spec):
 *
 *   manifest  artifactType application/vnd.cncf.model.manifest.v1+json
 *   config    application/vnd.cncf.model.config.v1+json, valid against ModelPack's config schema
 *             (vendored in schemas/vendor/modelpack), format "onnx"
 *   layers    one per file of the package, stored raw (uncompressed, byte for byte: a layer's
 *             digest is the file's sha256 in the package manifest):
 *               model.onnx and external-data files   application/vnd.cncf.model.weight.v1.raw
 *               manifest.json, signature.json         application/vnd.cncf.model.weight.config.v1.raw
 *               MODEL_CARD.md, reports, profile,      application/vnd.cncf.model.doc.v1.raw
 *               the provenance statement
 *             each annotated with its path (`org.cncf.model.filepath`, ModelPack's; and
 *             `org.opencontainers.image.title`, the name ORAS and our pull write the file under)
 *
 * Everything is derived from the package alone (times are the package's created-at, keys in a fixed
 * order, JSON without spaces), so the same package gives the same digests on every push.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { PACKAGE_FILES, type PackageManifest, PROVENANCE_FILE } from '../package/build-package.ts';
import configSchema from '../schemas/vendor/modelpack/config-schema.json' with { type: 'json' };
import { type Descriptor, MEDIA_TYPES, sha256Digest } from './registry-client.ts';

/** ModelPack's media types and annotation keys, named once. */
export const MODELPACK = {
  artifactType: 'application/vnd.cncf.model.manifest.v1+json',
  config: 'application/vnd.cncf.model.config.v1+json',
  weight: 'application/vnd.cncf.model.weight.v1.raw',
  weightConfig: 'application/vnd.cncf.model.weight.config.v1.raw',
  doc: 'application/vnd.cncf.model.doc.v1.raw',
  filepath: 'org.cncf.model.filepath',
  fileMetadata: 'org.cncf.model.file.metadata+json',
} as const;

/** OCI annotation keys, and ours. */
export const ANNOTATIONS = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  baseName: 'org.opencontainers.image.base.name',
  baseDigest: 'org.opencontainers.image.base.digest',
  /** The package archive's sha256 (the package digest), when known at push time. */
  packageDigest: 'dev.mlops-actions.package.digest',
  /** On a modelcar: the digest of the ModelPack artifact it was made from. */
  modelpackDigest: 'dev.mlops-actions.modelpack.digest',
} as const;

/** The in-toto statement's media type, for the provenance layer and its referrer. */
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';

/** A layer of the artifact, with where its bytes are. */
export interface ArtifactLayer {
  descriptor: Descriptor;
  /** The package file's path ('/'-separated). */
  path: string;
}

/** The artifact to push. */
export interface ModelPackArtifact {
  manifest: Uint8Array;
  manifestDescriptor: Descriptor;
  config: Uint8Array;
  configDescriptor: Descriptor;
  layers: ArtifactLayer[];
}

/** What {@link buildModelPackArtifact} needs of a package. */
export interface ArtifactInput {
  manifest: PackageManifest;
  manifestBytes: Uint8Array;
  /** Every file the manifest lists (not manifest.json). */
  files: readonly { path: string; bytes: number; sha256: string }[];
  provenance?: Uint8Array;
  archiveSha256?: string;
}

let configValidator: ValidateFunction | undefined;

/** Validates a ModelPack config against ModelPack's schema; returns the errors as text. */
export function modelPackConfigErrors(config: unknown): string[] {
  if (!configValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // ajv-formats is CommonJS whose module object is the plugin with `.default` pointing at itself.
    formatsModule.default(ajv);
    configValidator = ajv.compile(configSchema);
  }
  return configValidator(config)
    ? []
    : (configValidator.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
}

/** The media type of a package file's layer. */
export function layerMediaType(path: string): string {
  if (path === PACKAGE_FILES.manifest || path === PACKAGE_FILES.signature) return MODELPACK.weightConfig;
  if (
    path === PACKAGE_FILES.card ||
    path === PACKAGE_FILES.profile ||
    path === PROVENANCE_FILE ||
    path.startsWith(`${PACKAGE_FILES.reports}/`)
  ) {
    return MODELPACK.doc;
  }
  // model.onnx and its external-data files: the weights.
  return MODELPACK.weight;
}

/** The order of layers: weights (model.onnx first), then weight config, then docs; by path within each. */
function layerRank(path: string): number {
  if (path === PACKAGE_FILES.model) return 0;
  const type = layerMediaType(path);
  return type === MODELPACK.weight ? 1 : type === MODELPACK.weightConfig ? 2 : 3;
}

/** Builds the ModelPack artifact of a package (deterministic). */
export function buildModelPackArtifact(input: ArtifactInput): ModelPackArtifact {
  const { manifest } = input;
  const created = manifest.createdAt;
  const entries: { path: string; bytes: number; digest: string }[] = [
    ...input.files.map((file) => ({ path: file.path, bytes: file.bytes, digest: `sha256:${file.sha256}` })),
    {
      path: PACKAGE_FILES.manifest,
      bytes: input.manifestBytes.length,
      digest: sha256Digest(input.manifestBytes),
    },
    ...(input.provenance
      ? [{ path: PROVENANCE_FILE, bytes: input.provenance.length, digest: sha256Digest(input.provenance) }]
      : []),
  ].sort((a, b) => layerRank(a.path) - layerRank(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const layers: ArtifactLayer[] = entries.map((entry) => ({
    path: entry.path,
    descriptor: {
      mediaType: entry.path === PROVENANCE_FILE ? MODELPACK.doc : layerMediaType(entry.path),
      digest: entry.digest,
      size: entry.bytes,
      annotations: {
        [MODELPACK.filepath]: entry.path,
        [MODELPACK.fileMetadata]: JSON.stringify({
          name: entry.path,
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: entry.bytes,
          mtime: created,
          typeflag: 48,
        }),
        [ANNOTATIONS.title]: entry.path,
      },
    },
  }));
  const descriptor: Record<string, unknown> = {
    createdAt: created,
    name: manifest.package.name,
    version: manifest.package.version,
    ...(manifest.lineage.commit ? { revision: manifest.lineage.commit } : {}),
    ...(sourceUrl(manifest) ? { sourceURL: sourceUrl(manifest) } : {}),
    title: `${manifest.package.name} ${manifest.package.version}`,
    description: `ONNX model packaged by ${manifest.tool.name} ${manifest.tool.version} (task: ${manifest.task}).`,
  };
  const config = {
    descriptor,
    config: { format: 'onnx' },
    modelfs: { type: 'layers', diffIds: layers.map((layer) => layer.descriptor.digest) },
  };
  const errors = modelPackConfigErrors(config);
  if (errors.length > 0)
    throw new Error(`internal: the ModelPack config fails its schema: ${errors.join('; ')}`);
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDescriptor: Descriptor = {
    mediaType: MODELPACK.config,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const annotations: Record<string, string> = {
    [ANNOTATIONS.created]: created,
    [ANNOTATIONS.title]: manifest.package.name,
    [ANNOTATIONS.version]: manifest.package.version,
    ...(manifest.lineage.commit ? { [ANNOTATIONS.revision]: manifest.lineage.commit } : {}),
    // ghcr.io links a package to the repository this names.
    ...(sourceUrl(manifest) ? { [ANNOTATIONS.source]: sourceUrl(manifest) as string } : {}),
    ...(input.archiveSha256 ? { [ANNOTATIONS.packageDigest]: `sha256:${input.archiveSha256}` } : {}),
  };
  const artifactManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    artifactType: MODELPACK.artifactType,
    config: configDescriptor,
    layers: layers.map((layer) => layer.descriptor),
    annotations,
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(artifactManifest));
  return {
    manifest: manifestBytes,
    manifestDescriptor: {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha256Digest(manifestBytes),
      size: manifestBytes.length,
      artifactType: MODELPACK.artifactType,
    },
    config: configBytes,
    configDescriptor,
    layers,
  };
}

/**
 * The referrer that attaches a provenance statement to `subject`: an artifact whose one layer is
 * the statement (config: the empty descriptor, as image-spec 1.1 advises for artifacts).
 */
export function buildProvenanceReferrer(
  statement: Uint8Array,
  subject: Descriptor,
  created: string,
): { manifest: Uint8Array; descriptor: Descriptor; layer: Descriptor } {
  const layer: Descriptor = {
    mediaType: IN_TOTO_MEDIA_TYPE,
    digest: sha256Digest(statement),
    size: statement.length,
    annotations: { [ANNOTATIONS.title]: PROVENANCE_FILE },
  };
  const annotations = { [ANNOTATIONS.created]: created };
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    artifactType: IN_TOTO_MEDIA_TYPE,
    config: { mediaType: MEDIA_TYPES.empty, digest: EMPTY_DIGEST, size: 2, data: 'e30=' },
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return {
    manifest: bytes,
    descriptor: {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha256Digest(bytes),
      size: bytes.length,
      artifactType: IN_TOTO_MEDIA_TYPE,
      annotations,
    },
    layer,
  };
}

const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/**
 * The repository's web address: from the run URL of a package built in a workflow
 * (`https://github.com/o/r/actions/runs/…` → `https://github.com/o/r`), or the recorded repository
 * when it is a URL; undefined otherwise.
 */
export function sourceUrl(manifest: PackageManifest): string | undefined {
  const run = /^(https?:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+)\/actions\/runs\//.exec(manifest.lineage.runUrl ?? '');
  if (run) return run[1];
  const repository = manifest.lineage.repository;
  return repository && /^https?:\/\/\S+$/.test(repository) ? repository.replace(/\.git$/, '') : undefined;
}

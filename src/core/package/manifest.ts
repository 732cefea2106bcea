/**
 * The package format, named once: the files a package holds, its manifest (the shape and the
 * schema check), the provenance file beside the archive and the keys written into model.onnx.
 * Everything that writes or reads packages (build, verify, deploy, OCI, serve) takes them from here.
 */
import { createHash } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import manifestSchema from '../schemas/model-package.schema.json' with { type: 'json' };
import type { TOOL_NAME } from '../version.ts';

/** File names inside a package, named once. */
export const PACKAGE_FILES = {
  model: 'model.onnx',
  manifest: 'manifest.json',
  card: 'MODEL_CARD.md',
  signature: 'signature.json',
  profile: 'profile.json',
  reports: 'reports',
} as const;

/** Outside the archive: it names the archive's digest. */
export const PROVENANCE_FILE = 'provenance.intoto.json';

/** A package's name outside its folder: `<name>-<version>` (its folder, and the stem of its assets). */
export function packageStem(name: string, version: string): string {
  return `${name}-${version}`;
}

/**
 * What is published beside a package (a release's assets), each `<stem><suffix>`: the archive, its
 * manifest (read when the archive is too large to download) and its provenance statement.
 */
export const PACKAGE_ASSETS = {
  archive: '.zip',
  manifest: '.manifest.json',
  provenance: '.intoto.json',
} as const;
/** The in-toto predicate type of our statements. */
export const PREDICATE_TYPE = 'https://mlops-actions.dev/attestations/model-package/v1';

/** Keys written into model.onnx's metadata_props. */
export const METADATA_KEYS = {
  name: 'mlops.package.name',
  version: 'mlops.package.version',
  commit: 'mlops.commit',
  content: 'mlops.package.content-sha256',
  metricPrefix: 'mlops.metric.',
} as const;

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface PackageManifest {
  kind: 'model-package';
  /** 2 is written; 1 is read (without `gates.override`). */
  version: 1 | 2;
  package: { name: string; version: string };
  task: 'binary' | 'multiclass' | 'regression' | 'unknown';
  createdAt: string;
  tool: { name: typeof TOOL_NAME; version: string };
  files: ManifestFile[];
  contentSha256: string;
  onnx: {
    irVersion: number;
    opsets: { domain: string; version: number }[];
    producer: string;
    inputs: { name: string; type: string }[];
    outputs: { name: string; type: string }[];
    metadata: Record<string, string>;
  };
  metrics: Record<string, number | null>;
  gates: {
    data?: { passed: boolean; report: string };
    model?: { passed: boolean; report: string };
    /** Failed gate reports packaged on purpose. */
    override?: { allowedFailed: ('data' | 'model')[]; by: string; reason?: string };
  };
  lineage: {
    repository: string | null;
    commit: string | null;
    ref: string | null;
    runUrl: string | null;
    data: { role: string; path: string; sha256: string }[];
  };
}

let manifestValidator: ValidateFunction<PackageManifest> | undefined;

/** The manifest schema's validator, compiled on first use (commands that never package do not pay for it). */
function validateManifestSchema(): ValidateFunction<PackageManifest> {
  manifestValidator ??= new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
  }).compile<PackageManifest>(manifestSchema);
  return manifestValidator;
}

/** Validates a manifest against its schema; returns the errors as text (empty when valid). */
export function manifestSchemaErrors(manifest: unknown): string[] {
  const validate = validateManifestSchema();
  return validate(manifest)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Files that the content digest leaves out: the model carries it, the card and manifest describe it. */
const OUTSIDE_CONTENT: ReadonlySet<string> = new Set([
  PACKAGE_FILES.model,
  PACKAGE_FILES.card,
  PACKAGE_FILES.manifest,
]);

/** SHA-256 of '<sha256>  <path>\n' lines of the files the content digest covers, sorted by path. */
export function contentDigest(files: readonly ManifestFile[]): string {
  const hash = createHash('sha256');
  for (const file of files)
    if (!OUTSIDE_CONTENT.has(file.path)) hash.update(`${file.sha256}  ${file.path}\n`);
  return hash.digest('hex');
}

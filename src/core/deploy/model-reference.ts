/**
 * The model reference: `environments/<environment>/models/<model>.yaml` in an environment
 * repository, a `ModelDeployment` saying which validated model package the environment runs, where
 * it was built, what the gates said and what ran before it (the rollback pointer).
 *
 *   apiVersion: mlops-actions.dev/v2
 *   kind: ModelDeployment
 *   metadata: { name: churn, environment: staging }
 *   spec:
 *     model: { name: churn, version: 1.2.0 }
 *     package: { ref: https://…/churn-1.2.0.zip, sha256: <64 hex> }
 *     source: { repository: o/r, commit: <sha>, runUrl: https://… }
 *     gates: { verdict: passed, data: true, model: true, metrics: { auc: 0.91 } }
 *     deployedAt: 2025-01-31T12:00:00Z
 *     previous: { version: 1.1.0, ref: https://…/churn-1.1.0.zip, sha256: <64 hex> }
 *     modelcar: { ref: oci://ghcr.io/o/churn:1.2.0-modelcar, sha256: <64 hex> }   (optional)
 *
 * `spec.modelcar` is the KServe modelcar image made from the same package (`mlops oci push
 * --modelcar`), pinned by its digest, when the environment runs the model from an OCI registry
 * (`storageUri: oci://…@sha256:…`); the record then keeps both digests, the archive's and the
 * image's.
 *
 * Updates edit the existing file in place (see {@link updateModelReference}) so that people's
 * comments survive and a deployment PR's diff shows only what changed.
 *
 * Format versions: v2 takes `gates` and `source` from the package's manifest and always says
 * `gates.verdict` (see custody.ts); v1 files (written before, `gates` often empty, `source` the
 * deploying checkout's) are still read, and rewritten as v2 by the next deployment.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { Document, LineCounter, parseDocument } from 'yaml';
import { ConfigurationError, InputError } from '../errors.ts';
import { describeYamlSchemaError, locateInYaml, pickSchemaError } from '../json/schema-errors.ts';
import schema from '../schemas/model-deployment.schema.json' with { type: 'json' };
import { type PlainValue, reconcileYamlDocument } from './yaml-reconcile.ts';

/** `environments/<env>/models/<model>.yaml`: where a model's reference lives. */
export function referencePath(environment: string, model: string): string {
  return `environments/${environment}/models/${model}.yaml`;
}

/** `apiVersion` (the format written) and `kind` of a model reference, named once. */
export const MODEL_DEPLOYMENT = { apiVersion: 'mlops-actions.dev/v2', kind: 'ModelDeployment' } as const;
/** Format versions read: the current one, and v1 (before records carried gate verdicts). */
export const MODEL_DEPLOYMENT_VERSIONS = ['mlops-actions.dev/v2', 'mlops-actions.dev/v1'] as const;

/** The two ways a package reference carries its archive's digest. */
export const DIGEST_MARKERS = { fragment: '#sha256=', suffix: '@sha256:' } as const;

/** URI schemes whose references name a digest the registry way (`name@sha256:…`). */
const SUFFIX_SCHEMES = ['artifact', 'oci'] as const;

/** A package's location and the sha256 of its archive. */
export interface PackageRef {
  /** The URI without the digest, e.g. `https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip`. */
  uri: string;
  /** 64 lower-case hex digits. */
  sha256: string;
}

/** What the gates said about a package (see custody.ts for the verdicts). */
export interface ModelDeploymentGates {
  /** Required in v2 records; absent in v1 records. */
  verdict?: 'passed' | 'overridden' | 'unvalidated' | 'not-recorded';
  data?: boolean;
  model?: boolean;
  metrics?: Record<string, number>;
  /** Failed gates deployed on purpose. */
  override?: {
    allowedFailed: ('data' | 'model')[];
    by: string;
    reason?: string;
    /** The override recorded in the package's manifest when it was built. */
    package?: { by: string; reason?: string };
  };
}

/** A modelcar image: its reference without the digest (`oci://registry/repository[:tag]`) and its sha256. */
export interface ModelcarRef {
  ref: string;
  sha256: string;
}

/** The package a deployment replaced: deploying it again is the rollback. */
export interface PreviousDeployment {
  version: string;
  ref: string;
  sha256: string;
  /** The modelcar it ran from, when it did. */
  modelcar?: ModelcarRef;
}

/** A model reference file, as parsed (see `model-deployment.schema.json`). */
export interface ModelDeployment {
  apiVersion: (typeof MODEL_DEPLOYMENT_VERSIONS)[number];
  kind: typeof MODEL_DEPLOYMENT.kind;
  metadata: {
    name: string;
    environment: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    model: { name: string; version: string };
    package: { ref: string; sha256: string };
    source: { repository: string | null; commit: string | null; runUrl?: string | null };
    gates: ModelDeploymentGates;
    deployedAt: string;
    previous?: PreviousDeployment;
    /** The KServe modelcar image made from the package, pinned by digest. */
    modelcar?: ModelcarRef;
  };
}

/** What a deployment proposes for one model in one environment. */
export interface ModelReferenceInput {
  /** The model's name (also `metadata.name`). */
  name: string;
  environment: string;
  version: string;
  /** The package's URI; it may carry its digest (`…#sha256=<hex>`, `…@sha256:<hex>`) instead of `sha256`. */
  packageRef: string;
  /** The archive's sha256; optional when `packageRef` carries it, and must agree with it when both do. */
  sha256?: string;
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  /** The gates' verdicts (`verdict` required: see custody.ts's decideCustody). */
  gates: ModelDeploymentGates;
  /** ISO 8601 time of the proposal, from the caller's clock so output is deterministic. */
  deployedAt: string;
  /** The modelcar image made from the package, pinned by digest (see {@link parseModelcarRef}). */
  modelcar?: ModelcarRef;
}

// ---------------------------------------------------------------------------------------------
// Package references

const ACCEPTED_FORMS =
  'Accepted forms: <uri>#sha256=<64 hex digits> (e.g. https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip#sha256=…) or <uri>@sha256:<64 hex digits> (e.g. artifact://<run>/<name>@sha256:…).';

const URI_WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/**
 * Splits a package reference into its URI and sha256: `<uri>#sha256=<hex>` (URLs, where a
 * fragment never reaches the server) or `<uri>@sha256:<hex>` (registry style, `artifact://…`,
 * `oci://…`). Surrounding whitespace is ignored and the digest is lower-cased; anything else is a
 * {@link ConfigurationError} that shows the accepted forms.
 */
export function parsePackageRef(ref: string): PackageRef {
  const text = ref.trim();
  const fail = (why: string): never => {
    throw new ConfigurationError(`Package reference "${ref}" ${why}. ${ACCEPTED_FORMS}`, {
      key: 'package-ref',
    });
  };
  if (text === '') fail('is empty');
  if (/\s/.test(text)) fail('contains whitespace');
  const markers = Object.values(DIGEST_MARKERS);
  const position = Math.max(...markers.map((marker) => text.lastIndexOf(marker)));
  if (position === -1) fail('has no sha256 digest, so what gets deployed could not be verified');
  const marker = markers.find((m) => text.startsWith(m, position))!;
  const uri = text.slice(0, position);
  const hex = text.slice(position + marker.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    const what = /^[0-9a-fA-F]*$/.test(hex)
      ? `${hex.length} hex digit${hex.length === 1 ? '' : 's'}`
      : `"${hex.length > 70 ? `${hex.slice(0, 70)}…` : hex}", which is not all hex digits`;
    fail(`must end with 64 hex digits after "${marker}"; it has ${what}`);
  }
  if (markers.some((m) => uri.includes(m))) fail('has more than one digest');
  if (!URI_WITH_SCHEME.test(uri))
    fail(`must start with a URI scheme (https://, s3://, artifact://, file://…); "${uri}" has none`);
  return { uri, sha256: hex.toLowerCase() };
}

/** Joins a URI and a digest into a package reference: `@sha256:` for artifact:// and oci://, else `#sha256=`. */
export function formatPackageRef(ref: PackageRef): string {
  const scheme = ref.uri.slice(0, ref.uri.indexOf(':')).toLowerCase();
  const marker = (SUFFIX_SCHEMES as readonly string[]).includes(scheme)
    ? DIGEST_MARKERS.suffix
    : DIGEST_MARKERS.fragment;
  return `${ref.uri}${marker}${ref.sha256}`;
}

const MODELCAR_FORM =
  'Give the modelcar pinned by digest, as package-model outputs it (modelcar-uri): oci://<registry>/<repository>[:<tag>]@sha256:<64 hex digits>, e.g. oci://ghcr.io/my-org/churn@sha256:….';

/**
 * Parses a modelcar reference, `oci://<registry>/<repository>[:<tag>]@sha256:<hex>` (`oci://` may
 * be left out): a registry host (with a dot or a port, or localhost), a lower-case repository, and
 * a digest, which is required (a tag can move; what is deployed must not). Throws a
 * `ConfigurationError` naming `what` that shows the accepted form.
 */
export function parseModelcarRef(text: string, what = 'The modelcar reference'): ModelcarRef {
  const value = text.trim().replace(/^oci:\/\//, '');
  const fail = (why: string): never => {
    throw new ConfigurationError(`${what} "${text}" ${why}. ${MODELCAR_FORM}`, { key: what });
  };
  const at = value.lastIndexOf('@');
  if (at === -1) fail('is not pinned by digest');
  const digest = value.slice(at + 1);
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    fail(`has the digest "${digest}", not sha256:<64 lower-case hex digits>`);
  const name = value.slice(0, at);
  const match =
    /^((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(
      name,
    );
  if (!match) fail('is not <registry>/<repository>[:<tag>] with a lower-case repository');
  const registry = match![1];
  if (!registry.includes('.') && !registry.includes(':') && registry !== 'localhost') {
    fail(`names no registry ("${registry}" has no dot or port)`);
  }
  return { ref: `oci://${name}`, sha256: digest.slice('sha256:'.length) };
}

/**
 * KServe's storageUri for a modelcar: `oci://<registry>/<repository>@sha256:<hex>`, pinned by
 * digest (the tag left out: the runtime pulls exactly this image).
 */
export function modelcarStorageUri(modelcar: ModelcarRef): string {
  const name = modelcar.ref.replace(/^oci:\/\//, '');
  const tag = /:[A-Za-z0-9_][A-Za-z0-9._-]*$/.exec(name.slice(name.lastIndexOf('/')));
  return `oci://${tag ? name.slice(0, name.length - tag[0].length) : name}@sha256:${modelcar.sha256}`;
}

// ---------------------------------------------------------------------------------------------
// Validation

let compiled: ValidateFunction<ModelDeployment> | undefined;

/** The schema's validator, compiled on first use. */
function validator(): ValidateFunction<ModelDeployment> {
  // verbose: errors carry the failing subschema, whose description becomes the message.
  compiled ??= new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    verbose: true,
  }).compile<ModelDeployment>(schema);
  return compiled;
}

/** Aliases a model reference may expand (it needs none; a few hand-written ones are harmless). */
const MAX_REFERENCE_ALIASES = 20;

/**
 * Parses a model reference file and validates it against `model-deployment.schema.json`. Errors
 * name the file, the line and the key (`spec.package.sha256`), with "did you mean" for unknown
 * keys; YAML that does not parse is an {@link InputError}.
 */
export function readModelReference(text: string, file: string): ModelDeployment {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = document.errors[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    throw new InputError(`${file}:${line}:${col} is not valid YAML: ${syntax.message.split('\n')[0]}`, {
      file,
      line,
      column: col,
    });
  }
  let value: unknown;
  try {
    // A model reference is a handful of keys: no alias is needed, and a "billion laughs" file of
    // nested aliases must not exhaust memory (the yaml package throws a ReferenceError past the limit).
    value = document.toJS({ maxAliasCount: MAX_REFERENCE_ALIASES });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new InputError(
      `${file} expands YAML aliases (*name) more than ${MAX_REFERENCE_ALIASES} times, as a "billion laughs" file does to exhaust memory: a model reference needs no aliases; write the values out.`,
      { file },
    );
  }
  const validate = validator();
  if (!validate(value)) {
    const error = pickSchemaError(validate.errors ?? [])!;
    const { line, source } = locateInYaml(document, lines, error);
    const { key, message } = describeYamlSchemaError(error, source);
    const kindHint =
      (value as { kind?: unknown } | null)?.kind === MODEL_DEPLOYMENT.kind
        ? ''
        : ` (a model reference starts with apiVersion: ${MODEL_DEPLOYMENT.apiVersion} and kind: ${MODEL_DEPLOYMENT.kind})`;
    throw new ConfigurationError(`${file}${line ? `:${line}` : ''}: ${message}${kindHint}`, {
      file,
      line,
      key: key || undefined,
    });
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Rendering and updating

/** Builds and validates the reference an input describes (without `previous`). */
function buildModelDeployment(input: ModelReferenceInput): ModelDeployment {
  const hasDigest = Object.values(DIGEST_MARKERS).some((marker) => input.packageRef.includes(marker));
  const ref = hasDigest
    ? parsePackageRef(input.packageRef)
    : { uri: input.packageRef.trim(), sha256: input.sha256?.toLowerCase() ?? '' };
  if (hasDigest && input.sha256 !== undefined && input.sha256.toLowerCase() !== ref.sha256) {
    throw new ConfigurationError(
      `The package reference ${input.packageRef} names sha256 ${ref.sha256}, but sha256 ${input.sha256} was given as well: pass one digest, the archive's.`,
      { key: 'sha256' },
    );
  }
  // Key order as documented; absent values are left out.
  const gates: ModelDeploymentGates = { verdict: input.gates.verdict ?? 'not-recorded' };
  if (input.gates.data !== undefined) gates.data = input.gates.data;
  if (input.gates.model !== undefined) gates.model = input.gates.model;
  if (input.gates.metrics !== undefined) gates.metrics = { ...input.gates.metrics };
  if (input.gates.override !== undefined) {
    const { allowedFailed, by, reason, package: packaged } = input.gates.override;
    gates.override = {
      allowedFailed: [...allowedFailed],
      by,
      ...(reason ? { reason } : {}),
      ...(packaged
        ? { package: { by: packaged.by, ...(packaged.reason ? { reason: packaged.reason } : {}) } }
        : {}),
    };
  }
  const deployment: ModelDeployment = {
    apiVersion: MODEL_DEPLOYMENT.apiVersion,
    kind: MODEL_DEPLOYMENT.kind,
    metadata: { name: input.name, environment: input.environment },
    spec: {
      model: { name: input.name, version: input.version },
      package: { ref: ref.uri, sha256: ref.sha256 },
      source: {
        repository: input.source.repository,
        commit: input.source.commit,
        ...(input.source.runUrl ? { runUrl: input.source.runUrl } : {}),
      },
      gates,
      deployedAt: input.deployedAt,
      ...(input.modelcar
        ? { modelcar: { ref: input.modelcar.ref, sha256: input.modelcar.sha256.toLowerCase() } }
        : {}),
    },
  };
  const validate = validator();
  if (!validate(deployment)) {
    const { key, message } = describeYamlSchemaError(pickSchemaError(validate.errors ?? [])!);
    throw new ConfigurationError(
      `The model reference for ${input.name} in ${input.environment} would be invalid: ${message}`,
      { key },
    );
  }
  return deployment;
}

const HEADER = [
  ' Which model package this environment runs. Written by mlops-actions deploy-pr in a pull request;',
  ' the rollback is spec.previous. Comments added here are kept when the file is updated.',
].join('\n');

/** Renders a model reference as a new file (validated; same input, same bytes). */
export function renderModelReference(input: ModelReferenceInput, previous?: PreviousDeployment): string {
  const deployment = buildModelDeployment(input);
  if (previous) deployment.spec.previous = { ...previous };
  const document = new Document(deployment);
  document.commentBefore = HEADER;
  return document.toString({ indent: 2, lineWidth: 0 });
}

/**
 * The text of the model reference after proposing `input`. Without an existing file it is
 * {@link renderModelReference}'s. With one, the file is validated and edited in place: changed
 * values are rewritten in their own style, `spec.previous` is set from the old `spec` (version,
 * package ref, sha256), and everything else — comments, key order, quoting, blank lines — keeps
 * its bytes. Re-proposing the package already referenced keeps `previous` and `deployedAt`, so a
 * re-run changes nothing. `file` names the file in messages.
 */
export function updateModelReference(
  existingText: string | undefined,
  input: ModelReferenceInput,
  file = 'the model reference',
): string {
  const wanted = buildModelDeployment(input);
  if (existingText === undefined || existingText.trim() === '') return renderModelReference(input);
  const current = readModelReference(existingText, file);
  if (
    current.metadata.environment !== wanted.metadata.environment ||
    current.spec.model.name !== wanted.spec.model.name
  ) {
    throw new ConfigurationError(
      `${file} references ${current.spec.model.name} in ${current.metadata.environment}, not ${wanted.spec.model.name} in ${wanted.metadata.environment}: each model has its own file, environments/<environment>/models/<model>.yaml.`,
      { file, key: 'metadata' },
    );
  }
  const samePackage = current.spec.package.sha256 === wanted.spec.package.sha256;
  // The same package from the same place: a re-run, which changes nothing.
  const sameDeployment = samePackage && current.spec.modelcar?.sha256 === wanted.spec.modelcar?.sha256;
  const previous: PreviousDeployment | undefined = samePackage
    ? current.spec.previous
    : {
        version: current.spec.model.version,
        ref: current.spec.package.ref,
        sha256: current.spec.package.sha256,
        ...(current.spec.modelcar ? { modelcar: { ...current.spec.modelcar } } : {}),
      };
  const { modelcar, ...wantedSpec } = wanted.spec;
  const desired = {
    ...current,
    apiVersion: wanted.apiVersion,
    metadata: { ...current.metadata, name: wanted.metadata.name, environment: wanted.metadata.environment },
    spec: {
      ...wantedSpec,
      deployedAt: sameDeployment ? current.spec.deployedAt : wanted.spec.deployedAt,
      previous,
      modelcar,
    },
  };
  const text = reconcileYamlDocument(existingText, desired as unknown as PlainValue, file);
  try {
    readModelReference(text, file);
  } catch (error) {
    throw new Error(`internal: updating ${file} produced an invalid model reference`, { cause: error });
  }
  return text;
}

/** The package to deploy to roll back, from `spec.previous`; undefined when nothing ran before. */
export function resolveRollback(
  deployment: ModelDeployment,
): { version: string; packageRef: string } | undefined {
  const previous = deployment.spec.previous;
  if (!previous) return undefined;
  return {
    version: previous.version,
    packageRef: formatPackageRef({ uri: previous.ref, sha256: previous.sha256 }),
  };
}

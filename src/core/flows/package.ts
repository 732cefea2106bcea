/**
 * Packaging as one flow, shared by the package-model action and `mlops package`: the request is
 * checked (an override reason needs the override; the out folder may hold no input), the lineage
 * and the actor are read from the adapter's environment, and the package is built with the gate
 * reports bound to the model (see build-package.ts). Publishing (artifact, release, registry) stays
 * with the adapter that can do it; `admit` lets it refuse, before any work, what it could not publish.
 */
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath } from '../files.ts';
import type { HostEnvironment } from '../host-environment.ts';
import {
  type BuiltPackage,
  buildPackage,
  type PackageOptions,
  PROVENANCE_FILE,
} from '../package/build-package.ts';
import { type Lineage, readActor, readLineage } from '../package/lineage.ts';
import { describeManifestGates } from '../package/model-card.ts';

/** How the adapter calls each input (flag or action input), for messages. */
export interface PackageNames {
  model: string;
  reports: string;
  profile: string;
  contract: string;
  out: string;
  /** How the user overrides failed gates (`--allow-failed-gates`, `input "allow-failed-gates: true"`). */
  allowFailedGates: string;
  overrideReason: string;
}

/**
 * Everything the user gave one packaging run: what the package holds (as buildPackage takes it), and
 * whether failed gates are overridden; the lineage and the actor are read by the flow.
 */
export interface PackageRequest
  extends Omit<PackageOptions, 'lineage' | 'allowFailedGates' | 'overrideHint'> {
  /** Package failed gate reports anyway (recorded with who and why). */
  allowFailedGates?: boolean;
  overrideReason?: string;
  /** The folder the run starts in: the git checkout the lineage is read from outside a workflow run. */
  cwd: string;
  /** The adapter's environment: GITHUB_* (lineage, actor), PATH for git. */
  hostEnv: HostEnvironment;
  names: PackageNames;
}

export interface PackagePorts {
  /**
   * Called with the lineage before anything is built: the adapter refuses here what it could not
   * do with the package afterwards (e.g. publish to a release when the run is not a tag push).
   */
  admit?(lineage: Lineage): void | Promise<void>;
}

export interface PackageResult extends BuiltPackage {
  lineage: Lineage;
  /** The gates as the manifest records them, in words ("data passed, model passed", "none (unvalidated)", …). */
  gates: string;
  /** Whether the package deserves a warning: its gates were overridden, or it has no gate report. */
  gatesNeedAttention: boolean;
}

/**
 * Builds the package the request describes. Throws `ConfigurationError`/`InputError` naming the
 * input for what the user must fix (before any work when the request itself is wrong), including a
 * failed gate report without the override and a report of another model.
 */
export async function runPackage(request: PackageRequest, ports: PackagePorts = {}): Promise<PackageResult> {
  const { names } = request;
  if (request.overrideReason && !request.allowFailedGates) {
    throw new ConfigurationError(
      `${names.overrideReason} goes with ${names.allowFailedGates} (it says why failed gates are packaged).`,
      { key: names.overrideReason },
    );
  }
  // The package folder and archive (<name>-<version>) and the provenance in the out folder are
  // replaced, so no input may be one of them or inside them.
  const { name } = request;
  const replaces = (entry: string) =>
    entry === PROVENANCE_FILE || (entry.startsWith(`${name}-`) && /^\d/.test(entry.slice(name.length + 1)));
  checkOutputPath(
    request.out,
    [
      { label: names.model, path: request.model },
      request.reports === undefined ? undefined : { label: names.reports, path: request.reports },
      request.profile === undefined ? undefined : { label: names.profile, path: request.profile },
      request.contract === undefined ? undefined : { label: names.contract, path: request.contract },
    ],
    names.out,
    { folder: { replaces } },
  );
  const lineage = await readLineage(request.hostEnv, request.cwd);
  await ports.admit?.(lineage);
  const built = await buildPackage({
    model: request.model,
    name,
    version: request.version,
    reports: request.reports,
    profile: request.profile,
    contract: request.contract,
    out: request.out,
    lineage,
    ...(request.allowFailedGates
      ? {
          allowFailedGates: {
            by: readActor(request.hostEnv),
            ...(request.overrideReason ? { reason: request.overrideReason } : {}),
          },
        }
      : {}),
    overrideHint: names.allowFailedGates,
  });
  const { gates } = built.manifest;
  return {
    ...built,
    lineage,
    gates: describeManifestGates(gates),
    gatesNeedAttention: Boolean(gates.override) || Object.keys(gates).length === 0,
  };
}

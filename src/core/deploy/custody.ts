/**
 * Chain of custody at deployment: what the gates said about a package (from its manifest, or from
 * the source environment's record on a promotion), what the environment requires
 * (`environments/<environment>/policy.yaml`), and the decision:
 *
 * - a package whose manifest records a failed gate is refused unless the deployment overrides it
 *   (`allow-failed-gates`), which the record and the pull request then show, with who and why;
 * - a package without any gate verdict is **unvalidated**: allowed, said loudly in the record
 *   (`gates.verdict: unvalidated`) and the pull request, unless the environment's policy requires
 *   verdicts (`require-verdicts: true`, or a list of gates);
 * - a promotion of a package deployed before records carried verdicts (apiVersion v1), whose
 *   manifest cannot be read, is **not-recorded**: allowed (it was deployed under the old rules),
 *   said loudly, so packages already deployed stay promotable.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigurationError, InputError } from '../errors.ts';
import type { PackageManifest } from '../package/manifest.ts';
import { didYouMean } from '../suggest.ts';
import type { ModelDeployment, ModelDeploymentGates } from './model-reference.ts';

/** The gates a package can carry verdicts of. */
export const GATE_NAMES = ['data', 'model'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** The state of a deployment's verdicts, as the record's `gates.verdict` says it. */
export const VERDICTS = ['passed', 'overridden', 'unvalidated', 'not-recorded'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What a package says about its gates and origin. */
export interface PackageVerdicts {
  data?: boolean;
  model?: boolean;
  metrics: Record<string, number>;
  /** An override made when the package was built (a failed gate report packaged on purpose). */
  packageOverride?: { allowedFailed: GateName[]; by: string; reason?: string };
  source: { repository: string | null; commit: string | null; runUrl?: string | null };
  /** Where these were read, for the pull request (e.g. "the package's manifest"). */
  from: string;
}

/** The verdicts a manifest records (version 1 or 2). */
export function verdictsFromManifest(manifest: PackageManifest, from: string): PackageVerdicts {
  const gates = manifest.gates;
  return {
    ...(gates.data ? { data: gates.data.passed } : {}),
    ...(gates.model ? { model: gates.model.passed } : {}),
    metrics: numbersOnly(manifest.metrics),
    ...(gates.override ? { packageOverride: { ...gates.override } } : {}),
    source: {
      repository: manifest.lineage.repository,
      commit: manifest.lineage.commit,
      runUrl: manifest.lineage.runUrl,
    },
    from,
  };
}

/**
 * The verdicts a deployment record carries, for a promotion; undefined for a record written before
 * records carried verdicts (apiVersion v1), whose `gates` say nothing reliable.
 */
export function verdictsFromRecord(
  record: ModelDeployment,
  environment: string,
): PackageVerdicts | undefined {
  const gates = record.spec.gates;
  if (gates.verdict === undefined || gates.verdict === 'not-recorded') return undefined;
  return {
    ...(gates.data !== undefined ? { data: gates.data } : {}),
    ...(gates.model !== undefined ? { model: gates.model } : {}),
    metrics: { ...(gates.metrics ?? {}) },
    ...(gates.override?.package
      ? { packageOverride: { allowedFailed: gates.override.allowedFailed, ...gates.override.package } }
      : {}),
    source: {
      repository: record.spec.source.repository,
      commit: record.spec.source.commit,
      runUrl: record.spec.source.runUrl ?? null,
    },
    from: `${environment}'s deployment record`,
  };
}

function numbersOnly(metrics: Record<string, number | null>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(metrics).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

/** What an environment requires of the packages proposed for it. */
export interface EnvironmentPolicy {
  /** The policy file, relative to the repository's root. */
  file: string;
  /** Gates whose verdict a package must carry (passed, or failed and overridden). */
  requireVerdicts: GateName[];
}

/** `environments/<environment>/policy.yaml`: where an environment's policy lives. */
export function policyPath(environment: string): string {
  return `environments/${environment}/policy.yaml`;
}

const POLICY_KEYS = ['require-verdicts'] as const;

/**
 * Reads `environments/<environment>/policy.yaml` of a checkout (no file: no requirement). Keys:
 * `require-verdicts: true` (the data and the model gate), `false`, or a list of gates
 * (`[model]`). Anything else is a `ConfigurationError` naming the file, line and key.
 */
export async function readEnvironmentPolicy(root: string, environment: string): Promise<EnvironmentPolicy> {
  const file = policyPath(environment);
  let text: string;
  try {
    text = await readFile(join(root, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, requireVerdicts: [] };
    throw new InputError(`${file} cannot be read (${(error as NodeJS.ErrnoException).code}).`, { file });
  }
  return parseEnvironmentPolicy(text, file);
}

/** Parses a policy file's text (see {@link readEnvironmentPolicy}). */
export function parseEnvironmentPolicy(text: string, file: string): EnvironmentPolicy {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fail = (message: string, offset?: number, key?: string): never => {
    const line = offset === undefined ? undefined : lines.linePos(offset).line;
    throw new ConfigurationError(`${file}${line ? `:${line}` : ''}: ${message}`, { file, line, key });
  };
  const syntax = document.errors[0];
  if (syntax) fail(`not valid YAML: ${syntax.message.split('\n')[0]}`, syntax.pos[0]);
  // No aliases: a policy has no use for them, and a nest of them is a way to exhaust memory.
  try {
    document.toJS({ maxAliasCount: 0 });
  } catch (error) {
    fail(`cannot be read: ${(error as Error).message}`);
  }
  const contents = document.contents;
  if (contents === null) return { file, requireVerdicts: [] };
  if (!isMap(contents)) fail('must be a mapping of settings, e.g. "require-verdicts: true".', 0);
  const policy: EnvironmentPolicy = { file, requireVerdicts: [] };
  for (const pair of (contents as import('yaml').YAMLMap).items) {
    const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
    const at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
    if (!(POLICY_KEYS as readonly string[]).includes(key)) {
      fail(
        `unknown key "${key}".${didYouMean(key, [...POLICY_KEYS])} Allowed: ${POLICY_KEYS.join(', ')}.`,
        at,
        key,
      );
    }
    const value = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
    if (value === true) policy.requireVerdicts = [...GATE_NAMES];
    else if (value === false) policy.requireVerdicts = [];
    else if (
      Array.isArray(value) &&
      value.every((gate) => (GATE_NAMES as readonly unknown[]).includes(gate))
    ) {
      policy.requireVerdicts = GATE_NAMES.filter((gate) => value.includes(gate));
    } else {
      fail(
        `"require-verdicts" must be true (the data and the model gate), false, or a list of gates (${GATE_NAMES.join(', ')}); found ${JSON.stringify(value)}.`,
        at,
        key,
      );
    }
  }
  return policy;
}

/** Who overrides failed gates at deployment, and why. */
export interface DeployOverride {
  by: string;
  reason?: string;
}

/** What is being deployed where, for messages. */
export interface CustodyContext {
  environment: string;
  name: string;
  version: string;
  /** How the user overrides failed gates, for messages (e.g. "--allow-failed-gates"). */
  overrideHint: string;
}

/**
 * Refuses a package with a failed gate unless `override`; refuses an unvalidated package (or one
 * missing a required gate's verdict) when the environment's policy requires verdicts. Returns the
 * record's `gates`. `verdicts` undefined means "not recorded" (see the module comment).
 */
export function decideCustody(
  verdicts: PackageVerdicts | undefined,
  policy: EnvironmentPolicy,
  override: DeployOverride | undefined,
  context: CustodyContext,
): ModelDeploymentGates {
  const what = `${context.name} ${context.version}`;
  if (verdicts === undefined) return { verdict: 'not-recorded' };
  const failed = GATE_NAMES.filter((gate) => verdicts[gate] === false);
  if (failed.length > 0 && !override) {
    throw new ConfigurationError(
      `${what} is not deployed to ${context.environment}: its package records a failed ${failed.join(' and ')} gate (${verdicts.from})` +
        `${verdicts.packageOverride ? `, packaged anyway by ${verdicts.packageOverride.by}${verdicts.packageOverride.reason ? ` ("${verdicts.packageOverride.reason}")` : ''}` : ''}. ` +
        `Fix the model and package it again, or deploy it anyway with ${context.overrideHint}: the deployment record and the pull request then say so, with who decided.`,
    );
  }
  const missing = policy.requireVerdicts.filter((gate) => verdicts[gate] === undefined);
  if (missing.length > 0) {
    const none = GATE_NAMES.every((gate) => verdicts[gate] === undefined);
    throw new ConfigurationError(
      `${what} is not deployed to ${context.environment}: ${policy.file} requires verdicts of the ${policy.requireVerdicts.join(' and ')} gate${policy.requireVerdicts.length === 1 ? '' : 's'}, and ` +
        (none
          ? 'its package carries no gate report (unvalidated). Package it with the reports of its gates (package-model input reports, mlops package --reports).'
          : `its package carries no ${missing.join(' or ')} gate verdict. Package it with that gate's report.`),
    );
  }
  const gates: ModelDeploymentGates = {
    verdict:
      failed.length > 0
        ? 'overridden'
        : GATE_NAMES.every((gate) => verdicts[gate] === undefined)
          ? 'unvalidated'
          : 'passed',
    ...(verdicts.data !== undefined ? { data: verdicts.data } : {}),
    ...(verdicts.model !== undefined ? { model: verdicts.model } : {}),
    ...(Object.keys(verdicts.metrics).length > 0 ? { metrics: { ...verdicts.metrics } } : {}),
  };
  if (failed.length > 0 && override) {
    gates.override = {
      allowedFailed: failed,
      by: override.by,
      ...(override.reason ? { reason: override.reason } : {}),
      ...(verdicts.packageOverride
        ? {
            package: {
              by: verdicts.packageOverride.by,
              ...(verdicts.packageOverride.reason ? { reason: verdicts.packageOverride.reason } : {}),
            },
          }
        : {}),
    };
  }
  return gates;
}

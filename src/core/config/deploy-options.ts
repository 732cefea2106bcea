/**
 * The deployment's settings for one environment: flags and inputs win over mlops.yaml's `deploy:`
 * part, whose environment entry adds labels, reviewers, draft and target fields.
 */
import { AUTO_MERGE_METHODS, type AutoMergeMethod, type DeployTarget } from '../deploy/deploy.ts';
import { ConfigurationError } from '../errors.ts';
import type { LoadedConfig } from './config.ts';
import { parseChoice } from './data-options.ts';

export interface DeploySettings {
  repository: string;
  base: string;
  labels: string[];
  reviewers: string[];
  draft: boolean;
  autoMerge?: AutoMergeMethod;
  targets: DeployTarget[];
}

/** The settings an input or flag may give; each wins over mlops.yaml. Undefined (or an empty list): not given. */
export interface DeploySettingsRequest {
  /** The environment repository (owner/name, URL or path). */
  repository?: string;
  base?: string;
  labels?: string[];
  reviewers?: string[];
  draft?: boolean;
  autoMerge?: string;
}

/** Merges a request with the config's `deploy:` part for `environment`. */
export function resolveDeploySettings(
  request: DeploySettingsRequest,
  environment: string,
  loaded: LoadedConfig | undefined,
  names: { repository: string; autoMerge?: string },
): DeploySettings {
  const config = loaded?.config.deploy ?? {};
  const repository = request.repository ?? config.repository;
  if (!repository) {
    throw new ConfigurationError(
      `No environment repository: set ${names.repository}${loaded ? `, or deploy.repository in ${loaded.file}` : ''}.`,
      { key: names.repository },
    );
  }
  const entry = config.environments?.[environment];
  const autoMerge = request.autoMerge
    ? parseChoice(request.autoMerge, AUTO_MERGE_METHODS, names.autoMerge ?? 'auto-merge')
    : entry?.['auto-merge'];
  return {
    repository,
    base: request.base ?? config.base ?? 'main',
    labels: request.labels?.length ? request.labels : (entry?.labels ?? []),
    reviewers: request.reviewers?.length ? request.reviewers : (entry?.reviewers ?? []),
    draft: request.draft ?? entry?.draft ?? false,
    ...(autoMerge ? { autoMerge } : {}),
    targets: (entry?.targets ?? []).map((target) => ({
      file: target.file,
      field: target.field,
      value: target.value,
      ...(target.document !== undefined ? { selector: { documentIndex: target.document } } : {}),
    })),
  };
}

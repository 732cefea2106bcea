/**
 * deploy-pr: proposes a validated model package for an environment by a pull request in the
 * GitOps environment repository (created or updated, never duplicated; safe under concurrent runs).
 */
import * as core from '@actions/core';
import { resolveDeploySettings } from '../core/config/deploy-options.ts';
import { findConfig } from '../core/config/find-config.ts';
import { describeDeploymentGates } from '../core/report/render-deployment-pr.ts';
import { deploy, modelFromPackageRef, resolveRepository } from '../core/deploy/deploy.ts';
import { checkApiUrl, githubCredential } from '../core/deploy/transport.ts';
import { ConfigurationError } from '../core/errors.ts';
import { readActor } from '../core/package/lineage.ts';
import { createGitHubPulls } from '../github/pulls.ts';
import { getBooleanInput, getListInput, getOptionalInput, getRequiredInput } from './shared/inputs.ts';
import { runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/deploy-pr/action.yml). */
export const INPUTS = {
  environment: 'environment',
  packageRef: 'package-ref',
  repository: 'repository',
  base: 'base',
  modelName: 'model-name',
  modelVersion: 'model-version',
  token: 'token',
  labels: 'labels',
  reviewers: 'reviewers',
  draft: 'draft',
  apiUrl: 'api-url',
  config: 'config',
  promoteFrom: 'promote-from',
  autoMerge: 'auto-merge',
  packageDir: 'package-dir',
  packageToken: 'package-token',
  allowFailedGates: 'allow-failed-gates',
  overrideReason: 'override-reason',
  ociRef: 'oci-ref',
} as const;

/** Where package-model writes the package by default: read for references that cannot be fetched. */
const DEFAULT_PACKAGE_DIR = 'mlops-package';

export const OUTPUTS = {
  operation: 'operation',
  branch: 'branch',
  commit: 'commit',
  pullRequestNumber: 'pull-request-number',
  pullRequestUrl: 'pull-request-url',
} as const;

function getInputs() {
  return {
    environment: getRequiredInput(INPUTS.environment, 'the environment to deploy to, e.g. staging'),
    packageRef: getOptionalInput(INPUTS.packageRef),
    promoteFrom: getOptionalInput(INPUTS.promoteFrom),
    autoMerge: getOptionalInput(INPUTS.autoMerge),
    repository: getOptionalInput(INPUTS.repository),
    base: getOptionalInput(INPUTS.base),
    config: getOptionalInput(INPUTS.config),
    modelName: getOptionalInput(INPUTS.modelName),
    modelVersion: getOptionalInput(INPUTS.modelVersion),
    token: getRequiredInput(
      INPUTS.token,
      'a token that can push to the environment repository (GITHUB_TOKEN cannot: use a GitHub App token or a fine-grained PAT)',
    ),
    // Comma- or newline-separated: a label may hold spaces (good first issue).
    labels: getListInput(INPUTS.labels, 'lines-and-commas'),
    reviewers: getListInput(INPUTS.reviewers, 'lines-and-commas'),
    draft: getBooleanInput(INPUTS.draft),
    apiUrl: getOptionalInput(INPUTS.apiUrl),
    packageDir: getOptionalInput(INPUTS.packageDir),
    packageToken: getOptionalInput(INPUTS.packageToken),
    allowFailedGates: getBooleanInput(INPUTS.allowFailedGates) ?? false,
    overrideReason: getOptionalInput(INPUTS.overrideReason),
    ociRef: getOptionalInput(INPUTS.ociRef),
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  core.setSecret(inputs.token);
  if (inputs.packageToken) core.setSecret(inputs.packageToken);
  // An empty config input: the mlops.yaml at the repository root (the workspace), when there is one.
  const configFile = inputs.config ?? findConfig(process.cwd());
  const loaded = configFile
    ? await (await import('../core/config/config.ts')).loadConfig(configFile)
    : undefined;
  const settings = resolveDeploySettings(inputs, inputs.environment, loaded, {
    repository: `input "${INPUTS.repository}"`,
    autoMerge: `input "${INPUTS.autoMerge}"`,
  });
  const target = resolveRepository(settings.repository, process.env.GITHUB_SERVER_URL);
  const apiUrl = inputs.apiUrl
    ? checkApiUrl(inputs.apiUrl, `input "${INPUTS.apiUrl}"`)
    : process.env.GITHUB_API_URL
      ? checkApiUrl(process.env.GITHUB_API_URL, 'GITHUB_API_URL')
      : undefined;
  if (inputs.overrideReason && !inputs.allowFailedGates) {
    throw new ConfigurationError(
      `Input "${INPUTS.overrideReason}" goes with "${INPUTS.allowFailedGates}: true" (it says why failed gates are overridden).`,
    );
  }
  let packageRef = inputs.packageRef;
  let promoted:
    | Awaited<ReturnType<typeof import('../core/deploy/deployed-baseline.ts').resolvePromotion>>
    | undefined;
  if (inputs.promoteFrom) {
    // Promote: the package the source environment runs, with its digest, for this environment.
    if (!inputs.modelName) {
      throw new ConfigurationError(
        `Input "${INPUTS.promoteFrom}" needs "${INPUTS.modelName}": the model to promote.`,
      );
    }
    const { resolvePromotion } = await import('../core/deploy/deployed-baseline.ts');
    promoted = await resolvePromotion({
      repository: target.url,
      base: settings.base,
      environment: inputs.promoteFrom,
      model: inputs.modelName,
      auth: { token: inputs.token },
      hostEnv: process.env,
      expectedVersion: inputs.modelVersion,
    });
    packageRef = promoted.packageRef;
  }
  if (!packageRef) {
    throw new ConfigurationError(
      `Input "${INPUTS.packageRef}" is required (package-model's package-ref output), unless "${INPUTS.promoteFrom}" names the environment to promote from.`,
    );
  }
  const fromRef = promoted ?? modelFromPackageRef(packageRef);
  const name = inputs.modelName ?? fromRef?.name;
  const version = promoted?.version ?? inputs.modelVersion ?? fromRef?.version;
  if (!name || !version) {
    throw new ConfigurationError(
      `Cannot tell the model's name and version from the package reference (expected …/<name>-<version>.zip): set the inputs "${INPUTS.modelName}" and "${INPUTS.modelVersion}".`,
    );
  }
  const result = await deploy({
    repository: target.url,
    base: settings.base,
    environment: inputs.environment,
    model: { name, version },
    packageRef,
    packageAccess: {
      // The package's token (the workflow's: the release is this repository's) goes only to this
      // GitHub's server and API (release downloads), never elsewhere.
      credential: githubCredential(inputs.packageToken ?? inputs.token, {
        serverUrl: process.env.GITHUB_SERVER_URL,
        apiUrl,
      }),
      // A workflow artifact cannot be fetched: the package built in this job is read instead.
      localFolders: [inputs.packageDir ?? DEFAULT_PACKAGE_DIR],
    },
    ...(promoted && inputs.promoteFrom
      ? { promotedFrom: { environment: inputs.promoteFrom, record: promoted.record } }
      : {}),
    ...(inputs.allowFailedGates
      ? {
          allowFailedGates: {
            by: readActor(process.env),
            ...(inputs.overrideReason ? { reason: inputs.overrideReason } : {}),
          },
        }
      : {}),
    overrideHint: `input "${INPUTS.allowFailedGates}: true"`,
    deployedAt: new Date().toISOString(),
    auth: { token: inputs.token },
    hostEnv: process.env,
    pullRequests: createGitHubPulls({
      token: inputs.token,
      repository: target.fullName,
      apiUrl: apiUrl ?? 'https://api.github.com',
      apiUrlName: inputs.apiUrl ? `input "${INPUTS.apiUrl}"` : 'GITHUB_API_URL',
    }),
    labels: settings.labels,
    reviewers: settings.reviewers,
    draft: settings.draft,
    targets: settings.targets,
    ...(settings.autoMerge ? { autoMerge: settings.autoMerge } : {}),
    ...(inputs.ociRef
      ? {
          modelcar: {
            reference: inputs.ociRef,
            // Which package the image was made from: read with the workflow's token on ghcr.io only
            // (packages: read); other registries are read anonymously.
            inspect: async (reference: string) => {
              const { inspectImage } = await import('../core/oci/inspect.ts');
              const { parseOciReference } = await import('../core/oci/reference.ts');
              const token = inputs.packageToken ?? inputs.token;
              const ghcr = parseOciReference(reference).registry === 'ghcr.io';
              return inspectImage(reference, {
                ...(ghcr
                  ? { credential: { username: process.env.GITHUB_ACTOR ?? 'mlops', password: token } }
                  : {}),
              });
            },
          },
        }
      : {}),
  });
  core.setOutput(OUTPUTS.operation, result.operation);
  core.setOutput(OUTPUTS.branch, result.branch);
  if (result.commit) core.setOutput(OUTPUTS.commit, result.commit);
  if (result.pullRequestNumber !== undefined)
    core.setOutput(OUTPUTS.pullRequestNumber, String(result.pullRequestNumber));
  if (result.pullRequestUrl) core.setOutput(OUTPUTS.pullRequestUrl, result.pullRequestUrl);
  const line = `${result.operation}: ${name} ${version} → ${inputs.environment}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}${result.previousVersion ? `, replacing ${result.previousVersion}` : ''}`;
  core.info(`Deployment pull request ${line}`);
  const gates = describeDeploymentGates(result.gates);
  // Said where people look: an unvalidated package or failed gates deployed by override.
  if (result.gates?.verdict === 'unvalidated' || result.gates?.verdict === 'overridden') {
    core.warning(gates.replaceAll('*', '').replace(/\n+/g, ' '), { title: 'Deployment' });
  }
  await core.summary.addRaw(`## 🚀 Deployment pull request\n\n${line}\n\n${gates}\n`).write();
}

await runAction(main);

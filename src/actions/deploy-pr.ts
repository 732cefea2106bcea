/**
 * deploy-pr: proposes a validated model package for an environment by a pull request in the
 * GitOps environment repository (created or updated, never duplicated; safe under concurrent runs).
 */
import * as core from '@actions/core';
import { runDeployment } from '../core/flows/deployment.ts';
import { describeDeploymentGates } from '../core/report/render-deployment-pr.ts';
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

/** The inputs' names in messages, as a workflow author reads them. */
const NAMES = {
  config: `input "${INPUTS.config}"`,
  repository: `input "${INPUTS.repository}"`,
  autoMerge: `input "${INPUTS.autoMerge}"`,
  apiUrl: `input "${INPUTS.apiUrl}"`,
  packageRef: `input "${INPUTS.packageRef}"`,
  promoteFrom: `input "${INPUTS.promoteFrom}"`,
  modelName: `input "${INPUTS.modelName}"`,
  modelVersion: `input "${INPUTS.modelVersion}"`,
  allowFailedGates: `input "${INPUTS.allowFailedGates}: true"`,
  overrideReason: `input "${INPUTS.overrideReason}"`,
  ociRef: `input "${INPUTS.ociRef}"`,
};

async function main(): Promise<void> {
  const inputs = getInputs();
  core.setSecret(inputs.token);
  if (inputs.packageToken) core.setSecret(inputs.packageToken);
  const result = await runDeployment(
    {
      ...inputs,
      cwd: process.cwd(),
      // Without api-url and GITHUB_API_URL (outside a runner), GitHub's.
      defaultApiUrl: 'https://api.github.com',
      // A workflow artifact cannot be fetched: the package built in this job is read instead.
      packageFolders: [inputs.packageDir ?? DEFAULT_PACKAGE_DIR],
      // The modelcar's registry is read with the workflow's token on ghcr.io only (packages: read);
      // other registries anonymously.
      registry: {
        credential: {
          username: process.env.GITHUB_ACTOR ?? 'mlops',
          password: inputs.packageToken ?? inputs.token,
        },
        credentialRegistries: ['ghcr.io'],
      },
      hostEnv: process.env,
      names: NAMES,
    },
    {
      pullRequests: createGitHubPulls,
      logger: { info: core.info, warning: (message) => core.warning(message), debug: core.debug },
    },
  );
  const { name, version } = result.model;
  core.setOutput(OUTPUTS.operation, result.operation);
  core.setOutput(OUTPUTS.branch, result.branch);
  if (result.commit) core.setOutput(OUTPUTS.commit, result.commit);
  if (result.pullRequestNumber !== undefined)
    core.setOutput(OUTPUTS.pullRequestNumber, String(result.pullRequestNumber));
  if (result.pullRequestUrl) core.setOutput(OUTPUTS.pullRequestUrl, result.pullRequestUrl);
  const line = `${result.operation}: ${name} ${version} → ${result.environment}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}${result.previousVersion ? `, replacing ${result.previousVersion}` : ''}`;
  core.info(`Deployment pull request ${line}`);
  const gates = describeDeploymentGates(result.gates);
  // Said where people look: an unvalidated package or failed gates deployed by override.
  if (result.gates?.verdict === 'unvalidated' || result.gates?.verdict === 'overridden') {
    core.warning(gates.replaceAll('*', '').replace(/\n+/g, ' '), { title: 'Deployment' });
  }
  await core.summary.addRaw(`## 🚀 Deployment pull request\n\n${line}\n\n${gates}\n`).write();
}

await runAction(main);

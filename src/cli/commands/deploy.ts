/**
 * `mlops deploy`: the deployment flow (core/flows/deployment.ts) from flags; without a GitHub API,
 * the pull request that would be opened is recorded in a file.
 */
import { CONFIG_DEFAULT_HELP } from '../../core/config/find-config.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { writeJsonAtomic } from '../../core/files.ts';
import { describeDeploymentGates } from '../../core/report/render-deployment-pr.ts';
import { type Command, EXIT, listFlag, requireFlag, stringFlag } from '../cli.ts';
import { REGISTRY_ENV } from './oci.ts';

/** The flags' names in the deployment flow's messages. */
export const DEPLOY_FLAG_NAMES = {
  config: '--config',
  repository: '--repo',
  autoMerge: '--auto-merge',
  apiUrl: '--api-url',
  packageRef: '--package-ref',
  promoteFrom: '--promote-from',
  modelName: '--model',
  modelVersion: '--version',
  allowFailedGates: '--allow-failed-gates',
  overrideReason: '--override-reason',
  ociRef: '--oci-ref',
  plainHttp: '--plain-http',
};

/** Where the pull request that would be opened is recorded without an API. */
const DEFAULT_PR_FILE = 'mlops-deploy-pr.json';

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'Open or update the deployment pull request of a model package in the environment repository.',
  usage:
    'mlops deploy --env NAME --package-ref REF|FILE.zip --repo URL|owner/name|PATH [--oci-ref oci://…@sha256:…] [--model NAME --version V] [--base main] [--token-env NAME] [--api-url URL] [--package-dir DIR] [--allow-failed-gates [--override-reason TEXT]] [--label L]… [--reviewer R]… [--draft] [--pr-file F]',
  flags: {
    env: {
      type: 'string',
      value: 'name',
      description: 'The environment (a folder environments/<name>/ of the repository).',
    },
    'package-ref': {
      type: 'string',
      value: 'ref',
      description:
        'The package reference with its digest (…#sha256=… or …@sha256:…), or the path of a local archive (its sha256 is computed and printed).',
    },
    repo: {
      type: 'string',
      value: 'url',
      description:
        'The environment repository: owner/name on GitHub, an https URL, or a local path (/path/env.git, ./env) or file:// URL.',
    },
    'package-dir': {
      type: 'string',
      value: 'dir',
      multiple: true,
      description:
        'A folder holding the package archive (mlops package --out): where a reference that cannot be fetched (artifact://) is read from, by its digest.',
    },
    'allow-failed-gates': {
      type: 'boolean',
      description:
        'Deploy a package whose manifest records a failed gate (recorded, with who, in the deployment record and the pull request).',
    },
    'override-reason': {
      type: 'string',
      value: 'text',
      description: 'Why failed gates are overridden (recorded with --allow-failed-gates).',
    },
    model: {
      type: 'string',
      value: 'name',
      description: 'Model name (default: from the package file name <name>-<version>.zip).',
    },
    version: {
      type: 'string',
      value: 'semver',
      description:
        'Model version (default: from the package file name). With --promote-from: the version the source environment must run.',
    },
    base: {
      type: 'string',
      value: 'branch',
      description: 'The branch the pull request targets (default main).',
    },
    'token-env': {
      type: 'string',
      value: 'NAME',
      description:
        'Environment variable holding the token (default GITHUB_TOKEN); never a flag, so it stays out of shell history.',
    },
    'api-url': {
      type: 'string',
      value: 'url',
      description: 'GitHub API URL (default GITHUB_API_URL); without one, no pull request is opened.',
    },
    label: { type: 'string', value: 'label', multiple: true, description: 'A pull-request label.' },
    reviewer: { type: 'string', value: 'login', multiple: true, description: 'A reviewer to request.' },
    draft: { type: 'boolean', description: 'Open the pull request as a draft.' },
    config: {
      type: 'string',
      value: 'file',
      description: `mlops.yaml whose deploy: part sets repository, base, labels, reviewers, targets${CONFIG_DEFAULT_HELP}`,
    },
    'auto-merge': {
      type: 'string',
      value: 'method',
      description: "Turn on GitHub's auto-merge: merge, squash or rebase.",
    },
    'promote-from': {
      type: 'string',
      value: 'env',
      description:
        'Promote: propose the version running in this environment (e.g. staging) for --env (needs --model).',
    },
    'oci-ref': {
      type: 'string',
      value: 'ref',
      description:
        "The package's KServe modelcar, pinned by digest (mlops oci push --modelcar: oci://<registry>/<repository>@sha256:…): recorded next to the package; targets use it as {modelcar} or {storageUri}.",
    },
    'plain-http': {
      type: 'boolean',
      description: "Read --oci-ref's registry over plain http (a registry on this machine only).",
    },
    'pr-file': {
      type: 'string',
      value: 'file',
      description:
        'Without an API: where to write the pull request that would be opened (default mlops-deploy-pr.json).',
    },
  },
  details:
    'The branch mlops/deploy/<env>/<model> is rebuilt from the base and pushed with a lease; concurrent runs retry, the newest version wins.\n' +
    "Gate verdicts, metrics and the source commit are read from the package's manifest; a failed gate is refused without --allow-failed-gates,\n" +
    'a package without gate reports is deployed as unvalidated unless environments/<env>/policy.yaml says require-verdicts: true.\n' +
    'The token (GITHUB_TOKEN, or --token-env) goes only to the GitHub server and API hosts and the environment repository, over https.\n' +
    'Exit 0 on created/updated/unchanged/closed, 2 for a usage error, a refused package or a refused token.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runDeployment } = await import('../../core/flows/deployment.ts');
    const environment = requireFlag(context, 'env', 'deploy');
    const tokenVariable = stringFlag(context, 'token-env') ?? 'GITHUB_TOKEN';
    const token = process.env[tokenVariable];
    if (stringFlag(context, 'token-env') && !token) {
      throw new ConfigurationError(`mlops deploy: the variable ${tokenVariable} (--token-env) is empty.`);
    }
    const prFile = stringFlag(context, 'pr-file');
    const registryPassword = process.env[REGISTRY_ENV.password];
    const result = await runDeployment(
      {
        environment,
        packageRef: stringFlag(context, 'package-ref'),
        acceptArchivePath: true,
        promoteFrom: stringFlag(context, 'promote-from'),
        modelName: stringFlag(context, 'model'),
        modelVersion: stringFlag(context, 'version'),
        repository: stringFlag(context, 'repo'),
        base: stringFlag(context, 'base'),
        labels: listFlag(context, 'label'),
        reviewers: listFlag(context, 'reviewer'),
        draft: context.flags.draft === true ? true : undefined,
        autoMerge: stringFlag(context, 'auto-merge'),
        config: stringFlag(context, 'config'),
        cwd: process.cwd(),
        token,
        apiUrl: stringFlag(context, 'api-url'),
        packageFolders: listFlag(context, 'package-dir'),
        allowFailedGates: context.flags['allow-failed-gates'] === true,
        overrideReason: stringFlag(context, 'override-reason'),
        ociRef: stringFlag(context, 'oci-ref'),
        // The modelcar's registry is read with the registry credential of mlops oci.
        registry: {
          plainHttp: context.flags['plain-http'] === true,
          ...(registryPassword
            ? {
                credential: {
                  username: process.env[REGISTRY_ENV.username] ?? 'mlops',
                  password: registryPassword,
                },
              }
            : {}),
        },
        ...(prFile ? { outputFiles: [{ path: prFile, label: '--pr-file' }] } : {}),
        hostEnv: process.env,
        names: DEPLOY_FLAG_NAMES,
      },
      {
        // Octokit is loaded only when there is an API to talk to.
        pullRequests: async (options) => (await import('../../github/pulls.ts')).createGitHubPulls(options),
        logger: { ...context.logger, info: (message) => context.print(`${message}\n`) },
      },
    );
    const { name, version } = result.model;
    if (!result.pullRequestApi) {
      // No API: record the pull request that would be opened (the demo reads it).
      const file = prFile ?? DEFAULT_PR_FILE;
      await writeJsonAtomic(file, {
        repository: result.repository.fullName,
        head: result.branch,
        base: result.base,
        title: result.proposal?.title ?? `Deploy ${name} ${version} to ${environment}`,
        body: result.proposal?.body ?? null,
        labels: result.labels,
        reviewers: result.reviewers,
        commit: result.commit ?? null,
        previousVersion: result.previousVersion ?? null,
      });
      context.print(
        `No GitHub API configured: pushed ${result.branch}; the pull request it would open is in ${file}.\n`,
      );
    }
    context.print(
      `${result.operation}: ${name} ${version} → ${environment} on ${result.branch}${result.pullRequestUrl ? ` (${result.pullRequestUrl})` : ''}\n` +
        `${describeDeploymentGates(result.gates).replaceAll('**', '')}\n`,
    );
    context.result({
      operation: result.operation,
      branch: result.branch,
      ...(result.pullRequestNumber !== undefined ? { pullRequestNumber: result.pullRequestNumber } : {}),
      ...(result.pullRequestUrl ? { pullRequestUrl: result.pullRequestUrl } : {}),
      commit: result.commit ?? null,
      gates: result.gates ?? null,
    });
    return EXIT.passed;
  },
};

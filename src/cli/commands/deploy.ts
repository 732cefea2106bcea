import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveDeploySettings } from '../../core/config/deploy-options.ts';
import { CONFIG_DEFAULT_HELP, findConfig } from '../../core/config/find-config.ts';
import { describeDeploymentGates } from '../../core/report/render-deployment-pr.ts';
import { deploy, modelFromPackageRef, resolveRepository } from '../../core/deploy/deploy.ts';
import type { ModelDeployment } from '../../core/deploy/model-reference.ts';
import { checkApiUrl, githubCredential } from '../../core/deploy/transport.ts';
import { ConfigurationError, InputError } from '../../core/errors.ts';
import { checkOutputPath, writeJsonAtomic } from '../../core/files.ts';
import { readActor } from '../../core/package/lineage.ts';
import { type Command, type CommandContext, EXIT, listFlag, requireFlag, stringFlag } from '../cli.ts';
import { REGISTRY_ENV } from './oci.ts';

/** The package running in `environment` (for promote), from the environment repository. */
async function readPromotion(
  context: CommandContext,
  environment: string,
): Promise<{ name: string; version: string; packageRef: string; record: ModelDeployment }> {
  const model = stringFlag(context, 'model');
  if (!model)
    throw new ConfigurationError('mlops deploy --promote-from: give --model NAME (the model to promote).');
  const configFile = stringFlag(context, 'config') ?? findConfig(process.cwd());
  const loaded = configFile
    ? await (await import('../../core/config/config.ts')).loadConfig(configFile)
    : undefined;
  const repository = stringFlag(context, 'repo') ?? loaded?.config.deploy?.repository;
  if (!repository)
    throw new ConfigurationError(
      'mlops deploy --promote-from: give --repo (or deploy.repository in --config).',
    );
  const token = process.env[stringFlag(context, 'token-env') ?? 'GITHUB_TOKEN'];
  const { resolvePromotion } = await import('../../core/deploy/deployed-baseline.ts');
  return resolvePromotion({
    repository: resolveRepository(repository, process.env.GITHUB_SERVER_URL).url,
    base: stringFlag(context, 'base') ?? loaded?.config.deploy?.base,
    environment,
    model,
    ...(token ? { auth: { token } } : {}),
    hostEnv: process.env,
    expectedVersion: stringFlag(context, 'version'),
  });
}

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
    const promoteFrom = stringFlag(context, 'promote-from');
    let packageRef = stringFlag(context, 'package-ref');
    let promoted: Awaited<ReturnType<typeof readPromotion>> | undefined;
    if (promoteFrom) {
      promoted = await readPromotion(context, promoteFrom);
      packageRef = promoted.packageRef;
    }
    if (!packageRef)
      throw new ConfigurationError(
        'mlops deploy: --package-ref is required (or --promote-from ENV with --model).',
      );
    packageRef = await resolveLocalPackageRef(packageRef, context.print);
    const fromRef = promoted ?? modelFromPackageRef(packageRef);
    const name = stringFlag(context, 'model') ?? fromRef?.name;
    const version = (promoted ? undefined : stringFlag(context, 'version')) ?? fromRef?.version;
    if (!name || !version) {
      throw new ConfigurationError(
        'mlops deploy: cannot tell the model name and version from the package reference (…/<name>-<version>.zip): pass --model and --version.',
      );
    }
    const tokenVariable = stringFlag(context, 'token-env') ?? 'GITHUB_TOKEN';
    const token = process.env[tokenVariable];
    if (stringFlag(context, 'token-env') && !token) {
      throw new ConfigurationError(`mlops deploy: the variable ${tokenVariable} (--token-env) is empty.`);
    }
    const configFile = stringFlag(context, 'config') ?? findConfig(process.cwd());
    const loaded = configFile
      ? await (await import('../../core/config/config.ts')).loadConfig(configFile)
      : undefined;
    const prFile = stringFlag(context, 'pr-file');
    if (prFile) checkOutputPath(prFile, [loaded && { label: '--config', path: loaded.file }], '--pr-file');
    const environment = requireFlag(context, 'env', 'deploy');
    const settings = resolveDeploySettings(
      {
        repository: stringFlag(context, 'repo'),
        base: stringFlag(context, 'base'),
        labels: listFlag(context, 'label'),
        reviewers: listFlag(context, 'reviewer'),
        draft: context.flags.draft === true ? true : undefined,
        autoMerge: stringFlag(context, 'auto-merge'),
      },
      environment,
      loaded,
      { repository: '--repo', autoMerge: '--auto-merge' },
    );
    const target = resolveRepository(settings.repository, process.env.GITHUB_SERVER_URL);
    const apiFlag = stringFlag(context, 'api-url');
    const apiUrl = apiFlag
      ? checkApiUrl(apiFlag, '--api-url')
      : process.env.GITHUB_API_URL
        ? checkApiUrl(process.env.GITHUB_API_URL, 'GITHUB_API_URL')
        : undefined;
    const allowFailedGates = context.flags['allow-failed-gates'] === true;
    const reason = stringFlag(context, 'override-reason');
    if (reason && !allowFailedGates) {
      throw new ConfigurationError('mlops deploy: --override-reason goes with --allow-failed-gates.');
    }
    // Octokit is loaded only when there is an API to talk to.
    const { createGitHubPulls } =
      apiUrl && token ? await import('../../github/pulls.ts') : { createGitHubPulls: undefined };
    const { labels, reviewers } = settings;
    const ociRef = stringFlag(context, 'oci-ref');
    const plainHttp = context.flags['plain-http'] === true;
    if (plainHttp && !ociRef) throw new ConfigurationError('mlops deploy: --plain-http goes with --oci-ref.');
    const result = await deploy({
      repository: target.url,
      base: settings.base,
      environment,
      model: { name, version },
      packageRef,
      packageAccess: {
        ...(token
          ? { credential: githubCredential(token, { serverUrl: process.env.GITHUB_SERVER_URL, apiUrl }) }
          : {}),
        localFolders: listFlag(context, 'package-dir'),
      },
      ...(promoted && promoteFrom
        ? { promotedFrom: { environment: promoteFrom, record: promoted.record } }
        : {}),
      ...(allowFailedGates
        ? { allowFailedGates: { by: readActor(process.env), ...(reason ? { reason } : {}) } }
        : {}),
      overrideHint: '--allow-failed-gates',
      deployedAt: new Date().toISOString(),
      ...(token ? { auth: { token } } : {}),
      hostEnv: process.env,
      ...(apiUrl && token && createGitHubPulls
        ? {
            pullRequests: createGitHubPulls({
              token,
              repository: target.fullName,
              apiUrl,
              apiUrlName: apiFlag ? '--api-url' : 'GITHUB_API_URL',
            }),
          }
        : {}),
      labels,
      reviewers,
      draft: settings.draft,
      targets: settings.targets,
      ...(settings.autoMerge ? { autoMerge: settings.autoMerge } : {}),
      ...(ociRef
        ? {
            modelcar: {
              reference: ociRef,
              // Which package the image was made from, read with the registry credential of mlops oci.
              inspect: async (reference: string) => {
                const { inspectImage } = await import('../../core/oci/inspect.ts');
                const password = process.env[REGISTRY_ENV.password];
                return inspectImage(reference, {
                  plainHttp,
                  ...(password
                    ? { credential: { username: process.env[REGISTRY_ENV.username] ?? 'mlops', password } }
                    : {}),
                });
              },
            },
          }
        : {}),
    });
    if (!(apiUrl && token)) {
      // No API: record the pull request that would be opened (the demo reads it).
      const file = stringFlag(context, 'pr-file') ?? 'mlops-deploy-pr.json';
      await writeJsonAtomic(file, {
        repository: target.fullName,
        head: result.branch,
        base: settings.base,
        title: result.proposal?.title ?? `Deploy ${name} ${version} to ${environment}`,
        body: result.proposal?.body ?? null,
        labels,
        reviewers,
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

/**
 * A package reference, or the path of a local archive: a path (with or without a digest) becomes a
 * `file://` reference with the archive's sha256, computed here and printed (a digest given with the
 * path is checked when the package is read).
 */
async function resolveLocalPackageRef(ref: string, print: (text: string) => void): Promise<string> {
  const text = ref.trim();
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) && !/^[A-Za-z]:[\\/]/.test(text)) return text;
  const [path, digest] = text.split(/#sha256=|@sha256:/);
  const absolute = resolve(path);
  const url = pathToFileURL(absolute).href;
  if (digest !== undefined) return `${url}#sha256=${digest}`;
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) {
    throw new InputError(
      `mlops deploy: --package-ref "${ref}" is neither a reference with a digest (…#sha256=…) nor a package archive on disk.`,
      { key: '--package-ref' },
    );
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absolute)) hash.update(chunk as Uint8Array);
  const sha256 = hash.digest('hex');
  print(`Package ${path}: sha256 ${sha256}\n`);
  return `${url}#sha256=${sha256}`;
}

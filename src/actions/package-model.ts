/**
 * package-model: builds the model package (folder, reproducible archive, manifest, model card,
 * provenance), uploads the archive as a workflow artifact, and on tag pushes (release: true)
 * publishes it to the tag's GitHub Release. Outputs the package reference the deployment step
 * writes into the environment repository.
 */
import { basename } from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../core/errors.ts';
import { runPackage } from '../core/flows/package.ts';
import { escapeMarkdown } from '../core/markdown.ts';
import { PACKAGE_FILES } from '../core/package/build-package.ts';
import type { Lineage } from '../core/package/lineage.ts';
import { getBooleanInput, getNumberInput, getOptionalInput, getRequiredInput } from './shared/inputs.ts';
import { runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/package-model/action.yml). */
export const INPUTS = {
  model: 'model',
  name: 'name',
  version: 'version',
  reports: 'reports',
  profile: 'profile',
  contract: 'contract',
  out: 'out',
  upload: 'upload',
  artifactName: 'artifact-name',
  retentionDays: 'retention-days',
  release: 'release',
  releaseTag: 'release-tag',
  overwrite: 'overwrite',
  token: 'token',
  allowFailedGates: 'allow-failed-gates',
  overrideReason: 'override-reason',
  oci: 'oci',
  ociModelcar: 'oci-modelcar',
  ociBaseImage: 'oci-base-image',
  ociUsername: 'oci-username',
  ociPassword: 'oci-password',
  ociPlainHttp: 'oci-plain-http',
} as const;

export const OUTPUTS = {
  directory: 'directory',
  archive: 'archive',
  digest: 'digest',
  manifest: 'manifest',
  version: 'version',
  packageRef: 'package-ref',
  artifactId: 'artifact-id',
  artifactUrl: 'artifact-url',
  releaseUrl: 'release-url',
  ociReference: 'oci-reference',
  ociDigest: 'oci-digest',
  modelcarReference: 'modelcar-reference',
  modelcarDigest: 'modelcar-digest',
  modelcarUri: 'modelcar-uri',
} as const;

function getInputs() {
  return {
    model: getRequiredInput(INPUTS.model, 'the .onnx file to package'),
    name: getRequiredInput(INPUTS.name, 'the package name, e.g. churn-classifier'),
    version: getOptionalInput(INPUTS.version),
    reports: getOptionalInput(INPUTS.reports),
    profile: getOptionalInput(INPUTS.profile),
    contract: getOptionalInput(INPUTS.contract),
    out: getOptionalInput(INPUTS.out) ?? 'mlops-package',
    upload: getBooleanInput(INPUTS.upload) ?? true,
    artifactName: getOptionalInput(INPUTS.artifactName),
    // Days, as GitHub keeps artifacts: 1 to 90.
    retentionDays: getNumberInput(INPUTS.retentionDays, { integer: true, min: 1, max: 90 }),
    release: getBooleanInput(INPUTS.release) ?? false,
    releaseTag: getOptionalInput(INPUTS.releaseTag),
    overwrite: getBooleanInput(INPUTS.overwrite) ?? false,
    token: getOptionalInput(INPUTS.token),
    allowFailedGates: getBooleanInput(INPUTS.allowFailedGates) ?? false,
    overrideReason: getOptionalInput(INPUTS.overrideReason),
    oci: getOptionalInput(INPUTS.oci),
    ociModelcar: getBooleanInput(INPUTS.ociModelcar) ?? true,
    ociBaseImage: getOptionalInput(INPUTS.ociBaseImage),
    ociUsername: getOptionalInput(INPUTS.ociUsername),
    ociPassword: getOptionalInput(INPUTS.ociPassword),
    ociPlainHttp: getBooleanInput(INPUTS.ociPlainHttp) ?? false,
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  let tag: string | undefined;
  let pushedTag: string | undefined;
  let ociCredential: { username: string; password: string } | undefined;
  const built = await runPackage(
    {
      ...inputs,
      cwd: process.cwd(),
      hostEnv: process.env,
      names: {
        model: `input "${INPUTS.model}"`,
        reports: `input "${INPUTS.reports}"`,
        profile: `input "${INPUTS.profile}"`,
        contract: `input "${INPUTS.contract}"`,
        out: `input "${INPUTS.out}"`,
        allowFailedGates: `input "${INPUTS.allowFailedGates}: true"`,
        overrideReason: `input "${INPUTS.overrideReason}"`,
      },
    },
    {
      // Before any work: what this action could not publish afterwards is refused now.
      async admit(lineage) {
        ({ tag, pushedTag } = checkRelease(inputs, lineage));
        if (inputs.ociBaseImage && !inputs.oci) {
          throw new ConfigurationError(
            `Input "${INPUTS.ociBaseImage}" is set but "${INPUTS.oci}" is not: name the registry reference to push to (e.g. ghcr.io/\${{ github.repository_owner }}/<name>), or remove ${INPUTS.ociBaseImage}.`,
          );
        }
        // A reference that cannot be pushed to is refused now, not after packaging.
        ociCredential = inputs.oci ? await resolveOciCredential(inputs) : undefined;
      },
    },
  );
  const { lineage } = built;
  const { name, version } = built.manifest.package;
  core.setOutput(OUTPUTS.directory, built.directory);
  core.setOutput(OUTPUTS.archive, built.archive);
  core.setOutput(OUTPUTS.digest, built.digest);
  core.setOutput(OUTPUTS.manifest, `${built.directory}/${PACKAGE_FILES.manifest}`);
  core.setOutput(OUTPUTS.version, version);
  core.info(`Packaged ${name} ${version}: ${built.archive} (sha256:${built.digest})`);
  const gates = built.gates;
  core.info(`Gates: ${gates}`);
  if (built.gatesNeedAttention) core.warning(`${name} ${version}: gates ${gates}.`, { title: 'Package' });

  let packageRef = built.packageRef;
  const summary = [
    `## 📦 ${name} ${version}`,
    '',
    `Package digest: \`sha256:${built.digest}\``,
    '',
    `Gates: ${escapeMarkdown(gates)}`,
    '',
  ];
  if (inputs.upload) {
    const { uploadPackageArtifact } = await import('./shared/upload-artifact.ts');
    const artifactName = inputs.artifactName ?? `${name}-${version}`;
    const artifact = await uploadPackageArtifact({
      archive: built.archive,
      name: artifactName,
      retentionDays: inputs.retentionDays,
    });
    core.setOutput(OUTPUTS.artifactId, String(artifact.artifactId));
    core.setOutput(OUTPUTS.artifactUrl, artifact.artifactUrl);
    packageRef = `artifact://${process.env.GITHUB_RUN_ID ?? 'local'}/${artifactName}@sha256:${built.digest}`;
    summary.push(`- workflow artifact [${artifactName}](${artifact.artifactUrl})`);
  }
  if (inputs.release && tag && inputs.token) {
    const { publishToRelease } = await import('./shared/publish-release.ts');
    const repository = lineage.repository;
    if (!repository)
      throw new ConfigurationError('release: true needs GITHUB_REPOSITORY (set by the runner).');
    const { digestFile } = await import('../core/digest.ts');
    const manifestPath = `${built.directory}/${PACKAGE_FILES.manifest}`;
    const files = [
      {
        path: built.archive,
        name: basename(built.archive),
        sha256: built.digest,
        contentType: 'application/zip',
      },
      {
        path: manifestPath,
        name: `${name}-${version}.manifest.json`,
        sha256: (await digestFile(manifestPath)).sha256,
        contentType: 'application/json',
      },
      {
        path: built.provenance,
        name: `${name}-${version}.intoto.json`,
        sha256: (await digestFile(built.provenance)).sha256,
        contentType: 'application/json',
      },
    ];
    const release = await publishToRelease({
      token: inputs.token,
      repository,
      tag,
      files,
      overwrite: inputs.overwrite,
      releaseName: `${name} ${version}`,
      // A tag this run names (not one that was pushed) is created at this run's commit, as a
      // prerelease: a candidate until a person tags a version.
      ...(inputs.releaseTag && inputs.releaseTag !== pushedTag && lineage.commit
        ? { create: { targetCommitish: lineage.commit, prerelease: true } }
        : {}),
      body: `Model package ${name} ${version}, digest \`sha256:${built.digest}\`. Verify with \`mlops package verify ${basename(built.archive)}\`.`,
    });
    core.setOutput(OUTPUTS.releaseUrl, release.releaseUrl);
    const archiveAsset = release.assets.find((a) => a.name === basename(built.archive));
    if (archiveAsset) packageRef = `${archiveAsset.url}#sha256=${built.digest}`;
    summary.push(
      `- release [${tag}](${release.releaseUrl}): ${release.assets.map((a) => `${a.name} (${a.action})`).join(', ')}`,
    );
  }
  if (inputs.oci) {
    const { pushPackage } = await import('../core/oci/push.ts');
    const pushed = await pushPackage({
      package: built.directory,
      to: inputs.oci,
      archiveSha256: built.digest,
      plainHttp: inputs.ociPlainHttp,
      ...(ociCredential ? { credential: ociCredential } : {}),
      credentialHint: `set the inputs "${INPUTS.ociUsername}" and "${INPUTS.ociPassword}" (for ghcr.io the workflow token works: permissions: packages: write).`,
      modelcar: inputs.ociModelcar,
      ...(inputs.ociBaseImage ? { baseImage: inputs.ociBaseImage } : {}),
      logger: { info: core.info, warning: (message) => core.warning(message), debug: core.debug },
    });
    core.setOutput(OUTPUTS.ociReference, pushed.reference);
    core.setOutput(OUTPUTS.ociDigest, pushed.digest);
    core.info(`Pushed ${pushed.reference} (${pushed.digest}).`);
    summary.push(`- OCI (ModelPack): \`${pushed.reference}@${pushed.digest}\``);
    if (pushed.modelcar) {
      core.setOutput(OUTPUTS.modelcarReference, pushed.modelcar.reference);
      core.setOutput(OUTPUTS.modelcarDigest, pushed.modelcar.digest);
      core.setOutput(OUTPUTS.modelcarUri, pushed.modelcar.uri);
      core.info(`Pushed the modelcar ${pushed.modelcar.reference} (${pushed.modelcar.digest}).`);
      summary.push(`- KServe modelcar: \`${pushed.modelcar.uri}\``);
    }
    for (const note of pushed.notes) core.warning(note, { title: 'OCI push' });
  }
  core.setOutput(OUTPUTS.packageRef, packageRef);
  summary.push('', `Package reference: \`${packageRef}\``, '');
  await core.summary.addRaw(summary.join('\n')).write();
}

/**
 * The release this run publishes to (`release-tag`, else the pushed tag), refusing what cannot be
 * published: a release-tag without release, a tag name GitHub would not take, release on a run that
 * is not a tag push, or no token to publish with.
 */
function checkRelease(
  inputs: ReturnType<typeof getInputs>,
  lineage: Lineage,
): { tag?: string; pushedTag?: string } {
  const pushedTag = lineage.ref?.startsWith('refs/tags/')
    ? lineage.ref.slice('refs/tags/'.length)
    : undefined;
  // release-tag: a release of its own for runs that are not tag pushes (continuous training).
  const tag = inputs.releaseTag ?? pushedTag;
  if (inputs.releaseTag && !inputs.release) {
    throw new ConfigurationError(
      `Input "${INPUTS.releaseTag}" is set but "${INPUTS.release}" is false: set release: true to publish to ${inputs.releaseTag}, or remove release-tag.`,
    );
  }
  if (inputs.releaseTag !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(inputs.releaseTag)) {
    throw new ConfigurationError(
      `Input "${INPUTS.releaseTag}" must be a tag name of letters, digits, ".", "_", "+" and "-" (e.g. churn-1.4.1-ct.7); got "${inputs.releaseTag}".`,
    );
  }
  if (inputs.release && !tag) {
    throw new ConfigurationError(
      `release: true publishes to the pushed tag's GitHub Release, but this run's ref is ${lineage.ref ?? 'unknown'}, not a tag. Run the step on tag pushes only (if: startsWith(github.ref, 'refs/tags/v')), or name a release with "${INPUTS.releaseTag}".`,
    );
  }
  if (inputs.release && !inputs.token) {
    throw new ConfigurationError(
      `release: true needs a token with contents: write (input "${INPUTS.token}", default github.token).`,
    );
  }
  return { tag, pushedTag };
}

/**
 * The registry credential: `oci-password` (with `oci-username`), or for ghcr.io (and a GitHub
 * Enterprise Server's containers.<host>) the workflow token of input `token`. Another registry never
 * gets the workflow token; without a password it is reached anonymously.
 */
async function resolveOciCredential(
  inputs: ReturnType<typeof getInputs>,
): Promise<{ username: string; password: string } | undefined> {
  const { parseOciReference } = await import('../core/oci/reference.ts');
  const { registry } = parseOciReference(inputs.oci ?? '', `Input "${INPUTS.oci}"`);
  const username = inputs.ociUsername ?? process.env.GITHUB_ACTOR ?? 'mlops';
  if (inputs.ociPassword) {
    core.setSecret(inputs.ociPassword);
    return { username, password: inputs.ociPassword };
  }
  const server = process.env.GITHUB_SERVER_URL ? new URL(process.env.GITHUB_SERVER_URL).host : 'github.com';
  const githubRegistry =
    registry === 'ghcr.io' || (server !== 'github.com' && registry === `containers.${server}`);
  if (githubRegistry && inputs.token) return { username, password: inputs.token };
  return undefined;
}

await runAction(main);

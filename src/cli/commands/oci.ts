import { ConfigurationError } from '../../core/errors.ts';
import type { OciCredentialRequest, OciNames, OciPorts } from '../../core/flows/oci.ts';
import { DEFAULT_BASE_IMAGE, DEFAULT_PLATFORMS, REGISTRY_ENV } from '../../core/oci/defaults.ts';
import { type Command, EXIT, listFlag, requireFlag, stringFlag } from '../cli.ts';

/** Where the CLI reads a registry credential from (the flow's variables; `mlops deploy` reads them too). */
export { REGISTRY_ENV };

const CREDENTIAL_HINT = `set ${REGISTRY_ENV.username} and ${REGISTRY_ENV.password} (a token; for ghcr.io a GitHub token with packages: write), or pass --username and the password on stdin with --password-stdin.`;

/** The flags as the OCI flow's messages name them (the flow's test uses them too). */
export const OCI_FLAG_NAMES: OciNames = {
  command: 'mlops oci',
  username: '--username',
  passwordStdin: '--password-stdin',
  baseImage: '--base-image',
  platform: '--platform',
  modelcar: '--modelcar',
  credentialHint: CREDENTIAL_HINT,
};

/** `mlops oci push|pull`: model packages in OCI registries (ModelPack artifacts, KServe modelcars). */
export const ociCommand: Command = {
  name: 'oci',
  takesArguments: true,
  summary: 'Push a package to an OCI registry (ModelPack artifact, KServe modelcar), or pull one back.',
  usage:
    'mlops oci push --package <folder|archive.zip> --to <registry>/<repository>[:<tag>] [--modelcar [--base-image REF] [--platform os/arch]] [--plain-http] [--username U --password-stdin]\n' +
    '       mlops oci pull <registry>/<repository>:<tag>|@sha256:<digest> --out <folder> [--plain-http]',
  flags: {
    package: { type: 'string', value: 'path', description: 'push: the package folder or its .zip archive.' },
    to: {
      type: 'string',
      value: 'ref',
      description:
        'push: <registry>/<repository>[:<tag>] (default tag: the package version), e.g. ghcr.io/org/churn.',
    },
    modelcar: {
      type: 'boolean',
      description:
        'push: also push a runnable KServe modelcar image at <tag>-modelcar (storageUri: oci://…).',
    },
    'base-image': {
      type: 'string',
      value: 'ref',
      description: `push: the modelcar's base image, pinned by digest (needs sh, ln, sleep; default ${DEFAULT_BASE_IMAGE.split('@')[0]}@…).`,
    },
    platform: {
      type: 'string',
      value: 'os/arch',
      multiple: true,
      description: `push: platforms taken from a multi-platform base (default ${DEFAULT_PLATFORMS.join(', ')}).`,
    },
    out: { type: 'string', value: 'dir', description: 'pull: the package folder to write (must not exist).' },
    'plain-http': {
      type: 'boolean',
      description: 'Talk plain http to a registry on this machine (127.0.0.1, ::1, localhost only).',
    },
    username: {
      type: 'string',
      value: 'name',
      description: `The registry user (default $${REGISTRY_ENV.username}; the password from $${REGISTRY_ENV.password} or --password-stdin).`,
    },
    'password-stdin': {
      type: 'boolean',
      description: 'Read the registry password or token from stdin (never give it as a flag).',
    },
  },
  details:
    'push writes a CNCF ModelPack artifact: the model and its external data as raw weight layers (each digest is\n' +
    "the file's sha256 in the package manifest), manifest.json and signature.json as weight-config layers, the\n" +
    'model card, reports and provenance as doc layers, each titled with its path; the provenance is attached as a\n' +
    'referrer (the referrers API, or the sha256-<digest> tag on registries without it). The same package gives the\n' +
    'same digests; blobs and manifests the registry has are not sent again.\n' +
    'A credential goes only to the registry named in --to and the token service its challenge names, over https.\n' +
    'Exit codes: 0 pushed or pulled, 2 a usage, package or registry error (the message says what to fix).',
  async run(context) {
    const [action, ...rest] = context.positionals;
    if (action === 'push') {
      if (rest.length > 0) {
        throw new ConfigurationError(
          `mlops oci push: unexpected argument "${rest[0]}" (the package goes after --package). Run \`mlops oci --help\`.`,
        );
      }
      return push(context);
    }
    if (action === 'pull') return pull(context, rest);
    throw new ConfigurationError(
      action === undefined
        ? 'mlops oci: say push or pull, e.g. `mlops oci push --package package/churn-1.2.0 --to ghcr.io/org/churn`. Run `mlops oci --help`.'
        : `mlops oci: unknown subcommand "${action}" (push or pull). Run \`mlops oci --help\`.`,
    );
  },
};

async function push(context: Parameters<Command['run']>[0]): Promise<number> {
  // Loaded when the command runs, so `mlops --help` and the other commands start without it.
  const { runOciPush } = await import('../../core/flows/oci.ts');
  const result = await runOciPush(
    {
      package: requireFlag(context, 'package', 'oci push'),
      to: requireFlag(context, 'to', 'oci push'),
      modelcar: context.flags.modelcar === true,
      baseImage: stringFlag(context, 'base-image'),
      platforms: listFlag(context, 'platform'),
      ...credentialRequest(context),
    },
    ports(context),
  );
  const { stats } = result;
  const lines = [`Pushed ${result.reference}`, `  digest      ${result.digest} (${result.artifactType})`];
  if (result.modelcar) {
    lines.push(
      `  modelcar    ${result.modelcar.reference} (${result.modelcar.digest}; ${result.modelcar.platforms.join(', ')})`,
      `  storageUri  ${result.modelcar.uri}`,
    );
  }
  for (const referrer of result.referrers) {
    lines.push(
      `  provenance  ${referrer.digest} attached to ${referrer.subject.slice(0, 19)}… (${referrer.via === 'api' ? 'referrers API' : `tag ${referrer.subject.replace(':', '-').slice(0, 19)}…`})`,
    );
  }
  lines.push(
    `  blobs       ${stats.blobsUploaded} sent (${formatBytes(stats.bytesUploaded)}), ${stats.blobsExisting} already there${stats.blobsMounted ? `, ${stats.blobsMounted} mounted` : ''}; manifests ${stats.manifestsPut} put, ${stats.manifestsExisting} unchanged`,
    ...result.notes.map((note) => `  note        ${note}`),
  );
  context.print(`${lines.join('\n')}\n`);
  context.result({
    reference: result.reference,
    digest: result.digest,
    mediaType: result.mediaType,
    modelcar: result.modelcar
      ? { reference: result.modelcar.reference, digest: result.modelcar.digest }
      : null,
    artifactType: result.artifactType,
    uri: result.uri,
    ...(result.modelcar ? { storageUri: result.modelcar.uri } : {}),
    ...(result.packageDigest ? { packageDigest: result.packageDigest } : {}),
    referrers: result.referrers,
    stats,
  });
  return EXIT.passed;
}

async function pull(context: Parameters<Command['run']>[0], rest: string[]): Promise<number> {
  const reference = rest[0];
  if (!reference || rest.length > 1) {
    throw new ConfigurationError(
      'mlops oci pull: give one reference, e.g. `mlops oci pull ghcr.io/org/churn:1.2.0 --out churn-1.2.0`.',
    );
  }
  const out = requireFlag(context, 'out', 'oci pull');
  const { runOciPull } = await import('../../core/flows/oci.ts');
  const pulled = await runOciPull({ reference, out, ...credentialRequest(context) }, ports(context));
  context.print(
    `Pulled ${pulled.manifest.package.name} ${pulled.manifest.package.version} from ${pulled.reference}\n` +
      `  folder  ${pulled.folder} (${pulled.files} files, ${formatBytes(pulled.bytes)}); check it with \`mlops package verify ${out}\`\n`,
  );
  context.result({
    reference: pulled.reference,
    digest: pulled.digest,
    folder: pulled.folder,
    package: pulled.manifest.package,
    files: pulled.files,
    bytes: pulled.bytes,
    ...(pulled.packageDigest ? { packageDigest: pulled.packageDigest } : {}),
  });
  return EXIT.passed;
}

/** Who the registry is asked as: the flags and this process's environment. */
function credentialRequest(context: Parameters<Command['run']>[0]): OciCredentialRequest {
  return {
    username: stringFlag(context, 'username'),
    passwordFromPort: context.flags['password-stdin'] === true,
    hostEnv: process.env,
    plainHttp: context.flags['plain-http'] === true,
    names: OCI_FLAG_NAMES,
  };
}

/** The logger, and the password read from stdin (`--password-stdin`), never from a terminal. */
function ports(context: Parameters<Command['run']>[0]): OciPorts {
  return {
    logger: context.logger,
    async readPassword() {
      if (process.stdin.isTTY) {
        throw new ConfigurationError(
          'mlops oci: --password-stdin reads the password from stdin, which is a terminal: pipe it in, e.g. `printf %s "$TOKEN" | mlops oci push … --password-stdin`.',
        );
      }
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
    },
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

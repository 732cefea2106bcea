/**
 * Packages in OCI registries as one flow, behind `mlops oci push|pull`: the request is checked
 * before any registry is contacted (the modelcar's base image and platforms go with the modelcar;
 * platforms are os/arch[/variant]), the credential is chosen (a given user name, else
 * $MLOPS_REGISTRY_USERNAME; the password read through the adapter's port, else
 * $MLOPS_REGISTRY_PASSWORD; nothing set: anonymous), then the package is pushed or pulled. The adapter
 * maps its flags and stdin to the request and ports, and prints the result.
 */
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import type { Logger } from '../logger.ts';
import type { RegistryCredential } from '../oci/auth.ts';
import { REGISTRY_ENV } from '../oci/defaults.ts';
import type { PulledPackage } from '../oci/pull.ts';
import type { PushResult } from '../oci/push.ts';
import type { PullPackage } from '../serve/open-package.ts';

export { REGISTRY_ENV };

/** How the adapter names its command and flags, for messages (`mlops oci`, `--username`, …). */
export interface OciNames {
  command: string;
  username: string;
  passwordStdin: string;
  baseImage: string;
  platform: string;
  modelcar: string;
  /** What to do when the registry refuses: where the credential comes from. */
  credentialHint: string;
}

/** Who the registry is asked as. */
export interface OciCredentialRequest {
  /** The user name given (`--username`); else $MLOPS_REGISTRY_USERNAME. */
  username?: string;
  /** Read the password through `ports.readPassword` instead of $MLOPS_REGISTRY_PASSWORD. */
  passwordFromPort?: boolean;
  /** The adapter's environment: the credential's variables. */
  hostEnv: HostEnvironment;
  /** Plain http to a registry on loopback. */
  plainHttp: boolean;
  names: OciNames;
}

export interface OciPushRequest extends OciCredentialRequest {
  /** The package folder or its .zip archive. */
  package: string;
  /** `<registry>/<repository>[:<tag>]`. */
  to: string;
  /** Also push a KServe modelcar image. */
  modelcar: boolean;
  baseImage?: string;
  platforms: string[];
}

export interface OciPullRequest extends OciCredentialRequest {
  reference: string;
  /** The package folder to write (must not exist). */
  out: string;
}

export interface OciPorts {
  logger: Logger;
  /** Reads the password (stdin for the CLI); throws the user's error when it cannot. */
  readPassword?(): Promise<string>;
}

/** Pushes the request's package. Throws `ConfigurationError` for a request mistake before any registry call. */
export async function runOciPush(request: OciPushRequest, ports: OciPorts): Promise<PushResult> {
  const { names } = request;
  if (!request.modelcar && (request.baseImage || request.platforms.length > 0)) {
    throw new ConfigurationError(
      `${names.command} push: ${request.baseImage ? names.baseImage : names.platform} goes with ${names.modelcar} (it shapes the modelcar image).`,
    );
  }
  for (const platform of request.platforms) {
    if (!/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(platform)) {
      throw new ConfigurationError(
        `${names.command} push: ${names.platform} "${platform}" is not os/arch[/variant], e.g. linux/amd64 or linux/arm64.`,
      );
    }
  }
  const credential = await chooseCredential(request, ports);
  const { pushPackage } = await import('../oci/push.ts');
  return pushPackage({
    package: request.package,
    to: request.to,
    plainHttp: request.plainHttp,
    ...(credential ? { credential } : {}),
    credentialHint: names.credentialHint,
    modelcar: request.modelcar,
    ...(request.baseImage ? { baseImage: request.baseImage } : {}),
    ...(request.platforms.length > 0 ? { platforms: request.platforms } : {}),
    logger: ports.logger,
  });
}

/** Pulls the request's reference into a package folder. */
export async function runOciPull(request: OciPullRequest, ports: OciPorts): Promise<PulledPackage> {
  const credential = await chooseCredential(request, ports);
  const { pullPackage } = await import('../oci/pull.ts');
  return pullPackage(request.reference, request.out, {
    plainHttp: request.plainHttp,
    ...(credential ? { credential } : {}),
    credentialHint: request.names.credentialHint,
    logger: ports.logger,
  });
}

/**
 * The registry credential: the user name given or $MLOPS_REGISTRY_USERNAME, with the password from
 * the port or $MLOPS_REGISTRY_PASSWORD; none when neither is set (anonymous). A user without a
 * password is refused; a password without a user goes as `mlops` (registries accept any user name
 * with a token, ghcr.io among them).
 */
async function chooseCredential(
  request: OciCredentialRequest,
  ports: OciPorts,
): Promise<RegistryCredential | undefined> {
  const { names, hostEnv } = request;
  const username = request.username ?? hostEnv[REGISTRY_ENV.username];
  let password: string | undefined;
  if (request.passwordFromPort) {
    if (!ports.readPassword) throw new Error('runOci: passwordFromPort without a readPassword port');
    password = await ports.readPassword();
    if (password === '')
      throw new ConfigurationError(`${names.command}: ${names.passwordStdin} read an empty password.`);
  } else {
    password = hostEnv[REGISTRY_ENV.password] || undefined;
  }
  if (password === undefined && username === undefined) return undefined;
  if (password === undefined) {
    throw new ConfigurationError(
      `${names.command}: a registry user is given (${request.username ? names.username : `$${REGISTRY_ENV.username}`}) without a password: set $${REGISTRY_ENV.password} or use ${names.passwordStdin}.`,
    );
  }
  return { username: username ?? 'mlops', password };
}

/**
 * Pulls an `oci://` package (`mlops oci push`'s ModelPack artifact, or a modelcar made from one) into a
 * folder, for serving and the smoke test: with the credential of the environment's
 * $MLOPS_REGISTRY_USERNAME and $MLOPS_REGISTRY_PASSWORD when a password is set, else anonymously.
 */
export function pullWithEnvironmentCredential(options: {
  hostEnv: HostEnvironment;
  plainHttp: boolean;
  logger: Logger;
}): PullPackage {
  return async (reference, folder) => {
    // Loaded on use: the registry client is not needed by a package on disk.
    const { pullPackage } = await import('../oci/index.ts');
    const password = options.hostEnv[REGISTRY_ENV.password] || undefined;
    const username = options.hostEnv[REGISTRY_ENV.username] || undefined;
    return pullPackage(reference, folder, {
      plainHttp: options.plainHttp,
      // Registries take any user name with a token (ghcr.io among them), as `mlops oci` sends it.
      ...(password ? { credential: { username: username ?? 'mlops', password } } : {}),
      credentialHint: `set ${REGISTRY_ENV.username} and ${REGISTRY_ENV.password} (a token that may pull the repository).`,
      logger: options.logger,
    });
  };
}

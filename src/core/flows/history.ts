/**
 * The deployment history as one flow, behind `mlops history`: the repository as the user wrote it
 * (`owner/name` on the environment's GitHub server, a URL or a local path), the limit checked, the
 * token read from the variable the request names (else GITHUB_TOKEN; none: anonymous), all before
 * any git work; then the base branch's first-parent history is read. The adapter maps its flags to
 * the request and renders the records.
 */
import type { DeploymentRecord } from '../deploy/history.ts';
import { resolveRepository } from '../deploy/transport.ts';
import { ConfigurationError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';
import type { Logger } from '../logger.ts';

/** How the adapter names the command and its flags, for messages (`mlops history`, `--limit`, …). */
export interface HistoryNames {
  command: string;
  limit: string;
  tokenEnv: string;
}

export interface HistoryRequest {
  environment: string;
  /** owner/name on GitHub, an https URL, or a local path or file:// URL. */
  repository: string;
  /** The branch deployments are merged into (default main). */
  base?: string;
  /** Only this model's deployments. */
  model?: string;
  /** At most this many deployments (the newest), as the user wrote it. */
  limit?: string;
  /** The environment variable holding the token (default GITHUB_TOKEN). */
  tokenEnv?: string;
  /** The adapter's environment: the token, GITHUB_SERVER_URL for `owner/name`, PATH and HOME for git. */
  hostEnv: HostEnvironment;
  names: HistoryNames;
}

export interface HistoryResult {
  environment: string;
  /** Newest first. */
  records: DeploymentRecord[];
}

/**
 * Reads the deployment history the request names. Throws `ConfigurationError` naming the flag for a
 * bad limit or a token variable that is not set (before any git work), and for a refused token, a
 * missing repository, branch or environment folder.
 */
export async function runHistory(request: HistoryRequest, ports: { logger: Logger }): Promise<HistoryResult> {
  const { names } = request;
  const repository = resolveRepository(request.repository, request.hostEnv.GITHUB_SERVER_URL).url;
  const limit = request.limit === undefined ? undefined : Number(request.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new ConfigurationError(
      `${names.command}: ${names.limit} must be a positive whole number; got "${request.limit}".`,
    );
  }
  const token = request.hostEnv[request.tokenEnv ?? 'GITHUB_TOKEN'];
  if (request.tokenEnv && !token) {
    throw new ConfigurationError(
      `${names.command}: ${names.tokenEnv} ${request.tokenEnv} names an environment variable that is not set or empty.`,
    );
  }
  // Loaded on use: git and YAML are not needed by the other commands.
  const { readDeploymentHistory } = await import('../deploy/history.ts');
  const records = await readDeploymentHistory({
    repository,
    environment: request.environment,
    base: request.base,
    model: request.model,
    limit,
    ...(token ? { auth: { token } } : {}),
    hostEnv: request.hostEnv,
    debug: ports.logger.debug,
  });
  return { environment: request.environment, records };
}

/**
 * Where deployments may connect, and where a credential may go.
 *
 * - Environment repositories: `owner/name` (on the configured GitHub), an `https://` URL, a local
 *   path or a `file://` URL (no credential is ever sent there); plain `http://` only to a loopback
 *   host (tests, a local mirror). Every other scheme and git transport is refused before git runs:
 *   `ssh://` and scp-like `git@host:path` (a token cannot authenticate there; use https),
 *   `git://` (unauthenticated, unencrypted), and remote helpers such as `fd::`, `ext::` (they run
 *   programs or wait on file descriptors: `fd::17/a/b` hangs forever).
 * - HTTP downloads (package archives, manifests): `https://`, or `http://` to loopback. A token is
 *   sent only to the origins it is for (for the GitHub token: the GitHub server and its API), never
 *   over plain http to another machine, and never across a redirect to another origin: redirects are
 *   followed by hand, and the Authorization header is dropped as soon as one leaves the origin the
 *   request started at (GitHub's release downloads redirect to a storage host with a signed URL).
 * - Time limits: see {@link TIME_LIMITS}.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigurationError, InputError } from '../errors.ts';
import type { HostEnvironment } from '../host-environment.ts';

/**
 * The time limits of network calls, in milliseconds (documented in the README). Not configurable
 * by users; tests lower them in-process to see a stalled server give up.
 */
export const TIME_LIMITS: {
  archiveMs: number;
  smallMs: number;
  gitLowSpeedMs: number;
  gitLowSpeedBytes: number;
  gitSilenceMs: number;
  apiMs: number;
} = {
  /** A whole package archive download. */
  archiveMs: 300_000,
  /** A manifest read (range requests or the sidecar), or another small download. */
  smallMs: 30_000,
  /** A git transfer slower than `gitLowSpeedBytes` per second for this long is stopped. */
  gitLowSpeedMs: 60_000,
  gitLowSpeedBytes: 1_000,
  /** A git command that prints nothing for this long is stopped. */
  gitSilenceMs: 600_000,
  /** One GitHub API request. */
  apiMs: 60_000,
};

/** True for `localhost`, 127.0.0.0/8 and ::1 (a URL's hostname, with or without brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The GitHub server (e.g. https://github.com) and API (https://api.github.com) a run talks to. */
export interface GitHubUrls {
  serverUrl?: string;
  apiUrl?: string;
}

/** A token and the origins (`https://host[:port]`) it may be sent to. */
export interface Credential {
  token: string;
  origins: readonly string[];
}

/**
 * The GitHub token's credential: the server (e.g. https://github.com, where release downloads
 * start) and the API (https://api.github.com), or their GitHub Enterprise Server equivalents.
 */
export function githubCredential(token: string, urls: GitHubUrls = {}): Credential {
  const origins = new Set<string>();
  for (const url of [urls.serverUrl ?? 'https://github.com', urls.apiUrl ?? 'https://api.github.com']) {
    try {
      origins.add(new URL(url).origin);
    } catch {
      // Not a URL: no origin gets the token through it (the adapters refuse such URLs first).
    }
  }
  return { token, origins: [...origins] };
}

/**
 * The GitHub server and API URLs of this run (GITHUB_SERVER_URL, GITHUB_API_URL of the host
 * environment the adapter passes), for {@link githubCredential}.
 */
export function githubUrls(env: HostEnvironment): GitHubUrls {
  return {
    ...(env.GITHUB_SERVER_URL ? { serverUrl: env.GITHUB_SERVER_URL } : {}),
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
  };
}

/**
 * Refuses a URL this tool does not connect to: only https, and http to a loopback host; no user
 * name or password inside. `what` names it in the message (e.g. "The package reference").
 */
export function checkHttpUrl(url: URL, what: string): void {
  if (url.username || url.password) {
    throw new ConfigurationError(
      `${what} ${redact(url)} carries a user name or password: remove it (tokens are passed separately, as a header).`,
    );
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return;
    throw new ConfigurationError(
      `${what} ${redact(url)} uses plain http to another machine: use https (plain http is accepted only for loopback hosts such as 127.0.0.1).`,
    );
  }
  throw new ConfigurationError(
    `${what} ${redact(url)}: only https:// (and http:// to loopback) can be fetched.`,
  );
}

/** A URL without its query (signed URLs carry secrets there) and fragment, for messages. */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

/** What {@link fetchWithCredential} does. */
export interface FetchOptions {
  /** Sent only to the credential's origins, over https or loopback http, and never after leaving the first origin. */
  credential?: Credential;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Names the resource in messages, e.g. "The package archive". */
  what: string;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
}

/**
 * GET `uri`, following redirects by hand under the rules of this module. Throws a
 * `ConfigurationError` for a refused URL (before any connection), an `InputError` when the server
 * cannot be reached or does not answer in time. The caller reads the status.
 */
export async function fetchWithCredential(uri: string, options: FetchOptions): Promise<Response> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ConfigurationError(`${options.what} "${uri}" is not a URL.`);
  }
  checkHttpUrl(url, options.what);
  const signal = AbortSignal.timeout(options.timeoutMs);
  const first = url.origin;
  let sendToken = options.credential?.origins.includes(first) === true;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { ...options.headers };
    // Never to another origin than the one the request started at, even one the token is for.
    if (sendToken && options.credential && url.origin === first) {
      headers.authorization = `Bearer ${options.credential.token}`;
    }
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal });
    } catch (error) {
      throw unreachable(url, options, error);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || response.status === 304 || !location) {
      return response;
    }
    await response.body?.cancel();
    if (hop >= (options.maxRedirects ?? 5)) {
      throw new InputError(
        `${options.what} ${redact(url)} redirects more than ${options.maxRedirects ?? 5} times.`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new InputError(`${options.what} ${redact(url)} redirects to "${location}", which is not a URL.`);
    }
    checkHttpUrl(next, `${options.what} (redirected from ${redact(url)})`);
    if (next.origin !== first) sendToken = false;
    url = next;
  }
}

function unreachable(url: URL, options: FetchOptions, error: unknown): InputError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as Error).name;
  const reason =
    name === 'TimeoutError' || name === 'AbortError'
      ? `no answer within ${Math.round(options.timeoutMs / 1000)} s`
      : (cause?.code ?? cause?.message ?? (error as Error).message);
  return new InputError(`${options.what} ${redact(url)} cannot be fetched: ${reason}.`, {}, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Git remotes

/** A git remote this tool accepts, classified. */
export interface GitRemote {
  /** What git is given: an https or loopback-http URL, or a `file://` URL for local repositories. */
  url: string;
  kind: 'https' | 'http' | 'file';
  /** The origin a token may be sent to; undefined for local repositories (never any token). */
  origin?: string;
}

const ACCEPTED_REMOTES =
  'Accepted: owner/name (on this GitHub), an https:// URL, a local path (/path/env.git, ./env) or a file:// URL; http:// only to loopback.';

/**
 * Classifies a remote URL for git (after {@link resolveRepository}), refusing every scheme and
 * transport but https, loopback http and local files, before git runs.
 */
export function classifyGitRemote(value: string, what = 'The environment repository'): GitRemote {
  const text = value.trim();
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(text)) {
    throw new ConfigurationError(
      `${what} "${text}" uses a git remote helper (${text.split('::')[0]}::), which is refused: such transports run programs or wait on file descriptors. ${ACCEPTED_REMOTES}`,
    );
  }
  if (/^[^/:@\s]+@[^/:\s]+:/.test(text)) {
    throw new ConfigurationError(
      `${what} "${text}" is an ssh address; ssh is not supported (a token cannot authenticate there): use https://<host>/<owner>/<name>.git with a token. ${ACCEPTED_REMOTES}`,
    );
  }
  if (isAbsolute(text)) return { url: pathToFileURL(text).href, kind: 'file' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(
      `${what} "${text}" is not a URL, an owner/name or a path. ${ACCEPTED_REMOTES}`,
    );
  }
  if (url.protocol === 'file:') {
    if (url.host !== '' && url.host !== 'localhost') {
      throw new ConfigurationError(
        `${what} "${text}" names a file on another host (${url.host}). ${ACCEPTED_REMOTES}`,
      );
    }
    return { url: pathToFileURL(fileURLToPath(url)).href, kind: 'file' };
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    checkHttpUrl(url, what);
    return { url: text, kind: url.protocol === 'https:' ? 'https' : 'http', origin: url.origin };
  }
  const scheme = url.protocol.slice(0, -1);
  throw new ConfigurationError(
    scheme === 'ssh' || scheme === 'git+ssh'
      ? `${what} "${text}" is an ssh URL; ssh is not supported (a token cannot authenticate there): use https://<host>/<owner>/<name>.git with a token. ${ACCEPTED_REMOTES}`
      : `${what} "${text}" uses ${scheme}://, which is refused. ${ACCEPTED_REMOTES}`,
  );
}

/**
 * The environment repository from what a user wrote: `owner/name` becomes the clone URL on `server`
 * (e.g. https://github.com); a local path (absolute, or starting with ./ or ../) becomes a
 * `file://` URL; URLs are checked by {@link classifyGitRemote}. `fullName` is `owner/name` (for the
 * pull-request API; for local repositories, the last two path segments).
 */
export function resolveRepository(
  value: string,
  server = 'https://github.com',
): { url: string; fullName: string; local: boolean } {
  const text = value.trim();
  const short = /^([A-Za-z0-9_-][A-Za-z0-9_.-]*)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(text);
  if (short && short[2] !== '.' && short[2] !== '..') {
    const base = server.replace(/\/+$/, '');
    const remote = classifyGitRemote(`${base}/${short[1]}/${short[2]}.git`, 'The GitHub server URL');
    return { url: remote.url, fullName: `${short[1]}/${short[2]}`, local: false };
  }
  const relative = /^\.\.?([/\\]|$)/.test(text);
  const remote = classifyGitRemote(relative ? resolve(text) : text);
  const path = remote.kind === 'file' ? fileURLToPath(remote.url) : new URL(remote.url).pathname;
  const parts = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split(/[/\\]/)
    .filter(Boolean);
  if (remote.kind !== 'file' && parts.length < 2) {
    throw new ConfigurationError(`The environment repository URL "${text}" has no owner/name path.`);
  }
  return {
    url: remote.url,
    fullName: parts.length >= 2 ? `${parts.at(-2)}/${parts.at(-1)}` : (parts.at(-1) ?? 'local/repository'),
    local: remote.kind === 'file',
  };
}

/**
 * A GitHub API URL given by a user (`--api-url`, input `api-url`): https, or http to loopback,
 * as a URL. `name` (the flag or input) is named in the error.
 */
export function checkApiUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigurationError(
      `${name} "${value}" is not a URL: give the GitHub API's base URL, e.g. https://api.github.com or https://github.example.com/api/v3.`,
      { key: name },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`${name} "${value}" must be an https:// URL (the token is sent there).`, {
      key: name,
    });
  }
  checkHttpUrl(url, name);
  return url.href.replace(/\/+$/, '');
}

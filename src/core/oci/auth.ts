/**
 * Registry authentication as registries do it (distribution's token spec, RFC 7235 challenges):
 * a request answered 401 carries `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (the
 * client asks the realm for a token, with its credential as Basic auth, and sends the token to the
 * registry) or `Basic realm="…"` (the client sends the credential to the registry itself).
 *
 * Where a credential goes: to the registry's origin (Basic) and to the realm its challenge names
 * (token requests), over https or plain http to a loopback host; never across a redirect to another
 * origin. The token a realm returns goes to the registry's origin only. Credentials are never
 * printed, logged or written: messages name the registry and the realm's origin, never a header.
 */

import { checkHttpUrl, redact } from '../deploy/transport.ts';
import { ConfigurationError, InputError } from '../errors.ts';

/** A user name and a password or token for one registry. */
export interface RegistryCredential {
  username: string;
  /** A password or token (for ghcr.io: a GitHub token with packages: write to push). */
  password: string;
}

/** One challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  /** Lower case: `bearer`, `basic`. */
  scheme: string;
  /** Parameters, names lower-cased: `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header into its challenges (RFC 7235: `scheme param=value, …` or
 * `scheme token68`; several challenges may share one header, separated by commas). Values may be
 * quoted strings with backslash escapes.
 */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skip = (pattern: RegExp) => {
    while (i < header.length && pattern.test(header[i])) i++;
  };
  const readToken = (): string => {
    const start = i;
    skip(/[!#$%&'*+.^_`|~0-9A-Za-z/-]/);
    return header.slice(start, i);
  };
  /** True when a `name=` parameter starts at `i` (not the next challenge's scheme). */
  const atParameter = (): boolean => {
    const save = i;
    const name = readToken();
    skip(/\s/);
    const result = name !== '' && header[i] === '=' && header[i + 1] !== '=';
    i = save;
    return result;
  };
  skip(/[\s,]/);
  while (i < header.length) {
    const scheme = readToken();
    if (!scheme) break;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(/\s/);
    while (i < header.length && atParameter()) {
      const name = readToken().toLowerCase();
      skip(/\s/);
      i++; // =
      skip(/\s/);
      let value = '';
      if (header[i] === '"') {
        for (i++; i < header.length && header[i] !== '"'; i++) {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
        }
        i++; // closing quote
      } else {
        const start = i;
        skip(/[^,\s]/);
        value = header.slice(start, i);
      }
      challenge.params[name] = value;
      skip(/[\s,]/);
    }
    // A token68 (e.g. `Negotiate abc==`) or junk: skipped up to the next comma.
    if (i < header.length && !atParameter() && Object.keys(challenge.params).length === 0) {
      const save = i;
      readToken();
      skip(/=/);
      if (i === save) i++;
      skip(/[\s,]/);
    }
  }
  return challenges;
}

/** What a token request needs and where it may go. */
export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: readonly string[];
  credential?: RegistryCredential;
  /** The registry (for messages). */
  registry: string;
  timeoutMs: number;
}

/**
 * Asks a token realm for a bearer token (distribution's token authentication: `GET realm?service=…
 * &scope=…`, the credential as Basic auth, or none for anonymous pulls). The realm must be https, or
 * plain http to a loopback host; redirects are followed by hand and the credential never leaves the
 * realm's origin. Returns the token, never printed.
 */
export async function requestToken(request: TokenRequest): Promise<string> {
  let url: URL;
  try {
    url = new URL(request.realm);
  } catch {
    throw new InputError(
      `The registry ${request.registry} names the token realm "${request.realm}", which is not a URL.`,
    );
  }
  checkHttpUrl(url, `The token realm of ${request.registry}`);
  if (request.service) url.searchParams.set('service', request.service);
  for (const scope of request.scopes) url.searchParams.append('scope', scope);
  const origin = url.origin;
  const signal = AbortSignal.timeout(request.timeoutMs);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.credential && url.origin === origin)
      headers.authorization = basicAuthorization(request.credential);
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal });
    } catch (error) {
      throw new InputError(
        `The token realm ${redact(url)} of ${request.registry} cannot be reached: ${describeFetchError(error, request.timeoutMs)}.`,
        {},
        { cause: error },
      );
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= 5) throw new InputError(`The token realm ${redact(url)} redirects more than 5 times.`);
      const next = new URL(location, url);
      checkHttpUrl(next, `The token realm of ${request.registry} (redirected from ${redact(url)})`);
      url = next;
      continue;
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new ConfigurationError(
        request.credential
          ? `The registry ${request.registry} refused the credential (its token service ${redact(url)} answered ${response.status}): check the user name and the token, and that the token may ${scopeVerbs(request.scopes)} ${scopeRepositories(request.scopes)}.`
          : `The registry ${request.registry} wants a credential to ${scopeVerbs(request.scopes)} ${scopeRepositories(request.scopes)} (its token service answered ${response.status} to an anonymous request).`,
      );
    }
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 200);
      throw new InputError(
        `The token realm ${redact(url)} of ${request.registry} answered ${response.status}${text ? `: ${text.replace(/\s+/g, ' ')}` : ''}.`,
      );
    }
    const body = (await response.json().catch(() => undefined)) as
      | { token?: unknown; access_token?: unknown }
      | undefined;
    const token = typeof body?.token === 'string' ? body.token : body?.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new InputError(
        `The token realm ${redact(url)} of ${request.registry} answered without a token (JSON with "token" or "access_token" expected).`,
      );
    }
    return token;
  }
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
}

/** A fetch failure as a few words: the cause's code, or the time limit. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function scopeVerbs(scopes: readonly string[]): string {
  return scopes.some((scope) => scope.endsWith('push')) ? 'push to' : 'pull from';
}

function scopeRepositories(scopes: readonly string[]): string {
  const names = [...new Set(scopes.map((scope) => scope.split(':')[1]).filter(Boolean))];
  return names.length > 0 ? names.join(', ') : 'the repository';
}

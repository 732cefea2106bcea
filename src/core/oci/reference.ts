/**
 * OCI image references as users write them: `<registry>/<repository>[:<tag>][@sha256:<hex>]`,
 * optionally prefixed `oci://` (KServe's storageUri form). The registry is always named: a
 * reference without one (`churn:1.0.0`, `library/busybox`) is refused instead of guessing Docker
 * Hub, so a credential never goes to a registry the user did not write down. `docker.io` is
 * accepted and talks to Docker Hub's API host, with `library/` added to one-part names.
 *
 * Grammar (distribution/reference): the repository is path components of lower-case letters and
 * digits separated by `.`, `_`, `__` or `-`, joined by `/`; a tag is up to 128 characters of
 * `[A-Za-z0-9_.-]` starting with a letter, digit or `_`.
 */
import { ConfigurationError } from '../errors.ts';

/** A parsed reference. */
export interface OciReference {
  /** The registry as written: `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  /** The repository inside it: `org/models/churn`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;

/** Docker Hub's name in references, and the host its API answers on. */
const DOCKER_HUB = { name: 'docker.io', api: 'registry-1.docker.io' } as const;

/**
 * Parses a reference. `what` names it in messages (e.g. `--to`). Throws a `ConfigurationError`
 * that says which part is wrong and shows the accepted form.
 */
export function parseOciReference(text: string, what = 'The OCI reference'): OciReference {
  const value = text.trim().replace(/^oci:\/\//, '');
  const form = `Write <registry>/<repository>:<tag> (e.g. ghcr.io/my-org/churn:1.2.0 or 127.0.0.1:5000/models/churn:1.2.0), optionally with @sha256:<digest>.`;
  const fail = (why: string): never => {
    throw new ConfigurationError(`${what} "${text}" ${why}. ${form}`, { key: what });
  };
  if (value === '') fail('is empty');
  if (/\s/.test(value)) fail('contains whitespace');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) fail('has a URL scheme other than oci://');
  let rest = value;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      fail(`has the digest "${digest}", which is not sha256:<64 lower-case hex digits>`);
  }
  const slash = rest.indexOf('/');
  if (slash === -1) fail('names no registry');
  const registry = rest.slice(0, slash);
  const firstIsHost = registry.includes('.') || registry.includes(':') || registry === 'localhost';
  if (!firstIsHost) {
    fail(
      `names no registry ("${registry}" is not a host name: a registry has a dot or a port, e.g. ghcr.io, docker.io or 127.0.0.1:5000)`,
    );
  }
  if (!HOST.test(registry))
    fail(`has the registry "${registry}", which is not a host name with an optional port`);
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon !== -1) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) {
      fail(
        `has the tag "${tag}": a tag is 1 to 128 letters, digits, '_', '.' and '-', starting with a letter, digit or '_'`,
      );
    }
  }
  const components = path.split('/');
  for (const component of components) {
    if (!COMPONENT.test(component)) {
      fail(
        component !== component.toLowerCase()
          ? `has the repository part "${component}" with upper-case letters, which registries refuse: write it in lower case ("${component.toLowerCase()}")`
          : `has the repository part "${component}": parts are lower-case letters and digits, separated by '.', '_' or '-'`,
      );
    }
  }
  let repository = path;
  if (registry === DOCKER_HUB.name && components.length === 1) repository = `library/${path}`;
  if (repository.length > 255) fail('has a repository name longer than 255 characters');
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `registry/repository[:tag][@digest]`, as skopeo and container runtimes take it. */
export function formatOciReference(reference: OciReference): string {
  return `${reference.registry}/${reference.repository}${reference.tag !== undefined ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

/** `oci://registry/repository@sha256:…`: pinned by digest (the tag left out), for KServe's storageUri. */
export function formatPinnedUri(reference: OciReference, digest: string): string {
  return `oci://${reference.registry}/${reference.repository}@${digest}`;
}

/** The host (and port) the registry's API answers on. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB.name ? DOCKER_HUB.api : registry;
}

/** The tag of the modelcar image pushed next to a ModelPack artifact tagged `tag`. */
export function modelcarTag(tag: string): string {
  const suffixed = `${tag}-modelcar`;
  if (suffixed.length > 128) {
    throw new ConfigurationError(
      `The tag "${tag}" is too long for the modelcar's tag "${suffixed}" (at most 128 characters): use a shorter tag.`,
    );
  }
  return suffixed;
}

/** True for a digest in the form this client writes and accepts (`sha256:<64 hex>`). */
export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

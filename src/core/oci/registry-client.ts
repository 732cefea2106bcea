/**
 * A small client of the OCI distribution spec (https://github.com/opencontainers/distribution-spec,
 * v1.1): blobs (HEAD, monolithic and chunked uploads, cross-repository mounts, downloads),
 * manifests (GET, HEAD, PUT) and referrers (the API, and the `sha256-<hex>` tag schema for
 * registries without it). No maintained general client exists on npm; this one does what pushing
 * and pulling a model package needs, and is tested against Debian's docker-registry and a
 * referrers-API stand-in (test/integration/oci.test.ts).
 *
 * Transport rules (as transport.ts applies them to GitHub tokens):
 * - https, or plain http only with `plainHttp` and only to a loopback registry;
 * - a credential goes to the registry's origin (Basic) and to the token realm its challenge names,
 *   never across a redirect to another origin (blob downloads redirect to storage hosts: the
 *   Authorization header is dropped there); it is never printed or written;
 * - every request has a time limit ({@link OCI_TIME_LIMITS}): small requests a whole-request one,
 *   blob transfers a stall limit (no byte moved for that long), so a 2 GiB upload is not cut off
 *   for being large, only for being stuck.
 *
 * Small requests go through `fetch`. Blob uploads go through node:http(s) with a file stream piped
 * into the request: undici's fetch reads a file body ahead of a slower server (a 1 GiB upload to the
 * loopback registry peaked at 1.17 GB of memory with `fetch`, 141 MB with a pipeline), and the
 * upload needs an exact Content-Length.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkHttpUrl, isLoopbackHost, redact } from '../deploy/transport.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  type AuthChallenge,
  basicAuthorization,
  describeFetchError,
  parseChallenges,
  type RegistryCredential,
  requestToken,
} from './auth.ts';
import { registryApiHost } from './reference.ts';

/**
 * Time limits of registry calls, in milliseconds (documented in the README). Not configurable by
 * users; tests lower them in-process to see a stalled registry give up.
 */
export const OCI_TIME_LIMITS: { requestMs: number; stallMs: number } = {
  /** One small request (a manifest, a HEAD, a token, starting an upload). */
  requestMs: 60_000,
  /** A blob transfer with no byte moving for this long is stopped. */
  stallMs: 60_000,
};

/** Media types, named once. */
export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

/** The empty JSON blob `{}`, the config of artifacts that need none (image-spec 1.1). */
export const EMPTY_DESCRIPTOR = {
  mediaType: MEDIA_TYPES.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string; 'os.version'?: string };
  data?: string;
}

/**
 * Where a blob's bytes come from: a range of a file (streamed, never read whole), bytes in memory,
 * or a stream made anew for each attempt (a layer written as it is sent).
 */
export type BlobSource =
  | { path: string; start?: number }
  | { bytes: Uint8Array }
  | { stream: () => AsyncIterable<Uint8Array> };

/** What a client sent and skipped, for the command's report and the re-push check. */
export interface TransferStats {
  /** Blobs whose bytes were sent. */
  blobsUploaded: number;
  /** Bytes of blob content sent. */
  bytesUploaded: number;
  /** Blobs the registry already had (HEAD answered 200): not sent. */
  blobsExisting: number;
  /** Blobs mounted from another repository of the same registry: not sent. */
  blobsMounted: number;
  manifestsPut: number;
  /** Manifests the registry already had under the same tag or digest: not sent. */
  manifestsExisting: number;
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** The registry as written in references (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  registry: string;
  /** Plain http: allowed only to a loopback registry (tests, a local registry). */
  plainHttp?: boolean;
  /** Sent only to this registry and the token realm its challenge names. */
  credential?: RegistryCredential;
  /** How the user gives a credential, for the message when the registry asks for one. */
  credentialHint?: string;
  logger?: Logger;
  /** Chunk size of chunked uploads (used when a registry refuses a monolithic one with 413). */
  chunkBytes?: number;
}

/** A manifest (or index) as read: its bytes, media type and digest. */
export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
  json: Record<string, unknown>;
}

/** Largest manifest read (the spec asks registries to accept at least 4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MANIFEST_ACCEPT = [
  MEDIA_TYPES.manifest,
  MEDIA_TYPES.index,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');
const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

/** `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The `sha256-<hex>` tag under which registries without the referrers API keep a subject's referrers. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

interface SmallRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload location). */
  target: string;
  /** The repository the request needs, and whether it pushes (for the token's scope). */
  repository: string;
  push?: boolean;
  /** Other repositories the token must be able to pull from (cross-repository mounts). */
  pullFrom?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Read the answer's body (up to this many bytes) instead of discarding it. */
  maxBodyBytes?: number;
}

interface SmallResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  url: URL;
}

/** A client of one registry. Not shared between registries: a credential belongs to one. */
export class RegistryClient {
  readonly registry: string;
  readonly stats: TransferStats = {
    blobsUploaded: 0,
    bytesUploaded: 0,
    blobsExisting: 0,
    blobsMounted: 0,
    manifestsPut: 0,
    manifestsExisting: 0,
  };
  private readonly base: URL;
  private readonly options: RegistryClientOptions;
  /** The Authorization header value for the registry's origin, once a challenge asked for one. */
  private authorization: string | undefined;
  /** The Bearer challenge last answered, and the scopes its token covers. */
  private bearer: { challenge: AuthChallenge; scopes: Set<string> } | undefined;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.registry = options.registry;
    const host = registryApiHost(options.registry);
    const hostname = host.replace(/:\d+$/, '');
    if (options.plainHttp && !isLoopbackHost(hostname)) {
      throw new ConfigurationError(
        `Plain http is accepted only for a registry on this machine (127.0.0.1, ::1, localhost); ${options.registry} is not one: push over https (leave out --plain-http).`,
      );
    }
    this.base = new URL(`${options.plainHttp ? 'http' : 'https'}://${host}/`);
    checkHttpUrl(this.base, 'The registry');
  }

  /** The registry's origin (`https://ghcr.io`). */
  get origin(): string {
    return this.base.origin;
  }

  // -------------------------------------------------------------------------------------------
  // Blobs

  /** True when the repository has the blob (HEAD). */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.send({
      method: 'HEAD',
      target: `/v2/${repository}/blobs/${digest}`,
      repository,
    });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw this.unexpected(response, `checking blob ${digest} in ${repository}`);
  }

  /**
   * Makes sure the repository has the blob: nothing is sent when it has it already (HEAD first);
   * otherwise the bytes are uploaded in one request (or in chunks, when the registry refuses one
   * that large). Returns how the blob got there.
   */
  async pushBlob(
    repository: string,
    descriptor: { digest: string; size: number },
    source: BlobSource,
    options: { what?: string } = {},
  ): Promise<'existing' | 'uploaded'> {
    if (await this.hasBlob(repository, descriptor.digest)) {
      this.stats.blobsExisting++;
      return 'existing';
    }
    await this.upload(repository, await this.startUpload(repository), descriptor, source, options.what);
    this.stats.blobsUploaded++;
    this.stats.bytesUploaded += descriptor.size;
    return 'uploaded';
  }

  /**
   * Mounts a blob from another repository of this registry (nothing is sent). Returns false when
   * the registry does not mount it (it then opened an upload, which is cancelled): the caller sends
   * the bytes instead.
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<'existing' | 'mounted' | false> {
    if (await this.hasBlob(repository, digest)) {
      this.stats.blobsExisting++;
      return 'existing';
    }
    const query = new URLSearchParams({ mount: digest, from });
    const started = await this.send({
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?${query}`,
      repository,
      push: true,
      pullFrom: from,
      headers: { 'content-length': '0' },
    });
    if (started.status === 201) {
      this.stats.blobsMounted++;
      return 'mounted';
    }
    if (started.status === 202) {
      const location = started.headers.get('location');
      if (location) {
        await this.send({
          method: 'DELETE',
          target: new URL(location, started.url).href,
          repository,
          push: true,
        }).catch(() => undefined);
      }
      return false;
    }
    throw this.unexpected(started, `mounting ${digest} from ${from} into ${repository}`);
  }

  private async startUpload(repository: string): Promise<URL> {
    const started = await this.send({
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/`,
      repository,
      push: true,
      headers: { 'content-length': '0' },
    });
    return this.uploadLocation(started, repository);
  }

  private uploadLocation(response: SmallResponse, repository: string): URL {
    const location = response.headers.get('location');
    if (response.status !== 202 || !location) {
      throw this.unexpected(response, `starting an upload to ${repository}`);
    }
    const url = new URL(location, response.url);
    checkHttpUrl(url, `The upload location of ${this.registry}`);
    return url;
  }

  /** Monolithic upload; on 413 (too large for one request) a new session uploads in chunks. */
  private async upload(
    repository: string,
    location: URL,
    descriptor: { digest: string; size: number },
    source: BlobSource,
    what = descriptor.digest,
  ): Promise<void> {
    const put = withQuery(location, { digest: descriptor.digest });
    let response = await this.sendBody('PUT', put, source, 0, descriptor.size);
    if (response.status === 401 && this.refreshAuthentication(response.headers)) {
      // A token that expired during a long upload: authenticate again, start again.
      await this.authenticate(parseChallenges(response.headers['www-authenticate'] ?? ''), {
        repository,
        push: true,
      });
      response = await this.sendBody(
        'PUT',
        withQuery(await this.startUpload(repository), { digest: descriptor.digest }),
        source,
        0,
        descriptor.size,
      );
    }
    if (response.status === 413) {
      this.options.logger?.debug(
        `${this.registry} refused ${what} in one request (413): uploading it in chunks.`,
      );
      return this.uploadChunked(repository, await this.startUpload(repository), descriptor, source, what);
    }
    this.checkUploaded(response, repository, descriptor, what);
  }

  private async uploadChunked(
    repository: string,
    location: URL,
    descriptor: { digest: string; size: number },
    source: BlobSource,
    what: string,
    minimum = 0,
  ): Promise<void> {
    const chunk = Math.max(this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES, minimum, 1);
    let url = location;
    for (let offset = 0; offset < descriptor.size; offset += chunk) {
      const length = Math.min(chunk, descriptor.size - offset);
      const response = await this.sendBody('PATCH', url, source, offset, length, {
        'content-range': `${offset}-${offset + length - 1}`,
      });
      if (response.status !== 202 || !response.headers.location) {
        throw this.uploadError(response, repository, what, `chunk at byte ${offset}`);
      }
      url = new URL(response.headers.location, url);
      checkHttpUrl(url, `The upload location of ${this.registry}`);
    }
    const done = await this.sendBody(
      'PUT',
      withQuery(url, { digest: descriptor.digest }),
      { bytes: new Uint8Array() },
      0,
      0,
    );
    this.checkUploaded(done, repository, descriptor, what);
  }

  private checkUploaded(
    response: RawResponse,
    repository: string,
    descriptor: { digest: string },
    what: string,
  ): void {
    if (response.status === 201) {
      const stored = response.headers['docker-content-digest'];
      if (stored && stored !== descriptor.digest) {
        throw new InputError(
          `${this.registry} stored ${what} in ${repository} as ${stored}, not ${descriptor.digest}.`,
        );
      }
      return;
    }
    throw this.uploadError(response, repository, what);
  }

  private uploadError(response: RawResponse, repository: string, what: string, part?: string): Error {
    const codes = registryErrorCodes(response.body);
    if (codes.includes('DIGEST_INVALID') || codes.includes('SIZE_INVALID')) {
      return new InputError(
        `${this.registry} refused ${what}${part ? ` (${part})` : ''}: its bytes do not have the digest the package lists (${codes.join(', ')}). The file changed after it was packaged: run \`mlops package verify\` on the package, and package the model again.`,
      );
    }
    return this.statusError(
      response.status,
      response.body,
      `uploading ${what} to ${repository}${part ? ` (${part})` : ''}`,
      repository,
    );
  }

  /**
   * Sends a blob's bytes (a file range, streamed with backpressure, or bytes) as the body of a
   * PUT or PATCH, with a stall limit. The registry's origin gets the Authorization header; another
   * origin (an upload location elsewhere) gets none.
   */
  private sendBody(
    method: 'PUT' | 'PATCH',
    url: URL,
    source: BlobSource,
    offset: number,
    length: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(length),
      ...extraHeaders,
    };
    if (this.authorization && url.origin === this.base.origin) headers.authorization = this.authorization;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<RawResponse>((resolve, reject) => {
      let moved = Date.now();
      let settled = false;
      const finish = (error?: Error, response?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        if (error) reject(error);
        else resolve(response!);
      };
      const request = send(url, { method, headers }, (answer: IncomingMessage) => {
        collect(answer, 64 * 1024)
          .then((body) =>
            finish(undefined, {
              status: answer.statusCode ?? 0,
              headers: answer.headers as Record<string, string | undefined>,
              body,
            }),
          )
          .catch((error: Error) => finish(error));
      });
      const watchdog = setInterval(
        () => {
          if (Date.now() - moved > OCI_TIME_LIMITS.stallMs) {
            request.destroy(new Error(`no byte moved for ${Math.round(OCI_TIME_LIMITS.stallMs / 1000)} s`));
          }
        },
        Math.min(1000, OCI_TIME_LIMITS.stallMs),
      );
      request.on('error', (error) =>
        finish(
          new InputError(
            `Uploading to ${this.registry} (${redact(url)}) failed: ${(error as NodeJS.ErrnoException).code ?? error.message}.`,
            {},
            { cause: error },
          ),
        ),
      );
      const body =
        'bytes' in source
          ? Readable.from([Buffer.from(source.bytes.subarray(offset, offset + length))])
          : 'stream' in source
            ? Readable.from(sliceStream(source.stream(), offset, length))
            : length === 0
              ? Readable.from([])
              : createReadStream(source.path, {
                  start: (source.start ?? 0) + offset,
                  end: (source.start ?? 0) + offset + length - 1,
                  highWaterMark: 1024 * 1024,
                });
      const progress = new Transform({
        transform(chunk, _encoding, callback) {
          moved = Date.now();
          callback(null, chunk);
        },
      });
      // The request's own error (or the answer) settles the promise; a pipeline error names the file.
      pipeline(body, progress, request).catch((error: Error) => {
        if (!settled && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          finish(
            new InputError(`${'path' in source ? source.path : 'A blob'} cannot be read: ${error.message}`),
          );
        } else if (!settled && !(error as NodeJS.ErrnoException).code) {
          // The source failed (e.g. a layer's file changed while it was written): stop the request.
          request.destroy();
          finish(
            new InputError(`Uploading to ${this.registry} stopped: ${error.message}.`, {}, { cause: error }),
          );
        }
      });
    });
  }

  /**
   * Downloads a blob into a file, checking its size and digest as it streams (the file is written
   * only by this call; on a mismatch it is left for the caller to remove). Redirects to storage
   * hosts are followed without the Authorization header.
   */
  async downloadBlob(
    repository: string,
    descriptor: { digest: string; size: number },
    path: string,
    what = descriptor.digest,
  ): Promise<void> {
    const response = await this.open('GET', `/v2/${repository}/blobs/${descriptor.digest}`, repository);
    if (response.status !== 200 || !response.body) {
      const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
      throw this.statusError(response.status, body, `downloading ${what} from ${repository}`, repository);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let moved = Date.now();
    const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    const watchdog = setInterval(
      () => {
        if (Date.now() - moved > OCI_TIME_LIMITS.stallMs) {
          stream.destroy(new Error(`no byte moved for ${Math.round(OCI_TIME_LIMITS.stallMs / 1000)} s`));
        }
      },
      Math.min(1000, OCI_TIME_LIMITS.stallMs),
    );
    try {
      await pipeline(
        stream,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            moved = Date.now();
            bytes += chunk.length;
            if (bytes > descriptor.size) {
              callback(
                new InputError(`${what} from ${repository} is larger than its ${descriptor.size} bytes.`),
              );
              return;
            }
            hash.update(chunk);
            callback(null, chunk);
          },
        }),
        createWriteStream(path, { flags: 'wx' }),
      );
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(
        `Downloading ${what} from ${this.registry}/${repository} failed: ${(error as Error).message}.`,
        {},
        { cause: error },
      );
    } finally {
      clearInterval(watchdog);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (bytes !== descriptor.size || digest !== descriptor.digest) {
      throw new InputError(
        `${what} from ${this.registry}/${repository} is not the blob its manifest names (${bytes} bytes, ${digest}; expected ${descriptor.size} bytes, ${descriptor.digest}).`,
      );
    }
  }

  /** A small blob (a config), read into memory and checked against its digest. */
  async readBlob(
    repository: string,
    descriptor: { digest: string; size: number },
    maxBytes: number,
  ): Promise<Uint8Array> {
    if (descriptor.size > maxBytes) {
      throw new InputError(
        `Blob ${descriptor.digest} of ${this.registry}/${repository} has ${descriptor.size} bytes, more than the ${maxBytes} read into memory.`,
      );
    }
    const response = await this.open('GET', `/v2/${repository}/blobs/${descriptor.digest}`, repository);
    const body = await readLimited(response, maxBytes, `Blob ${descriptor.digest}`);
    if (response.status !== 200) {
      throw this.statusError(
        response.status,
        body,
        `reading blob ${descriptor.digest} from ${repository}`,
        repository,
      );
    }
    if (sha256Digest(body) !== descriptor.digest || body.length !== descriptor.size) {
      throw new InputError(
        `Blob ${descriptor.digest} of ${this.registry}/${repository} does not have that digest or its ${descriptor.size} bytes.`,
      );
    }
    return body;
  }

  // -------------------------------------------------------------------------------------------
  // Manifests

  /** The digest a tag (or digest) points to, or undefined when it does not exist (HEAD). */
  async resolveManifest(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.send({
      method: 'HEAD',
      target: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw this.unexpected(response, `looking up ${repository}:${reference}`);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  /** A manifest or index by tag or digest; undefined when there is none. Digests are checked. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const response = await this.send({
      method: 'GET',
      target: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      maxBodyBytes: MAX_MANIFEST_BYTES,
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw this.unexpected(response, `reading ${repository}:${reference}`);
    const digest = sha256Digest(response.body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new InputError(
        `${this.registry}/${repository}@${reference} answered a manifest whose digest is ${digest}: refusing it.`,
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder().decode(response.body));
    } catch {
      throw new InputError(`${this.registry}/${repository}:${reference} is not a JSON manifest.`);
    }
    const mediaType =
      (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
      response.headers.get('content-type')?.split(';')[0] ??
      MEDIA_TYPES.manifest;
    return { bytes: response.body, mediaType, digest, json };
  }

  /**
   * Puts a manifest under a tag or its digest, unless the registry has it there already (a re-push
   * sends nothing). Returns its digest and whether the registry processed its `subject` (the
   * `OCI-Subject` header of registries with the referrers API).
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subjectProcessed: boolean; existing: boolean }> {
    const digest = sha256Digest(bytes);
    if ((await this.resolveManifest(repository, reference)) === digest) {
      this.stats.manifestsExisting++;
      return { digest, subjectProcessed: false, existing: true };
    }
    const response = await this.send({
      method: 'PUT',
      target: `/v2/${repository}/manifests/${reference}`,
      repository,
      push: true,
      headers: { 'content-type': mediaType },
      body: bytes,
      maxBodyBytes: 64 * 1024,
    });
    if (response.status !== 201)
      throw this.unexpected(response, `putting the manifest ${repository}:${reference}`);
    const stored = response.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw new InputError(
        `${this.registry} stored the manifest ${repository}:${reference} as ${stored}, not ${digest}.`,
      );
    }
    this.stats.manifestsPut++;
    return { digest, subjectProcessed: response.headers.has('oci-subject'), existing: false };
  }

  // -------------------------------------------------------------------------------------------
  // Referrers

  /**
   * Attaches a manifest whose `subject` is `subject` (pushed by digest): with the referrers API the
   * registry indexes it itself; without it (no `OCI-Subject` answer) the client adds it to the
   * image index tagged `sha256-<hex>` of the subject, the spec's fallback, unless it is there.
   */
  async pushReferrer(
    repository: string,
    bytes: Uint8Array,
    descriptor: Descriptor,
    subject: string,
  ): Promise<'api' | 'tag'> {
    const put = await this.putManifest(repository, descriptor.digest, bytes, descriptor.mediaType);
    if (put.subjectProcessed) return 'api';
    if (put.existing && (await this.referrersApiAvailable(repository, subject))) return 'api';
    const tag = referrersTag(subject);
    const current = await this.getManifest(repository, tag);
    const manifests = ((current?.json.manifests as Descriptor[] | undefined) ?? []).filter(
      (entry) => entry && typeof entry.digest === 'string',
    );
    if (manifests.some((entry) => entry.digest === descriptor.digest)) return 'tag';
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [...manifests, descriptor],
    };
    await this.putManifest(
      repository,
      tag,
      new TextEncoder().encode(JSON.stringify(index)),
      MEDIA_TYPES.index,
    );
    return 'tag';
  }

  private async referrersApiAvailable(repository: string, subject: string): Promise<boolean> {
    const response = await this.send({
      method: 'GET',
      target: `/v2/${repository}/referrers/${subject}`,
      repository,
      maxBodyBytes: MAX_MANIFEST_BYTES,
    });
    return response.status === 200;
  }

  /**
   * The referrers of a manifest (optionally of one artifact type): from the referrers API, or, where
   * a registry answers 404 (it has none), from the `sha256-<hex>` tag's index.
   */
  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<Descriptor[]> {
    const query = artifactType ? `?${new URLSearchParams({ artifactType })}` : '';
    let target: string | undefined = `/v2/${repository}/referrers/${subject}${query}`;
    const manifests: Descriptor[] = [];
    // Long lists come in pages, each naming the next in a `Link: <…>; rel="next"` header.
    for (let page = 0; target !== undefined; page++) {
      if (page >= 100) throw new InputError(`${this.registry}'s referrers of ${subject} run past 100 pages.`);
      const response: SmallResponse = await this.send({
        method: 'GET',
        target,
        repository,
        headers: { accept: MEDIA_TYPES.index },
        maxBodyBytes: MAX_MANIFEST_BYTES,
      });
      if (response.status === 404 && page === 0) {
        // No referrers API: the spec's fallback, the sha256-<hex> tag's index.
        const index = await this.getManifest(repository, referrersTag(subject));
        if (index)
          manifests.push(
            ...readIndexManifests(index.bytes, `${this.registry}/${repository}:${referrersTag(subject)}`),
          );
        break;
      }
      if (response.status !== 200)
        throw this.unexpected(response, `listing the referrers of ${subject} in ${repository}`);
      manifests.push(...readIndexManifests(response.body, `${this.registry}'s referrers of ${subject}`));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
      target = next ? new URL(next, response.url).href : undefined;
      if (target && new URL(target).origin !== this.base.origin) {
        throw new InputError(
          `${this.registry} names another origin for the next page of referrers: refusing it.`,
        );
      }
    }
    return artifactType ? manifests.filter((entry) => entry.artifactType === artifactType) : manifests;
  }

  // -------------------------------------------------------------------------------------------
  // Requests and authentication

  /**
   * A small request: redirects followed by hand (the Authorization header only on the registry's
   * origin), a 401 answered once by authenticating as its challenge asks, transient failures
   * (connection errors, 429, 502-504) retried twice for requests that can be repeated.
   */
  private async send(request: SmallRequest): Promise<SmallResponse> {
    for (let attempt = 0; ; attempt++) {
      let response: SmallResponse;
      try {
        response = await this.sendOnce(request);
      } catch (error) {
        if (attempt < 2 && error instanceof RetryableError) {
          await delay(500 * 2 ** attempt);
          continue;
        }
        throw error instanceof RetryableError ? error.inputError : error;
      }
      if (response.status === 401) {
        const header = response.headers.get('www-authenticate') ?? '';
        const challenges = parseChallenges(header);
        if (attempt === 0 && challenges.length > 0) {
          await this.authenticate(challenges, request);
          response = await this.sendOnce(request).catch((error) => {
            throw error instanceof RetryableError ? error.inputError : error;
          });
        }
        if (response.status === 401) throw this.refused(request);
      }
      if ([429, 502, 503, 504].includes(response.status) && attempt < 2) {
        const wait = Math.min(
          Number(response.headers.get('retry-after')) * 1000 || 500 * 2 ** attempt,
          10_000,
        );
        await delay(wait);
        continue;
      }
      return response;
    }
  }

  private async sendOnce(request: SmallRequest): Promise<SmallResponse> {
    let url = new URL(request.target, this.base);
    const signal = AbortSignal.timeout(OCI_TIME_LIMITS.requestMs);
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...request.headers };
      if (this.authorization && url.origin === this.base.origin) headers.authorization = this.authorization;
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers,
          ...(request.body ? { body: request.body } : {}),
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        const input = this.unreachable(url, error);
        // A TLS failure (no TLS, an untrusted certificate) does not pass: only the rest is retried.
        const tls = /SSL|TLS|CERT|EPROTO/i.test(
          String((error as { cause?: { code?: string } }).cause?.code ?? ''),
        );
        throw request.method === 'POST' || request.method === 'PATCH' || tls
          ? input
          : new RetryableError(input);
      }
      const location = response.headers.get('location');
      // 201/202 answers carry a Location too (the upload's); only 3xx are redirects.
      if (response.status >= 300 && response.status < 400 && response.status !== 304 && location) {
        await response.body?.cancel();
        if (hop >= 5) throw new InputError(`${this.registry} redirects ${redact(url)} more than 5 times.`);
        const next = new URL(location, url);
        checkHttpUrl(next, `${this.registry} (redirected from ${redact(url)})`);
        url = next;
        continue;
      }
      let body: Uint8Array = new Uint8Array();
      if (request.maxBodyBytes !== undefined && request.method !== 'HEAD') {
        body = await readLimited(
          response,
          request.maxBodyBytes,
          `The answer to ${request.method} ${redact(url)}`,
        );
      } else {
        await response.body?.cancel();
      }
      return { status: response.status, headers: response.headers, body, url };
    }
  }

  /** A GET whose body the caller streams (blob downloads), with the same redirect and auth rules. */
  private async open(method: 'GET', target: string, repository: string): Promise<Response> {
    let url = new URL(target, this.base);
    for (let attempt = 0; attempt < 2; attempt++) {
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = {};
        if (this.authorization && url.origin === this.base.origin) headers.authorization = this.authorization;
        let response: Response;
        try {
          // The time limit covers the answer's headers; the body has the stall limit.
          const controller = new AbortController();
          const timer = setTimeout(
            () => controller.abort(new DOMException('timeout', 'TimeoutError')),
            OCI_TIME_LIMITS.requestMs,
          );
          try {
            response = await fetch(url, { method, headers, redirect: 'manual', signal: controller.signal });
          } finally {
            clearTimeout(timer);
          }
        } catch (error) {
          throw this.unreachable(url, error);
        }
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel();
          if (hop >= 5) throw new InputError(`${this.registry} redirects ${redact(url)} more than 5 times.`);
          const next = new URL(location, url);
          checkHttpUrl(next, `${this.registry} (redirected from ${redact(url)})`);
          url = next;
          continue;
        }
        if (response.status === 401 && attempt === 0 && url.origin === this.base.origin) {
          await response.body?.cancel();
          await this.authenticate(parseChallenges(response.headers.get('www-authenticate') ?? ''), {
            repository,
          });
          url = new URL(target, this.base);
          break;
        }
        if (response.status === 401) {
          await response.body?.cancel();
          throw this.refused({ repository, method, target });
        }
        return response;
      }
    }
    throw this.refused({ repository, method, target });
  }

  /** Answers a challenge: a token from the realm (Bearer) or the credential itself (Basic). */
  private async authenticate(
    challenges: AuthChallenge[],
    request: { repository: string; push?: boolean; pullFrom?: string },
  ): Promise<void> {
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    const basic = challenges.find((challenge) => challenge.scheme === 'basic');
    if (bearer?.params.realm) {
      const scopes = new Set(
        this.bearer && this.bearer.challenge.params.realm === bearer.params.realm ? this.bearer.scopes : [],
      );
      scopes.add(`repository:${request.repository}:${request.push ? 'pull,push' : 'pull'}`);
      if (request.pullFrom) scopes.add(`repository:${request.pullFrom}:pull`);
      if (bearer.params.scope)
        for (const scope of bearer.params.scope.split(' ')) if (scope) scopes.add(scope);
      const token = await requestToken({
        realm: bearer.params.realm,
        service: bearer.params.service,
        scopes: mergeScopes([...scopes]),
        credential: this.options.credential,
        registry: this.registry,
        timeoutMs: OCI_TIME_LIMITS.requestMs,
      }).catch((error: unknown) => {
        // An anonymous token refused: the registry wants a credential; say how to give one.
        if (!this.options.credential && error instanceof ConfigurationError && this.options.credentialHint) {
          throw new ConfigurationError(`${error.message} ${capitalize(this.options.credentialHint)}`);
        }
        throw error;
      });
      this.bearer = { challenge: bearer, scopes };
      this.authorization = `Bearer ${token}`;
      return;
    }
    if (basic) {
      if (!this.options.credential) throw this.credentialNeeded(request.repository);
      this.authorization = basicAuthorization(this.options.credential);
      return;
    }
    throw new InputError(
      `${this.registry} asks for an authentication scheme this client does not speak (${challenges.map((c) => c.scheme).join(', ') || 'none named'}); Bearer and Basic are supported.`,
    );
  }

  /** A 401 during an upload: true when it can be answered (a Bearer challenge, e.g. an expired token). */
  private refreshAuthentication(headers: Record<string, string | undefined>): boolean {
    return parseChallenges(headers['www-authenticate'] ?? '').length > 0;
  }

  private credentialNeeded(repository: string): ConfigurationError {
    return new ConfigurationError(
      `${this.registry} asks for a credential to reach ${repository}${this.options.credentialHint ? `: ${this.options.credentialHint}` : '.'}`,
    );
  }

  private refused(request: {
    repository: string;
    push?: boolean;
    method?: string;
    target?: string;
  }): ConfigurationError {
    if (!this.options.credential) return this.credentialNeeded(request.repository);
    return new ConfigurationError(
      `${this.registry} refused the credential for ${request.repository} (401 after authenticating): check the user name and the token${request.push ? ', and that it may push there' : ''}.`,
    );
  }

  private unreachable(url: URL, error: unknown): InputError {
    const reason = describeFetchError(error, OCI_TIME_LIMITS.requestMs);
    const hint =
      url.protocol === 'https:' &&
      isLoopbackHost(url.hostname) &&
      /EPROTO|SSL|TLS|wrong version/i.test(`${reason} ${String((error as { cause?: unknown }).cause)}`)
        ? ' A registry on this machine without TLS needs --plain-http.'
        : '';
    return new InputError(
      `The registry ${this.registry} cannot be reached (${redact(url)}): ${reason}.${hint}`,
      {},
      { cause: error },
    );
  }

  private unexpected(response: SmallResponse, doing: string): Error {
    return this.statusError(response.status, response.body, doing, undefined);
  }

  private statusError(
    status: number,
    body: Uint8Array,
    doing: string,
    repository: string | undefined,
  ): Error {
    const detail = describeRegistryErrors(body);
    if (status === 403) {
      return new ConfigurationError(
        `${this.registry} denied ${doing} (403${detail ? `: ${detail}` : ''}): the credential may not do that${repository ? ` in ${repository}` : ''}${this.registry === 'ghcr.io' ? ' (a workflow token needs permissions: packages: write, and the package must grant the repository write access)' : ''}.`,
      );
    }
    if (status === 401)
      return new ConfigurationError(`${this.registry} refused the credential while ${doing} (401).`);
    return new InputError(
      `${this.registry} answered ${status} while ${doing}${detail ? `: ${detail}` : ''}.`,
    );
  }
}

/** A raw node:http answer. */
interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

class RetryableError extends Error {
  readonly inputError: InputError;
  constructor(inputError: InputError) {
    super(inputError.message);
    this.inputError = inputError;
  }
}

/** The bytes `offset` to `offset + length` of a stream (chunked uploads of a streamed blob). */
async function* sliceStream(
  stream: AsyncIterable<Uint8Array>,
  offset: number,
  length: number,
): AsyncGenerator<Uint8Array> {
  let position = 0;
  const end = offset + length;
  for await (const chunk of stream) {
    const from = Math.max(offset - position, 0);
    const to = Math.min(end - position, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    position += chunk.length;
    if (position >= end) return;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withQuery(url: URL, params: Record<string, string>): URL {
  const next = new URL(url);
  for (const [key, value] of Object.entries(params)) next.searchParams.set(key, value);
  return next;
}

/** Merges `repository:name:actions` scopes of the same repository (`pull` and `pull,push` → `pull,push`). */
function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const others: string[] = [];
  for (const scope of scopes) {
    const match = /^(repository:[^:]+):(.+)$/.exec(scope);
    if (!match) {
      others.push(scope);
      continue;
    }
    const actions = byResource.get(match[1]) ?? new Set<string>();
    for (const action of match[2].split(',')) actions.add(action);
    byResource.set(match[1], actions);
  }
  return [
    ...[...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`),
    ...others,
  ].sort();
}

async function collect(stream: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total <= maxBytes) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads an answer's body up to `maxBytes` (more is an InputError naming `what`). */
async function readLimited(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => {});
      throw new InputError(`${what} is larger than ${maxBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The `code`s of a registry's error body (`{"errors":[{"code":…,"message":…}]}`). */
function registryErrorCodes(body: Uint8Array): string[] {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { errors?: { code?: unknown }[] };
    return (parsed.errors ?? []).map((error) => String(error.code));
  } catch {
    return [];
  }
}

/** A registry's error body in one line, at most 300 characters. */
function describeRegistryErrors(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 4096));
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(parsed.errors)) {
      return parsed.errors
        .map((error) => [error.code, error.message].filter(Boolean).join(' '))
        .join('; ')
        .slice(0, 300);
    }
  } catch {
    // Not JSON: the text itself.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** The `manifests` of an image index, checked for shape. */
export function readIndexManifests(bytes: Uint8Array, what: string): Descriptor[] {
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InputError(`${what} is not a JSON image index.`);
  }
  if (!Array.isArray(index.manifests))
    throw new InputError(`${what} is not an image index (no "manifests").`);
  return (index.manifests as Descriptor[]).filter(
    (entry) =>
      entry !== null &&
      typeof entry === 'object' &&
      typeof entry.digest === 'string' &&
      typeof entry.mediaType === 'string' &&
      Number.isSafeInteger(entry.size),
  );
}

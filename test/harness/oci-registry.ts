/**
 * Real OCI registries for tests, on loopback:
 *
 * - {@link startRegistry}: Debian's `docker-registry` (distribution 2.8) from a small config, on a
 *   free port with temporary storage. It stores OCI 1.1 manifests (artifactType, subject) byte for
 *   byte but has no referrers API (404): clients must keep the `sha256-<hex>` tag index.
 * - {@link startReferrersStandIn}: a proxy in front of one, adding what distribution 2.8 lacks, as
 *   the OCI distribution spec (v1.1, "Listing Referrers" and "Pushing Manifests with Subject")
 *   says: `OCI-Subject` on manifest pushes with a `subject`, `GET /v2/<name>/referrers/<digest>`
 *   (200 with an image index, `artifactType` and annotations as the spec requires, an empty list
 *   for unknown subjects, `OCI-Filters-Applied`, `Link` pages, 400 for a bad digest). It checks
 *   its own referrers answers against those rules ({@link checkReferrersAnswer}) and fails the
 *   request (500) when one does not hold, so a test sees a contract mistake. It can also demand
 *   credentials (Basic, or Bearer with a token realm on another origin), refuse large bodies with
 *   413, and redirect blob downloads to a storage origin, recording which origin saw which
 *   Authorization header.
 * - {@link seedBaseImage}: a base image from Debian's busybox-static (sh, ln, sleep, sha256sum),
 *   written as an OCI layout by hand and copied in with skopeo, so the code under test does not
 *   seed its own inputs.
 *
 * With CI=true a missing Debian tool fails the tests instead of skipping them ({@link ociToolsMissing}).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian commands these tests run, and the package of each. */
export const OCI_TOOLS = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  umoci: 'umoci',
  busybox: 'busybox-static',
} as const;

/**
 * The Debian packages whose commands are missing here (apt-get install them). BusyBox must be the
 * static one (busybox-static): the modelcar's base runs it in a chroot, where no libc is.
 */
export function ociToolsMissing(): string[] {
  const missing: string[] = [];
  for (const [command, pkg] of Object.entries(OCI_TOOLS)) {
    const found =
      command === 'busybox'
        ? isStaticExecutable('/bin/busybox')
        : ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((dir) =>
            existsSync(join(dir, command)),
          );
    if (!found) missing.push(pkg);
  }
  return missing;
}

/** True for a 64-bit little-endian ELF executable without an interpreter (PT_INTERP): statically linked. */
function isStaticExecutable(path: string): boolean {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return false;
  }
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1)
    return false;
  const offset = Number(bytes.readBigUInt64LE(0x20));
  const size = bytes.readUInt16LE(0x36);
  const count = bytes.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    if (bytes.readUInt32LE(offset + i * size) === 3) return false; // PT_INTERP: dynamically linked
  }
  return true;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A running docker-registry. */
export interface Registry {
  /** `127.0.0.1:<port>`, as references name it. */
  host: string;
  url: string;
  storage: string;
  /** What the registry logged (its access log with `accessLog`). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry on a free loopback port with temporary storage. */
export async function startRegistry(
  options: { accessLog?: boolean; storage?: string } = {},
): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-registry-'));
  const storage = options.storage ?? join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        `  level: ${options.accessLog ? 'info' : 'error'}`,
        '  accesslog:',
        `    disabled: ${options.accessLog ? 'false' : 'true'}`,
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${storage}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    let output = '';
    const child: ChildProcess = spawn('docker-registry', ['serve', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Not left behind when the test process ends without stopping it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    void exited.then(() => process.off('exit', reap));
    const url = `http://127.0.0.1:${port}`;
    const ready = await waitFor(
      async () => (await fetch(`${url}/v2/`)).status === 200,
      10_000,
      () => child.exitCode !== null,
    );
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      if (attempt < 3 && /address already in use/.test(output)) continue;
      throw new Error(`docker-registry did not start: ${output.slice(-2000)}`);
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      storage,
      output: () => output,
      stop: async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  gaveUp: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) return false;
    try {
      if (await check()) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The referrers stand-in

/** One request as a server of the stand-in saw it. */
export interface SeenRequest {
  /** Which server: the registry (the proxy), the token realm, or the blob storage. */
  server: 'registry' | 'realm' | 'storage';
  method: string;
  path: string;
  /** The Authorization header's scheme (`basic`, `bearer`) or `none`; never its value. */
  authorization: 'none' | 'basic' | 'bearer' | 'other';
  /** Whether the credential or token it carried was the right one. */
  authorized: boolean;
  status: number;
}

/** Options of {@link startReferrersStandIn}. */
export interface StandInOptions {
  /** Demand this credential: Basic on the registry, or Bearer tokens from a realm on another origin. */
  auth?: { scheme: 'basic' | 'bearer'; username: string; password: string };
  /** Answer 413 to uploads larger than this (forces chunked uploads). */
  maxBodyBytes?: number;
  /** Referrers per page (more: a `Link` header to the next page). Default 100. */
  pageSize?: number;
  /** Redirect blob downloads to a storage server on another origin. */
  redirectBlobs?: boolean;
  /** Leave out the referrers API and OCI-Subject (a proxy that only adds auth or limits). */
  noReferrers?: boolean;
  /** Serve the registry over https with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

/** A running stand-in. */
export interface ReferrersStandIn {
  host: string;
  url: string;
  /** The token realm's origin, with `auth.scheme: 'bearer'`. */
  realm?: string;
  /** The storage origin, with `redirectBlobs`. */
  storage?: string;
  requests: SeenRequest[];
  /** Manifests with a subject that the stand-in indexed: repository → subject → descriptors. */
  referrers: Map<string, Map<string, ReferrerDescriptor[]>>;
  /** Referrers answers that broke the spec's rules (the request was answered 500). */
  violations: string[];
  stop(): Promise<void>;
}

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY_TYPE = 'application/vnd.oci.empty.v1+json';

/**
 * Checks a referrers answer against the distribution spec's "Listing Referrers" rules, given the
 * manifests the subject has: status 200, Content-Type an image index, a body that is an image
 * index, one descriptor per referrer whose artifactType is the manifest's artifactType (else its
 * config's mediaType; omitted for an index without one) and whose annotations are the manifest's,
 * `OCI-Filters-Applied: artifactType` when a filter was applied. Returns the broken rules.
 */
export function checkReferrersAnswer(
  answer: { status: number; headers: Record<string, string>; body: unknown },
  expected: ReferrerDescriptor[],
  filter: string | undefined,
): string[] {
  const problems: string[] = [];
  if (answer.status !== 200) problems.push(`status ${answer.status}, not 200`);
  if (answer.headers['content-type'] !== INDEX_TYPE)
    problems.push(`Content-Type ${answer.headers['content-type']}, not ${INDEX_TYPE}`);
  const body = answer.body as { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown };
  if (body?.schemaVersion !== 2) problems.push('schemaVersion is not 2');
  if (body?.mediaType !== INDEX_TYPE) problems.push(`mediaType is not ${INDEX_TYPE}`);
  if (!Array.isArray(body?.manifests)) problems.push('manifests is not a list');
  if (filter !== undefined && answer.headers['oci-filters-applied'] !== 'artifactType') {
    problems.push('a filter was applied without OCI-Filters-Applied: artifactType');
  }
  const listed = (Array.isArray(body?.manifests) ? body.manifests : []) as ReferrerDescriptor[];
  const wanted = expected.filter((descriptor) => filter === undefined || descriptor.artifactType === filter);
  for (const descriptor of listed) {
    const match = wanted.find((candidate) => candidate.digest === descriptor.digest);
    if (!match) {
      problems.push(
        `${descriptor.digest} is listed but is not a referrer${filter ? ` of type ${filter}` : ''}`,
      );
      continue;
    }
    for (const key of ['mediaType', 'size', 'artifactType'] as const) {
      if (descriptor[key] !== match[key])
        problems.push(`${descriptor.digest}: ${key} ${descriptor[key]}, expected ${match[key]}`);
    }
    if (JSON.stringify(descriptor.annotations ?? {}) !== JSON.stringify(match.annotations ?? {})) {
      problems.push(`${descriptor.digest}: annotations are not the manifest's`);
    }
  }
  return problems;
}

/** The descriptor a referrers list holds for a manifest with a subject (the spec's rules). */
export function referrerDescriptor(bytes: Buffer, mediaType: string): ReferrerDescriptor {
  const json = JSON.parse(bytes.toString('utf8')) as {
    artifactType?: string;
    config?: { mediaType?: string };
    annotations?: Record<string, string>;
  };
  const artifactType = json.artifactType || (mediaType === INDEX_TYPE ? undefined : json.config?.mediaType);
  return {
    mediaType,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    ...(artifactType ? { artifactType } : {}),
    ...(json.annotations ? { annotations: json.annotations } : {}),
  };
}

/** Starts the stand-in in front of `upstream` (see the module's description). */
export async function startReferrersStandIn(
  upstream: Registry,
  options: StandInOptions = {},
): Promise<ReferrersStandIn> {
  const requests: SeenRequest[] = [];
  const referrers = new Map<string, Map<string, ReferrerDescriptor[]>>();
  const violations: string[] = [];
  const tokens = new Set<string>();
  const servers: Server[] = [];
  const auth = options.auth;
  const basic = auth
    ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    : undefined;
  const pageSize = options.pageSize ?? 100;

  const classify = (header: string | undefined): SeenRequest['authorization'] => {
    if (!header) return 'none';
    const scheme = header.split(' ')[0].toLowerCase();
    return scheme === 'basic' || scheme === 'bearer' ? scheme : 'other';
  };
  const record = (
    server: SeenRequest['server'],
    request: IncomingMessage,
    authorized: boolean,
    status: number,
  ) =>
    requests.push({
      server,
      method: request.method ?? '',
      path: (request.url ?? '').split('?')[0],
      authorization: classify(request.headers.authorization),
      authorized,
      status,
    });

  // The token realm (Bearer): another origin, checks the Basic credential, issues a token.
  let realm: string | undefined;
  if (auth?.scheme === 'bearer') {
    const server = createServer((request, response) => {
      const ok = request.headers.authorization === basic;
      if (!ok) {
        record('realm', request, false, 401);
        response
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      record('realm', request, true, 200);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: 300 }));
    });
    servers.push(server);
    realm = `http://127.0.0.1:${await listen(server)}`;
  }

  // The blob storage (redirect target): another origin; serves blobs read from the registry.
  let storage: string | undefined;
  if (options.redirectBlobs) {
    const server = createServer((request, response) => {
      record('storage', request, request.headers.authorization === undefined, 200);
      const path = decodeURIComponent((request.url ?? '/').slice(1));
      const upstreamRequest = httpRequest(`${upstream.url}${path}`, { method: request.method }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstreamRequest.on('error', () => response.writeHead(502).end());
      upstreamRequest.end();
    });
    servers.push(server);
    storage = `http://127.0.0.1:${await listen(server)}`;
  }

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    void handle(request, response).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500).end(error.message);
      else response.destroy(error);
    });
  };
  const proxy = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  servers.push(proxy);
  const port = await listen(proxy);
  const host = `127.0.0.1:${port}`;
  // The registry builds its Location headers from these: the client's scheme, not the proxy's.
  const forwardedProto: Record<string, string> = options.tls ? { 'x-forwarded-proto': 'https' } : {};

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `${options.tls ? 'https' : 'http'}://${host}`);
    // Authentication first, as registries do.
    if (auth) {
      const header = request.headers.authorization;
      const ok =
        auth.scheme === 'basic'
          ? header === basic
          : header?.startsWith('Bearer ') === true && tokens.has(header.slice('Bearer '.length));
      if (!ok) {
        record('registry', request, false, 401);
        const challenge =
          auth.scheme === 'basic'
            ? 'Basic realm="mlops-test"'
            : `Bearer realm="${realm}/token",service="mlops-test",scope="repository:${repositoryOf(url.pathname) ?? 'x'}:pull"`;
        request.resume();
        response.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
        response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const referrersMatch = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(url.pathname);
    if (referrersMatch && request.method === 'GET' && !options.noReferrers) {
      record('registry', request, true, 200);
      const [, repository, digest] = referrersMatch;
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
        response
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        return;
      }
      const filter = url.searchParams.get('artifactType') ?? undefined;
      const all = referrers.get(repository)?.get(digest) ?? [];
      const matching = all.filter((descriptor) => filter === undefined || descriptor.artifactType === filter);
      const page = Number(url.searchParams.get('page') ?? '0');
      const manifests = matching.slice(page * pageSize, (page + 1) * pageSize);
      const headers: Record<string, string> = { 'content-type': INDEX_TYPE };
      if (filter !== undefined) headers['oci-filters-applied'] = 'artifactType';
      if ((page + 1) * pageSize < matching.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      const body = { schemaVersion: 2, mediaType: INDEX_TYPE, manifests };
      const problems = checkReferrersAnswer({ status: 200, headers, body }, all, filter);
      const listedOk =
        manifests.length === Math.min(pageSize, Math.max(0, matching.length - page * pageSize));
      if (problems.length > 0 || !listedOk) {
        violations.push(...problems, ...(listedOk ? [] : ['a page lists the wrong number of referrers']));
        response.writeHead(500).end(problems.join('; '));
        return;
      }
      response.writeHead(200, headers).end(JSON.stringify(body));
      return;
    }
    const manifestPut = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifestPut && request.method === 'PUT') {
      const body = await readBody(request, 4 * 1024 * 1024);
      const answer = await forward(request, url, body);
      const headers = { ...answer.headers };
      const mediaType = String(request.headers['content-type'] ?? '');
      const json = JSON.parse(body.toString('utf8')) as {
        subject?: { digest?: string };
        config?: { mediaType?: string };
      };
      if (answer.status === 201 && json.subject?.digest && !options.noReferrers) {
        const repository = manifestPut[1];
        const descriptor = referrerDescriptor(body, mediaType);
        if (
          mediaType === MANIFEST_TYPE &&
          json.config?.mediaType === EMPTY_TYPE &&
          !descriptor.artifactType?.length
        ) {
          violations.push(`${descriptor.digest}: an artifact with an empty config must have an artifactType`);
        }
        const bySubject = referrers.get(repository) ?? new Map<string, ReferrerDescriptor[]>();
        referrers.set(repository, bySubject);
        const list = bySubject.get(json.subject.digest) ?? [];
        if (!list.some((entry) => entry.digest === descriptor.digest)) list.push(descriptor);
        bySubject.set(json.subject.digest, list);
        headers['oci-subject'] = json.subject.digest;
      }
      record('registry', request, true, answer.status);
      response.writeHead(answer.status, headers).end(answer.body);
      return;
    }
    const blobGet = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (blobGet && request.method === 'GET' && storage) {
      record('registry', request, true, 307);
      request.resume();
      response
        .writeHead(307, { location: `${storage}/${encodeURIComponent(url.pathname + url.search)}` })
        .end();
      return;
    }
    const length = Number(request.headers['content-length'] ?? '0');
    if (options.maxBodyBytes !== undefined && length > options.maxBodyBytes && request.method === 'PUT') {
      record('registry', request, true, 413);
      request.resume();
      response.writeHead(413, { 'content-type': 'application/json' });
      response.end('{"errors":[{"code":"SIZE_INVALID","message":"request body too large"}]}');
      return;
    }
    // Everything else streams through to the registry (Host kept: its Location headers name us).
    const upstreamRequest = httpRequest(
      `${upstream.url}${url.pathname}${url.search}`,
      { method: request.method, headers: { ...request.headers, host, ...forwardedProto } },
      (answer) => {
        record('registry', request, true, answer.statusCode ?? 0);
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstreamRequest.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502).end(error.message);
    });
    request.pipe(upstreamRequest);
  }

  async function forward(
    request: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstreamRequest = httpRequest(
        `${upstream.url}${url.pathname}${url.search}`,
        {
          method: request.method,
          headers: { ...request.headers, host, ...forwardedProto, 'content-length': String(body.length) },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk) => chunks.push(chunk));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 0,
              headers: Object.fromEntries(
                Object.entries(answer.headers).map(([key, value]) => [key, String(value)]),
              ) as Record<string, string>,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      upstreamRequest.on('error', reject);
      upstreamRequest.end(body);
    });
  }

  return {
    host,
    url: `${options.tls ? 'https' : 'http'}://${host}`,
    ...(realm ? { realm } : {}),
    ...(storage ? { storage } : {}),
    requests,
    referrers,
    violations,
    stop: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

function repositoryOf(path: string): string | undefined {
  return /^\/v2\/(.+)\/(?:blobs|manifests|referrers|tags)\//.exec(path)?.[1];
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// A base image from busybox-static

/** `skopeo …`, with its output; throws with stderr on failure. */
export function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Pushes a base image made of Debian's busybox-static (bin/busybox and links sh, ln, sleep, ls,
 * cat, sha256sum; empty mnt, proc, tmp) to `<registry>/<repository>:<tag>` over plain http: written
 * as an OCI layout by hand (tar by GNU tar with fixed owners and times) and copied with skopeo.
 * With `index`, the image is wrapped in an image index listing it for linux/amd64 and, to give the
 * index a second platform, the same image labelled linux/arm64 (its binary is x86-64: never run it
 * as arm64). Returns the reference pinned by digest.
 */
export async function seedBaseImage(
  registry: string,
  repository: string,
  options: { tag?: string; index?: boolean } = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-base-image-'));
  try {
    const root = join(dir, 'root');
    await mkdir(join(root, 'bin'), { recursive: true });
    for (const folder of ['mnt', 'proc', 'tmp']) await mkdir(join(root, folder));
    await copyFile('/bin/busybox', join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'ln', 'sleep', 'ls', 'cat', 'sha256sum', 'readlink']) {
      await symlink('busybox', join(root, 'bin', applet));
    }
    const layerPath = join(dir, 'layer.tar');
    execFileSync('tar', [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '-C',
      root,
      '-cf',
      layerPath,
      'bin',
      'mnt',
      'proc',
      'tmp',
    ]);
    const layout = join(dir, 'layout');
    await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
    const put = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      await writeFile(join(layout, 'blobs/sha256', hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    const { readFile } = await import('node:fs/promises');
    const layer = await put(await readFile(layerPath));
    const config = await put(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          history: [
            { created: '1970-01-01T00:00:00Z', created_by: 'busybox-static from Debian (test base)' },
          ],
        }),
      ),
    );
    const manifest = await put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST_TYPE,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      ),
    );
    let top = { mediaType: MANIFEST_TYPE, ...manifest };
    if (options.index) {
      const index = await put(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: INDEX_TYPE,
            manifests: [
              { mediaType: MANIFEST_TYPE, ...manifest, platform: { architecture: 'amd64', os: 'linux' } },
              { mediaType: MANIFEST_TYPE, ...manifest, platform: { architecture: 'arm64', os: 'linux' } },
            ],
          }),
        ),
      );
      top = { mediaType: INDEX_TYPE, ...index };
    }
    const tag = options.tag ?? 'test';
    await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }],
      }),
    );
    skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      ...(options.index ? ['--all'] : []),
      '--dest-tls-verify=false',
      `oci:${layout}:${tag}`,
      `docker://${registry}/${repository}:${tag}`,
    ]);
    return `${registry}/${repository}:${tag}@${top.digest}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

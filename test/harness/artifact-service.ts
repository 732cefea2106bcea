/**
 * A stand-in for GitHub's artifact backend, for tests of code that uses `@actions/artifact` (v2+):
 * a real blob store (Azurite, in memory) plus a small implementation of the results service's Twirp
 * JSON API that hands out signed URLs into it, keeps the artifacts' state and records every call.
 *
 * Protocol, as @actions/artifact 6.2 speaks it (read from its `lib/`; comments mark where the
 * stand-in is stricter than GitHub or guesses):
 * - `POST {ACTIONS_RESULTS_URL origin}/twirp/github.actions.results.api.v1.ArtifactService/<Method>`,
 *   `Content-Type: application/json`, `Authorization: Bearer $ACTIONS_RUNTIME_TOKEN`. Bodies are
 *   protobuf JSON with the proto field names (snake_case), default values left out, int64 as
 *   strings, google.protobuf wrappers as the bare value (`"mime_type": "application/zip"`,
 *   `"id_filter": "42"`) and Timestamps as RFC 3339 strings.
 * - The token is a JWT the library only decodes (jwt-decode; no signature check): its `scp` claim is
 *   a space-separated list in which `Actions.Results:<workflowRunBackendId>:<workflowJobRunBackendId>`
 *   names the run and job; those ids go into every request.
 * - Upload = CreateArtifact (name, mime type `application/zip`, version 7, optional expires_at) →
 *   `{ok, signed_upload_url}`; the library zips the files and streams the zip to that URL with
 *   `BlockBlobClient.uploadStream` (Put Block × n + Put Block List, so the SAS needs `c` and `w`);
 *   then FinalizeArtifact (size as int64 string, hash `sha256:<hex of the zip>`) → `{ok, artifact_id}`.
 *   `ok: false` makes the library throw, as does an artifact id that is not an int64.
 * - Errors are Twirp errors, `{code, msg}` with the HTTP status of the code. The library retries
 *   429 and 5xx (5 attempts, 3 s × 1.5ⁿ: ~25 s), so the stand-in never answers 5xx on purpose; any
 *   other status fails at once as `Failed to <Method>: Received non-retryable error: Failed request:
 *   (<status>) <reason>: <msg>`. A `msg` containing "insufficient usage" becomes its UsageError.
 * - A second CreateArtifact with a name the run already has answers 409 `already_exists`, "an
 *   artifact with this name already exists on the workflow run" (GitHub's words, whichever job made
 *   the first one).
 * - Downloads: ListArtifacts (run-wide; optional name_filter / id_filter) then GetSignedArtifactURL
 *   with the job id *of the artifact* (not the caller's), so both accept any job of the token's run.
 * - `GITHUB_SERVER_URL` must be github.com, *.ghe.com or *.localhost, else the library refuses
 *   (GHESNotSupportedError) before any request.
 *
 * The Twirp server runs in the calling (test) process: code under test that talks to it must run in
 * the same process or in a child started asynchronously (`spawn`, as test/harness/run-action.ts does);
 * `spawnSync`/`execFileSync` would block the server and the upload would hang.
 *
 * Azurite: path-style URLs `http://127.0.0.1:<port>/devstoreaccount1/<container>/<blob>`, the
 * well-known development account key, no `spr=https` in the SAS (plain HTTP).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { repoRoot } from './run-action.ts';

/** Azurite's fixed development account (documented, not a secret). */
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const containerName = 'actions-results';
const servicePath = '/twirp/github.actions.results.api.v1.ArtifactService/';
/** Artifact ids above 2³¹, so an id squeezed through an int32 anywhere shows up. */
const firstArtifactId = 3_000_000_001;

/** One artifact as the stand-in keeps it. */
export interface StoredArtifact {
  id: number;
  name: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  /** Blob name inside the container. */
  blobName: string;
  mimeType: string | undefined;
  /** CreateArtifact's `version` (7 for @actions/artifact 6). */
  version: number;
  expiresAt: Date | undefined;
  createdAt: Date;
  finalized: boolean;
  /** From FinalizeArtifact, checked against the blob. */
  size: number | undefined;
  /** From FinalizeArtifact (`sha256:<hex>`), checked against the blob. */
  digest: string | undefined;
}

/** One Twirp request and the answer it got. */
export interface TwirpCall {
  method: string;
  status: number;
  /** The parsed JSON body (or the raw text when it was not JSON). */
  request: unknown;
  response: unknown;
}

/** A running stand-in; see {@link startArtifactService}. */
export interface ArtifactService {
  /**
   * What a job step sees: ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, GITHUB_SERVER_URL (github.com),
   * GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_RETENTION_DAYS.
   */
  env: Record<string, string>;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1`. */
  blobEndpoint: string;
  /** Snapshot of every artifact, finalized or not, oldest first. */
  artifacts(): StoredArtifact[];
  /** Snapshot of every Twirp call so far, in order. */
  calls(): TwirpCall[];
  /**
   * The stored zip of a finalized artifact, fetched as a client would: GetSignedArtifactURL (recorded
   * in `calls()` like any other), then the signed URL from Azurite.
   */
  download(name: string): Promise<Uint8Array>;
  /** Stops the Twirp server and Azurite (SIGTERM, again, then SIGKILL). */
  stop(): Promise<void>;
}

/** Twirp error codes used here and their HTTP statuses (twirp spec v7). */
const twirpStatus = {
  malformed: 400,
  invalid_argument: 400,
  bad_route: 404,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  unauthenticated: 401,
  permission_denied: 403,
  internal: 500,
} as const;

class TwirpError extends Error {
  override name = 'TwirpError';
  readonly code: keyof typeof twirpStatus;
  readonly meta: Record<string, string> | undefined;
  constructor(code: keyof typeof twirpStatus, message: string, meta?: Record<string, string>) {
    super(message);
    this.code = code;
    this.meta = meta;
  }
}

/** Starts Azurite and the Twirp stand-in on free ports. Call `stop()` in `afterAll`. */
export async function startArtifactService(): Promise<ArtifactService> {
  const azurite = await startAzurite();
  try {
    const blobEndpoint = `${azurite.url}/${account}`;
    const credential = new StorageSharedKeyCredential(account, accountKey);
    const container = new BlobServiceClient(blobEndpoint, credential).getContainerClient(containerName);
    await container.create();

    const workflowRunBackendId = randomUUID();
    const workflowJobRunBackendId = randomUUID();
    const token = createRuntimeToken(workflowRunBackendId, workflowJobRunBackendId);
    const state: State = {
      artifacts: [],
      calls: [],
      nextId: firstArtifactId,
      token: { workflowRunBackendId, workflowJobRunBackendId },
      container,
      credential,
    };
    const server = createServer((request, response) => {
      handle(state, request, response).catch((error: unknown) => {
        // A bug in the stand-in: answered as Twirp `internal` (which the library retries for ~25 s).
        send(response, new TwirpError('internal', String(error)));
      });
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolveListen());
    });
    const resultsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    return {
      env: {
        ACTIONS_RUNTIME_TOKEN: token,
        ACTIONS_RESULTS_URL: resultsUrl,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'octo-org/mlops-demo',
        GITHUB_RUN_ID: '1000000001',
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_RETENTION_DAYS: '90',
      },
      workflowRunBackendId,
      workflowJobRunBackendId,
      blobEndpoint,
      artifacts: () => state.artifacts.map((artifact) => ({ ...artifact })),
      calls: () => state.calls.map((call) => ({ ...call })),
      download: (name) => downloadArtifact(state, resultsUrl, token, name),
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        await azurite.stop();
      },
    };
  } catch (error) {
    await azurite.stop();
    throw error;
  }
}

interface State {
  artifacts: StoredArtifact[];
  calls: TwirpCall[];
  nextId: number;
  token: { workflowRunBackendId: string; workflowJobRunBackendId: string };
  container: ContainerClient;
  credential: StorageSharedKeyCredential;
}

// ---------------------------------------------------------------------------------------------------
// Twirp

async function handle(state: State, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const text = await readBody(request);
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = url.pathname.startsWith(servicePath) ? url.pathname.slice(servicePath.length) : url.pathname;
  let body: unknown = text;
  let answer: object | TwirpError;
  try {
    if (request.method !== 'POST' || !url.pathname.startsWith(servicePath)) {
      throw new TwirpError('bad_route', `no handler for ${request.method} ${url.pathname}`);
    }
    // Twirp routes on the content type: protobuf (binary) is not served here.
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
      throw new TwirpError('bad_route', `unexpected Content-Type: ${request.headers['content-type']}`);
    }
    try {
      body = JSON.parse(text);
    } catch {
      throw new TwirpError('malformed', 'the json request could not be decoded');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TwirpError('malformed', 'the json request is not an object');
    }
    const caller = authenticate(request.headers.authorization);
    const fields = body as Record<string, unknown>;
    switch (method) {
      case 'CreateArtifact':
        answer = createArtifact(state, caller, fields);
        break;
      case 'FinalizeArtifact':
        answer = await finalizeArtifact(state, caller, fields);
        break;
      case 'ListArtifacts':
        answer = listArtifacts(state, caller, fields);
        break;
      case 'GetSignedArtifactURL':
        answer = getSignedArtifactUrl(state, caller, fields);
        break;
      case 'DeleteArtifact':
        answer = await deleteArtifact(state, caller, fields);
        break;
      default:
        throw new TwirpError(
          'bad_route',
          `no method ${method} in github.actions.results.api.v1.ArtifactService`,
        );
    }
  } catch (error) {
    if (!(error instanceof TwirpError)) throw error;
    answer = error;
  }
  const status = send(response, answer);
  state.calls.push({
    method,
    status,
    request: body,
    response: answer instanceof TwirpError ? twirpBody(answer) : answer,
  });
}

function createArtifact(state: State, caller: BackendIds, body: Record<string, unknown>): object {
  const request = readFields(body, {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
    version: 'int32',
    expires_at: 'timestamp?',
    mime_type: 'string?',
  });
  const ids = requireOwnJob(caller, request);
  const name = requireName(request.name);
  const expiresAt = request.expires_at === undefined ? undefined : new Date(request.expires_at as string);
  if (expiresAt !== undefined && expiresAt.getTime() <= Date.now()) {
    throw new TwirpError('invalid_argument', 'expires_at must be in the future', { argument: 'expires_at' });
  }
  const existing = state.artifacts.find(
    (artifact) => artifact.workflowRunBackendId === ids.workflowRunBackendId && artifact.name === name,
  );
  if (existing?.finalized || (existing && existing.workflowJobRunBackendId !== ids.workflowJobRunBackendId)) {
    throw new TwirpError('already_exists', 'an artifact with this name already exists on the workflow run');
  }
  // Guess: an unfinalized artifact of the same job (an upload that failed half-way) is replaced, so
  // the step can be retried.
  if (existing) state.artifacts.splice(state.artifacts.indexOf(existing), 1);

  const id = state.nextId++;
  const artifact: StoredArtifact = {
    id,
    name,
    ...ids,
    blobName: `${ids.workflowRunBackendId}/${id}.zip`,
    mimeType: request.mime_type as string | undefined,
    version: request.version as number,
    expiresAt,
    createdAt: new Date(),
    finalized: false,
    size: undefined,
    digest: undefined,
  };
  state.artifacts.push(artifact);
  return { ok: true, signed_upload_url: signUrl(state, artifact.blobName, 'cw') };
}

async function finalizeArtifact(
  state: State,
  caller: BackendIds,
  body: Record<string, unknown>,
): Promise<object> {
  const request = readFields(body, {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
    size: 'int64',
    hash: 'string?',
  });
  const ids = requireOwnJob(caller, request);
  const artifact = state.artifacts.find(
    (candidate) =>
      candidate.workflowRunBackendId === ids.workflowRunBackendId &&
      candidate.workflowJobRunBackendId === ids.workflowJobRunBackendId &&
      candidate.name === request.name,
  );
  if (!artifact) throw new TwirpError('not_found', `no artifact '${request.name}' was created by this job`);
  if (artifact.finalized)
    throw new TwirpError('failed_precondition', `artifact '${artifact.name}' is already finalized`);
  const size = Number(request.size);
  const hash = request.hash as string | undefined;
  if (hash !== undefined && !/^sha256:[0-9a-f]{64}$/.test(hash)) {
    throw new TwirpError('invalid_argument', `hash must be sha256:<64 hex digits>, got ${hash}`, {
      argument: 'hash',
    });
  }
  // Stricter than we know GitHub to be: the stored blob must match what the client reports. (Read
  // whole into memory: test artifacts are small.)
  const blob = state.container.getBlobClient(artifact.blobName);
  if (!(await blob.exists())) {
    throw new TwirpError('failed_precondition', `nothing was uploaded for artifact '${artifact.name}'`);
  }
  const content = await blob.downloadToBuffer();
  if (content.length !== size) {
    throw new TwirpError(
      'invalid_argument',
      `size ${size} differs from the ${content.length} bytes uploaded`,
      {
        argument: 'size',
      },
    );
  }
  const actual = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  if (hash !== undefined && hash !== actual) {
    throw new TwirpError('invalid_argument', `hash ${hash} differs from the uploaded blob's ${actual}`, {
      argument: 'hash',
    });
  }
  artifact.finalized = true;
  artifact.size = size;
  artifact.digest = hash;
  return { ok: true, artifact_id: String(artifact.id) };
}

function listArtifacts(state: State, caller: BackendIds, body: Record<string, unknown>): object {
  const request = readFields(body, {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name_filter: 'string?',
    id_filter: 'int64?',
  });
  const runId = requireOwnRun(caller, request);
  const artifacts = state.artifacts.filter(
    (artifact) =>
      artifact.finalized &&
      artifact.workflowRunBackendId === runId &&
      (request.name_filter === undefined || artifact.name === request.name_filter) &&
      (request.id_filter === undefined || String(artifact.id) === request.id_filter),
  );
  return {
    artifacts: artifacts.map((artifact) => ({
      workflow_run_backend_id: artifact.workflowRunBackendId,
      workflow_job_run_backend_id: artifact.workflowJobRunBackendId,
      database_id: String(artifact.id),
      name: artifact.name,
      size: String(artifact.size),
      created_at: artifact.createdAt.toISOString(),
      ...(artifact.digest === undefined ? {} : { digest: artifact.digest }),
    })),
  };
}

function getSignedArtifactUrl(state: State, caller: BackendIds, body: Record<string, unknown>): object {
  const request = readFields(body, {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
  });
  const artifact = findFinalized(state, caller, request);
  return { signed_url: signUrl(state, artifact.blobName, 'r') };
}

async function deleteArtifact(
  state: State,
  caller: BackendIds,
  body: Record<string, unknown>,
): Promise<object> {
  const request = readFields(body, {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
  });
  const artifact = findFinalized(state, caller, request);
  await state.container.getBlobClient(artifact.blobName).deleteIfExists();
  state.artifacts.splice(state.artifacts.indexOf(artifact), 1);
  return { ok: true, artifact_id: String(artifact.id) };
}

/** A finalized artifact of the caller's run, addressed by the job that uploaded it and its name. */
function findFinalized(state: State, caller: BackendIds, request: Record<string, unknown>): StoredArtifact {
  const runId = requireOwnRun(caller, request);
  const artifact = state.artifacts.find(
    (candidate) =>
      candidate.finalized &&
      candidate.workflowRunBackendId === runId &&
      candidate.workflowJobRunBackendId === request.workflow_job_run_backend_id &&
      candidate.name === request.name,
  );
  if (!artifact) throw new TwirpError('not_found', `artifact '${request.name}' not found`);
  return artifact;
}

interface BackendIds {
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
}

function authenticate(header: string | undefined): BackendIds {
  const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  if (!token) throw new TwirpError('unauthenticated', 'missing bearer token');
  let payload: { scp?: unknown };
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new TwirpError('unauthenticated', 'the token is not a JWT');
  }
  const scope = String(payload.scp ?? '')
    .split(' ')
    .map((entry) => entry.split(':'))
    .find((parts) => parts[0] === 'Actions.Results' && parts.length === 3);
  if (!scope) throw new TwirpError('unauthenticated', 'the token has no Actions.Results scope');
  return { workflowRunBackendId: scope[1], workflowJobRunBackendId: scope[2] };
}

/** Create and Finalize act for the token's own job. */
function requireOwnJob(caller: BackendIds, request: Record<string, unknown>): BackendIds {
  requireOwnRun(caller, request);
  if (request.workflow_job_run_backend_id !== caller.workflowJobRunBackendId) {
    throw new TwirpError('permission_denied', 'workflow_job_run_backend_id is not the job of the token');
  }
  return caller;
}

/** Reads (list, signed URL, delete) may address any job of the token's run. */
function requireOwnRun(caller: BackendIds, request: Record<string, unknown>): string {
  if (request.workflow_run_backend_id !== caller.workflowRunBackendId) {
    throw new TwirpError('permission_denied', 'workflow_run_backend_id is not the run of the token');
  }
  return caller.workflowRunBackendId;
}

function requireName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new TwirpError('invalid_argument', 'name is required', { argument: 'name' });
  }
  // The same characters @actions/artifact refuses before sending (GitHub refuses them too).
  if (/[":<>|*?\r\n\\/]/.test(name)) {
    throw new TwirpError('invalid_argument', `name contains a forbidden character: ${name}`, {
      argument: 'name',
    });
  }
  return name;
}

type FieldKind = 'string' | 'int32' | 'int64' | 'timestamp';
type FieldSpec = FieldKind | `${FieldKind}?`;

/**
 * Checks a request body against its message's fields, as protobuf JSON: snake_case names only,
 * int64 as decimal strings, int32 as numbers, Timestamps as RFC 3339. Stricter than GitHub's server in
 * two ways, to catch a client that drifts: unknown fields are refused (`malformed`) and int64 must be a
 * string (protobuf JSON also allows a number). Required here means "the library always sends it".
 */
function readFields(body: Record<string, unknown>, spec: Record<string, FieldSpec>): Record<string, unknown> {
  for (const key of Object.keys(body)) {
    if (!(key in spec)) throw new TwirpError('malformed', `unknown field ${key}`, { argument: key });
  }
  for (const [key, fieldSpec] of Object.entries(spec)) {
    const optional = fieldSpec.endsWith('?');
    const kind = fieldSpec.replace('?', '') as FieldKind;
    const value = body[key];
    if (value === undefined || value === null) {
      if (!optional) throw new TwirpError('invalid_argument', `${key} is required`, { argument: key });
      continue;
    }
    const valid =
      kind === 'string'
        ? typeof value === 'string' && value !== ''
        : kind === 'int32'
          ? Number.isInteger(value) && Math.abs(value as number) < 2 ** 31
          : kind === 'int64'
            ? typeof value === 'string' && /^-?\d{1,19}$/.test(value)
            : typeof value === 'string' &&
              /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(value) &&
              !Number.isNaN(Date.parse(value));
    if (!valid) {
      throw new TwirpError('invalid_argument', `${key} is not a valid ${kind}: ${JSON.stringify(value)}`, {
        argument: key,
      });
    }
  }
  return body;
}

function signUrl(state: State, blobName: string, permissions: 'cw' | 'r'): string {
  // No `protocol`: a SAS with spr=https would make Azurite (plain HTTP) refuse it.
  const sas = generateBlobSASQueryParameters(
    {
      containerName,
      blobName,
      permissions: BlobSASPermissions.parse(permissions),
      expiresOn: new Date(Date.now() + 60 * 60 * 1000),
    },
    state.credential,
  );
  return `${state.container.getBlobClient(blobName).url}?${sas.toString()}`;
}

function twirpBody(error: TwirpError): object {
  return { code: error.code, msg: error.message, ...(error.meta ? { meta: error.meta } : {}) };
}

function send(response: ServerResponse, answer: object | TwirpError): number {
  const status = answer instanceof TwirpError ? twirpStatus[answer.code] : 200;
  const text = JSON.stringify(answer instanceof TwirpError ? twirpBody(answer) : answer);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
  return status;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A runtime token shaped like the runner's: a JWT whose signature nobody checks here. */
function createRuntimeToken(runId: string, jobId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const header = encode({ typ: 'JWT', alg: 'RS256' });
  const payload = encode({
    scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`,
    iss: 'https://token.actions.githubusercontent.com',
    nbf: now - 60,
    exp: now + 6 * 60 * 60,
  });
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
}

async function downloadArtifact(
  state: State,
  resultsUrl: string,
  token: string,
  name: string,
): Promise<Uint8Array> {
  const artifact = state.artifacts.find((candidate) => candidate.finalized && candidate.name === name);
  if (!artifact) throw new Error(`download(${name}): no finalized artifact with that name`);
  const response = await fetch(new URL(`${servicePath}GetSignedArtifactURL`, resultsUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      workflow_run_backend_id: artifact.workflowRunBackendId,
      workflow_job_run_backend_id: artifact.workflowJobRunBackendId,
      name,
    }),
  });
  const body = (await response.json()) as { signed_url?: string; msg?: string };
  if (!response.ok || !body.signed_url)
    throw new Error(`GetSignedArtifactURL: ${response.status} ${body.msg}`);
  const blob = await fetch(body.signed_url);
  if (!blob.ok)
    throw new Error(`download(${name}): the signed URL answered ${blob.status}: ${await blob.text()}`);
  return new Uint8Array(await blob.arrayBuffer());
}

// ---------------------------------------------------------------------------------------------------
// Azurite

interface RunningAzurite {
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Backstop when a test file dies without calling stop(): no Azurite outlives the test process.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts azurite-blob on a free port: `--blobPort 0` lets the OS pick one (no race between probing a
 * port and Azurite binding it) and Azurite prints the address it got. Run with this process's Node
 * (24) rather than whichever `node` is on PATH, from a temporary working directory, without the
 * telemetry it would otherwise send.
 */
async function startAzurite(): Promise<RunningAzurite> {
  const manifest = join(repoRoot, 'node_modules/azurite/package.json');
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin[
    'azurite-blob'
  ];
  const cwd = mkdtempSync(join(tmpdir(), 'azurite-'));
  const child = spawn(
    process.execPath,
    [
      join(dirname(manifest), bin),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '256',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  exited.then(() => {
    running.delete(child);
    rmSync(cwd, { recursive: true, force: true });
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // The first SIGTERM starts a graceful close, which can wait on keep-alive sockets; the handler is
    // registered with `once`, so a second SIGTERM ends the process; SIGKILL if even that hangs.
    for (const signal of ['SIGTERM', 'SIGTERM', 'SIGKILL'] as const) {
      child.kill(signal);
      if (await settlesWithin(exited, 3000)) return;
    }
  };

  let output = '';
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error('Azurite did not start within 20 s')), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /successfully listens on (http:\/\/[\d.]+:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited with ${child.exitCode ?? child.signalCode}`));
      });
    });
    // Keep draining its output so a full pipe never blocks it.
    child.stdout.resume();
    child.stderr.resume();
    return { url, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- Azurite output\n${output}`, { cause: error });
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

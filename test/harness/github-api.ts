/**
 * A stand-in for the GitHub REST API, checked against GitHub's own OpenAPI description, for tests.
 *
 * Every request is matched (method + path) against the operations in
 * test/fixtures/github-openapi/operations.json (trimmed from @octokit/openapi by
 * scripts/openapi/trim-github-openapi.js); its path and query parameters and its JSON body are
 * validated against that description (422, GitHub-style, on a violation), and every response the
 * stand-in sends is validated against the schema of the status it returns. Each mismatch, either
 * way, is recorded in `violations`, so a test can assert that its client spoke the real contract
 * and that the stand-in's answers are ones GitHub could have given.
 *
 * State is real: releases and their assets (bytes, digests, unique tags and names), one or more
 * minimal repositories with branches (`state.setBranch`, what a push did), pull requests (create,
 * list by head/base/state, update, labels, reviewers), their comments, comments on commits, and
 * check runs (create, update, list for a commit, annotations appended on every update). Like GitHub,
 * uploads are served by a separate origin (`uploadUrl`, the origin in a release's `upload_url`), and
 * the API origin refuses them: a client that posts assets to its API base URL would fail against
 * github.com too.
 *
 * Not reproduced: rate limits, conditional requests (ETag/304), secondary origins for downloads
 * (`browser_download_url` is served by the API origin), GitHub's exact renaming of asset names with
 * special characters (approximated: each run of other characters becomes `.`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';

const descriptionPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../fixtures/github-openapi/operations.json',
);
const SCHEMA_ID = 'github-openapi';
const REST_DOCS = 'https://docs.github.com/rest';

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  /** `api` or `uploads`: which origin received it. */
  origin: 'api' | 'uploads';
  method: string;
  /** The path without the query string, still percent-encoded. */
  path: string;
  query: Record<string, string>;
  /** The matched operation, e.g. `repos/create-release`; undefined when nothing matched. */
  operationId?: string;
  status: number;
  /** The parsed JSON body, or `{ bytes }` for an upload. */
  body?: unknown;
}

/** A place where a request or a response did not follow GitHub's description. */
export interface ContractViolation {
  direction: 'request' | 'response';
  /** `METHOD path` as sent. */
  request: string;
  operationId?: string;
  status?: number;
  message: string;
}

/** A repository the stand-in knows. Names compare case-insensitively, as on GitHub. */
export interface StandInRepository {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  private: boolean;
  createdAt: string;
  /** Branch name → head commit SHA; pull requests need both of their branches here. */
  branches: Map<string, string>;
  /** The repository's labels by name (adding an unknown label to an issue creates it, as on GitHub). */
  labels: Map<string, { id: number; name: string; color: string; description: string }>;
}

/** A pull request (issues share its number space, but the stand-in has no plain issues). */
export interface StandInPullRequest {
  id: number;
  repository: string;
  number: number;
  title: string;
  body: string | null;
  /** Branch names in the same repository (forks are not modelled). */
  head: string;
  base: string;
  state: 'open' | 'closed';
  draft: boolean;
  maintainerCanModify: boolean;
  labels: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set by the GraphQL mutation enablePullRequestAutoMerge. */
  autoMerge?: { mergeMethod: string; enabledAt: string };
}

/** A comment on a pull request's conversation (an issue comment). */
export interface StandInComment {
  id: number;
  repository: string;
  issueNumber: number;
  body: string;
  createdAt: string;
  updatedAt: string;
}

/** A comment on a commit (what the commit page shows under the diff). */
export interface StandInCommitComment {
  id: number;
  repository: string;
  commitSha: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

/** A check run on a commit. */
export interface StandInCheckRun {
  id: number;
  repository: string;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations: unknown[] };
}

/** A release asset and its bytes. */
export interface StandInAsset {
  id: number;
  name: string;
  label: string;
  contentType: string;
  data: Buffer;
  /** `sha256:<hex>`, or null for assets uploaded before GitHub computed digests (see `digests`). */
  digest: string | null;
  state: 'uploaded' | 'open';
  downloadCount: number;
  createdAt: string;
  updatedAt: string;
}

/** A release of a repository. */
export interface StandInRelease {
  id: number;
  /** `owner/name` key of the repository (lower case). */
  repository: string;
  tagName: string;
  targetCommitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  /** Set by a test to mimic an immutable release: asset changes are refused. */
  immutable: boolean;
  createdAt: string;
  publishedAt: string | null;
  updatedAt: string;
  assets: StandInAsset[];
}

/** What the stand-in holds; tests may read it and adjust it between calls. */
export interface GitHubApiState {
  repositories: Map<string, StandInRepository>;
  releases: StandInRelease[];
  pullRequests: StandInPullRequest[];
  comments: StandInComment[];
  commitComments: StandInCommitComment[];
  checkRuns: StandInCheckRun[];
  /** Records that `branch` of `repository` points at `sha` (what a push to the git server did). */
  setBranch(repository: string, branch: string, sha: string): void;
  /** The release of `repository` (owner/name) for `tag`, drafts excluded, as GitHub looks it up. */
  findRelease(repository: string, tag: string): StandInRelease | undefined;
  /** Creates a published release directly, as if someone else had (no request is recorded). */
  addRelease(repository: string, tag: string, name?: string): StandInRelease;
  /**
   * Opens a pull request directly, as a contributor would (no request is recorded): `head` is set
   * to `headSha` and `base` must exist.
   */
  addPullRequest(
    repository: string,
    pull: { head: string; headSha: string; base?: string; title?: string },
  ): StandInPullRequest;
}

/** Options of {@link startGitHubApi}. */
export interface GitHubApiOptions {
  /** The token with write access; default a random `ghs_…` value. */
  token?: string;
  /** A token that may read but gets 403 on every write, like a `contents: read` GITHUB_TOKEN. */
  readOnlyToken?: string;
  /** Repositories (`owner/name`) that exist; default `['octo-org/mlops-demo']`. */
  repositories?: string[];
  /**
   * Whether uploads get a `digest` (`sha256:<hex>`), as on github.com since 2025; false mimics
   * assets uploaded before then, whose digest is null. Default true.
   */
  digests?: boolean;
  /**
   * Changes a JSON response body before it is checked and sent, for the stand-in's own tests: a
   * tampered body that no longer conforms must show up in `violations`.
   */
  tamperResponse?: (operationId: string, body: unknown) => unknown;
  /**
   * Called with each valid request's operation id just before the stand-in acts on it, e.g. to
   * change the state in between (another run creating the same release first).
   */
  beforeOperation?: (operationId: string) => void | Promise<void>;
  /**
   * Operations the token may not use: a valid request for one gets GitHub's 403 "Resource not
   * accessible by integration", like a GITHUB_TOKEN without that permission (e.g. no `checks: write`).
   */
  forbid?: (operationId: string) => boolean;
}

/** A running stand-in. */
export interface GitHubApi {
  /** The API origin, for Octokit's `baseUrl`. */
  baseUrl: string;
  /** The uploads origin (what `upload_url` of a release points at). */
  uploadUrl: string;
  token: string;
  state: GitHubApiState;
  requests: RecordedRequest[];
  violations: ContractViolation[];
  stop(): Promise<void>;
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  parameterNames: string[];
  /** Count of literal characters, to prefer `/releases/assets/{id}` over `/releases/{id}/assets`. */
  specificity: number;
  operationId: string;
  origin: 'api' | 'uploads';
  documentationUrl: string;
  /** JSON pointer (in the description) of the operation object. */
  pointer: string[];
  spec: OperationSpec;
}

interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: { type?: string; items?: { type?: string } };
  $ref?: string;
}

interface MediaSpec {
  schema?: unknown;
}

interface ResponseSpec {
  $ref?: string;
  content?: Record<string, MediaSpec>;
}

interface OperationSpec {
  operationId: string;
  parameters?: ParameterSpec[];
  requestBody?: { required?: boolean; content: Record<string, MediaSpec> };
  responses: Record<string, ResponseSpec>;
  servers?: { url: string }[];
  externalDocs?: { url: string };
}

interface Description {
  paths: Record<string, Record<string, OperationSpec>>;
  components: Record<string, Record<string, unknown>>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (downloads). */
  raw?: Buffer;
}

interface Context {
  origin: 'api' | 'uploads';
  operation: Operation;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  upload?: { data: Buffer; contentType: string };
  repository: StandInRepository;
  accept: string;
  url: URL;
}

/** A ready-made error reply; thrown by handlers and turned into a response. */
class ReplyError extends Error {
  readonly reply: Reply;
  constructor(reply: Reply) {
    super(String((reply.body as { message?: string } | undefined)?.message ?? reply.status));
    this.reply = reply;
  }
}

const BOT_USER = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

let description: Description | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** Starts the stand-in on two ephemeral ports of 127.0.0.1 (API and uploads). */
export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const spec = loadDescription();
  const operations = listOperations(spec);
  const token = options.token ?? `ghs_${randomBytes(18).toString('hex')}`;
  const digests = options.digests ?? true;
  const requests: RecordedRequest[] = [];
  const violations: ContractViolation[] = [];

  const repositories = new Map<string, StandInRepository>();
  let nextId = 1000;
  const allocateId = () => nextId++;
  for (const fullName of options.repositories ?? ['octo-org/mlops-demo']) {
    const [owner, name] = fullName.split('/');
    repositories.set(fullName.toLowerCase(), {
      id: 700000 + allocateId(),
      owner,
      name,
      defaultBranch: 'main',
      private: true,
      createdAt: '2024-01-15T09:30:00Z',
      branches: new Map([['main', createHash('sha1').update(fullName).digest('hex')]]),
      labels: new Map(),
    });
  }
  const state: GitHubApiState = {
    repositories,
    releases: [],
    pullRequests: [],
    comments: [],
    commitComments: [],
    checkRuns: [],
    setBranch(repository, branch, sha) {
      const known = repositories.get(repository.toLowerCase());
      if (!known) throw new Error(`setBranch: unknown repository ${repository}`);
      known.branches.set(branch, sha);
    },
    findRelease(repository, tag) {
      const key = repository.toLowerCase();
      return this.releases.find(
        (release) => release.repository === key && release.tagName === tag && !release.draft,
      );
    },
    addRelease(repository, tag, name) {
      const known = repositories.get(repository.toLowerCase());
      if (!known) throw new Error(`addRelease: unknown repository ${repository}`);
      return createRelease(known, { tag_name: tag, name });
    },
    addPullRequest(repository, pull) {
      const known = repositories.get(repository.toLowerCase());
      if (!known) throw new Error(`addPullRequest: unknown repository ${repository}`);
      const base = pull.base ?? known.defaultBranch;
      if (!known.branches.has(base)) throw new Error(`addPullRequest: unknown base branch ${base}`);
      known.branches.set(pull.head, pull.headSha);
      const now = timestamp();
      const pr: StandInPullRequest = {
        id: allocateId(),
        repository: repositoryKey(known),
        number: nextIssueNumber(known),
        title: pull.title ?? `Change ${pull.head}`,
        body: null,
        head: pull.head,
        base,
        state: 'open',
        draft: false,
        maintainerCanModify: true,
        labels: [],
        requestedReviewers: [],
        requestedTeams: [],
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      };
      this.pullRequests.push(pr);
      return pr;
    },
  };

  function createRelease(
    repository: StandInRepository,
    body: {
      tag_name: string;
      target_commitish?: string;
      name?: string;
      body?: string;
      draft?: boolean;
      prerelease?: boolean;
    },
  ): StandInRelease {
    const now = timestamp();
    const release: StandInRelease = {
      id: allocateId(),
      repository: repositoryKey(repository),
      tagName: body.tag_name,
      targetCommitish: body.target_commitish ?? repository.defaultBranch,
      name: body.name ?? body.tag_name,
      body: body.body ?? null,
      draft: body.draft ?? false,
      prerelease: body.prerelease ?? false,
      immutable: false,
      createdAt: now,
      publishedAt: body.draft ? null : now,
      updatedAt: now,
      assets: [],
    };
    state.releases.push(release);
    return release;
  }

  const servers: Record<'api' | 'uploads', Server> = {
    api: createServer((request, response) => void handle('api', request, response)),
    uploads: createServer((request, response) => void handle('uploads', request, response)),
  };
  const origins = { api: '', uploads: '' };
  for (const origin of ['api', 'uploads'] as const) {
    await new Promise<void>((resolve) => servers[origin].listen(0, '127.0.0.1', resolve));
    origins[origin] = `http://127.0.0.1:${(servers[origin].address() as AddressInfo).port}`;
  }

  const urls = {
    repo: (repository: StandInRepository) => `${origins.api}/repos/${repository.owner}/${repository.name}`,
    html: (repository: StandInRepository) => `${origins.api}/${repository.owner}/${repository.name}`,
  };

  async function handle(origin: 'api' | 'uploads', request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', origins[origin]);
    const method = (request.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      origin,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    requests.push(record);
    const requestText = `${method} ${url.pathname}`;
    let operation: Operation | undefined;
    let reply: Reply;
    try {
      reply = await answer();
    } catch (error) {
      if (!(error instanceof ReplyError)) {
        request.resume();
        reply = { status: 500, body: { message: `stand-in failure: ${String(error)}` } };
        violations.push({ direction: 'response', request: requestText, status: 500, message: String(error) });
      } else {
        reply = error.reply;
      }
    }
    record.status = reply.status;
    if (operation && options.tamperResponse && reply.body !== undefined) {
      reply = { ...reply, body: options.tamperResponse(operation.operationId, reply.body) };
    }
    if (operation) checkResponse(operation, reply, requestText);
    send(response, reply);

    async function answer(): Promise<Reply> {
      if (origin === 'api' && method === 'POST' && url.pathname === '/graphql') {
        checkToken(request);
        return answerGraphql(request, requestText);
      }
      // github.com serves downloads without the API's authentication for public repositories; this
      // stand-in's repositories are private, but the token is checked the same way.
      const download = /^\/([^/]+)\/([^/]+)\/releases\/download\/(.+)\/([^/]+)$/.exec(url.pathname);
      if (origin === 'api' && method === 'GET' && download) {
        checkToken(request);
        return serveDownload(download.map((part) => decodeURIComponent(part)));
      }
      checkToken(request);
      operation = matchOperation(operations, method, url.pathname);
      if (!operation) {
        request.resume();
        violations.push({
          direction: 'request',
          request: requestText,
          message: 'no such operation in the description',
        });
        throw notFound(REST_DOCS);
      }
      record.operationId = operation.operationId;
      if (operation.origin !== origin) {
        request.resume();
        violations.push({
          direction: 'request',
          request: requestText,
          operationId: operation.operationId,
          message: `sent to the ${origin} origin; GitHub serves it from ${operation.origin === 'uploads' ? 'the upload_url origin' : 'the API origin'}`,
        });
        throw notFound(operation.documentationUrl);
      }
      const params = readParameters(operation, url, requestText);
      const repository = repositories.get(`${params.path.owner}/${params.path.repo}`.toLowerCase());
      const context: Context = {
        origin,
        operation,
        params: params.path,
        query: params.query,
        body: undefined,
        repository: repository as StandInRepository,
        accept: String(request.headers.accept ?? ''),
        url,
      };
      if (operation.operationId === 'repos/upload-release-asset') {
        context.upload = await readUpload(request, operation, requestText);
        record.body = { bytes: context.upload.data.length, contentType: context.upload.contentType };
      } else {
        context.body = await readJsonBody(request, operation, requestText, record);
      }
      if (!repository) throw notFound(operation.documentationUrl);
      if ((method !== 'GET' && bearerToken(request) !== token) || options.forbid?.(operation.operationId)) {
        throw new ReplyError({
          status: 403,
          body: {
            message: 'Resource not accessible by integration',
            documentation_url: operation.documentationUrl,
            status: '403',
          },
        });
      }
      const handler = handlers[operation.operationId];
      if (!handler) throw new Error(`the stand-in does not implement ${operation.operationId}`);
      await options.beforeOperation?.(operation.operationId);
      return handler(context);
    }
  }

  /**
   * GitHub's GraphQL endpoint, for the mutation deployments use: every query is validated against
   * GitHub's published schema (@octokit/graphql-schema); an invalid one is a recorded violation.
   */
  async function answerGraphql(request: IncomingMessage, requestText: string): Promise<Reply> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      query: string;
      variables?: Record<string, unknown>;
    };
    const { validate } = await import('@octokit/graphql-schema');
    const errors = validate(query);
    if (errors.length > 0) {
      violations.push({
        direction: 'request',
        request: requestText,
        message: errors.map((e) => e.message).join('; '),
      });
      return { status: 200, body: { errors: errors.map((e) => ({ message: e.message })) } };
    }
    if (!/enablePullRequestAutoMerge/.test(query)) {
      return {
        status: 200,
        body: { errors: [{ message: 'the stand-in implements enablePullRequestAutoMerge only' }] },
      };
    }
    const id = String(variables?.pullRequestId ?? '');
    const pr = state.pullRequests.find((p) => `PR_kwDO${p.id.toString(36)}` === id);
    if (!pr) {
      return {
        status: 200,
        body: {
          errors: [
            { type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${id}'.` },
          ],
        },
      };
    }
    pr.autoMerge = {
      mergeMethod: String(variables?.mergeMethod ?? 'MERGE'),
      enabledAt: new Date().toISOString(),
    };
    return {
      status: 200,
      body: {
        data: {
          enablePullRequestAutoMerge: {
            pullRequest: {
              number: pr.number,
              autoMergeRequest: { enabledAt: pr.autoMerge.enabledAt, mergeMethod: pr.autoMerge.mergeMethod },
            },
          },
        },
      },
    };
  }

  function checkToken(request: IncomingMessage): void {
    const header = request.headers.authorization;
    if (header === undefined) {
      request.resume();
      throw new ReplyError({
        status: 401,
        body: { message: 'Requires authentication', documentation_url: REST_DOCS, status: '401' },
      });
    }
    const presented = bearerToken(request);
    if (presented !== token && (options.readOnlyToken === undefined || presented !== options.readOnlyToken)) {
      request.resume();
      throw new ReplyError({
        status: 401,
        body: { message: 'Bad credentials', documentation_url: REST_DOCS, status: '401' },
      });
    }
  }

  function readParameters(operation: Operation, url: URL, requestText: string) {
    const match = operation.pattern.exec(url.pathname)!;
    const path: Record<string, unknown> = {};
    const query: Record<string, unknown> = {};
    const problems: FieldProblem[] = [];
    const declared = resolveParameters(operation);
    operation.parameterNames.forEach((name, index) => {
      path[name] = decodePathSegment(match[index + 1]);
    });
    for (const [name, spec] of declared) {
      const raw = spec.in === 'path' ? (path[name] as string | undefined) : url.searchParams.get(name);
      if (spec.in !== 'path' && spec.in !== 'query') continue;
      if (raw === null || raw === undefined) {
        if (spec.required)
          problems.push({ field: name, code: 'missing_field', message: `"${name}" wasn't supplied.` });
        continue;
      }
      const value = coerceParameter(raw, spec.schema?.type);
      (spec.in === 'path' ? path : query)[name] = value;
      const validate = compileAt([...spec.pointer, 'schema']);
      if (!validate(value)) problems.push(...describeErrors(validate, name));
    }
    for (const name of url.searchParams.keys()) {
      if (!declared.has(name)) {
        // GitHub ignores unknown query parameters; a client sending one has most likely misspelt it.
        violations.push({
          direction: 'request',
          request: requestText,
          operationId: operation.operationId,
          message: `query parameter "${name}" is not in the description`,
        });
      }
    }
    if (problems.length > 0) rejectRequest(operation, requestText, problems);
    return { path, query };
  }

  async function readJsonBody(
    request: IncomingMessage,
    operation: Operation,
    requestText: string,
    record: RecordedRequest,
  ) {
    const data = await readAll(request);
    const spec = operation.spec.requestBody;
    if (data.length === 0) {
      if (spec?.required) {
        rejectRequest(operation, requestText, [
          { code: 'missing_field', message: 'a request body is required' },
        ]);
      }
      return undefined;
    }
    if (!spec) {
      violations.push({
        direction: 'request',
        request: requestText,
        operationId: operation.operationId,
        message: 'a body was sent to an operation that takes none',
      });
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(data.toString('utf8'));
      record.body = body;
    } catch {
      violations.push({ direction: 'request', request: requestText, message: 'the body is not JSON' });
      throw new ReplyError({
        status: 400,
        body: {
          message: 'Problems parsing JSON',
          documentation_url: operation.documentationUrl,
          status: '400',
        },
      });
    }
    const validate = compileAt([
      ...operation.pointer,
      'requestBody',
      'content',
      'application/json',
      'schema',
    ]);
    if (!validate(body)) rejectRequest(operation, requestText, describeErrors(validate));
    return body;
  }

  async function readUpload(request: IncomingMessage, operation: Operation, requestText: string) {
    const contentType = request.headers['content-type'];
    const contentLength = request.headers['content-length'];
    const problems: FieldProblem[] = [];
    if (!contentType)
      problems.push({ field: 'Content-Type', code: 'missing_field', message: 'Content-Type is required' });
    if (contentLength === undefined) {
      // GitHub needs the size up front; a chunked upload is refused.
      problems.push({
        field: 'Content-Length',
        code: 'missing_field',
        message: 'Content-Length is required',
      });
    }
    if (problems.length > 0) {
      request.resume();
      rejectRequest(operation, requestText, problems);
    }
    const data = await readAll(request);
    if (data.length !== Number(contentLength)) {
      rejectRequest(operation, requestText, [
        {
          field: 'Content-Length',
          code: 'invalid',
          message: `Content-Length ${contentLength}, got ${data.length} bytes`,
        },
      ]);
    }
    return { data, contentType: String(contentType) };
  }

  function rejectRequest(operation: Operation, requestText: string, problems: FieldProblem[]): never {
    for (const problem of problems) {
      violations.push({
        direction: 'request',
        request: requestText,
        operationId: operation.operationId,
        message: problem.message,
      });
    }
    throw new ReplyError({
      status: 422,
      body: {
        message: `Invalid request.\n\n${problems.map((problem) => problem.message).join('\n')}`,
        errors: problems.map(({ field, code, message }) => ({ ...(field ? { field } : {}), code, message })),
        documentation_url: operation.documentationUrl,
      },
    });
  }

  function checkResponse(operation: Operation, reply: Reply, requestText: string): void {
    const problems = validateResponse(operation, reply);
    for (const message of problems) {
      violations.push({
        direction: 'response',
        request: requestText,
        operationId: operation.operationId,
        status: reply.status,
        message,
      });
    }
  }

  function serveDownload([, owner, repo, tag, name]: string[]): Reply {
    const release = state.findRelease(`${owner}/${repo}`, tag);
    const asset = release?.assets.find(
      (candidate) => candidate.name === name && candidate.state === 'uploaded',
    );
    if (!asset)
      return { status: 404, raw: Buffer.from('Not Found'), headers: { 'content-type': 'text/plain' } };
    asset.downloadCount += 1;
    return { status: 200, raw: asset.data, headers: { 'content-type': asset.contentType } };
  }

  // --- JSON shapes, built as GitHub builds them -------------------------------------------------

  function userJson(user: { login: string; id: number; type: string }) {
    const api = `${origins.api}/users/${encodeURIComponent(user.login)}`;
    const bot = user.type === 'Bot';
    return {
      login: user.login,
      id: user.id,
      node_id: `${bot ? 'BOT' : 'U'}_kgDO${user.id.toString(36)}`,
      avatar_url: bot
        ? 'https://avatars.githubusercontent.com/in/15368?v=4'
        : `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      gravatar_id: '',
      url: api,
      html_url: bot ? `${origins.api}/apps/github-actions` : `${origins.api}/${user.login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: user.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  function ownerJson(repository: StandInRepository) {
    return {
      ...userJson({ login: repository.owner, id: 9919 + repository.id, type: 'Organization' }),
      node_id: `O_kgDO${repository.id.toString(36)}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${9919 + repository.id}?v=4`,
      html_url: `${origins.api}/${repository.owner}`,
    };
  }

  function repositoryJson(repository: StandInRepository) {
    const api = urls.repo(repository);
    const html = urls.html(repository);
    const host = new URL(origins.api).host;
    return {
      id: repository.id,
      node_id: `R_kgDO${repository.id.toString(36)}`,
      name: repository.name,
      full_name: `${repository.owner}/${repository.name}`,
      private: repository.private,
      owner: ownerJson(repository),
      html_url: html,
      description: 'Models packaged and deployed by mlops-actions',
      fork: false,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: `git://${host}/${repository.owner}/${repository.name}.git`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@${host}:${repository.owner}/${repository.name}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: `${html}.git`,
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: html,
      homepage: null,
      language: 'Python',
      forks_count: 0,
      forks: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 120,
      default_branch: repository.defaultBranch,
      open_issues_count: 0,
      open_issues: 0,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: true,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: repository.private ? 'private' : 'public',
      pushed_at: repository.createdAt,
      created_at: repository.createdAt,
      updated_at: repository.createdAt,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      allow_forking: false,
      web_commit_signoff_required: false,
      license: null,
      network_count: 0,
      subscribers_count: 1,
    };
  }

  function assetJson(repository: StandInRepository, release: StandInRelease, asset: StandInAsset) {
    return {
      url: `${urls.repo(repository)}/releases/assets/${asset.id}`,
      id: asset.id,
      node_id: `RA_kwDO${asset.id.toString(36)}`,
      name: asset.name,
      label: asset.label,
      uploader: userJson(BOT_USER),
      content_type: asset.contentType,
      state: asset.state,
      size: asset.data.length,
      digest: asset.digest,
      download_count: asset.downloadCount,
      created_at: asset.createdAt,
      updated_at: asset.updatedAt,
      browser_download_url: `${urls.html(repository)}/releases/download/${encodeURIComponent(release.tagName)}/${encodeURIComponent(asset.name)}`,
    };
  }

  function releaseJson(repository: StandInRepository, release: StandInRelease) {
    const api = `${urls.repo(repository)}/releases/${release.id}`;
    const tag = encodeURIComponent(release.tagName);
    return {
      url: api,
      assets_url: `${api}/assets`,
      upload_url: `${origins.uploads}/repos/${repository.owner}/${repository.name}/releases/${release.id}/assets{?name,label}`,
      html_url: `${urls.html(repository)}/releases/tag/${tag}`,
      id: release.id,
      author: userJson(BOT_USER),
      node_id: `RE_kwDO${release.id.toString(36)}`,
      tag_name: release.tagName,
      target_commitish: release.targetCommitish,
      name: release.name,
      draft: release.draft,
      immutable: release.immutable,
      prerelease: release.prerelease,
      created_at: release.createdAt,
      updated_at: release.updatedAt,
      published_at: release.publishedAt,
      assets: release.assets.map((asset) => assetJson(repository, release, asset)),
      tarball_url: `${urls.repo(repository)}/tarball/${tag}`,
      zipball_url: `${urls.repo(repository)}/zipball/${tag}`,
      body: release.body,
    };
  }

  /** A user the stand-in has never seen gets a stable id derived from the login. */
  function someoneJson(login: string) {
    return userJson({
      login,
      id: 100000 + (createHash('sha1').update(login).digest().readUInt32BE(0) % 900000),
      type: 'User',
    });
  }

  function teamJson(repository: StandInRepository, slug: string) {
    const id = 5000 + (createHash('sha1').update(slug).digest().readUInt16BE(0) % 5000);
    const api = `${origins.api}/organizations/${9919 + repository.id}/team/${id}`;
    return {
      id,
      node_id: `T_kwDO${id.toString(36)}`,
      url: api,
      members_url: `${api}/members{/member}`,
      name: slug,
      description: null,
      permission: 'pull',
      privacy: 'closed',
      notification_setting: 'notifications_enabled',
      html_url: `${origins.api}/orgs/${repository.owner}/teams/${slug}`,
      repositories_url: `${api}/repos`,
      slug,
      type: 'organization',
      // A pull request's `requested_teams` are `team-simple` in pulls/get but `team` (which requires
      // `parent`) in pulls/request-reviewers: one object serves both.
      parent: null,
    };
  }

  function labelJson(repository: StandInRepository, name: string) {
    const label = repository.labels.get(name)!;
    return {
      id: label.id,
      node_id: `LA_kwDO${label.id.toString(36)}`,
      url: `${urls.repo(repository)}/labels/${encodeURIComponent(name)}`,
      name,
      description: label.description,
      color: label.color,
      default: false,
    };
  }

  function pullRequestJson(repository: StandInRepository, pr: StandInPullRequest, detail: 'simple' | 'full') {
    const api = urls.repo(repository);
    const html = urls.html(repository);
    const n = pr.number;
    const headSha = repository.branches.get(pr.head) ?? '0'.repeat(40);
    const branch = (ref: string) => ({
      label: `${repository.owner}:${ref}`,
      ref,
      sha: repository.branches.get(ref) ?? '0'.repeat(40),
      user: ownerJson(repository),
      repo: repositoryJson(repository),
    });
    const simple = {
      url: `${api}/pulls/${n}`,
      id: pr.id,
      node_id: `PR_kwDO${pr.id.toString(36)}`,
      html_url: `${html}/pull/${n}`,
      diff_url: `${html}/pull/${n}.diff`,
      patch_url: `${html}/pull/${n}.patch`,
      issue_url: `${api}/issues/${n}`,
      number: n,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: userJson(BOT_USER),
      body: pr.body,
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: pr.requestedReviewers.map(someoneJson),
      requested_teams: pr.requestedTeams.map((slug) => teamJson(repository, slug)),
      labels: pr.labels.map((name) => labelJson(repository, name)),
      milestone: null,
      draft: pr.draft,
      commits_url: `${api}/pulls/${n}/commits`,
      review_comments_url: `${api}/pulls/${n}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${n}/comments`,
      statuses_url: `${api}/statuses/${headSha}`,
      head: branch(pr.head),
      base: branch(pr.base),
      _links: {
        self: { href: `${api}/pulls/${n}` },
        html: { href: `${html}/pull/${n}` },
        issue: { href: `${api}/issues/${n}` },
        comments: { href: `${api}/issues/${n}/comments` },
        review_comments: { href: `${api}/pulls/${n}/comments` },
        review_comment: { href: `${api}/pulls/comments{/number}` },
        commits: { href: `${api}/pulls/${n}/commits` },
        statuses: { href: `${api}/statuses/${headSha}` },
      },
      author_association: 'CONTRIBUTOR',
      auto_merge: null,
      active_lock_reason: null,
    };
    if (detail === 'simple') return simple;
    return {
      ...simple,
      merged: false,
      // GitHub computes mergeability in the background; a fresh pull request says "not yet known".
      mergeable: null,
      rebaseable: null,
      mergeable_state: 'unknown',
      merged_by: null,
      comments: state.comments.filter(
        (comment) => comment.repository === pr.repository && comment.issueNumber === n,
      ).length,
      review_comments: 0,
      maintainer_can_modify: pr.maintainerCanModify,
      commits: 1,
      additions: 0,
      deletions: 0,
      changed_files: 0,
    };
  }

  /** PATCH of a comment (issue or commit comment) of the request's repository: new body, new time. */
  function editComment<T extends { id: number; repository: string; body: string; updatedAt: string }>(
    comments: T[],
    context: Context,
  ): T {
    const comment = comments.find(
      (candidate) =>
        candidate.id === context.params.comment_id &&
        candidate.repository === repositoryKey(context.repository),
    );
    if (!comment) throw notFound(context.operation.documentationUrl);
    comment.body = (context.body as { body: string }).body;
    comment.updatedAt = timestamp();
    return comment;
  }

  function commentJson(repository: StandInRepository, comment: StandInComment) {
    const api = urls.repo(repository);
    return {
      id: comment.id,
      node_id: `IC_kwDO${comment.id.toString(36)}`,
      url: `${api}/issues/comments/${comment.id}`,
      html_url: `${urls.html(repository)}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
      body: comment.body,
      user: userJson(BOT_USER),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      issue_url: `${api}/issues/${comment.issueNumber}`,
      author_association: 'CONTRIBUTOR',
      performed_via_github_app: null,
    };
  }

  function commitCommentJson(repository: StandInRepository, comment: StandInCommitComment) {
    const api = urls.repo(repository);
    return {
      html_url: `${urls.html(repository)}/commit/${comment.commitSha}#commitcomment-${comment.id}`,
      url: `${api}/comments/${comment.id}`,
      id: comment.id,
      node_id: `CC_kwDO${comment.id.toString(36)}`,
      body: comment.body,
      path: null,
      position: null,
      line: null,
      commit_id: comment.commitSha,
      user: userJson(BOT_USER),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: 'CONTRIBUTOR',
    };
  }

  function annotationJson(repository: StandInRepository, run: StandInCheckRun, annotation: unknown) {
    const a = annotation as {
      path: string;
      start_line: number;
      end_line: number;
      start_column?: number;
      end_column?: number;
      annotation_level: string;
      message: string;
      title?: string;
      raw_details?: string;
    };
    return {
      path: a.path,
      blob_href: `${urls.html(repository)}/blob/${run.headSha}/${a.path}`,
      start_line: a.start_line,
      end_line: a.end_line,
      start_column: a.start_column ?? null,
      end_column: a.end_column ?? null,
      annotation_level: a.annotation_level,
      title: a.title ?? null,
      message: a.message,
      raw_details: a.raw_details ?? null,
    };
  }

  function actionsAppJson() {
    return {
      id: 15368,
      slug: 'github-actions',
      client_id: 'Iv1.05c79e9ad1f6bdfa',
      node_id: 'MDM6QXBwMTUzNjg=',
      owner: {
        ...userJson({ login: 'github', id: 9919, type: 'Organization' }),
        node_id: 'MDEyOk9yZ2FuaXphdGlvbjk5MTk=',
        avatar_url: 'https://avatars.githubusercontent.com/u/9919?v=4',
        html_url: `${origins.api}/github`,
      },
      name: 'GitHub Actions',
      description: 'Automate your workflow from idea to production',
      external_url: 'https://help.github.com/en/actions',
      html_url: `${origins.api}/apps/github-actions`,
      created_at: '2018-07-30T09:30:17Z',
      updated_at: '2024-04-10T20:33:16Z',
      permissions: {
        actions: 'write',
        checks: 'write',
        contents: 'write',
        issues: 'write',
        metadata: 'read',
        pull_requests: 'write',
      },
      events: ['check_run', 'check_suite', 'pull_request', 'push', 'release', 'workflow_dispatch'],
    };
  }

  function checkRunJson(repository: StandInRepository, run: StandInCheckRun) {
    const api = urls.repo(repository);
    return {
      id: run.id,
      name: run.name,
      node_id: `CR_kwDO${run.id.toString(36)}`,
      head_sha: run.headSha,
      external_id: run.externalId ?? '',
      url: `${api}/check-runs/${run.id}`,
      html_url: `${urls.html(repository)}/runs/${run.id}`,
      details_url: run.detailsUrl ?? `${urls.html(repository)}/runs/${run.id}`,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: {
        title: run.output.title,
        summary: run.output.summary,
        text: run.output.text,
        annotations_count: run.output.annotations.length,
        annotations_url: `${api}/check-runs/${run.id}/annotations`,
      },
      check_suite: { id: 900000 + run.id },
      app: actionsAppJson(),
      pull_requests: state.pullRequests
        .filter(
          (pr) =>
            pr.repository === run.repository &&
            pr.state === 'open' &&
            repository.branches.get(pr.head) === run.headSha,
        )
        .map((pr) => {
          const side = (ref: string) => ({
            ref,
            sha: repository.branches.get(ref) ?? '0'.repeat(40),
            repo: { id: repository.id, url: api, name: repository.name },
          });
          return {
            id: pr.id,
            number: pr.number,
            url: `${api}/pulls/${pr.number}`,
            head: side(pr.head),
            base: side(pr.base),
          };
        }),
    };
  }

  // --- Operations ---------------------------------------------------------------------------------

  function findReleaseById(context: Context): StandInRelease {
    const release = state.releases.find(
      (candidate) =>
        candidate.id === context.params.release_id &&
        candidate.repository === repositoryKey(context.repository),
    );
    if (!release) throw notFound(context.operation.documentationUrl);
    return release;
  }

  function findAsset(context: Context): { release: StandInRelease; asset: StandInAsset } {
    for (const release of state.releases) {
      if (release.repository !== repositoryKey(context.repository)) continue;
      const asset = release.assets.find((candidate) => candidate.id === context.params.asset_id);
      if (asset) return { release, asset };
    }
    throw notFound(context.operation.documentationUrl);
  }

  function refuseIfImmutable(context: Context, release: StandInRelease): void {
    if (release.immutable) {
      throw new ReplyError({
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [
            {
              resource: 'Release',
              code: 'custom',
              field: 'immutable',
              message: 'Cannot modify an immutable release',
            },
          ],
          documentation_url: context.operation.documentationUrl,
        },
      });
    }
  }

  function alreadyExists(context: Context, resource: string, field: string): ReplyError {
    return new ReplyError({
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource, code: 'already_exists', field }],
        documentation_url: context.operation.documentationUrl,
      },
    });
  }

  const handlers: Record<string, (context: Context) => Reply> = {
    'repos/get': (context) => ({ status: 200, body: repositoryJson(context.repository) }),

    'repos/get-release-by-tag': (context) => {
      const release = state.findRelease(repositoryKey(context.repository), String(context.params.tag));
      if (!release) throw notFound(context.operation.documentationUrl);
      return { status: 200, body: releaseJson(context.repository, release) };
    },

    'repos/get-release': (context) => ({
      status: 200,
      body: releaseJson(context.repository, findReleaseById(context)),
    }),

    'repos/create-release': (context) => {
      const body = context.body as {
        tag_name: string;
        target_commitish?: string;
        name?: string;
        body?: string;
        draft?: boolean;
        prerelease?: boolean;
        discussion_category_name?: string;
      };
      if (body.discussion_category_name !== undefined) {
        // The stand-in's repositories have no discussions, so every category name is invalid.
        throw notFound(context.operation.documentationUrl);
      }
      if (!body.draft && state.findRelease(repositoryKey(context.repository), body.tag_name)) {
        throw alreadyExists(context, 'Release', 'tag_name');
      }
      const release = createRelease(context.repository, body);
      const json = releaseJson(context.repository, release);
      return { status: 201, body: json, headers: { location: json.url } };
    },

    'repos/list-release-assets': (context) => {
      const release = findReleaseById(context);
      const assets = release.assets.map((asset) => assetJson(context.repository, release, asset));
      return paginate(context, assets);
    },

    'repos/upload-release-asset': (context) => {
      const release = findReleaseById(context);
      refuseIfImmutable(context, release);
      const name = renameLikeGitHub(String(context.query.name));
      if (release.assets.some((asset) => asset.name === name))
        throw alreadyExists(context, 'ReleaseAsset', 'name');
      const now = timestamp();
      const { data, contentType } = context.upload!;
      const asset: StandInAsset = {
        id: allocateId(),
        name,
        label: context.query.label === undefined ? '' : String(context.query.label),
        contentType,
        data,
        digest: digests ? `sha256:${createHash('sha256').update(data).digest('hex')}` : null,
        state: 'uploaded',
        downloadCount: 0,
        createdAt: now,
        updatedAt: now,
      };
      release.assets.push(asset);
      return { status: 201, body: assetJson(context.repository, release, asset) };
    },

    'repos/get-release-asset': (context) => {
      const { release, asset } = findAsset(context);
      const json = assetJson(context.repository, release, asset);
      if (/application\/octet-stream/i.test(context.accept)) {
        return { status: 302, headers: { location: json.browser_download_url } };
      }
      return { status: 200, body: json };
    },

    'repos/update-release-asset': (context) => {
      const { release, asset } = findAsset(context);
      refuseIfImmutable(context, release);
      const body = (context.body ?? {}) as { name?: string; label?: string; state?: string };
      if (body.name !== undefined) {
        const name = renameLikeGitHub(body.name);
        if (release.assets.some((other) => other !== asset && other.name === name)) {
          throw alreadyExists(context, 'ReleaseAsset', 'name');
        }
        asset.name = name;
      }
      if (body.label !== undefined) asset.label = body.label;
      asset.updatedAt = timestamp();
      return { status: 200, body: assetJson(context.repository, release, asset) };
    },

    'repos/delete-release-asset': (context) => {
      const { release, asset } = findAsset(context);
      refuseIfImmutable(context, release);
      release.assets.splice(release.assets.indexOf(asset), 1);
      return { status: 204 };
    },

    'pulls/list': (context) => {
      const {
        state: wanted = 'open',
        head,
        base,
      } = context.query as { state?: string; head?: string; base?: string };
      // `head` is `user:ref` (or `organization:ref`); GitHub ignores a value without the owner.
      const [headOwner, headRef] = head?.includes(':') ? head.split(/:(.*)/s) : [undefined, undefined];
      const pulls = state.pullRequests.filter(
        (pr) =>
          pr.repository === repositoryKey(context.repository) &&
          (wanted === 'all' || pr.state === wanted) &&
          (headRef === undefined ||
            (headOwner?.toLowerCase() === context.repository.owner.toLowerCase() && pr.head === headRef)) &&
          (base === undefined || pr.base === base),
      );
      pulls.sort((a, b) => b.number - a.number);
      return paginate(
        context,
        pulls.map((pr) => pullRequestJson(context.repository, pr, 'simple')),
      );
    },

    'pulls/create': (context) => {
      const body = context.body as {
        title?: string;
        head: string;
        base: string;
        body?: string;
        draft?: boolean;
        maintainer_can_modify?: boolean;
        issue?: number;
      };
      const repository = context.repository;
      const head = body.head.includes(':') ? body.head.split(/:(.*)/s)[1] : body.head;
      const problems: { field: string; code: string; message?: string }[] = [];
      if (body.title === undefined && body.issue === undefined)
        problems.push({ field: 'title', code: 'missing_field' });
      if (!repository.branches.has(head)) problems.push({ field: 'head', code: 'invalid' });
      if (!repository.branches.has(body.base)) problems.push({ field: 'base', code: 'invalid' });
      if (problems.length === 0 && repository.branches.get(head) === repository.branches.get(body.base)) {
        problems.push({
          field: 'head',
          code: 'custom',
          message: `No commits between ${body.base} and ${head}`,
        });
      }
      const duplicate = state.pullRequests.find(
        (pr) =>
          pr.repository === repositoryKey(repository) &&
          pr.head === head &&
          pr.base === body.base &&
          pr.state === 'open',
      );
      if (duplicate) {
        problems.push({
          field: 'head',
          code: 'custom',
          message: `A pull request already exists for ${repository.owner}:${head}.`,
        });
      }
      if (problems.length > 0) {
        throw new ReplyError({
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: problems.map((problem) => ({ resource: 'PullRequest', ...problem })),
            documentation_url: context.operation.documentationUrl,
          },
        });
      }
      const now = timestamp();
      const pr: StandInPullRequest = {
        id: allocateId(),
        repository: repositoryKey(repository),
        number: nextIssueNumber(repository),
        title: body.title ?? `Issue ${body.issue}`,
        body: body.body ?? null,
        head,
        base: body.base,
        state: 'open',
        draft: body.draft ?? false,
        maintainerCanModify: body.maintainer_can_modify ?? false,
        labels: [],
        requestedReviewers: [],
        requestedTeams: [],
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      };
      state.pullRequests.push(pr);
      const json = pullRequestJson(repository, pr, 'full');
      return { status: 201, body: json, headers: { location: json.url } };
    },

    'pulls/get': (context) => ({
      status: 200,
      body: pullRequestJson(
        context.repository,
        findPullRequest(context, Number(context.params.pull_number)),
        'full',
      ),
    }),

    'pulls/update': (context) => {
      const pr = findPullRequest(context, Number(context.params.pull_number));
      const body = (context.body ?? {}) as {
        title?: string;
        body?: string;
        state?: 'open' | 'closed';
        base?: string;
        maintainer_can_modify?: boolean;
      };
      if (body.base !== undefined && !context.repository.branches.has(body.base)) {
        throw new ReplyError({
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }],
            documentation_url: context.operation.documentationUrl,
          },
        });
      }
      if (body.title !== undefined) pr.title = body.title;
      if (body.body !== undefined) pr.body = body.body;
      if (body.base !== undefined) pr.base = body.base;
      if (body.maintainer_can_modify !== undefined) pr.maintainerCanModify = body.maintainer_can_modify;
      const now = timestamp();
      if (body.state !== undefined && body.state !== pr.state) {
        pr.state = body.state;
        pr.closedAt = body.state === 'closed' ? now : null;
      }
      pr.updatedAt = now;
      return { status: 200, body: pullRequestJson(context.repository, pr, 'full') };
    },

    'pulls/request-reviewers': (context) => {
      const pr = findPullRequest(context, Number(context.params.pull_number));
      const body = (context.body ?? {}) as { reviewers?: string[]; team_reviewers?: string[] };
      if (body.reviewers === undefined && body.team_reviewers === undefined) {
        throw new ReplyError({
          status: 422,
          body: {
            message:
              'Invalid request.\n\nNo subschema in "anyOf" matched.\n"reviewers" wasn\'t supplied.\n"team_reviewers" wasn\'t supplied.',
            documentation_url: context.operation.documentationUrl,
          },
        });
      }
      if (body.reviewers?.some((login) => login.toLowerCase() === BOT_USER.login)) {
        throw new ReplyError({
          status: 422,
          body: {
            message: 'Review cannot be requested from pull request author.',
            documentation_url: context.operation.documentationUrl,
          },
        });
      }
      for (const login of body.reviewers ?? [])
        if (!pr.requestedReviewers.includes(login)) pr.requestedReviewers.push(login);
      for (const slug of body.team_reviewers ?? [])
        if (!pr.requestedTeams.includes(slug)) pr.requestedTeams.push(slug);
      pr.updatedAt = timestamp();
      return { status: 201, body: pullRequestJson(context.repository, pr, 'simple') };
    },

    'issues/add-labels': (context) => {
      const pr = findPullRequest(context, Number(context.params.issue_number));
      const body = (context.body ?? {}) as { labels?: (string | { name: string })[] };
      for (const item of body.labels ?? []) {
        const name = typeof item === 'string' ? item : item.name;
        if (!context.repository.labels.has(name)) {
          // The description says labels in pulls/request-reviewers' answer have a string description
          // (null elsewhere is allowed), so labels created here get an empty one, never null.
          context.repository.labels.set(name, { id: allocateId(), name, color: 'ededed', description: '' });
        }
        if (!pr.labels.includes(name)) pr.labels.push(name);
      }
      pr.updatedAt = timestamp();
      return { status: 200, body: pr.labels.map((name) => labelJson(context.repository, name)) };
    },

    'issues/list-comments': (context) => {
      const pr = findPullRequest(context, Number(context.params.issue_number));
      const since = context.query.since === undefined ? undefined : String(context.query.since);
      const comments = state.comments.filter(
        (comment) =>
          comment.repository === pr.repository &&
          comment.issueNumber === pr.number &&
          (since === undefined || comment.updatedAt >= since),
      );
      return paginate(
        context,
        comments.map((comment) => commentJson(context.repository, comment)),
      );
    },

    'issues/create-comment': (context) => {
      const pr = findPullRequest(context, Number(context.params.issue_number));
      const now = timestamp();
      const comment: StandInComment = {
        id: allocateId(),
        repository: pr.repository,
        issueNumber: pr.number,
        body: (context.body as { body: string }).body,
        createdAt: now,
        updatedAt: now,
      };
      state.comments.push(comment);
      const json = commentJson(context.repository, comment);
      return { status: 201, body: json, headers: { location: json.url } };
    },

    'issues/update-comment': (context) => ({
      status: 200,
      body: commentJson(context.repository, editComment(state.comments, context)),
    }),

    'repos/list-comments-for-commit': (context) => {
      const sha = String(context.params.commit_sha);
      const comments = state.commitComments.filter(
        (comment) => comment.repository === repositoryKey(context.repository) && comment.commitSha === sha,
      );
      return paginate(
        context,
        comments.map((comment) => commitCommentJson(context.repository, comment)),
      );
    },

    'repos/create-commit-comment': (context) => {
      const body = context.body as { body: string; path?: string; position?: number; line?: number };
      if (body.path !== undefined || body.position !== undefined || body.line !== undefined) {
        // Comments on a line of the diff are not modelled: the stand-in's commits have no files.
        throw new Error('the stand-in implements commit comments without path, position or line only');
      }
      const now = timestamp();
      const comment: StandInCommitComment = {
        id: allocateId(),
        repository: repositoryKey(context.repository),
        commitSha: String(context.params.commit_sha),
        body: body.body,
        createdAt: now,
        updatedAt: now,
      };
      state.commitComments.push(comment);
      const json = commitCommentJson(context.repository, comment);
      return { status: 201, body: json, headers: { location: json.url } };
    },

    'repos/update-commit-comment': (context) => ({
      status: 200,
      body: commitCommentJson(context.repository, editComment(state.commitComments, context)),
    }),

    'checks/list-for-ref': (context) => {
      // `ref` is a SHA, a branch or a tag name; the stand-in knows branches.
      const ref = String(context.params.ref);
      const sha = context.repository.branches.get(ref.replace(/^refs\/heads\//, '')) ?? ref;
      const {
        check_name: name,
        status,
        filter = 'latest',
      } = context.query as {
        check_name?: string;
        status?: string;
        filter?: string;
      };
      let runs = state.checkRuns.filter(
        (run) =>
          run.repository === repositoryKey(context.repository) &&
          run.headSha === sha &&
          (name === undefined || run.name === name) &&
          (status === undefined || run.status === status),
      );
      if (filter === 'latest') {
        // The most recent run of each name.
        runs = runs.filter((run) => !runs.some((other) => other.name === run.name && other.id > run.id));
      }
      runs.sort((a, b) => b.id - a.id);
      const page = paginate(
        context,
        runs.map((run) => checkRunJson(context.repository, run)),
      );
      return { ...page, body: { total_count: runs.length, check_runs: page.body } };
    },

    'checks/list-annotations': (context) => {
      const run = state.checkRuns.find(
        (candidate) =>
          candidate.id === context.params.check_run_id &&
          candidate.repository === repositoryKey(context.repository),
      );
      if (!run) throw notFound(context.operation.documentationUrl);
      return paginate(
        context,
        run.output.annotations.map((annotation) => annotationJson(context.repository, run, annotation)),
      );
    },

    'checks/create': (context) => {
      const body = context.body as CheckRunBody & { name: string; head_sha: string };
      const run: StandInCheckRun = {
        id: allocateId(),
        repository: repositoryKey(context.repository),
        name: body.name,
        headSha: body.head_sha,
        status: 'queued',
        conclusion: null,
        detailsUrl: null,
        externalId: null,
        startedAt: timestamp(),
        completedAt: null,
        output: { title: null, summary: null, text: null, annotations: [] },
      };
      applyCheckRun(context, run, body);
      state.checkRuns.push(run);
      return { status: 201, body: checkRunJson(context.repository, run) };
    },

    'checks/update': (context) => {
      const run = state.checkRuns.find(
        (candidate) =>
          candidate.id === context.params.check_run_id &&
          candidate.repository === repositoryKey(context.repository),
      );
      if (!run) throw notFound(context.operation.documentationUrl);
      applyCheckRun(context, run, (context.body ?? {}) as CheckRunBody);
      return { status: 200, body: checkRunJson(context.repository, run) };
    },
  };

  function nextIssueNumber(repository: StandInRepository): number {
    const used = state.pullRequests.filter((pr) => pr.repository === repositoryKey(repository));
    return used.reduce((highest, pr) => Math.max(highest, pr.number), 0) + 1;
  }

  function findPullRequest(context: Context, number: number): StandInPullRequest {
    const pr = state.pullRequests.find(
      (candidate) =>
        candidate.repository === repositoryKey(context.repository) && candidate.number === number,
    );
    if (!pr) throw notFound(context.operation.documentationUrl);
    return pr;
  }

  /** Applies a create/update body to a check run, with GitHub's rules for status and conclusion. */
  function applyCheckRun(context: Context, run: StandInCheckRun, body: CheckRunBody): void {
    const status = body.conclusion !== undefined ? 'completed' : (body.status ?? run.status);
    if (status === 'completed' && body.conclusion === undefined && run.conclusion === null) {
      throw new ReplyError({
        status: 422,
        body: {
          message: 'Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.',
          documentation_url: context.operation.documentationUrl,
        },
      });
    }
    if (body.name !== undefined) run.name = body.name;
    if (body.details_url !== undefined) run.detailsUrl = body.details_url;
    if (body.external_id !== undefined) run.externalId = body.external_id;
    if (body.started_at !== undefined) run.startedAt = body.started_at;
    if (body.output !== undefined) {
      run.output = {
        title: body.output.title ?? run.output.title,
        summary: body.output.summary ?? run.output.summary,
        text: body.output.text ?? run.output.text,
        // Annotations accumulate across updates (at most 50 per request), as on GitHub.
        annotations: [...run.output.annotations, ...(body.output.annotations ?? [])],
      };
    }
    run.status = status;
    if (status === 'completed') {
      run.conclusion = body.conclusion ?? run.conclusion;
      run.completedAt = body.completed_at ?? run.completedAt ?? timestamp();
    }
  }

  function paginate(context: Context, items: unknown[]): Reply {
    const perPage = Math.min(Number(context.query.per_page ?? 30), 100);
    const page = Number(context.query.page ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const links: string[] = [];
    const link = (target: number, rel: string) => {
      const url = new URL(context.url);
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(target));
      links.push(`<${url}>; rel="${rel}"`);
    };
    if (page > 1) link(page - 1, 'prev');
    if (page < last) {
      link(page + 1, 'next');
      link(last, 'last');
    }
    return {
      status: 200,
      body: items.slice((page - 1) * perPage, page * perPage),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }

  return {
    baseUrl: origins.api,
    uploadUrl: origins.uploads,
    token,
    state,
    requests,
    violations,
    async stop() {
      for (const server of Object.values(servers)) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

// --- The description: loading, matching, validation ----------------------------------------------

interface CheckRunBody {
  name?: string;
  status?: StandInCheckRun['status'];
  conclusion?: string;
  details_url?: string;
  external_id?: string;
  started_at?: string;
  completed_at?: string;
  output?: { title?: string; summary?: string; text?: string; annotations?: unknown[] };
}

interface FieldProblem {
  field?: string;
  code: string;
  message: string;
}

function loadDescription(): Description {
  if (description) return description;
  const loaded = JSON.parse(readFileSync(descriptionPath, 'utf8')) as Description;
  rewriteNullable(loaded);
  ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  // ajv-formats is CommonJS whose module object is the plugin with `.default` pointing at itself.
  formatsModule.default(ajv);
  // GitHub's own format for `owner/name` (the `repository` of a check suite, a PR's `head` repo…).
  ajv.addFormat('repo.nwo', /^[^/\s]+\/[^/\s]+$/);
  ajv.addSchema({ ...loaded, $id: SCHEMA_ID } as object);
  description = loaded;
  return loaded;
}

/**
 * OpenAPI 3.0's `nullable: true` is not JSON Schema: ajv ignores it and then rejects the `null`s
 * GitHub really sends. Rewrites it in place to a type union, adding `null` to an `enum`, or to
 * `anyOf [schema, null]` where the schema has no `type` (e.g. an `allOf`).
 */
export function rewriteNullable(node: unknown, isPropertyMap = false): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteNullable(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(schema)) {
    // Values of `enum`, `example` and `default` are data, not schemas; but a property may be named so.
    if (isPropertyMap || (key !== 'enum' && key !== 'example' && key !== 'default')) {
      rewriteNullable(value, !isPropertyMap && key === 'properties');
    }
  }
  if (isPropertyMap || schema.nullable !== true) return;
  delete schema.nullable;
  if (typeof schema.type === 'string') {
    schema.type = [schema.type, 'null'];
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  } else {
    const inner = { ...schema };
    for (const key of Object.keys(schema)) delete schema[key];
    schema.anyOf = [inner, { type: 'null' }];
  }
}

function listOperations(spec: Description): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const parameterNames: string[] = [];
      const multiSegment = new Set(
        (operation.parameters ?? [])
          .filter((parameter) => (parameter as { 'x-multi-segment'?: boolean })['x-multi-segment'])
          .map((parameter) => parameter.name),
      );
      const source = template.replace(/\{(\w+)\}|[^{]+/g, (text, name: string | undefined) => {
        if (name === undefined) return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        parameterNames.push(name);
        return multiSegment.has(name) ? '(.+)' : '([^/]+)';
      });
      const uploads = operation.servers?.some((server) => server.url.includes('uploads.github.com')) ?? false;
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${source}$`),
        parameterNames,
        specificity: template.replace(/\{\w+\}/g, '').length,
        operationId: operation.operationId,
        origin: uploads ? 'uploads' : 'api',
        documentationUrl: operation.externalDocs?.url ?? REST_DOCS,
        pointer: ['paths', template, method],
        spec: operation,
      });
    }
  }
  return operations.sort((a, b) => b.specificity - a.specificity);
}

/**
 * The operation a request is for. A path parameter of the wrong type means another route or none,
 * as on GitHub (`/releases/latest` is not `/releases/{release_id}`), so it is part of matching.
 */
function matchOperation(operations: Operation[], method: string, path: string): Operation | undefined {
  return operations.find((operation) => {
    const match = operation.method === method ? operation.pattern.exec(path) : null;
    if (!match) return false;
    const parameters = resolveParameters(operation);
    return operation.parameterNames.every((name, index) => {
      const spec = parameters.get(name);
      const value = decodePathSegment(match[index + 1]);
      return (
        !spec ||
        (value !== undefined &&
          compileAt([...spec.pointer, 'schema'])(coerceParameter(value, spec.schema?.type)))
      );
    });
  });
}

/** The operation's parameters with `$ref`s resolved, by name, each with its JSON pointer. */
function resolveParameters(operation: Operation): Map<string, ParameterSpec & { pointer: string[] }> {
  const result = new Map<string, ParameterSpec & { pointer: string[] }>();
  (operation.spec.parameters ?? []).forEach((parameter, index) => {
    if (parameter.$ref) {
      const pointer = parameter.$ref.slice(2).split('/');
      result.set((resolve(pointer) as ParameterSpec).name, {
        ...(resolve(pointer) as ParameterSpec),
        pointer,
      });
    } else {
      result.set(parameter.name, {
        ...parameter,
        pointer: [...operation.pointer, 'parameters', String(index)],
      });
    }
  });
  return result;
}

function resolve(pointer: string[]): unknown {
  let node: unknown = description;
  for (const key of pointer) node = (node as Record<string, unknown>)[key];
  return node;
}

/** Query and path values arrive as text; the schema says what they mean. */
function coerceParameter(raw: string, type: string | undefined): unknown {
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (type === 'array') return raw.split(',');
  return raw;
}

function compileAt(pointer: string[]): ValidateFunction {
  const ref = `${SCHEMA_ID}#/${pointer.map((key) => encodeURIComponent(key.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv!.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

function describeErrors(validate: ValidateFunction, root?: string): FieldProblem[] {
  return (validate.errors ?? []).map((error) => {
    const at = error.instancePath.slice(1).replaceAll('/', '.');
    if (error.keyword === 'required') {
      const field = [at, (error.params as { missingProperty: string }).missingProperty]
        .filter(Boolean)
        .join('.');
      return { field, code: 'missing_field', message: `"${field}" wasn't supplied.` };
    }
    const field = root ?? (at || undefined);
    return {
      ...(field ? { field } : {}),
      code: 'invalid',
      message: `For '${field ?? 'body'}', ${error.message ?? 'is invalid'}${error.keyword === 'enum' ? ` (${JSON.stringify((error.params as { allowedValues: unknown }).allowedValues)})` : ''}.`,
    };
  });
}

/** Checks a reply against the description; returns what does not conform. */
function validateResponse(operation: Operation, reply: Reply): string[] {
  const responses = operation.spec.responses;
  const key = String(reply.status);
  let pointer: string[];
  if (responses[key]) {
    pointer = [...operation.pointer, 'responses', key];
  } else if (reply.status >= 400) {
    // GitHub answers 401, 403 and 404 on any operation whether or not its description lists them;
    // they carry a basic-error (422s a validation-error).
    pointer = ['components', 'schemas', reply.status === 422 ? 'validation-error' : 'basic-error'];
    return validateBody(pointer, reply);
  } else {
    return [`status ${reply.status} is not a documented response of ${operation.operationId}`];
  }
  const response = responses[key];
  if (response.$ref) pointer = response.$ref.slice(2).split('/');
  const content = (resolve(pointer) as ResponseSpec).content;
  if (!content) return [];
  const media = Object.keys(content).find((type) => type === 'application/json') ?? Object.keys(content)[0];
  if (!content[media].schema) return [];
  return validateBody([...pointer, 'content', media, 'schema'], reply);
}

function validateBody(pointer: string[], reply: Reply): string[] {
  if (reply.raw) return [];
  const validate = compileAt(pointer);
  if (validate(reply.body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '(body)'} ${error.message} (${error.schemaPath})`,
  );
}

// --- Small helpers --------------------------------------------------------------------------------

function decodePathSegment(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function bearerToken(request: IncomingMessage): string | undefined {
  return /^(?:token|bearer)\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

function repositoryKey(repository: StandInRepository): string {
  return `${repository.owner}/${repository.name}`.toLowerCase();
}

function notFound(documentationUrl: string): ReplyError {
  return new ReplyError({
    status: 404,
    body: { message: 'Not Found', documentation_url: documentationUrl, status: '404' },
  });
}

/** GitHub's timestamps: UTC, seconds precision. */
function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An approximation of GitHub's renaming of asset names with special characters. */
function renameLikeGitHub(name: string): string {
  return name.replace(/[^A-Za-z0-9._+-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'default';
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = {
    'x-github-media-type': 'github.v3; format=json',
    ...reply.headers,
  };
  if (reply.raw) {
    response.writeHead(reply.status, headers).end(reply.raw);
  } else if (reply.body === undefined) {
    response.writeHead(reply.status, headers).end();
  } else {
    response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(reply.body));
  }
}

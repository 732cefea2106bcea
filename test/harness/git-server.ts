/**
 * A real git remote for tests: `git http-backend` (the CGI program that ships with git) behind a
 * small Node HTTP server on 127.0.0.1, serving bare repositories under a temporary root over the
 * smart-HTTP protocol (v0 and v2, fetch, shallow fetch and push), with token authentication like
 * GitHub's.
 *
 * How it behaves, and why:
 * - Every request needs `Authorization: Basic base64(<any user>:<token>)` or `Bearer <token>` (scheme
 *   case-insensitive, as `AUTHORIZATION: basic …` from actions/checkout's `http.extraHeader`);
 *   anything else gets 401 with `WWW-Authenticate: Basic realm="git"`, so a client without
 *   credentials fails the way it would against github.com.
 * - One `git-http-backend` per request, started directly from git's exec path (not through the `git`
 *   wrapper, which would sit in between and outlive a SIGKILL) in its own process group, so that
 *   `stop()` or a client hanging up can kill it together with the upload-pack/receive-pack it runs.
 * - The request body is streamed to its stdin untouched: gzip bodies are decoded by http-backend
 *   itself (from `HTTP_CONTENT_ENCODING`), chunked bodies (large pushes) are read to EOF when there is
 *   no `CONTENT_LENGTH`. The CGI headers it prints (`Status:` among them, sometimes twice over) are
 *   turned into the HTTP response head and the rest is streamed back.
 * - Concurrency is git's: parallel requests are independent processes and ref updates take git's
 *   ref locks, so a stale push is refused with `(fetch first)` / `(non-fast-forward)` by the client,
 *   or `(failed to update ref)` when two pushes race for the same old value.
 * - Spawned git gets a minimal environment (PATH, a temporary HOME, no system config, no `GIT_*`
 *   from outside): machines here set e.g. `GIT_SSL_CAINFO`, and a developer's `~/.gitconfig` must not
 *   change what the server does.
 *
 * Seeded commits use a fixed author, committer and date ({@link seedIdentity}), so their SHAs are
 * the same on every run and machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';

/** Author and committer of commits made by {@link GitServer.createRepository}. */
export const seedIdentity = {
  name: 'mlops-actions test seed',
  email: 'seed@mlops-actions.invalid',
  date: '2024-01-01T00:00:00+00:00',
} as const;

/** Options of {@link startGitServer}. */
export interface GitServerOptions {
  /** The token every request must carry; default a random `ghs_…` value. */
  token?: string;
  /**
   * The user name in {@link GitServer.extraHeader}, and `REMOTE_USER` for Bearer requests (Basic
   * requests may use any user name, as GitHub accepts any with an installation token). Default
   * `x-access-token`.
   */
  user?: string;
}

/** One HTTP request as the server saw it. Never holds the token, only whether a header was sent. */
export interface GitRequest {
  method: string;
  /** The decoded path without the query, e.g. `/octo-org/deploy.git/info/refs`. */
  path: string;
  /** `owner/name` when the path names a repository. */
  repository: string | undefined;
  /** `git-upload-pack` (fetch, clone, ls-remote) or `git-receive-pack` (push), when named. */
  service: string | undefined;
  /** The status answered; 0 while the request is still being served. */
  status: number;
  /** Whether an `Authorization` header was present (right or wrong). */
  authorization: boolean;
  userAgent: string | undefined;
  /** The `Git-Protocol` header (`version=2` from a v2 client). */
  gitProtocol: string | undefined;
  /** The request's `Content-Encoding` (`gzip` for large fetch negotiations). */
  contentEncoding: string | undefined;
}

/** A commit as {@link GitServer.log} reports it. */
export interface GitCommit {
  sha: string;
  parents: string[];
  /** The full message, without the trailing newline. */
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
}

/** Options of {@link GitServer.createRepository}. */
export interface CreateRepositoryOptions {
  /** The branch of the initial commit, and the repository's HEAD; default `main`. */
  branch?: string;
  /** The initial commit's message; default `Initial commit`. */
  message?: string;
}

/** A running server; see {@link startGitServer}. */
export interface GitServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  token: string;
  user: string;
  /**
   * `Authorization: Basic base64(user:token)`, for `git -c http.extraHeader=…` (how actions/checkout
   * and create-pull-request pass a token without writing it into the remote URL).
   */
  extraHeader: string;
  /** The temporary folder holding the bare repositories (`<owner>/<name>.git`); gone after stop(). */
  root: string;
  /** The clone URL of `owner/name`: `http://127.0.0.1:<port>/<owner>/<name>.git`. */
  url(repository: string): string;
  /**
   * Creates the bare repository `owner/name` with one commit holding `files` (path → content) on
   * `branch`, made in a temporary work tree and pushed, with {@link seedIdentity}. Returns its SHA.
   */
  createRepository(
    repository: string,
    files: Record<string, string | Uint8Array>,
    options?: CreateRepositoryOptions,
  ): Promise<{ head: string }>;
  /** The UTF-8 text of `path` at `ref` (a branch, tag or SHA); undefined when either is missing. */
  readFile(repository: string, ref: string, path: string): Promise<string | undefined>;
  /** Every ref of the repository: full name (`refs/heads/main`) → SHA. */
  refs(repository: string): Promise<Record<string, string>>;
  /** The newest `count` (default 10) commits reachable from `ref`, newest first. */
  log(repository: string, ref: string, count?: number): Promise<GitCommit[]>;
  /**
   * Refuses every later push that updates `branch` (create, move or delete), through an `update`
   * hook whose message resembles GitHub's (`GH006: Protected branch update failed …`). Git itself
   * reports the rejection as `(hook declined)`.
   */
  protect(repository: string, branch: string): Promise<void>;
  /** Every request so far, in arrival order (the status is filled in when the answer starts). */
  requests: GitRequest[];
  /** Stops the server, kills any http-backend still running (with its children), removes the root. */
  stop(): Promise<void>;
}

const repositoryPattern = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
// Branch names the update hook can match literally in a `case` pattern (no glob or shell characters).
const branchPattern = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Backstop when a test file dies without calling stop(): no http-backend outlives the test process. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) abort(child);
});

/** Starts the server on a free port of 127.0.0.1. Call `stop()` in `afterAll`. */
export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const token = options.token ?? `ghs_${randomBytes(18).toString('hex')}`;
  const user = options.user ?? 'x-access-token';
  const root = await mkdtemp(join(tmpdir(), 'git-server-'));
  const home = await mkdtemp(join(tmpdir(), 'git-server-home-'));
  const env = minimalEnv(home);
  const backend = join(
    (await runGit(['--exec-path'], { env })).stdout.toString('utf8').trim(),
    'git-http-backend',
  );
  const requests: GitRequest[] = [];
  const children = new Set<ChildProcess>();
  const protectedBranches = new Map<string, Set<string>>();

  const server = createServer((request, response) => {
    serve({ request, response, token, user, root, env, backend, requests, children });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const bareRepository = (repository: string): string => {
    const name = repository.replace(/\.git$/, '');
    if (!repositoryPattern.test(name) || name.split('/').some((part) => part.startsWith('.'))) {
      throw new Error(
        `repository must be 'owner/name' (letters, digits, '_', '.', '-'), got '${repository}'`,
      );
    }
    return join(root, `${name}.git`);
  };
  const existingRepository = (repository: string): string => {
    const path = bareRepository(repository);
    if (!existsSync(path)) throw new Error(`no repository '${repository}' on the git server`);
    return path;
  };

  return {
    origin,
    token,
    user,
    extraHeader: `Authorization: Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
    root,
    requests,
    url: (repository) => `${origin}/${repository.replace(/\.git$/, '')}.git`,

    async createRepository(repository, files, createOptions = {}) {
      const branch = createOptions.branch ?? 'main';
      if (!branchPattern.test(branch)) throw new Error(`unsupported branch name '${branch}'`);
      const bare = bareRepository(repository);
      if (existsSync(bare)) throw new Error(`repository '${repository}' already exists`);
      await mkdir(dirname(bare), { recursive: true });
      await runGit(['init', '--quiet', '--bare', '--initial-branch', branch, bare], { env });
      // http.receivepack: pushes are allowed whatever REMOTE_USER says (http-backend only enables
      // receive-pack by default for an authenticated REMOTE_USER). No automatic gc: receive-pack
      // would start it detached (its own session), beyond the reach of stop().
      await appendFile(
        join(bare, 'config'),
        '[http]\n\treceivepack = true\n[receive]\n\tautogc = false\n[gc]\n\tauto = 0\n\tautoDetach = false\n',
      );

      const work = await mkdtemp(join(tmpdir(), 'git-server-seed-'));
      try {
        const seedEnv = {
          ...env,
          GIT_AUTHOR_NAME: seedIdentity.name,
          GIT_AUTHOR_EMAIL: seedIdentity.email,
          GIT_AUTHOR_DATE: seedIdentity.date,
          GIT_COMMITTER_NAME: seedIdentity.name,
          GIT_COMMITTER_EMAIL: seedIdentity.email,
          GIT_COMMITTER_DATE: seedIdentity.date,
        };
        await runGit(['init', '--quiet', '--initial-branch', branch], { cwd: work, env: seedEnv });
        for (const [path, content] of Object.entries(files)) {
          const target = normalize(join(work, path));
          if (!target.startsWith(work + sep) || target.startsWith(join(work, '.git') + sep)) {
            throw new Error(`file path '${path}' leaves the work tree`);
          }
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, content);
        }
        await runGit(['add', '--all'], { cwd: work, env: seedEnv });
        await runGit(
          [
            'commit',
            '--quiet',
            '--allow-empty',
            '--no-verify',
            '--message',
            createOptions.message ?? 'Initial commit',
          ],
          { cwd: work, env: seedEnv },
        );
        await runGit(['push', '--quiet', bare, `HEAD:refs/heads/${branch}`], { cwd: work, env: seedEnv });
        const head = (await runGit(['rev-parse', 'HEAD'], { cwd: work, env: seedEnv })).stdout
          .toString('utf8')
          .trim();
        return { head };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },

    async readFile(repository, ref, path) {
      const gitDir = existingRepository(repository);
      const result = await runGit(['--git-dir', gitDir, 'cat-file', 'blob', `${ref}:${path}`], {
        env,
        allowFailure: true,
      });
      return result.code === 0 ? result.stdout.toString('utf8') : undefined;
    },

    async refs(repository) {
      const gitDir = existingRepository(repository);
      const { stdout } = await runGit(
        ['--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)'],
        {
          env,
        },
      );
      const refs: Record<string, string> = {};
      for (const line of stdout.toString('utf8').split('\n')) {
        const space = line.indexOf(' ');
        if (space > 0) refs[line.slice(space + 1)] = line.slice(0, space);
      }
      return refs;
    },

    async log(repository, ref, count = 10) {
      const gitDir = existingRepository(repository);
      // Fields split by US (0x1f), commits by NUL (-z): messages may hold any other character.
      const format = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x1f');
      const { stdout } = await runGit(
        ['--git-dir', gitDir, 'log', '-z', `--max-count=${count}`, `--format=${format}`, ref, '--'],
        { env },
      );
      return stdout
        .toString('utf8')
        .split('\0')
        .filter((entry) => entry !== '')
        .map((entry) => {
          const [
            sha,
            parents,
            authorName,
            authorEmail,
            authorDate,
            committerName,
            committerEmail,
            committerDate,
            body,
          ] = entry.split('\x1f');
          return {
            sha,
            parents: parents === '' ? [] : parents.split(' '),
            message: body.replace(/\n+$/, ''),
            author: { name: authorName, email: authorEmail, date: authorDate },
            committer: { name: committerName, email: committerEmail, date: committerDate },
          };
        });
    },

    async protect(repository, branch) {
      const gitDir = existingRepository(repository);
      if (!branchPattern.test(branch)) throw new Error(`unsupported branch name '${branch}'`);
      const branches = protectedBranches.get(gitDir) ?? new Set<string>();
      branches.add(branch);
      protectedBranches.set(gitDir, branches);
      const patterns = [...branches].map((name) => `refs/heads/${name}`).join('|');
      // The update hook runs once per ref with (refname, old, new); its stderr reaches the client as
      // `remote: …` lines, and a non-zero exit refuses that ref only.
      const hook = `#!/bin/sh
# Written by test/harness/git-server.ts: branch protection, as GitHub would enforce it.
case "$1" in
  ${patterns})
    echo "error: GH006: Protected branch update failed for $1." >&2
    echo "error: protected branch hook declined: pushes to $1 are not allowed." >&2
    exit 1
    ;;
esac
exit 0
`;
      await writeFile(join(gitDir, 'hooks', 'update'), hook, { mode: 0o755 });
    },

    async stop() {
      server.closeAllConnections();
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      const exited = [...children].map(
        (child) =>
          new Promise<void>((resolveExit) => {
            if (child.exitCode !== null || child.signalCode !== null) resolveExit();
            else child.once('exit', () => resolveExit());
          }),
      );
      for (const child of children) abort(child);
      await Promise.all([closed, ...exited]);
      await rm(root, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

interface ServeContext {
  request: IncomingMessage;
  response: ServerResponse;
  token: string;
  user: string;
  root: string;
  env: Record<string, string>;
  backend: string;
  requests: GitRequest[];
  children: Set<ChildProcess>;
}

function serve(context: ServeContext): void {
  const { request, response } = context;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const record: GitRequest = {
    method: request.method ?? 'GET',
    path,
    repository: /^\/([^/]+\/[^/]+?)\.git(\/|$)/.exec(path)?.[1],
    service:
      url.searchParams.get('service') ?? /\/(git-upload-pack|git-receive-pack)$/.exec(path)?.[1] ?? undefined,
    status: 0,
    authorization: request.headers.authorization !== undefined,
    userAgent: header('user-agent'),
    gitProtocol: header('git-protocol'),
    contentEncoding: header('content-encoding'),
  };
  context.requests.push(record);

  const remoteUser = authenticate(request.headers.authorization, context.token, context.user);
  if (remoteUser === undefined) {
    // Read and drop the body, so the connection stays usable for the retry with credentials.
    request.resume();
    record.status = 401;
    response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
    response.end('Authentication required\n');
    return;
  }

  const env: Record<string, string> = {
    ...context.env,
    GIT_PROJECT_ROOT: context.root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    REQUEST_METHOD: record.method,
    PATH_INFO: path,
    QUERY_STRING: url.search.slice(1),
    REMOTE_USER: remoteUser,
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
  };
  const optional = {
    CONTENT_TYPE: header('content-type'),
    CONTENT_LENGTH: header('content-length'),
    HTTP_CONTENT_ENCODING: record.contentEncoding,
    GIT_PROTOCOL: record.gitProtocol,
  };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) env[name] = value;

  // detached: its own process group, killed as a whole (see abort).
  const child = spawn(context.backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  context.children.add(child);
  running.add(child);
  child.once('exit', () => {
    context.children.delete(child);
    running.delete(child);
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // http-backend may answer (403, 404) and exit without reading the body: EPIPE is expected then.
  child.stdin.on('error', () => {});
  request.pipe(child.stdin);
  // A client that hangs up leaves nobody to read the answer.
  response.once('close', () => {
    if (!response.writableFinished) abort(child);
  });

  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (end === undefined) return;
    child.stdout.off('data', onData);
    child.stdout.off('end', onEnd);
    child.stdout.pause();
    const { status, headers } = parseCgiHeaders(head.subarray(0, end.index).toString('latin1'));
    record.status = status;
    response.writeHead(status, headers);
    response.write(head.subarray(end.index + end.length));
    child.stdout.pipe(response);
  };
  const onEnd = () => {
    if (response.destroyed) return;
    // http-backend died before finishing its headers: a bug in the request or in this server.
    record.status = 500;
    response.writeHead(500, { 'Content-Type': 'text/plain' });
    response.end(`git http-backend gave no CGI headers: ${Buffer.concat(stderr).toString('utf8')}`);
  };
  child.stdout.on('data', onData);
  child.stdout.once('end', onEnd);
  child.once('error', (error) => {
    if (response.destroyed) return;
    if (response.headersSent) {
      response.destroy(error);
      return;
    }
    record.status = 500;
    response.writeHead(500, { 'Content-Type': 'text/plain' });
    response.end(`could not start git http-backend: ${error.message}`);
  });
}

/** The REMOTE_USER for a valid Authorization header, or undefined when it is missing or wrong. */
function authenticate(header: string | undefined, token: string, user: string): string | undefined {
  const match = /^\s*(basic|bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  if (match[1].toLowerCase() === 'bearer') return match[2] === token ? user : undefined;
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(colon + 1) !== token) return undefined;
  // An empty user name would make http-backend treat the push as anonymous.
  return decoded.slice(0, colon) || user;
}

/** Where the CGI header block ends (`\r\n\r\n` from http-backend; `\n\n` accepted too). */
function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return undefined;
}

/**
 * CGI response headers → HTTP status and headers. http-backend prints its no-cache headers twice
 * around `Status:` on errors, so a repeated header replaces the earlier one instead of doubling it.
 */
function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

/**
 * Kills the child's whole process group: http-backend, the upload-pack/receive-pack under it and
 * whatever those run (pack-objects, hooks), which killing http-backend alone would leave running.
 */
function abort(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Our ends of its pipes: a stdout nobody reads any more (the response is gone) would otherwise
  // never reach EOF, and the child would never be 'close'd.
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/**
 * The environment for every git the server starts: nothing from the outer environment but PATH, a
 * private HOME (no ~/.gitconfig) and no system config.
 */
function minimalEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  };
}

interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs git asynchronously (a synchronous spawn would block the server running in this process) and
 * throws with its stderr when it fails, unless `allowFailure`.
 */
function runGit(
  args: string[],
  options: { cwd?: string; env: Record<string, string>; allowFailure?: boolean },
): Promise<GitResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`));
      } else {
        resolveRun(result);
      }
    });
  });
}

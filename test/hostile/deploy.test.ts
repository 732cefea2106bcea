/**
 * Hostile deployments (issue #12): where the token goes, which transports are accepted, what hangs,
 * and package references that lie. Each case runs the built CLI (or, for time limits and range
 * reads, the core function) against real loopback servers: the git smart-HTTP server holding the
 * environment repository, and small HTTP servers standing in for a release host, a storage host
 * and an attacker's host (two ports are two origins, as two hosts are).
 *
 * A new hostile case goes here when it is about tokens, transports or package references; one
 * about gate verdicts goes to custody.test.ts.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/core/deploy/deploy.ts';
import { cloneWorkspace } from '../../src/core/deploy/git-workspace.ts';
import { parsePackageRef, readModelReference, referencePath } from '../../src/core/deploy/model-reference.ts';
import { openPackage } from '../../src/core/deploy/package-reader.ts';
import { fetchWithCredential, TIME_LIMITS } from '../../src/core/deploy/transport.ts';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import type { BuiltPackage } from '../../src/core/package/build-package.ts';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage } from '../helpers/packages.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist/cli/index.js');
const REPO = 'octo-org/environments';
const BRANCH = 'mlops/deploy/staging/breast-cancer';

let git: GitServer;
let pkg: BuiltPackage;
let archive: Buffer;
let newer: BuiltPackage;
const servers: Server[] = [];

/** What a stand-in HTTP server saw: path, Authorization header (the test's own token only), Range. */
interface Seen {
  url: string;
  authorization?: string;
  range?: string;
}

/** A loopback HTTP server; `handle` answers, every request is recorded in `seen`. */
async function serve(
  handle: (request: IncomingMessage, response: ServerResponse, origin: string) => void,
): Promise<{ origin: string; seen: Seen[]; sockets: Set<Socket> }> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let origin = '';
  const server = createServer((request, response) => {
    seen.push({
      url: request.url ?? '',
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      ...(request.headers.range ? { range: request.headers.range } : {}),
    });
    handle(request, response, origin);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { origin, seen, sockets };
}

/** Serves `bytes` whole, or a range of them when `ranges` (RFC 9110 single ranges, suffix too). */
function sendArchive(
  request: IncomingMessage,
  response: ServerResponse,
  bytes: Buffer,
  ranges: boolean,
): void {
  const match = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  if (!ranges || !match) {
    response.writeHead(200, { 'content-type': 'application/zip', 'content-length': bytes.length });
    response.end(bytes);
    return;
  }
  const [start, end] =
    match[1] === ''
      ? [Math.max(0, bytes.length - Number(match[2])), bytes.length - 1]
      : [Number(match[1]), Math.min(bytes.length - 1, match[2] === '' ? bytes.length - 1 : Number(match[2]))];
  response.writeHead(206, {
    'content-type': 'application/zip',
    'content-range': `bytes ${start}-${end}/${bytes.length}`,
    'content-length': end - start + 1,
  });
  response.end(bytes.subarray(start, end + 1));
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI in `cwd` with only the variables given (and PATH, HOME). */
async function mlops(cwd: string, env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string; killed?: boolean };
    return { code: e.killed ? -1 : e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const base64 = (token: string) => Buffer.from(`x-access-token:${token}`).toString('base64');

beforeAll(async () => {
  git = await startGitServer();
  await git.createRepository(REPO, {
    'README.md': '# Environments\n',
    'environments/staging/kustomization.yaml': 'resources: []\n',
    'environments/production/kustomization.yaml': 'resources: []\n',
  });
  pkg = await makeTestPackage({ version: '1.0.0' });
  newer = await makeTestPackage({ version: '1.0.1' });
  archive = await readFile(pkg.archive);
}, 60_000);

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all([git?.stop(), ...servers.map((s) => new Promise((resolve) => s.close(resolve)))]);
});

describe('the token goes only where it is for', () => {
  it('goes to the GitHub server, not across its redirect to a storage host, and never to another host', async () => {
    const storage = await serve((request, response) => sendArchive(request, response, archive, false));
    const github = await serve((request, response, origin) => {
      if (request.url === '/octo-org/mlops-demo/releases/download/v1.0.0/breast-cancer-1.0.0.zip') {
        // As github.com does: a redirect to a signed URL on another host.
        response.writeHead(302, { location: `${storage.origin}/blob/breast-cancer-1.0.0.zip?sig=signed` });
      } else if (request.url === '/same-origin/breast-cancer-1.0.0.zip') {
        response.writeHead(302, {
          location: `${origin}/octo-org/mlops-demo/releases/download/v1.0.0/breast-cancer-1.0.0.zip`,
        });
      } else if (request.url === '/loop/breast-cancer-1.0.0.zip') {
        response.writeHead(302, { location: '/loop/breast-cancer-1.0.0.zip' });
      } else if (request.url === '/downgrade/breast-cancer-1.0.0.zip') {
        // Plain http to a machine that is not this one (TEST-NET-1: nothing answers there).
        response.writeHead(302, { location: 'http://192.0.2.1/breast-cancer-1.0.0.zip' });
      } else {
        response.writeHead(404);
      }
      response.end();
    });
    const attacker = await serve((request, response) => sendArchive(request, response, archive, false));
    const cwd = await temporaryDirectory();
    const env = { GITHUB_TOKEN: git.token, GITHUB_SERVER_URL: github.origin };
    const deployRef = (ref: string) =>
      mlops(cwd, env, 'deploy', '--env', 'staging', '--repo', git.url(REPO), '--package-ref', ref);

    const released = await deployRef(
      `${github.origin}/octo-org/mlops-demo/releases/download/v1.0.0/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`,
    );
    expect(released.stderr).toBe('');
    expect(released.code).toBe(0);
    expect(github.seen.map((s) => s.authorization)).toEqual([`Bearer ${git.token}`]);
    expect(storage.seen.map((s) => s.url)).toContain('/blob/breast-cancer-1.0.0.zip?sig=signed');
    expect(storage.seen.every((s) => s.authorization === undefined)).toBe(true);

    // A redirect within the same origin keeps it; leaving the origin drops it.
    github.seen.length = 0;
    storage.seen.length = 0;
    expect(
      (await deployRef(`${github.origin}/same-origin/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`)).code,
    ).toBe(0);
    expect(github.seen.map((s) => s.authorization)).toEqual([`Bearer ${git.token}`, `Bearer ${git.token}`]);
    expect(storage.seen.every((s) => s.authorization === undefined)).toBe(true);

    // Another host (another port is another origin) never gets it.
    const foreign = await deployRef(`${attacker.origin}/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`);
    expect(foreign.code).toBe(0);
    expect(attacker.seen.length).toBeGreaterThan(0);
    expect(attacker.seen.every((s) => s.authorization === undefined)).toBe(true);

    // Plain http to another machine is refused before any connection, directly or by a redirect.
    const plain = await deployRef(`http://192.0.2.1/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/uses plain http to another machine: use https/);
    const downgraded = await deployRef(
      `${github.origin}/downgrade/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`,
    );
    expect(downgraded.code).toBe(2);
    expect(downgraded.stderr).toMatch(/redirected from .* uses plain http to another machine/);
    const looping = await deployRef(`${github.origin}/loop/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`);
    expect(looping.code).toBe(2);
    expect(looping.stderr).toMatch(/redirects more than 5 times/);

    for (const output of [released, foreign, plain, downgraded, looping]) {
      expect(output.stdout + output.stderr).not.toContain(git.token);
    }
  }, 120_000);

  it('deploy-pr: the workflow token (package-token) goes to the release host, the environment token to git', async () => {
    const api = await startGitHubApi({
      repositories: [REPO],
      token: git.token,
      beforeOperation: async () => {
        for (const [ref, head] of Object.entries(await git.refs(REPO))) {
          if (ref.startsWith('refs/heads/')) api.state.setBranch(REPO, ref.slice('refs/heads/'.length), head);
        }
      },
    });
    try {
      const releases = await serve((request, response) => sendArchive(request, response, archive, false));
      const workflowToken = 'ghs_workflow_token_of_the_model_repository';
      const step = await runAction('deploy-pr', {
        githubToken: workflowToken,
        env: { GITHUB_API_URL: api.baseUrl, GITHUB_SERVER_URL: releases.origin },
        inputs: {
          environment: 'production',
          'package-ref': `${releases.origin}/octo-org/mlops-demo/releases/download/v1.0.0/breast-cancer-1.0.0.zip#sha256=${pkg.digest}`,
          repository: git.url(REPO),
          token: git.token,
        },
      });
      expect(step.exitCode).toBe(0);
      expect(releases.seen.length).toBeGreaterThan(0);
      expect(releases.seen.every((s) => s.authorization === `Bearer ${workflowToken}`)).toBe(true);
      expect(step.stdout).toContain(`::add-mask::${workflowToken}`);
      expect(api.violations).toEqual([]);
    } finally {
      await api.stop();
    }
  }, 60_000);

  it("is masked in git's own messages (what keeps it out of every error a failed git command becomes)", async () => {
    const workspace = await cloneWorkspace(git.url(REPO), {
      auth: { token: git.token },
      base: 'main',
      hostEnv: process.env,
    });
    try {
      // Git names the ref it cannot find: a ref spelled with the token puts the token in its message.
      const message = await workspace.git.fetch(['origin', `refs/heads/leak-${git.token}`]).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(message).toContain(`leak-${git.token}`);
      const masked = workspace.mask(`${message}\n${base64(git.token)}`);
      expect(masked).toContain('leak-***');
      expect(masked).not.toContain(git.token);
      expect(masked).not.toContain(base64(git.token));
    } finally {
      await workspace.remove();
    }
  });

  it('reaches git through its environment: no git process has the token in its arguments', async () => {
    // A `git` first on PATH that records each command line (and the names of the configuration
    // git receives through its environment), then runs the real git.
    const bin = await temporaryDirectory();
    const log = join(bin, 'argv.log');
    const real = (await run('sh', ['-c', 'command -v git'])).stdout.trim();
    await writeFile(
      join(bin, 'git'),
      [
        '#!/bin/sh',
        `{ printf 'ARGV'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n';`,
        `  i=0; while [ "$i" -lt "\${GIT_CONFIG_COUNT:-0}" ]; do eval "printf 'KEY %s\\n' \\"\\$GIT_CONFIG_KEY_$i\\""; i=$((i+1)); done; } >> '${log}'`,
        `exec '${real}' "$@"`,
        '',
      ].join('\n'),
    );
    await chmod(join(bin, 'git'), 0o755);
    const cwd = await temporaryDirectory();
    const env = { GITHUB_TOKEN: git.token, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const deployed = await mlops(
      cwd,
      env,
      'deploy',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--package-ref',
      newer.archive,
    );
    expect(deployed.code).toBe(0);
    const history = await mlops(cwd, env, 'history', '--env', 'staging', '--repo', git.url(REPO));
    expect(history.code).toBe(0);
    const lines = (await readFile(log, 'utf8')).split('\n');
    const commands = lines.filter((line) => line.startsWith('ARGV'));
    // The commands that talk to the server ran through the wrapper, authenticated (the server
    // refuses anonymous requests), without the token or its Basic encoding in their arguments.
    expect(commands.some((line) => / clone /.test(line))).toBe(true);
    expect(commands.some((line) => / push /.test(line))).toBe(true);
    expect(commands.some((line) => / ls-remote /.test(line))).toBe(true);
    for (const line of commands) {
      expect(line).not.toContain(git.token);
      expect(line).not.toContain(base64(git.token));
      expect(line.toLowerCase()).not.toContain('extraheader');
    }
    // The header came through the environment, scoped to the repository's origin.
    expect(lines).toContain(`KEY http.${git.origin}/.extraHeader`);
    expect(git.requests.every((r) => !JSON.stringify(r).includes(git.token))).toBe(true);

    // A local repository gets no header at all.
    const local = join(await temporaryDirectory(), 'env.git');
    await run('git', ['clone', '--quiet', '--bare', git.url(REPO), local], {
      env: {
        ...process.env,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: git.extraHeader,
      },
    });
    await writeFile(log, '');
    expect(
      (await mlops(cwd, env, 'deploy', '--env', 'staging', '--repo', local, '--package-ref', pkg.archive))
        .code,
    ).toBe(0);
    const localLines = (await readFile(log, 'utf8')).split('\n');
    expect(localLines.some((line) => line.startsWith('ARGV') && line.includes(' clone '))).toBe(true);
    expect(
      localLines.filter((line) => line.startsWith('KEY')).every((line) => !/extraheader/i.test(line)),
    ).toBe(true);
  }, 120_000);
});

describe('transports', () => {
  it.each([
    ['fd::17/a/b', /git remote helper \(fd::\)/],
    ['ext::sh -c touch% /tmp/mlops-pwned', /git remote helper \(ext::\)/],
    ['ssh://git@127.0.0.1/octo-org/environments.git', /ssh URL; ssh is not supported/],
    ['git@127.0.0.1:octo-org/environments.git', /ssh address; ssh is not supported/],
    ['git://127.0.0.1/octo-org/environments.git', /uses git:\/\/, which is refused/],
    ['http://192.0.2.1/octo-org/environments.git', /plain http to another machine/],
    ['file://192.0.2.1/srv/environments.git', /names a file on another host/],
    ['environments', /not a URL, an owner\/name or a path/],
  ])(
    'refuses --repo %s at once (exit 2), for deploy and history',
    async (repo, message) => {
      const cwd = await temporaryDirectory();
      const started = Date.now();
      const deployed = await mlops(
        cwd,
        { GITHUB_TOKEN: 'ghs_never_sent' },
        'deploy',
        '--env',
        'staging',
        '--repo',
        repo,
        '--package-ref',
        pkg.archive,
      );
      expect(deployed.code).toBe(2);
      expect(deployed.stderr).toMatch(message);
      const history = await mlops(cwd, {}, 'history', '--env', 'staging', '--repo', repo);
      expect(history.code).toBe(2);
      expect(history.stderr).toMatch(message);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(deployed.stdout + deployed.stderr).not.toContain('ghs_never_sent');
    },
    60_000,
  );

  it('accepts a local path (absolute or ./relative) and a file:// URL for the environment repository', async () => {
    const folder = await temporaryDirectory();
    await run('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', join(folder, 'env.git')]);
    const seed = join(folder, 'seed');
    await mkdir(join(seed, 'environments/staging'), { recursive: true });
    await writeFile(join(seed, 'environments/staging/kustomization.yaml'), 'resources: []\n');
    const gitIn = (...args: string[]) =>
      run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: seed });
    await gitIn('init', '--quiet', '--initial-branch', 'main');
    await gitIn('add', '-A');
    await gitIn('commit', '--quiet', '-m', 'seed');
    await gitIn('push', '--quiet', join(folder, 'env.git'), 'main');
    const relative = await mlops(
      folder,
      {},
      'deploy',
      '--env',
      'staging',
      '--repo',
      './env.git',
      '--package-ref',
      pkg.archive,
    );
    expect(relative.stderr).toBe('');
    expect(relative.code).toBe(0);
    // A plain path: its sha256 is computed and printed.
    expect(relative.stdout).toContain(`sha256 ${pkg.digest}`);
    const text = (
      await run('git', [
        '--git-dir',
        join(folder, 'env.git'),
        'show',
        `${BRANCH}:${referencePath('staging', 'breast-cancer')}`,
      ])
    ).stdout;
    expect(readModelReference(text, 'reference').spec.package.sha256).toBe(pkg.digest);
    const headAuthor = async () =>
      (
        await run('git', ['--git-dir', join(folder, 'env.git'), 'log', '-1', '--format=%an <%ae>', BRANCH])
      ).stdout.trim();
    // No git identity here (HOME is the test's folder): the bot's, said as such.
    expect(await headAuthor()).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
    );
    // With one, a local deployment commit is the person's; and it replaces the bot's commit on the
    // branch, which is recognized as a deployment by its trailer, not its author.
    await writeFile(
      join(folder, '.gitconfig'),
      '[user]\n\tname = Ada Lovelace\n\temail = ada@example.invalid\n',
    );
    const absolute = await mlops(
      folder,
      {},
      'deploy',
      '--env',
      'staging',
      '--repo',
      join(folder, 'env.git'),
      '--package-ref',
      newer.archive,
    );
    expect(absolute.code).toBe(0);
    expect(absolute.stdout).toMatch(/^updated: /m);
    expect(await headAuthor()).toBe('Ada Lovelace <ada@example.invalid>');
    const url = await mlops(
      folder,
      {},
      'history',
      '--env',
      'staging',
      '--repo',
      `file://${join(folder, 'env.git')}`,
    );
    expect(url.code).toBe(0);
    expect(url.stdout).toMatch(/no deployments/);
  }, 60_000);

  it('gives up on a server that accepts connections and never answers', async () => {
    const silent = await serve(() => {
      // Never answers.
    });
    const limits = { ...TIME_LIMITS };
    TIME_LIMITS.gitLowSpeedMs = 2_000;
    try {
      const started = Date.now();
      const error = await cloneWorkspace(`${silent.origin}/octo-org/environments.git`, {
        base: 'main',
        hostEnv: process.env,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/transfer stalled|git failed/);
      expect(Date.now() - started).toBeLessThan(20_000);
      const download = await fetchWithCredential(`${silent.origin}/package.zip`, {
        timeoutMs: 500,
        what: 'The package archive',
      }).catch((e: unknown) => e);
      expect(download).toBeInstanceOf(InputError);
      expect((download as Error).message).toMatch(/cannot be fetched: no answer within 1 s/);
    } finally {
      Object.assign(TIME_LIMITS, limits);
      for (const socket of silent.sockets) socket.destroy();
    }
  }, 30_000);
});

describe('package references', () => {
  it('refuses a readable package under a wrong digest, naming both digests, and proposes nothing', async () => {
    const cwd = await temporaryDirectory();
    const before = await git.refs(REPO);
    const wrong = 'a'.repeat(64);
    const result = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--package-ref',
      `file://${pkg.archive}#sha256=${wrong}`,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`has sha256 ${pkg.digest}, but its reference names sha256 ${wrong}`);
    expect(await git.refs(REPO)).toEqual(before);
    // The same with a plain path and a digest after it.
    const path = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      'deploy',
      '--env',
      'staging',
      '--repo',
      git.url(REPO),
      '--package-ref',
      `${pkg.archive}#sha256=${wrong}`,
    );
    expect(path.code).toBe(2);
    expect(path.stderr).toContain(`but its reference names sha256 ${wrong}`);
  }, 60_000);

  it('reads only the manifest of a large archive: by range requests, else from the sidecar', async () => {
    // A package of about 2 MB: a data contract of random text (recorded in signature.json).
    const folder = await temporaryDirectory();
    const contract = join(folder, 'contract.json');
    await writeFile(contract, JSON.stringify({ description: randomBytes(1_500_000).toString('base64') }));
    const large = await makeTestPackage({ version: '1.0.0', contract });
    const bytes = await readFile(large.archive);
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const sidecar = await readFile(join(large.directory, 'manifest.json'));
    const ranged = await serve((request, response) => sendArchive(request, response, bytes, true));
    const whole = await serve((request, response) => {
      if (request.url?.endsWith('.manifest.json')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(sidecar);
      } else sendArchive(request, response, bytes, false);
    });
    const bare = await serve((request, response) => {
      if (request.url?.endsWith('.zip')) sendArchive(request, response, bytes, false);
      else response.writeHead(404).end();
    });
    const ref = (origin: string) =>
      parsePackageRef(`${origin}/breast-cancer-1.0.0.zip#sha256=${large.digest}`);
    const small = { fullDownloadBytes: 1_000_000 };

    const byRanges = await openPackage(ref(ranged.origin), small);
    expect(byRanges).toMatchObject({ method: 'range', digestChecked: false, bytes: bytes.length });
    expect(byRanges.manifest).toEqual(large.manifest);
    // The data report is read the same way, on demand.
    expect(await byRanges.readJson('reports/data-validation.json')).toMatchObject({
      kind: 'data-validation',
    });
    await byRanges.close();
    expect(ranged.seen.every((s) => s.range !== undefined)).toBe(true);
    const fetched = ranged.seen.reduce((total, s) => {
      const [, a, b] = /^bytes=(\d*)-(\d*)$/.exec(s.range ?? '') ?? [];
      return total + (a === '' ? Number(b) : Number(b) - Number(a) + 1);
    }, 0);
    // The end of the archive, the manifest and the report: not the rest.
    expect(fetched).toBeLessThan(400_000);

    const bySidecar = await openPackage(ref(whole.origin), small);
    expect(bySidecar).toMatchObject({ method: 'sidecar', digestChecked: false });
    expect(bySidecar.manifest).toEqual(large.manifest);
    expect(whole.seen.map((s) => s.url)).toEqual([
      '/breast-cancer-1.0.0.zip',
      '/breast-cancer-1.0.0.manifest.json',
    ]);
    await bySidecar.close();

    const neither = await openPackage(ref(bare.origin), small).catch((e: unknown) => e);
    expect(neither).toBeInstanceOf(InputError);
    expect((neither as Error).message).toMatch(
      /does not support range requests; the manifest next to it, .* cannot be downloaded either \(HTTP 404\)/,
    );

    // Small enough: downloaded whole, digest checked; a wrong digest is refused there too.
    const full = await openPackage(ref(ranged.origin));
    expect(full).toMatchObject({ method: 'archive', digestChecked: true });
    await full.close();
    await expect(
      openPackage(parsePackageRef(`${ranged.origin}/breast-cancer-1.0.0.zip#sha256=${'b'.repeat(64)}`)),
    ).rejects.toThrow(/but its reference names sha256 b{64}/);

    // A deployment of a large archive says that its digest was not checked here.
    const result = await deploy({
      repository: git.url(REPO),
      base: 'main',
      environment: 'production',
      model: { name: 'breast-cancer', version: '1.0.0' },
      packageRef: `${ranged.origin}/breast-cancer-1.0.0.zip#sha256=${large.digest}`,
      packageAccess: small,
      deployedAt: '2026-12-01T00:00:00Z',
      auth: { token: git.token },
      hostEnv: process.env,
    });
    expect(result.gates).toMatchObject({ verdict: 'passed' });
    expect(result.proposal?.body).toMatch(/read by range requests/);
    expect(result.proposal?.body).toMatch(/was not downloaded here, so its sha256 was not checked/);
  }, 60_000);
});

describe('--api-url', () => {
  it('exits 2 naming the flag for a value that is not a URL, plain http elsewhere, or an API that refuses connections', async () => {
    const cwd = await temporaryDirectory();
    const closed = await serve(() => {});
    const port = new URL(closed.origin).port;
    await new Promise((resolve) => servers.at(-1)?.close(resolve));
    const args = ['deploy', '--env', 'staging', '--repo', git.url(REPO), '--package-ref', pkg.archive];
    const notUrl = await mlops(cwd, { GITHUB_TOKEN: git.token }, ...args, '--api-url', 'api.github.com');
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/--api-url "api\.github\.com" is not a URL/);
    const plain = await mlops(cwd, { GITHUB_TOKEN: git.token }, ...args, '--api-url', 'http://192.0.2.1/api');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/--api-url .* uses plain http to another machine/);
    const refused = await mlops(
      cwd,
      { GITHUB_TOKEN: git.token },
      ...args,
      '--api-url',
      `http://127.0.0.1:${port}`,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /GitHub API at http:\/\/127\.0\.0\.1:\d+ \(--api-url\) cannot be reached .*ECONNREFUSED/,
    );
  }, 60_000);
});

describe('model reference files', () => {
  it('refuse a YAML alias bomb with an InputError naming the file, quickly', () => {
    // Nine levels of nine aliases: 387 million strings once expanded, from ten lines.
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    let previous = 'a';
    for (const name of 'bcdefghi') {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
      previous = name;
    }
    const started = performance.now();
    const error = (() => {
      try {
        readModelReference(`${lines.join('\n')}\nspec: *i\n`, 'environments/staging/models/churn.yaml');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(
      /^environments\/staging\/models\/churn\.yaml expands YAML aliases \(\*name\) more than 20 times/,
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

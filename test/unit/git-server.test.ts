// Self-tests of the loopback git server: real git clients over smart HTTP against git http-backend.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, seedIdentity, startGitServer } from '../harness/git-server.ts';
import { temporaryFolder } from '../helpers/temp.ts';

const seedFiles = {
  'README.md': '# Deployments\n',
  'environments/staging/model.yaml': 'model: fraud-detector\nversion: 1.0.0\n',
  'bin/blob.dat': new Uint8Array([0, 1, 2, 255]),
};

let server: GitServer;
let scratch: string;
let clientEnv: Record<string, string>;

beforeAll(async () => {
  server = await startGitServer({ token: 'ghs_testtoken0123456789abcdefABCDEF' });
  scratch = await temporaryFolder('git-server-test-');
  // A client as clean as the server: no ~/.gitconfig, no credential helper, never a prompt.
  clientEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: scratch,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    GIT_AUTHOR_NAME: 'Deploy Bot',
    GIT_AUTHOR_EMAIL: 'deploy@example.com',
    GIT_COMMITTER_NAME: 'Deploy Bot',
    GIT_COMMITTER_EMAIL: 'deploy@example.com',
  };
});

afterAll(async () => {
  await server?.stop();
});

interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a git client asynchronously: the server answers from this same process. */
function git(args: string[], cwd = scratch): Promise<ClientResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('git', args, { cwd, env: clientEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs git with the server's token as an extra header; fails the test when git fails. */
async function authed(args: string[], cwd = scratch): Promise<ClientResult> {
  const result = await git(['-c', `http.extraHeader=${server.extraHeader}`, ...args], cwd);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

let cloneCount = 0;
async function cloneOf(repository: string, ...extra: string[]): Promise<string> {
  const dir = join(scratch, `clone-${cloneCount++}`);
  await authed(['clone', '--quiet', ...extra, server.url(repository), dir]);
  return dir;
}

async function commitFile(dir: string, path: string, content: string, message: string): Promise<void> {
  await writeFile(join(dir, path), content);
  await authed(['add', path], dir);
  await authed(['commit', '--quiet', '-m', message], dir);
}

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

describe('seeded repositories', () => {
  it('commits the files with a fixed identity, so the SHA is the same on every run', async () => {
    const { head } = await server.createRepository('octo-org/seed-a', seedFiles, { message: 'Seed' });
    const again = await server.createRepository('octo-org/seed-b', seedFiles, { message: 'Seed' });
    expect(again.head).toBe(head);
    // Pinned: a date taken from the clock, or an identity from the environment, would change it.
    expect(head).toBe('7a037a6715c136b2426251870d4932b207b81087');
    const [commit] = await server.log('octo-org/seed-a', 'main');
    expect(commit).toMatchObject({
      sha: head,
      parents: [],
      message: 'Seed',
      author: { name: seedIdentity.name, email: seedIdentity.email, date: '2024-01-01T00:00:00+00:00' },
      committer: { name: seedIdentity.name, date: '2024-01-01T00:00:00+00:00' },
    });
    expect(await server.refs('octo-org/seed-a')).toEqual({ 'refs/heads/main': head });
    expect(await server.readFile('octo-org/seed-a', 'main', 'environments/staging/model.yaml')).toBe(
      seedFiles['environments/staging/model.yaml'],
    );
    expect(await server.readFile('octo-org/seed-a', 'main', 'missing.txt')).toBeUndefined();
    expect(await server.readFile('octo-org/seed-a', 'no-such-branch', 'README.md')).toBeUndefined();
  });

  it('seeds another branch, which becomes HEAD, and refuses a second repository of the same name', async () => {
    const { head } = await server.createRepository(
      'octo-org/other-branch',
      { 'a.txt': 'a' },
      { branch: 'trunk' },
    );
    expect(await server.refs('octo-org/other-branch')).toEqual({ 'refs/heads/trunk': head });
    await expect(server.createRepository('octo-org/other-branch', {})).rejects.toThrow(/already exists/);
    await expect(server.createRepository('../escape', {})).rejects.toThrow(/owner\/name/);
    await expect(server.refs('octo-org/nothing-here')).rejects.toThrow(/no repository/);
  });
});

describe('fetching', () => {
  beforeAll(async () => {
    await server.createRepository('octo-org/deploy', seedFiles);
  });

  it('clones with the token in an extra header, and records the requests without the token', async () => {
    const before = server.requests.length;
    const dir = await cloneOf('octo-org/deploy');
    expect(await readFile(join(dir, 'environments/staging/model.yaml'), 'utf8')).toBe(
      seedFiles['environments/staging/model.yaml'],
    );
    expect(new Uint8Array(await readFile(join(dir, 'bin/blob.dat')))).toEqual(seedFiles['bin/blob.dat']);
    // The URL in .git/config carries no credentials.
    expect(await readFile(join(dir, '.git/config'), 'utf8')).not.toContain(server.token);

    const requests = server.requests.slice(before);
    expect(
      requests.map((request) => [request.method, request.path, request.service, request.status]),
    ).toEqual([
      ['GET', '/octo-org/deploy.git/info/refs', 'git-upload-pack', 200],
      ['POST', '/octo-org/deploy.git/git-upload-pack', 'git-upload-pack', 200],
      ['POST', '/octo-org/deploy.git/git-upload-pack', 'git-upload-pack', 200],
    ]);
    for (const request of requests) {
      expect(request).toMatchObject({
        repository: 'octo-org/deploy',
        authorization: true,
        gitProtocol: 'version=2',
      });
      expect(request.userAgent).toMatch(/^git\/\d/);
    }
  });

  it('answers 401 without a token, and git fails with an authentication error', async () => {
    const before = server.requests.length;
    const result = await git(['ls-remote', server.url('octo-org/deploy')]);
    expect(result.code).not.toBe(0);
    // No prompt and no credential helper: git asks for a user name it cannot get.
    expect(result.stderr).toMatch(/could not read Username|Authentication failed/);
    expect(server.requests.slice(before)).toMatchObject([{ status: 401, authorization: false }]);

    const response = await fetch(`${server.url('octo-org/deploy')}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="git"');
  });

  it('answers 401 to a wrong token, in a header or in the URL', async () => {
    const before = server.requests.length;
    const header = await git([
      '-c',
      `http.extraHeader=Authorization: ${basic('x-access-token', 'ghs_wrong')}`,
      'ls-remote',
      server.url('octo-org/deploy'),
    ]);
    expect(header.code).not.toBe(0);
    expect(server.requests.slice(before)).toMatchObject([{ status: 401, authorization: true }]);

    const inUrl = server.url('octo-org/deploy').replace('http://', 'http://x-access-token:ghs_wrong@');
    const url = await git(['ls-remote', inUrl]);
    expect(url.code).not.toBe(0);
    expect(url.stderr).toContain('Authentication failed');
    // The right token the same way works: credentials from the URL are sent after the 401 challenge.
    const right = await git(['ls-remote', inUrl.replace('ghs_wrong', server.token)]);
    expect(right.stderr).toBe('');
    expect(right.stdout).toMatch(/^[0-9a-f]{40}\tHEAD\n/);
  });

  it('accepts any user name, a lower-case scheme (actions/checkout sends "basic") and a Bearer token', async () => {
    for (const authorization of [
      basic('someone-else', server.token).replace('Basic', 'basic'),
      `Bearer ${server.token}`,
    ]) {
      const result = await git([
        '-c',
        `http.extraHeader=AUTHORIZATION: ${authorization}`,
        'ls-remote',
        server.url('octo-org/deploy'),
        'refs/heads/main',
      ]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main\n$/);
    }
    expect(
      (await fetch(server.url('octo-org/deploy'), { headers: { Authorization: 'Bearer nope' } })).status,
    ).toBe(401);
  });

  it('says 404 for a repository that does not exist', async () => {
    const result = await git([
      '-c',
      `http.extraHeader=${server.extraHeader}`,
      'ls-remote',
      server.url('octo-org/none'),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not found/);
    expect(server.requests.at(-1)).toMatchObject({ repository: 'octo-org/none', status: 404 });
  });

  it('serves a shallow clone', async () => {
    await server.createRepository('octo-org/history', { 'v.txt': '1\n' });
    const writer = await cloneOf('octo-org/history');
    await commitFile(writer, 'v.txt', '2\n', 'Second');
    await commitFile(writer, 'v.txt', '3\n', 'Third');
    await authed(['push', '--quiet', 'origin', 'main'], writer);

    const shallow = await cloneOf('octo-org/history', '--depth', '1');
    expect(existsSync(join(shallow, '.git/shallow'))).toBe(true);
    expect((await authed(['rev-list', '--count', 'HEAD'], shallow)).stdout.trim()).toBe('1');
    expect(await readFile(join(shallow, 'v.txt'), 'utf8')).toBe('3\n');
    expect((await server.log('octo-org/history', 'main')).map((commit) => commit.message)).toEqual([
      'Third',
      'Second',
      'Initial commit',
    ]);
  });

  it('lets http-backend decode a gzip request body (protocol v2 ls-refs)', async () => {
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    const body = gzipSync(
      `${pkt('command=ls-refs\n')}${pkt('object-format=sha1\n')}0001${pkt('symrefs\n')}0000`,
    );
    const response = await fetch(`${server.url('octo-org/deploy')}/git-upload-pack`, {
      method: 'POST',
      headers: {
        Authorization: server.extraHeader.slice('Authorization: '.length),
        'Content-Type': 'application/x-git-upload-pack-request',
        'Content-Encoding': 'gzip',
        'Git-Protocol': 'version=2',
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    const text = await response.text();
    const { 'refs/heads/main': main } = await server.refs('octo-org/deploy');
    expect(text).toContain(`${main} refs/heads/main`);
    expect(text).toContain('HEAD symref-target:refs/heads/main');
    expect(server.requests.at(-1)).toMatchObject({ contentEncoding: 'gzip', status: 200 });
  });

  it('serves 10 clones at once', async () => {
    await server.createRepository('octo-org/busy', seedFiles);
    const dirs = await Promise.all(Array.from({ length: 10 }, () => cloneOf('octo-org/busy')));
    for (const dir of dirs)
      expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe(seedFiles['README.md']);
  });
});

describe('pushing', () => {
  it('accepts a push, visible through refs, readFile and log', async () => {
    const { head } = await server.createRepository('octo-org/push', seedFiles);
    const dir = await cloneOf('octo-org/push');
    await commitFile(dir, 'README.md', '# Deployments\n\nstaging: 1.1.0\n', 'Deploy 1.1.0 to staging');
    await authed(['checkout', '--quiet', '-b', 'deploy/staging'], dir);
    await authed(['push', '--quiet', 'origin', 'main', 'deploy/staging'], dir);

    const local = (await authed(['rev-parse', 'HEAD'], dir)).stdout.trim();
    expect(await server.refs('octo-org/push')).toEqual({
      'refs/heads/main': local,
      'refs/heads/deploy/staging': local,
    });
    expect(await server.readFile('octo-org/push', 'deploy/staging', 'README.md')).toContain('staging: 1.1.0');
    const [latest, first] = await server.log('octo-org/push', 'main', 5);
    expect(latest).toMatchObject({
      sha: local,
      parents: [head],
      message: 'Deploy 1.1.0 to staging',
      author: { name: 'Deploy Bot', email: 'deploy@example.com' },
    });
    expect(first.sha).toBe(head);
    expect(server.requests.filter((request) => request.service === 'git-receive-pack').at(-1)).toMatchObject({
      method: 'POST',
      path: '/octo-org/push.git/git-receive-pack',
      status: 200,
    });
  });

  it('rejects a stale push', async () => {
    await server.createRepository('octo-org/stale', seedFiles);
    const first = await cloneOf('octo-org/stale');
    const second = await cloneOf('octo-org/stale');
    await commitFile(first, 'a.txt', 'first\n', 'First');
    await commitFile(second, 'b.txt', 'second\n', 'Second');
    await authed(['push', '--quiet', 'origin', 'main'], first);

    const result = await git(
      ['-c', `http.extraHeader=${server.extraHeader}`, 'push', '--porcelain', 'origin', 'main'],
      second,
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/\((fetch first|non-fast-forward)\)/);
    expect(await server.readFile('octo-org/stale', 'main', 'a.txt')).toBe('first\n');
    expect(await server.readFile('octo-org/stale', 'main', 'b.txt')).toBeUndefined();
  });

  it('lets exactly one of 10 racing pushes to the same branch win, and takes pushes to other branches', async () => {
    await server.createRepository('octo-org/race', { 'n.txt': '0\n' });
    const clones = await Promise.all(Array.from({ length: 10 }, () => cloneOf('octo-org/race')));
    await Promise.all(
      clones.map((dir, index) => commitFile(dir, 'n.txt', `writer ${index}\n`, `Writer ${index}`)),
    );
    const results = await Promise.all(
      clones.map((dir, index) =>
        git(
          [
            '-c',
            `http.extraHeader=${server.extraHeader}`,
            'push',
            '--porcelain',
            'origin',
            'main',
            `main:refs/heads/writer-${index}`,
          ],
          dir,
        ),
      ),
    );
    // Per clone: its own branch always lands; main only for the winner of git's ref lock.
    // Porcelain lines are `<flag>\t<from>:<to>\t<summary>`; flag ' ' is a fast-forward, '!' a rejection.
    const winners = results.filter((result) =>
      /^ \trefs\/heads\/main:refs\/heads\/main\t/m.test(result.stdout),
    );
    expect(winners).toHaveLength(1);
    for (const result of results) {
      if (result === winners[0]) continue;
      expect(result.stdout).toMatch(/^!\trefs\/heads\/main:refs\/heads\/main\t/m);
      expect(result.stdout + result.stderr).toMatch(
        /fetch first|non-fast-forward|failed to update ref|cannot lock ref/,
      );
    }
    const refs = await server.refs('octo-org/race');
    for (let index = 0; index < 10; index++) {
      const local = (await authed(['rev-parse', 'HEAD'], clones[index])).stdout.trim();
      expect(refs[`refs/heads/writer-${index}`]).toBe(local);
    }
    const winner = clones[results.indexOf(winners[0])];
    expect(refs['refs/heads/main']).toBe((await authed(['rev-parse', 'HEAD'], winner)).stdout.trim());
  });

  it('refuses pushes to a protected branch with the hook message, and takes other branches', async () => {
    const { head } = await server.createRepository('octo-org/protected', seedFiles);
    await server.protect('octo-org/protected', 'main');
    await server.protect('octo-org/protected', 'release/v1');
    const dir = await cloneOf('octo-org/protected');
    await commitFile(dir, 'c.txt', 'change\n', 'Change');

    const result = await git(
      ['-c', `http.extraHeader=${server.extraHeader}`, 'push', 'origin', 'main', 'main:release/v1'],
      dir,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'remote: error: GH006: Protected branch update failed for refs/heads/main.',
    );
    expect(result.stderr).toContain('protected branch hook declined');
    expect(result.stderr).toMatch(/! \[remote rejected\] main -> main \(hook declined\)/);
    expect(result.stderr).toMatch(/! \[remote rejected\] main -> release\/v1 \(hook declined\)/);
    expect((await server.refs('octo-org/protected'))['refs/heads/main']).toBe(head);

    await authed(['push', '--quiet', 'origin', 'main:deploy/staging'], dir);
    expect(await server.readFile('octo-org/protected', 'deploy/staging', 'c.txt')).toBe('change\n');
  });
});

describe('the request log', () => {
  it('never holds the token, raw or encoded', () => {
    expect(server.requests.length).toBeGreaterThan(20);
    const log = JSON.stringify(server.requests);
    expect(log).not.toContain(server.token);
    expect(log).not.toContain(Buffer.from(`x-access-token:${server.token}`).toString('base64'));
    expect(log).not.toContain(server.extraHeader);
  });
});

/** PIDs of live processes whose environment names `root` as GIT_PROJECT_ROOT (Linux /proc). */
function processesServing(root: string): number[] {
  const needle = `GIT_PROJECT_ROOT=${root}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited meanwhile, or another user's process.
    }
  }
  return pids;
}

describe('stop()', () => {
  it('kills requests still in flight, with the processes they started, and removes the repositories', async () => {
    const own = await startGitServer();
    try {
      await own.createRepository('octo-org/stop', seedFiles);
      // 1. A push whose body never comes: receive-pack sits waiting for its commands.
      const pending = httpRequest(`${own.url('octo-org/stop')}/git-receive-pack`, {
        method: 'POST',
        headers: {
          Authorization: own.extraHeader.slice('Authorization: '.length),
          'Content-Type': 'application/x-git-receive-pack-request',
        },
      });
      pending.on('error', () => {});
      pending.on('response', (response) => response.on('error', () => {}).resume());
      // Headers only: even a body of "0000" would be a complete (empty) list of commands.
      pending.flushHeaders();

      // 2. A real push stuck in a slow hook: a grandchild of http-backend, which killing http-backend
      // alone would leave behind.
      const hook = join(own.root, 'octo-org/stop.git/hooks/update');
      await writeFile(hook, '#!/bin/sh\nsleep 30\n', { mode: 0o755 });
      const dir = join(scratch, 'stop-clone');
      await git([
        '-c',
        `http.extraHeader=${own.extraHeader}`,
        'clone',
        '--quiet',
        own.url('octo-org/stop'),
        dir,
      ]);
      await commitFile(dir, 'x.txt', 'x\n', 'Stuck');
      const push = git(['-c', `http.extraHeader=${own.extraHeader}`, 'push', 'origin', 'main'], dir);

      const isSleep = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep');
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 5000;
      while (!processesServing(own.root).some(isSleep) && Date.now() < deadline) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 20));
      }
      // http-backend + receive-pack for each push, and the hook's sleep.
      expect(processesServing(own.root).length).toBeGreaterThanOrEqual(5);

      const started = Date.now();
      await own.stop();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(processesServing(own.root)).toEqual([]);
      expect(existsSync(own.root)).toBe(false);
      expect((await push).code).not.toBe(0);
    } finally {
      await own.stop().catch(() => {});
    }
  });
});

/**
 * scripts/release/make-release-commit.js against real repositories on disk: a bare "origin" (what
 * GitHub holds), a developer clone that tags main, and the clone a release workflow checks out at the
 * tag. Asserts on origin's refs and objects: the tags moved to a commit whose parent is the tagged
 * source commit and whose tree is that source plus dist/ (ignored files included); main and the
 * working tree untouched; a re-run, or the workflow started again by the moved tag, changes nothing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const script = join(repoRoot, 'scripts/release/make-release-commit.js');

let root: string;
let origin: string;
let dev: string;
/** The bytes of a fake native library, to check that binary files land in the release unchanged. */
const nativeBytes = randomBytes(64 * 1024);
// A clean git: no system or user configuration, a fixed identity and clock for the test's own commits.
let gitEnv: Record<string, string>;
let clock = 1_700_000_000;

function git(cwd: string, ...args: string[]): string {
  clock += 60;
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...gitEnv, GIT_AUTHOR_DATE: `${clock} +0000`, GIT_COMMITTER_DATE: `${clock} +0000` },
  }).trim();
}

function write(dir: string, file: string, content: string | Buffer): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
}

/** Commits a change to the developer clone's main, tags it and pushes both; returns the commit. */
function commitAndTag(tag: string, { annotated = false, message = `source for ${tag}` } = {}): string {
  write(dev, 'src/version.ts', `export const version = '${tag}';\n`);
  git(dev, 'add', '-A');
  git(dev, 'commit', '-q', '-m', message);
  if (annotated) git(dev, 'tag', '-a', tag, '-m', `Version ${tag}\n\nWhat changed.`);
  else git(dev, 'tag', tag);
  git(dev, 'push', '-q', 'origin', 'main', `refs/tags/${tag}`);
  return git(dev, 'rev-parse', 'HEAD');
}

/** A fresh clone checked out at `tag`, with a built dist/, as the release workflow has it. */
function workflowCheckout(tag: string, platforms = ['linux/arm64', 'linux/x64'], commit?: string): string {
  const dir = mkdtempSync(join(root, 'ci-'));
  git(root, 'clone', '-q', origin, dir);
  if (commit !== undefined) git(dir, 'tag', '-f', tag, commit);
  git(dir, 'checkout', '-q', '--detach', `refs/tags/${tag}`);
  write(dir, 'dist/validate-model/index.js', `console.log(${JSON.stringify(tag)});\n`);
  write(
    dir,
    'dist/node_modules/onnxruntime-node/package.json',
    '{"name":"onnxruntime-node","version":"1.30.0"}\n',
  );
  write(dir, 'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', nativeBytes);
  write(
    dir,
    'dist/build-info.json',
    JSON.stringify({ platforms, runtime: { 'onnxruntime-node': '1.30.0' } }),
  );
  return dir;
}

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  result?: { status: string; commit?: string; source: string; movedMajor?: boolean; pushed?: boolean };
}

async function release(cwd: string, ...args: string[]): Promise<ScriptRun> {
  const outputFile = join(cwd, '..', `output-${randomBytes(4).toString('hex')}`);
  writeFileSync(outputFile, '');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, '--json', ...args], {
      cwd,
      env: { ...gitEnv, GITHUB_OUTPUT: outputFile },
    });
    return { code: 0, stdout, stderr, result: JSON.parse(stdout) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  } finally {
    lastOutput = readFileSync(outputFile, 'utf8');
  }
}
let lastOutput = '';

/** Every ref of origin with the object it points at. */
function originRefs(): string {
  return git(origin, 'for-each-ref', '--format=%(refname) %(objectname)');
}

const commitOf = (ref: string) => git(origin, 'rev-parse', `${ref}^{commit}`);

beforeAll(() => {
  root = temporaryFolderSync('release-commit-');
  const home = join(root, 'home');
  mkdirSync(home);
  gitEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.invalid',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@example.invalid',
  };
  origin = join(root, 'origin.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  dev = join(root, 'dev');
  git(root, 'clone', '-q', origin, dev);
  git(dev, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  // As on main here: dist/ and node_modules/ are ignored, so the release must force-add them.
  write(dev, '.gitignore', 'node_modules/\ndist/\n');
  write(
    dev,
    'actions/validate-model/action.yml',
    'runs:\n  using: node24\n  main: ../../dist/validate-model/index.js\n',
  );
  commitAndTag('v1.0.0', { annotated: true });
});

describe('make-release-commit', () => {
  let source: string;
  let releaseCommit: string;
  let checkout: string;

  it('--check says a fresh tag on main needs a release, and writes release=true', async () => {
    source = commitAndTag('v1.1.0');
    checkout = workflowCheckout('v1.1.0');
    const before = originRefs();
    const run = await release(checkout, '--tag', 'v1.1.0', '--check');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ status: 'needed', source });
    expect(lastOutput).toBe('release=true\n');
    expect(originRefs()).toBe(before);
  });

  it('moves vX.Y.Z and vX to a commit of the source plus dist/, leaving main and the checkout alone', async () => {
    const mainBefore = commitOf('refs/heads/main');
    const run = await release(checkout, '--tag', 'v1.1.0', '--require-platforms', 'linux/x64', '--push');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ status: 'released', source, movedMajor: true, pushed: true });
    releaseCommit = run.result?.commit as string;

    // Both tags on origin point at the release commit, whose only parent is the tagged source commit.
    expect(commitOf('refs/tags/v1.1.0')).toBe(releaseCommit);
    expect(commitOf('refs/tags/v1')).toBe(releaseCommit);
    expect(git(origin, 'rev-list', '--parents', '-n1', releaseCommit).split(' ')).toEqual([
      releaseCommit,
      source,
    ]);
    // A lightweight tag stays lightweight.
    expect(git(origin, 'cat-file', '-t', 'refs/tags/v1.1.0')).toBe('commit');
    expect(git(origin, 'show', '-s', '--format=%an <%ae>%n%B', releaseCommit)).toMatch(
      new RegExp(`^github-actions\\[bot\\] <.*>\\nRelease v1\\.1\\.0\\n[\\s\\S]*\\nRelease-of: ${source}$`),
    );

    // The tree: the source unchanged plus dist/, including what .gitignore hides (node_modules/).
    const changed = git(origin, 'diff', '--name-only', source, releaseCommit).split('\n');
    expect(changed.sort()).toEqual([
      'dist/build-info.json',
      'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'dist/node_modules/onnxruntime-node/package.json',
      'dist/validate-model/index.js',
    ]);
    const blob = execFileSync(
      'git',
      [
        'cat-file',
        'blob',
        `${releaseCommit}:dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1`,
      ],
      { cwd: origin, env: gitEnv },
    );
    expect(blob.equals(nativeBytes)).toBe(true);

    // main did not move; the checkout's HEAD, index and files are as they were.
    expect(commitOf('refs/heads/main')).toBe(mainBefore);
    expect(git(checkout, 'rev-parse', 'HEAD')).toBe(source);
    expect(git(checkout, 'status', '--porcelain')).toBe('');
    expect(git(checkout, 'diff', '--cached', '--name-only')).toBe('');
  });

  it('is a no-op when run again, and when the moved tag starts the workflow again', async () => {
    const before = originRefs();
    const again = await release(checkout, '--tag', 'v1.1.0', '--require-platforms', 'linux/x64', '--push');
    expect(again.code, again.stderr).toBe(0);
    expect(again.result).toMatchObject({ status: 'already-released', source, commit: releaseCommit });
    expect(originRefs()).toBe(before);

    // The workflow run for the moved tag checks out the release commit itself.
    const retriggered = join(root, 'retriggered');
    git(root, 'clone', '-q', origin, retriggered);
    git(retriggered, 'checkout', '-q', '--detach', 'refs/tags/v1.1.0');
    const check = await release(retriggered, '--tag', 'v1.1.0', '--check');
    expect(check.result).toMatchObject({ status: 'already-released', source });
    expect(lastOutput).toBe('release=false\n');
    expect(originRefs()).toBe(before);
  });

  it('gives the same release commit for the same source and dist/', async () => {
    // A re-run whose first push failed: the local tag is put back, and the result must not differ.
    const rebuilt = workflowCheckout('v1.1.0', undefined, source);
    const run = await release(rebuilt, '--tag', 'v1.1.0', '--remote', 'nowhere', '--main', 'main');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ status: 'released', commit: releaseCommit, pushed: false });
  });

  it('keeps an annotated tag annotated, and leaves vX alone for an older version', async () => {
    const v100 = commitOf('refs/tags/v1.0.0');
    const checkoutOld = workflowCheckout('v1.0.0');
    const run = await release(checkoutOld, '--tag', 'v1.0.0', '--push');
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({ status: 'released', source: v100, movedMajor: false });
    expect(run.stderr).toMatch(/v1 stays on the release of v1\.1\.0, which is newer than v1\.0\.0/);
    expect(git(origin, 'cat-file', '-t', 'refs/tags/v1.0.0')).toBe('tag');
    expect(git(origin, 'tag', '-l', '--format=%(contents)', 'v1.0.0')).toBe(
      'Version v1.0.0\n\nWhat changed.',
    );
    expect(commitOf('refs/tags/v1.0.0')).toBe(run.result?.commit);
    expect(commitOf('refs/tags/v1')).toBe(releaseCommit);
  });

  it('refuses a tag that is not on main, and pushes nothing', async () => {
    git(dev, 'checkout', '-q', '-b', 'experiment');
    write(dev, 'src/experiment.ts', 'export {};\n');
    git(dev, 'add', '-A');
    git(dev, 'commit', '-q', '-m', 'experiment');
    git(dev, 'tag', 'v1.5.0');
    git(dev, 'push', '-q', 'origin', 'refs/tags/v1.5.0');
    git(dev, 'checkout', '-q', 'main');
    const before = originRefs();
    const run = await release(workflowCheckout('v1.5.0'), '--tag', 'v1.5.0', '--push');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /v1\.5\.0 points at [0-9a-f]{40}, which is not on origin\/main: release only tags made on main/,
    );
    expect(originRefs()).toBe(before);
  });

  it('refuses a dist/ without the required platforms, a bad tag name, and a checkout of another commit', async () => {
    commitAndTag('v1.2.0');
    const x64Only = workflowCheckout('v1.2.0', ['linux/x64']);
    const before = originRefs();
    const platforms = await release(
      x64Only,
      '--tag',
      'v1.2.0',
      '--require-platforms',
      'linux/x64,linux/arm64',
    );
    expect(platforms.code).toBe(2);
    expect(platforms.stderr).toMatch(/dist\/ has ONNX Runtime for linux\/x64, not for linux\/arm64/);
    const badName = await release(x64Only, '--tag', 'v1.2');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/'v1\.2' is not a version tag vX\.Y\.Z/);
    git(x64Only, 'checkout', '-q', '--detach', 'HEAD~1');
    const elsewhere = await release(x64Only, '--tag', 'v1.2.0');
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/the working tree is at [0-9a-f]{40} but v1\.2\.0 points at/);
    expect(originRefs()).toBe(before);
  });

  it('moves neither tag when vX changed on origin after the checkout', async () => {
    const source130 = commitAndTag('v1.3.0');
    const ci = workflowCheckout('v1.3.0');
    // Someone moves v1 meanwhile (say, a manual release of a hotfix).
    git(dev, 'push', '-q', '--force', 'origin', `${source130}:refs/tags/v1`);
    const run = await release(ci, '--tag', 'v1.3.0', '--push');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/origin refused to move v1\.3\.0 and v1 \(neither moved\)/);
    expect(commitOf('refs/tags/v1.3.0')).toBe(source130);
    expect(commitOf('refs/tags/v1')).toBe(source130);

    // Re-run from a fresh checkout: both move. (v1.5.0, a tag off main, does not hold v1 back.)
    const retry = await release(workflowCheckout('v1.3.0'), '--tag', 'v1.3.0', '--push');
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.result).toMatchObject({ status: 'released', source: source130, movedMajor: true });
    expect(commitOf('refs/tags/v1')).toBe(retry.result?.commit);
    expect(commitOf('refs/tags/v1.3.0')).toBe(retry.result?.commit);
  });
});

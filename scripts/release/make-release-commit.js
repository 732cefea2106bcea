#!/usr/bin/env node
// Turns a version tag made on main into a release: a commit that adds the built dist/ (git-ignored on
// main) on top of the tagged source commit, with the tag vX.Y.Z moved to it and the major tag vX too.
// Users' `uses: owner/repo/actions/<name>@v1` then finds dist/<name>/index.js and ONNX Runtime under
// dist/node_modules/ in the tree they download.
//
//   node scripts/release/make-release-commit.js --tag v1.2.3 --check    # is a release needed? (fetches the tag, writes nothing)
//   node scripts/build.js --platforms linux/x64,linux/arm64
//   node scripts/release/make-release-commit.js --tag v1.2.3 --require-platforms linux/x64,linux/arm64 --push
//
// Options: --remote NAME (default origin; the tag is read from it first when it exists), --main REF
// (default <remote>/main, '' to skip: the tagged commit must be on it), --json (one JSON object on
// stdout). In a workflow, `--check` also writes `release=true|false` to $GITHUB_OUTPUT, and a release
// is noted in the job summary.
//
// Re-running is a no-op: when the tag already points at a release commit (its tree holds dist/, or its
// message carries the Release-of trailer), nothing is written. That also stops a loop when the moved
// tag's push starts the release workflow again (it does with a PAT or App token, not with GITHUB_TOKEN).
// Exit codes: 0 done or nothing to do, 2 a mistake the message explains, 3 an unexpected failure.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The trailer that marks a release commit and names the source commit it was built from. */
export const RELEASE_TRAILER = 'Release-of';

/** Who makes the release commit and tags: GitHub's Actions bot, as GitHub shows it. */
export const RELEASE_IDENTITY = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
};

const versionTag = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** A mistake the caller can fix (wrong tag, tag not on main, dist/ missing): exit 2, no stack. */
export class ReleaseError extends Error {
  name = 'ReleaseError';
}

/**
 * Makes (or, with `check`, only decides on) the release commit for `tag` in the repository at `cwd`.
 *
 * @param {object} options
 * @param {string} options.cwd repository root; dist/ is read from here
 * @param {string} options.tag vX.Y.Z
 * @param {string} [options.remote] remote to read the tag from and push to; default origin
 * @param {string} [options.main] ref the tagged commit must be reachable from; default <remote>/main,
 *   '' to skip the check
 * @param {boolean} [options.check] only report whether a release is needed
 * @param {boolean} [options.push] push the moved tags (atomically, with leases on their old values)
 * @param {string[]} [options.requirePlatforms] os/arch pairs dist/build-info.json must list
 * @param {(line: string) => void} [options.log]
 * @returns {{ status: 'needed' | 'released' | 'already-released', tag: string, source: string,
 *   commit?: string, majorTag?: string, movedMajor?: boolean, pushed?: boolean }}
 */
export function makeReleaseCommit(options) {
  const { cwd, tag, check = false, push = false, requirePlatforms = [], log = () => {} } = options;
  const remote = options.remote ?? 'origin';
  const version = versionTag.exec(tag ?? '');
  if (!version) throw new ReleaseError(`--tag '${tag ?? ''}' is not a version tag vX.Y.Z (e.g. v1.2.3).`);
  const git = gitIn(cwd);
  const hasRemote = git(['remote']).split('\n').includes(remote);
  if (push && !hasRemote)
    throw new ReleaseError(`--push: there is no remote '${remote}' (see git remote -v).`);
  if (hasRemote) {
    // The remote's tag is the truth: a re-run of an old workflow run must see that it was moved.
    git(['fetch', '--quiet', '--force', '--no-tags', remote, `+refs/tags/${tag}:refs/tags/${tag}`], {
      allowFailure: true,
    });
  }
  const tagObject = git(['rev-parse', '--verify', '--quiet', `refs/tags/${tag}`], { allowFailure: true });
  if (!tagObject)
    throw new ReleaseError(`tag ${tag} does not exist${hasRemote ? ` here or on ${remote}` : ''}.`);
  const tagged = git(['rev-parse', `refs/tags/${tag}^{commit}`]);

  const releasedFrom = releaseSourceOf(git, tagged);
  if (releasedFrom !== undefined) {
    log(`${tag} already points at release commit ${tagged} (built from ${releasedFrom}): nothing to do.`);
    return { status: 'already-released', tag, source: releasedFrom, commit: tagged };
  }

  const main = options.main ?? `${remote}/main`;
  if (main !== '') {
    if (!git(['rev-parse', '--verify', '--quiet', `${main}^{commit}`], { allowFailure: true })) {
      throw new ReleaseError(
        `${main} does not exist: fetch it (actions/checkout with fetch-depth: 0) or pass --main.`,
      );
    }
    if (!isAncestor(git, tagged, main)) {
      throw new ReleaseError(
        `${tag} points at ${tagged}, which is not on ${main}: release only tags made on main ` +
          `(delete the tag with git push ${remote} :refs/tags/${tag}, then tag a commit of main).`,
      );
    }
  }
  const head = git(['rev-parse', 'HEAD']);
  if (head !== tagged) {
    throw new ReleaseError(
      `the working tree is at ${head} but ${tag} points at ${tagged}: check out the tag before building, ` +
        'so that dist/ is built from the tagged sources.',
    );
  }
  if (check) {
    log(`${tag} (${tagged}) needs a release commit.`);
    return { status: 'needed', tag, source: tagged };
  }

  const buildInfo = readBuildInfo(cwd, requirePlatforms);
  const tree = writeTreeWithDist(git, tagged);
  const message =
    `Release ${tag}\n\n` +
    `dist/ built from ${tagged}, with onnxruntime-node ${buildInfo.runtime?.['onnxruntime-node'] ?? '?'} ` +
    `for ${buildInfo.platforms.join(', ')}.\n\n` +
    `${RELEASE_TRAILER}: ${tagged}\n`;
  // The source commit's own dates: the same tag and the same dist/ give the same release commit id.
  const date = git(['show', '-s', '--format=%cI', tagged]);
  const identity = identityEnv(date);
  const commit = git(['commit-tree', tree, '-p', tagged, '-F', '-'], { input: message, env: identity });

  // Keep an annotated tag annotated, with its message (a signature cannot be kept: it signed the old object).
  const annotated = git(['cat-file', '-t', tagObject]) === 'tag';
  const tagMessage = annotated
    ? git(['tag', '-l', '--format=%(contents)', tag]).replace(/-----BEGIN [A-Z ]*SIGNATURE-----[\s\S]*$/, '')
    : '';
  git(
    annotated ? ['tag', '-f', '-a', tag, '-F', '-', commit] : ['tag', '-f', tag, commit],
    annotated ? { input: tagMessage || `Release ${tag}\n`, env: identity } : {},
  );

  const majorTag = `v${version[1]}`;
  const majorBefore = git(['rev-parse', '--verify', '--quiet', `refs/tags/${majorTag}`], {
    allowFailure: true,
  });
  // vX never goes back: a fix released for an older minor version leaves it on the newer release.
  const majorRelease =
    majorBefore === undefined ? undefined : releasedVersionOf(git, `refs/tags/${majorTag}`);
  const movedMajor = majorRelease === undefined || compareVersions(tag, majorRelease) >= 0;
  if (movedMajor) git(['tag', '-f', majorTag, commit]);
  else log(`${majorTag} stays on the release of ${majorRelease}, which is newer than ${tag}.`);

  let pushed = false;
  if (push) {
    // Atomic: both tags move or neither. Each lease forces its tag only while the remote still has the
    // value read here, so a tag someone moved meanwhile is not overwritten.
    const refspecs = [`refs/tags/${tag}:refs/tags/${tag}`];
    const leases = [`--force-with-lease=refs/tags/${tag}:${tagObject}`];
    if (movedMajor) {
      refspecs.push(`refs/tags/${majorTag}:refs/tags/${majorTag}`);
      leases.push(`--force-with-lease=refs/tags/${majorTag}:${majorBefore ?? ''}`);
    }
    try {
      git(['push', '--atomic', ...leases, remote, ...refspecs]);
    } catch (error) {
      throw new ReleaseError(
        `${remote} refused to move ${refspecs.length === 2 ? `${tag} and ${majorTag}` : tag} (neither moved): ` +
          `${error.message}\nA tag changed on ${remote} since it was fetched, or tags are protected ` +
          'against this token; re-run the workflow once that is sorted out.',
      );
    }
    pushed = true;
  }
  log(
    `${tag}${movedMajor ? ` and ${majorTag}` : ''} → release commit ${commit} (parent ${tagged})` +
      (push ? `, pushed to ${remote}.` : ', not pushed (no --push).'),
  );
  return { status: 'released', tag, source: tagged, commit, majorTag, movedMajor, pushed };
}

/** The source commit a release commit was built from, or undefined when `commit` is not one. */
function releaseSourceOf(git, commit) {
  const message = git(['show', '-s', '--format=%B', commit]);
  const trailer = new RegExp(`^${RELEASE_TRAILER}: ([0-9a-f]{40,64})$`, 'm').exec(message);
  if (trailer) return trailer[1];
  // A release made some other way: main never commits dist/, so a tree with dist/ is a release.
  if (git(['ls-tree', '--name-only', commit, '--', 'dist']) !== '') return git(['rev-parse', `${commit}^`]);
  return undefined;
}

function isAncestor(git, commit, ref) {
  return git(['merge-base', '--is-ancestor', commit, ref], { allowFailure: true, status: true }) === 0;
}

/** The version a release commit was made for (from its "Release vX.Y.Z" subject), if `ref` is one. */
function releasedVersionOf(git, ref) {
  const commit = git(['rev-parse', `${ref}^{commit}`]);
  if (releaseSourceOf(git, commit) === undefined) return undefined;
  const subject = git(['show', '-s', '--format=%s', commit]);
  const match = /^Release (v\d+\.\d+\.\d+)$/.exec(subject);
  return match && versionTag.test(match[1]) ? match[1] : undefined;
}

function compareVersions(a, b) {
  const [x, y] = [versionTag.exec(a), versionTag.exec(b)];
  for (const i of [1, 2, 3]) {
    const diff = Number(x[i]) - Number(y[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}

function readBuildInfo(cwd, requirePlatforms) {
  const path = join(cwd, 'dist/build-info.json');
  if (!existsSync(path)) {
    throw new ReleaseError('dist/build-info.json is missing: run node scripts/build.js --platforms … first.');
  }
  const info = JSON.parse(readFileSync(path, 'utf8'));
  const missing = requirePlatforms.filter((p) => !info.platforms?.includes(p));
  if (missing.length > 0) {
    throw new ReleaseError(
      `dist/ has ONNX Runtime for ${info.platforms?.join(', ') || 'no platform'}, not for ${missing.join(', ')}: ` +
        `build with node scripts/build.js --platforms ${requirePlatforms.join(',')}.`,
    );
  }
  return info;
}

/**
 * The tagged commit's tree plus dist/, written through a temporary index: the repository's own index
 * and working tree stay as they are. `add -f` because dist/ (and node_modules/ inside it) are ignored.
 */
function writeTreeWithDist(git, commit) {
  const dir = mkdtempSync(join(tmpdir(), 'release-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    git(['read-tree', commit], { env });
    git(['add', '-f', '--', 'dist'], { env });
    const tree = git(['write-tree'], { env });
    if (git(['ls-tree', '--name-only', tree, '--', 'dist/']) === '') {
      throw new ReleaseError('dist/ is empty: run node scripts/build.js first.');
    }
    return tree;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function identityEnv(date) {
  return {
    GIT_AUTHOR_NAME: RELEASE_IDENTITY.name,
    GIT_AUTHOR_EMAIL: RELEASE_IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: RELEASE_IDENTITY.name,
    GIT_COMMITTER_EMAIL: RELEASE_IDENTITY.email,
    GIT_COMMITTER_DATE: date,
  };
}

/** A git runner for one repository: returns trimmed stdout, or the exit status with `status: true`. */
function gitIn(cwd) {
  return (args, { input, env, allowFailure = false, status = false } = {}) => {
    try {
      const out = execFileSync('git', args, {
        cwd,
        input,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
      return status ? 0 : out.trim();
    } catch (error) {
      if (status) return error.status ?? 1;
      if (allowFailure) return undefined;
      throw new Error(`git ${args.join(' ')} failed (exit ${error.status}): ${String(error.stderr).trim()}`);
    }
  };
}

function main() {
  let values;
  try {
    values = parseArgs({
      options: {
        tag: { type: 'string' },
        remote: { type: 'string' },
        main: { type: 'string' },
        check: { type: 'boolean', default: false },
        push: { type: 'boolean', default: false },
        'require-platforms': { type: 'string' },
        json: { type: 'boolean', default: false },
        cwd: { type: 'string' },
      },
    }).values;
  } catch (error) {
    console.error(`make-release-commit: ${error.message}`);
    process.exit(2);
  }
  try {
    const result = makeReleaseCommit({
      cwd: resolve(values.cwd ?? process.cwd()),
      tag: values.tag,
      remote: values.remote,
      main: values.main,
      check: values.check,
      push: values.push,
      requirePlatforms: (values['require-platforms'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
      log: (line) => console.error(line),
    });
    if (values.check && process.env.GITHUB_OUTPUT) {
      appendFileSync(process.env.GITHUB_OUTPUT, `release=${result.status === 'needed'}\n`);
    }
    if (result.status === 'released' && process.env.GITHUB_STEP_SUMMARY) {
      const major = result.movedMajor ? ` and ${result.majorTag}` : '';
      appendFileSync(
        process.env.GITHUB_STEP_SUMMARY,
        `${result.tag}${major} → release commit ${result.commit} (dist/ on top of ${result.source})` +
          `${result.pushed ? '' : ', not pushed'}.\n`,
      );
    }
    if (values.json) console.log(JSON.stringify(result));
  } catch (error) {
    if (error instanceof ReleaseError) {
      console.error(`make-release-commit: ${error.message}`);
      process.exit(2);
    }
    console.error(error.stack ?? String(error));
    process.exit(3);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

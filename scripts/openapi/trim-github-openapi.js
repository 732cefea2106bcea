// Regenerates test/fixtures/github-openapi/operations.json: the operations of GitHub's official REST
// API description that this project calls, with every component they reach, and nothing else.
//
// The description comes from the npm package @octokit/openapi (generated/api.github.com.json, 13 MB).
// The package is 385 MB unpacked, so it is not a dependency: this script packs the pinned version
// into a temporary directory with `npm pack` (which checks the registry's integrity hash), extracts
// the one file with `tar`, and writes the trimmed description. Tests only read the committed output.
//
// Usage: node scripts/openapi/trim-github-openapi.js   (npm and tar on the PATH)
// To move to a newer description: change OPENAPI_VERSION, run, review the diff of operations.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const OPENAPI_PACKAGE = '@octokit/openapi';
const OPENAPI_VERSION = '23.0.2';
const DESCRIPTION_FILE = 'package/generated/api.github.com.json';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outputPath = join(repoRoot, 'test/fixtures/github-openapi/operations.json');

/** The operations we call, as `METHOD path` exactly as the description spells the path. */
const OPERATIONS = [
  // Releases (publish a model package to a GitHub Release).
  'GET /repos/{owner}/{repo}/releases/tags/{tag}',
  'POST /repos/{owner}/{repo}/releases',
  'GET /repos/{owner}/{repo}/releases/{release_id}',
  'GET /repos/{owner}/{repo}/releases/{release_id}/assets',
  'POST /repos/{owner}/{repo}/releases/{release_id}/assets',
  'GET /repos/{owner}/{repo}/releases/assets/{asset_id}',
  'PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}',
  'DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}',
  // Deployment pull requests.
  'GET /repos/{owner}/{repo}',
  'GET /repos/{owner}/{repo}/pulls',
  'POST /repos/{owner}/{repo}/pulls',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}',
  'PATCH /repos/{owner}/{repo}/pulls/{pull_number}',
  'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/labels',
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
  // Check runs (gate results on a commit).
  'POST /repos/{owner}/{repo}/check-runs',
  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
  // The report action: its check runs found again on a re-run, and their annotations (GitHub
  // appends annotations on every update, so a re-run adds only the missing ones).
  'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
  'GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations',
  // The report action's sticky commit comment (push events without a pull request).
  'GET /repos/{owner}/{repo}/commits/{commit_sha}/comments',
  'POST /repos/{owner}/{repo}/commits/{commit_sha}/comments',
  'PATCH /repos/{owner}/{repo}/comments/{comment_id}',
];

/** Packs the pinned package into `dir` and returns the parsed description and the tarball's integrity. */
function fetchDescription(dir) {
  const packed = JSON.parse(
    execFileSync(
      'npm',
      ['pack', `${OPENAPI_PACKAGE}@${OPENAPI_VERSION}`, '--json', '--pack-destination', dir],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  )[0];
  execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', dir, DESCRIPTION_FILE]);
  return {
    description: JSON.parse(readFileSync(join(dir, DESCRIPTION_FILE), 'utf8')),
    integrity: packed.integrity,
  };
}

/** Reads a local `#/a/b` pointer out of `root`. */
function resolvePointer(root, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  let node = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = node?.[key];
  }
  if (node === undefined) throw new Error(`dangling $ref ${ref}`);
  return node;
}

/**
 * Copies `node` without the media types' `examples` (large, not used by the stand-in, and not
 * always conforming to their own schemas), collecting every `$ref` it contains into `refs`.
 */
function copyCollectingRefs(node, refs) {
  if (Array.isArray(node)) return node.map((item) => copyCollectingRefs(item, refs));
  if (node === null || typeof node !== 'object') return node;
  const copy = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'examples' && value !== null && typeof value === 'object' && !Array.isArray(value)) continue;
    if (key === '$ref' && typeof value === 'string') refs.add(value);
    copy[key] = copyCollectingRefs(value, refs);
  }
  return copy;
}

/** Builds the trimmed description: the listed operations and the transitive closure of their `$ref`s. */
function trimDescription(description, integrity) {
  const refs = new Set();
  const paths = {};
  for (const operation of OPERATIONS) {
    const [method, path] = operation.split(' ');
    const pathItem = description.paths[path];
    const source = pathItem?.[method.toLowerCase()];
    if (!source) throw new Error(`${operation} is not in ${OPENAPI_PACKAGE}@${OPENAPI_VERSION}`);
    paths[path] ??= pathItem.parameters ? { parameters: copyCollectingRefs(pathItem.parameters, refs) } : {};
    paths[path][method.toLowerCase()] = copyCollectingRefs(source, refs);
  }

  const components = {};
  const done = new Set();
  const pending = [...refs];
  while (pending.length > 0) {
    const ref = pending.pop();
    if (done.has(ref)) continue;
    done.add(ref);
    const [, section, kind, name, ...rest] = ref.split('/');
    if (section !== 'components' || rest.length > 0) throw new Error(`unexpected $ref ${ref}`);
    const found = new Set();
    components[kind] ??= {};
    components[kind][name] = copyCollectingRefs(resolvePointer(description, ref), found);
    for (const next of found) if (!done.has(next)) pending.push(next);
  }
  for (const kind of Object.keys(components)) {
    components[kind] = Object.fromEntries(
      Object.entries(components[kind]).sort(([a], [b]) => a.localeCompare(b)),
    );
  }

  return {
    openapi: description.openapi,
    info: {
      ...description.info,
      'x-trimmed-from': {
        package: OPENAPI_PACKAGE,
        version: OPENAPI_VERSION,
        file: DESCRIPTION_FILE.replace(/^package\//, ''),
        integrity,
        operations: OPERATIONS,
        note: 'Generated by scripts/openapi/trim-github-openapi.js; media-type examples are dropped. Do not edit by hand.',
      },
    },
    servers: description.servers,
    paths,
    components,
  };
}

const workDir = mkdtempSync(join(tmpdir(), 'github-openapi-'));
try {
  const { description, integrity } = fetchDescription(workDir);
  const trimmed = trimDescription(description, integrity);
  mkdirSync(dirname(outputPath), { recursive: true });
  const text = `${JSON.stringify(trimmed)}\n`;
  writeFileSync(outputPath, text);
  const counts = Object.entries(trimmed.components).map(
    ([kind, items]) => `${Object.keys(items).length} ${kind}`,
  );
  console.log(
    `wrote ${outputPath}: ${OPERATIONS.length} operations, ${counts.join(', ')}, ${Math.round(text.length / 1024)} KB`,
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

/**
 * Vitest globalSetup: builds the bundles under dist/ once before the suite when they are missing or
 * older than their sources, so `vitest run` on its own (without `npm test`'s pretest build) still runs
 * the end-to-end tests against current code.
 *
 * Several vitest processes may start at once (colleagues running their own test files). They take
 * turns through a lock folder, and each re-checks after getting it, so one rebuilds and the others
 * find dist/ current. scripts/build.js swaps a complete dist/ in atomically, so a run that is already
 * reading dist/ is not disturbed either way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds dist/ with scripts/build.js unless every bundle is newer than every source file. */
export default async function setup(): Promise<void> {
  if (findStaleReason() === undefined) return;
  const release = await acquireBuildLock(repoRoot);
  try {
    // Another process may have rebuilt while this one waited for the lock.
    const reason = findStaleReason();
    if (reason === undefined) return;
    const started = performance.now();
    const result = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.js')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(
        `build-bundles: node scripts/build.js failed (${reason}), exit ${result.status ?? result.signal}\n` +
          `${result.stdout}${result.stderr}${result.error ? String(result.error) : ''}`,
      );
    }
    console.log(`build-bundles: rebuilt dist/ (${reason}) in ${Math.round(performance.now() - started)} ms`);
  } finally {
    release();
  }
}

/** Why `root`/dist/ needs a rebuild, or undefined when it is up to date. */
export function findStaleReason(root: string = repoRoot): string | undefined {
  // The bundles scripts/build.js writes: one per actions/<name> directory, plus the CLI.
  const actionsDir = join(root, 'actions');
  const names = existsSync(actionsDir)
    ? readdirSync(actionsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
    : [];
  const bundles = [
    ...names.map((name) => join(root, 'dist', name, 'index.js')),
    join(root, 'dist/cli/index.js'),
  ];
  let oldestBundle = Number.POSITIVE_INFINITY;
  for (const bundle of bundles) {
    if (!existsSync(bundle)) return `${bundle.slice(root.length + 1)} is missing`;
    oldestBundle = Math.min(oldestBundle, statSync(bundle).mtimeMs);
  }
  const sources = [...listFiles(join(root, 'src')), join(root, 'scripts/build.js')];
  const newer = sources.find((file) => existsSync(file) && statSync(file).mtimeMs > oldestBundle);
  if (newer !== undefined) return `${newer.slice(root.length + 1)} is newer than dist/`;
  return findStaleRuntime(root);
}

/**
 * Why dist/node_modules does not hold the installed ONNX Runtime for this machine (a build from before
 * the runtime was copied, another platform's release build, or an `npm ci` that changed its version).
 * Only checked where node_modules/onnxruntime-node exists: without it there is nothing to copy.
 */
function findStaleRuntime(root: string): string | undefined {
  const installed = join(root, 'node_modules/onnxruntime-node/package.json');
  if (!existsSync(installed)) return undefined;
  const infoPath = join(root, 'dist/build-info.json');
  if (!existsSync(infoPath)) return 'dist/build-info.json is missing';
  let info: { platforms?: string[]; runtime?: Record<string, string> };
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8'));
  } catch {
    return 'dist/build-info.json is not valid JSON';
  }
  const platform = `${process.platform}/${process.arch}`;
  const binding = `dist/node_modules/onnxruntime-node/bin/napi-v6/${platform}/onnxruntime_binding.node`;
  if (!info.platforms?.includes(platform) || !existsSync(join(root, binding))) return `${binding} is missing`;
  const { version } = JSON.parse(readFileSync(installed, 'utf8')) as { version: string };
  if (info.runtime?.['onnxruntime-node'] !== version) {
    return `dist/ has onnxruntime-node ${info.runtime?.['onnxruntime-node']}, node_modules has ${version}`;
  }
  return undefined;
}

const lockStaleMs = 120_000;

/**
 * Waits for and takes the build lock (a folder: mkdir is atomic). A lock older than two minutes is
 * taken to be left by a killed process and removed. Returns the function that releases it.
 */
async function acquireBuildLock(root: string): Promise<() => void> {
  const lock = join(root, 'node_modules/.mlops-build.lock');
  const deadline = Date.now() + lockStaleMs + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > lockStaleMs) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Released between the two calls: try again.
    }
    if (Date.now() > deadline) throw new Error(`build-bundles: could not take ${lock}; remove it if stale`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

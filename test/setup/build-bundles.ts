/**
 * Vitest globalSetup: builds the bundles under dist/ once before the suite when they are missing or
 * older than their sources, so `vitest run` on its own (without `npm test`'s pretest build) still runs
 * the end-to-end tests against current code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds dist/ with scripts/build.js unless every bundle is newer than every source file. */
export default function setup(): void {
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
  return newer === undefined ? undefined : `${newer.slice(root.length + 1)} is newer than dist/`;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

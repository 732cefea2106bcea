// Builds dist/: one ESM bundle per action under dist/<action>/index.js (plus its lazily loaded chunks
// and the profile worker), the CLI under dist/cli/index.js, and ONNX Runtime under dist/node_modules/
// so that dist/ runs on its own, as a released action does (users get the git tree, no node_modules).
//
// The CLI is built for Node 20 (the actions for Node 24, their runtime): dist/cli/mlops.cjs, the `mlops`
// bin, checks the Node version and then imports dist/cli/index.js. In the CLI, `onnxruntime-node` is
// src/cli/onnxruntime.cjs, which loads the npm package's platform package or dist/node_modules' copy;
// scripts/pack.js makes the npm packages from this dist/.
//
//   node scripts/build.js [--platforms linux/x64,linux/arm64 | all] [--copy]
//
// --platforms  the os/arch pairs whose ONNX Runtime native files go into dist/ (default: this machine's
//              only, to keep dev builds small and fast; releases pass the supported runners).
// --copy       copy the runtime's files instead of hard-linking them.
//
// The build is atomic: everything is written to dist.tmp-<pid>/ next to dist/, then swapped in with two
// renames, so a test process reading dist/ sees the old build or the new one, never a half-written or
// half-removed one. Several builds may run at once (each vitest process may rebuild); each swaps its own
// complete folder in and the last one wins.
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

/** A mistake in the build's inputs: printed without a stack. */
class BuildError extends Error {}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = performance.now();

const usage = `Usage: node scripts/build.js [--platforms os/arch,... | all] [--copy]
  --platforms  ONNX Runtime native files to ship, e.g. linux/x64,linux/arm64 (default: ${process.platform}/${process.arch})
  --copy       copy the runtime's files instead of hard-linking them from node_modules`;

let args;
try {
  args = parseArgs({
    options: {
      platforms: { type: 'string' },
      copy: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

const runtimeDir = join(root, 'node_modules/onnxruntime-node');
if (!existsSync(join(runtimeDir, 'package.json'))) {
  fail('node_modules/onnxruntime-node is missing: run `npm ci` first.');
}
const platforms = selectPlatforms(args.platforms);

const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// ESM bundles have no `require`; some dependencies still call it for Node built-ins.
const banner =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

// Every bundle folder carries the worker that profiles columns on a second core.
const profileWorker = join(root, 'src/core/data/profile-worker.ts');

/** esbuild's target for the CLI: the oldest Node line it supports (see src/cli/mlops.cjs). */
const CLI_NODE_TARGET = 'node20';

/**
 * In the CLI bundle, `onnxruntime-node` is src/cli/onnxruntime.cjs, the loader that finds the platform
 * package (see its header), behind an ES module with onnxruntime-node's named exports: a dynamic import
 * of a CommonJS module in a split bundle would give only `default`. The names are read from the
 * installed onnxruntime-node (the same on every platform).
 */
const cliOnnxRuntime = {
  name: 'cli-onnxruntime',
  setup(plugin) {
    plugin.onResolve({ filter: /^onnxruntime-node$/ }, () => ({
      path: 'onnxruntime-node',
      namespace: 'cli-ort',
    }));
    plugin.onLoad({ filter: /.*/, namespace: 'cli-ort' }, () => {
      let names;
      try {
        names = Object.keys(createRequire(import.meta.url)('onnxruntime-node'));
      } catch (error) {
        throw new BuildError(`onnxruntime-node cannot be loaded to list its exports: ${error.message}`);
      }
      const exported = names.filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
      return {
        contents:
          // A namespace import: onnxruntime-node marks its exports __esModule, so it has no default.
          `import * as ort from ${JSON.stringify(join(root, 'src/cli/onnxruntime.cjs'))};\n` +
          `export default ort;\nexport const { ${exported.join(', ')} } = ort;\n`,
        loader: 'js',
        resolveDir: root,
      };
    });
  },
};

removeAbandonedFolders();
// Next to dist/ (same file system, so the final rename is atomic) and at the same depth (so the source
// maps' relative paths to src/ stay right after the rename).
const tmp = join(root, `dist.tmp-${process.pid}`);
await rm(tmp, { recursive: true, force: true });

try {
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // A native addon with its shared libraries: esbuild cannot bundle it, so it is copied as a package
    // into dist/node_modules/, where Node finds it walking up from dist/<name>/index.js.
    external: ['onnxruntime-node'],
    // Dynamic imports (Parquet decoders, the YAML parser) become chunks loaded only when needed,
    // which keeps the action's start-up short. Each dist/<name>/ folder stays self-contained.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    absWorkingDir: root,
  };
  const results = await Promise.all([
    ...actions.map((name) =>
      build({
        ...common,
        entryPoints: { index: join(root, 'src/actions', `${name}.ts`), 'profile-worker': profileWorker },
        outdir: join(tmp, name),
        banner: { js: banner },
      }),
    ),
    build({
      ...common,
      // The CLI also runs on the Node of Linux distributions and of users' machines.
      target: CLI_NODE_TARGET,
      entryPoints: { index: join(root, 'src/cli/index.ts'), 'profile-worker': profileWorker },
      outdir: join(tmp, 'cli'),
      banner: { js: `#!/usr/bin/env node\n${banner}` },
      external: [],
      plugins: [cliOnnxRuntime],
    }),
  ]);
  // The bin: plain CommonJS that any Node parses, copied as it is.
  await copyFile(join(root, 'src/cli/mlops.cjs'), join(tmp, 'cli/mlops.cjs'));
  const cliMetafile = results.at(-1).metafile;

  const runtime = await copyRuntime(join(tmp, 'node_modules'), platforms, args.copy);
  const bundled = bundledPackages(results.map((result) => result.metafile));
  await writeFile(join(tmp, 'THIRD-PARTY-LICENSES.txt'), renderLicenses([...bundled, ...runtime.packages]));
  // The CLI's own, for the npm package (its ONNX Runtime comes in the platform package, with its notice).
  await writeFile(
    join(tmp, 'cli/THIRD-PARTY-LICENSES.txt'),
    renderLicenses(bundledPackages([cliMetafile]), 'The mlops CLI (dist/cli/)'),
  );
  const buildInfo = {
    platforms,
    runtime: Object.fromEntries(runtime.packages.map((p) => [p.name, p.version])),
  };
  await writeFile(join(tmp, 'build-info.json'), `${JSON.stringify(buildInfo, null, 2)}\n`);

  await swapIntoPlace(tmp);
  const ms = Math.round(performance.now() - started);
  console.log(
    `dist/ built in ${ms} ms: ${actions.length} actions and the CLI; onnxruntime-node ${buildInfo.runtime['onnxruntime-node']} ` +
      `for ${platforms.join(', ')} (${runtime.linked ? 'hard-linked' : 'copied'} from node_modules)`,
  );
} catch (error) {
  await rm(tmp, { recursive: true, force: true });
  if (error instanceof BuildError) fail(error.message);
  throw error;
}

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(2);
}

/** The os/arch pairs to ship, checked against what the installed onnxruntime-node provides. */
function selectPlatforms(flag) {
  const binDir = join(runtimeDir, 'bin/napi-v6');
  const available = existsSync(binDir)
    ? readdirSync(binDir).flatMap((os) => readdirSync(join(binDir, os)).map((arch) => `${os}/${arch}`))
    : [];
  const wanted =
    flag === undefined
      ? [`${process.platform}/${process.arch}`]
      : flag.trim() === 'all'
        ? available
        : flag
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== '');
  if (wanted.length === 0)
    fail(`--platforms is empty; give os/arch pairs, e.g. linux/x64,linux/arm64.\n${usage}`);
  for (const platform of wanted) {
    if (!/^[a-z0-9]+\/[a-z0-9]+$/.test(platform)) {
      fail(`--platforms: '${platform}' is not os/arch (e.g. linux/x64); available: ${available.join(', ')}.`);
    }
    if (!available.includes(platform)) {
      fail(
        `--platforms: onnxruntime-node has no native files for '${platform}' ` +
          `(node_modules/onnxruntime-node/bin/napi-v6/${platform} is missing); available: ${available.join(', ') || 'none'}.`,
      );
    }
  }
  return [...new Set(wanted)].sort();
}

/**
 * Copies onnxruntime-node and what it loads at run time into `target` (dist/node_modules while building).
 *
 * onnxruntime-node's `dist/*.js` requires `onnxruntime-common` and, for the running platform only,
 * `bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node`, which loads the shared library next to it.
 * Its other dependencies (adm-zip, global-agent) serve only its install script (the CUDA download),
 * so they stay out; {@link checkRequires} fails the build if a new version requires anything else.
 *
 * Files are hard-linked when possible: a dev build then costs no copy of the ~45 MB library per build
 * (tests rebuild often and several builds may exist at once), and git stores content, so a release
 * commit is the same either way. Nothing writes into dist/node_modules, so sharing inodes with
 * node_modules is safe; across file systems (EXDEV) or where links are refused it falls back to copies.
 */
async function copyRuntime(target, platforms, forceCopy) {
  const commonDir = findPackageDir('onnxruntime-common', runtimeDir);
  if (commonDir === undefined) throw new BuildError('onnxruntime-common is missing: run `npm ci` first.');
  const jsOnly = (file) => /\.(c|m)?js$|\.json$/.test(file) && !file.endsWith('.map');
  const plan = [
    {
      dir: runtimeDir,
      // JavaScript under dist/ (lib/ holds its TypeScript sources) and the chosen platforms' binaries.
      files: [
        ...listFiles(join(runtimeDir, 'dist')).filter(jsOnly),
        ...platforms.flatMap((platform) => listFiles(join(runtimeDir, 'bin/napi-v6', platform))),
      ],
    },
    // Both module formats: its package.json `exports` picks dist/cjs for require() and dist/esm for import,
    // and dist/cjs/package.json marks that folder as CommonJS.
    { dir: commonDir, files: listFiles(join(commonDir, 'dist')).filter(jsOnly) },
  ];
  let linked = !forceCopy;
  const packages = [];
  for (const { dir, files } of plan) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const destination = join(target, manifest.name);
    const licenses = findLicenseFiles(dir);
    for (const file of [join(dir, 'package.json'), ...licenses, ...files]) {
      const to = join(destination, relative(dir, file));
      await mkdir(dirname(to), { recursive: true });
      if (linked) {
        try {
          linkSync(file, to);
          continue;
        } catch (error) {
          if (!['EXDEV', 'EPERM', 'EACCES', 'ENOTSUP', 'EMLINK'].includes(error.code)) throw error;
          linked = false;
        }
      }
      await copyFile(file, to);
    }
    packages.push(describePackage(manifest, licenses));
  }
  checkRequires(
    target,
    packages.map((p) => p.name),
  );
  return { packages, linked };
}

/** Where Node would find package `name` from `fromDir`: its own node_modules, then each parent's. */
function findPackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Fails the build when the copied JavaScript requires a package that is neither a Node built-in nor
 * one of the copied packages: the released action would die with "Cannot find module" on the runner.
 */
function checkRequires(target, copied) {
  const builtins = new Set(builtinModules);
  for (const file of listFiles(target).filter((f) => /\.(c|m)?js$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\brequire\(\s*["'`]([^"'`$]+)["'`]\s*\)|\bfrom\s+["']([^"']+)["']/g)) {
      const specifier = match[1] ?? match[2];
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (!copied.includes(name)) {
        throw new BuildError(
          `${relative(target, file)} requires '${specifier}', which is not copied into dist/node_modules: ` +
            'add it to copyRuntime() in scripts/build.js.',
        );
      }
    }
  }
}

/** The packages whose code esbuild put into the bundles, from the builds' metafiles. */
function bundledPackages(metafiles) {
  const dirs = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const parts = input.split('/');
      const at = parts.lastIndexOf('node_modules');
      if (at < 0) continue;
      const length = parts[at + 1]?.startsWith('@') ? 2 : 1;
      dirs.add(join(root, ...parts.slice(0, at + 1 + length)));
    }
  }
  return [...dirs].map((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return describePackage(manifest, findLicenseFiles(dir));
  });
}

function describePackage(manifest, licenseFiles) {
  const repository = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
  return {
    name: manifest.name,
    version: manifest.version,
    license:
      typeof manifest.license === 'string'
        ? manifest.license
        : (manifest.license?.type ??
          manifest.licenses?.map((l) => l.type).join(' OR ') ??
          'unknown: not declared in its package.json'),
    repository,
    texts: licenseFiles.map((file) => readFileSync(file, 'utf8').trim()),
  };
}

function findLicenseFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /^(licen[cs]e|copying|notice|thirdpartynotices)/i.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
}

/**
 * One text with the license of every package dist/ contains. The bundles drop the packages' own
 * license comments (legalComments: none keeps them small), so this file carries the notices instead.
 */
function renderLicenses(packages, what = 'dist/') {
  const unique = new Map(packages.map((p) => [`${p.name}@${p.version}`, p]));
  const sorted = [...unique.values()].sort((a, b) => a.name.localeCompare(b.name));
  const rule = '='.repeat(80);
  const sections = sorted.map((p) => {
    const head = `${rule}\n${p.name} ${p.version} (${p.license})${p.repository ? `\n${p.repository}` : ''}\n${rule}`;
    const body =
      p.texts.length > 0
        ? p.texts.join('\n\n')
        : `The npm package ships no license file; license as declared in its package.json: ${p.license}.`;
    return `${head}\n${body}\n`;
  });
  return `${what} contains code from the following packages, under their licenses.\n\n${sections.join('\n')}`;
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Replaces dist/ with the finished build in `tmp`: dist → dist.old-<pid>-<n>, tmp → dist, then removes
 * the old one. Between the two renames dist/ is absent for microseconds (rename(2) cannot replace a
 * non-empty directory); it is never partially written or partially deleted. When another build swaps
 * its own dist/ in between ours (ENOTEMPTY/EEXIST), that one is moved aside too and we try again.
 */
function swapIntoPlace(tmp) {
  const moved = [];
  for (let attempt = 0; ; attempt++) {
    const old = `${dist}.old-${process.pid}-${attempt}`;
    try {
      renameSync(dist, old);
      moved.push(old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(tmp, dist);
      break;
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes(error.code) || attempt >= 100) throw error;
    }
  }
  // Processes started from the old build keep their open files; removing the folder is safe on POSIX.
  return Promise.all(moved.map((old) => rm(old, { recursive: true, force: true })));
}

/** Removes dist.tmp-<pid>/ and dist.old-<pid>-<n>/ folders left by builds that were killed. */
function removeAbandonedFolders() {
  for (const entry of readdirSync(root)) {
    const match = /^dist\.(?:tmp|old)-(\d+)/.exec(entry);
    if (!match || Number(match[1]) === process.pid || isAlive(Number(match[1]))) continue;
    // Synchronous: it runs before this build starts writing next to dist/.
    rmSync(join(root, entry), { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

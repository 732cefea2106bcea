// Makes the npm packages of the `mlops` CLI as tarballs in dist-pack/ (git-ignored):
//
//   mlops-actions-<version>.tgz                   the CLI: dist/cli/ (bundled, no dependencies), templates/
//   mlops-actions-cli-<os>-<arch>-<version>.tgz   @mlops-actions/cli-<os>-<arch>: ONNX Runtime for one platform
//
//   node scripts/pack.js [--platforms linux/x64,linux/arm64 | all] [--out DIR] [--no-build]
//   (npm run pack)
//
// --platforms  the platform packages to make (default: this machine's; a release passes `all`, every
//              platform onnxruntime-node ships). The main package lists all of them in any case.
// --out        where the tarballs go (default dist-pack/).
// --no-build   use the dist/ that is there instead of running scripts/build.js first.
//
// Like esbuild and Biome, the main package names one package per platform in `optionalDependencies`, each
// with `os`/`cpu` (and `libc`), so npm downloads only the one that fits the machine (45 MB for linux-x64
// instead of ~290 MB for all); src/cli/onnxruntime.cjs finds it at run time. No package has an install
// script or a dependency to resolve: `npm install` needs the npm registry (or the tarballs) and nothing else.
//
// Why package.json files are generated here from packages/*/package.json instead of publishing the
// repository's own: the root package.json is the development package. It lists what the build bundles and
// what the tests need (onnxruntime-node, whose install script downloads CUDA files; vitest, azurite, a Node
// 24 binary, …: node_modules is over 1 GB), its scripts need the repository, and it is "private". The
// published packages carry only built files, so their manifests are short templates (name, bin, files,
// engines, publishConfig, licence, repository) completed with the version of the root package.json and
// the platform list; the root stays what developers and CI install. `npm pack` at the root is therefore
// refused with a pointer to this script (the root's "prepack" runs `scripts/pack.js --prepack`).
//
// Publishing (from CI, for provenance): `npm publish --provenance <tarball>` for each platform package,
// then for the main package, all at the version of the root package.json.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();

const usage = `Usage: node scripts/pack.js [--platforms os/arch,... | all] [--out DIR] [--no-build]
  --platforms  platform packages to make, e.g. linux/x64,linux/arm64 or all (default: ${process.platform}/${process.arch})
  --out        folder for the tarballs (default: dist-pack/)
  --no-build   pack the dist/ that exists instead of running scripts/build.js first`;

let args;
try {
  args = parseArgs({
    options: {
      platforms: { type: 'string' },
      out: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      prepack: { type: 'boolean', default: false },
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
if (args.prepack) refuseRootPack();

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = rootManifest.version;
const runtimeDir = join(root, 'node_modules/onnxruntime-node');
if (!existsSync(join(runtimeDir, 'package.json')))
  fail('node_modules/onnxruntime-node is missing: run `npm ci` first.');
const runtimeManifest = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8'));

/** Every os/arch pair onnxruntime-node ships native files for: the platform packages there are. */
const binDir = join(runtimeDir, 'bin/napi-v6');
const allPlatforms = readdirSync(binDir)
  .flatMap((os) => readdirSync(join(binDir, os)).map((arch) => `${os}/${arch}`))
  .sort();
const platforms = selectPlatforms(args.platforms);
const out = resolve(root, args.out ?? 'dist-pack');
const stage = join(out, 'stage');

if (!args['no-build']) {
  execFileSync(process.execPath, [join(root, 'scripts/build.js')], { cwd: root, stdio: 'inherit' });
}
if (!existsSync(join(root, 'dist/cli/index.js')))
  fail('dist/cli/index.js is missing: run `npm run build` first.');

// Tarballs of an earlier run (another version or platform) would be picked up by `./dist-pack/*.tgz`.
for (const old of existsSync(out) ? readdirSync(out) : []) {
  if (/^mlops-actions-.*\.tgz$/.test(old)) rmSync(join(out, old));
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const made = [];
try {
  made.push(packMain());
  for (const platform of platforms) made.push(await packPlatform(platform));
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const ms = Math.round(performance.now() - started);
console.log(`npm packages ${version} in ${relative(process.cwd(), out) || '.'}/ (${ms} ms):`);
for (const tarball of made) {
  console.log(`  ${tarball.filename}  ${mib(tarball.size)} packed, ${mib(tarball.unpackedSize)} unpacked`);
}
// What installs here: the main package and this machine's platform package (another's would be refused).
const here = made.filter(
  (t) => t.platform === undefined || t.platform === `${process.platform}/${process.arch}`,
);
const shown = (t) => {
  const path = relative(process.cwd(), join(out, t.filename));
  return path.startsWith('..') ? join(out, t.filename) : `./${path}`;
};
console.log(`Install: npm install -g --omit=optional ${here.map(shown).join(' ')}`);

/** The main package: the CLI bundle, its bin, the templates `mlops init` copies, README and licence. */
function packMain() {
  const dir = join(stage, 'mlops-actions');
  const template = JSON.parse(readFileSync(join(root, 'packages/mlops-actions/package.json'), 'utf8'));
  const manifest = {
    ...template,
    version,
    optionalDependencies: Object.fromEntries(allPlatforms.map((p) => [platformPackageName(p), version])),
  };
  copyCliBundle(join(dir, 'dist/cli'));
  cpSync(join(root, 'templates'), join(dir, 'templates'), {
    recursive: true,
    filter: (source) => !/(^|[\\/])(node_modules|build|demo-output|\.git)$/.test(source),
  });
  cpSync(join(root, 'packages/mlops-actions/README.md'), join(dir, 'README.md'));
  cpSync(join(root, 'packages/LICENSE'), join(dir, 'LICENSE'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return npmPack(dir);
}

/**
 * Copies dist/cli/ without source maps (their sources are not shipped). dist/ may be swapped by a build
 * running at the same time (scripts/build.js swaps whole folders); a copy whose chunks do not match its
 * entry is taken again.
 */
function copyCliBundle(target) {
  for (let attempt = 1; ; attempt++) {
    rmSync(target, { recursive: true, force: true });
    cpSync(join(root, 'dist/cli'), target, { recursive: true, filter: (source) => !source.endsWith('.map') });
    const missing = missingChunks(target);
    if (missing.length === 0) return;
    if (attempt >= 5) fail(`dist/cli/ refers to chunks that are not there: ${missing.join(', ')}; rebuild.`);
  }
}

function missingChunks(dir) {
  const missing = [];
  for (const file of listFiles(dir).filter((f) => f.endsWith('.js'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = join(dirname(file), match[1]);
      if (!existsSync(target)) missing.push(relative(dir, target));
    }
  }
  return missing;
}

/**
 * One platform package: onnxruntime-node's JavaScript with onnxruntime-common bundled into dist/index.js
 * (CommonJS, as onnxruntime-node is), and that platform's native files where it requires them
 * (`../bin/napi-v6/<os>/<arch>/onnxruntime_binding.node`, next to the shared library it loads).
 */
async function packPlatform(platform) {
  const [os, arch] = platform.split('/');
  const name = platformPackageName(platform);
  const dir = join(stage, name.replace('/', '+'));
  const template = JSON.parse(readFileSync(join(root, 'packages/cli-platform/package.json'), 'utf8'));
  const manifest = {
    ...template,
    name,
    version,
    description: template.description.replaceAll('OS-ARCH', `${os}-${arch}`),
    os: [os],
    cpu: [arch],
    // The Linux builds of ONNX Runtime link against glibc; npm skips the package on musl (Alpine).
    ...(os === 'linux' ? { libc: ['glibc'] } : {}),
  };
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(runtimeDir, 'dist/index.js')],
    outfile: join(dir, 'dist/index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
    // The native binding stays a file, required relative to dist/index.js.
    external: ['*.node'],
  });
  for (const file of listFiles(join(binDir, os, arch))) {
    const to = join(dir, 'bin/napi-v6', os, arch, relative(join(binDir, os, arch), file));
    mkdirSync(dirname(to), { recursive: true });
    try {
      linkSync(file, to); // 45–86 MB each: link, do not copy, where the file system allows
    } catch {
      cpSync(file, to);
    }
  }
  writeFileSync(join(dir, 'THIRD-PARTY-LICENSES.txt'), runtimeNotice());
  cpSync(join(root, 'packages/LICENSE'), join(dir, 'LICENSE'));
  writeFileSync(
    join(dir, 'README.md'),
    readFileSync(join(root, 'packages/cli-platform/README.md'), 'utf8').replaceAll(
      'OS-ARCH',
      `${os}-${arch}`,
    ),
  );
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (platform === `${process.platform}/${process.arch}`) checkLoads(dir);
  return { ...npmPack(dir), platform };
}

/** The package for this machine must load and run: a broken bundle fails here, not on a user's machine. */
function checkLoads(dir) {
  const ort = createRequire(join(dir, 'package.json'))(dir);
  if (typeof ort.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
    fail(`${dir} loads but has no InferenceSession/Tensor: check the esbuild step in scripts/pack.js.`);
  }
}

/** onnxruntime-node ships no licence file; its package.json declares MIT (© Microsoft Corporation). */
function runtimeNotice() {
  const common = JSON.parse(
    readFileSync(
      join(
        dirname(createRequire(join(runtimeDir, 'package.json')).resolve('onnxruntime-common')),
        '../../package.json',
      ),
      'utf8',
    ),
  );
  const rule = '='.repeat(80);
  const mit = readFileSync(join(root, 'packages/LICENSE'), 'utf8')
    .replace(/^Copyright .*$/m, 'Copyright (c) Microsoft Corporation. All rights reserved.')
    .trim();
  return (
    'This package contains ONNX Runtime, from the following npm packages, under their licenses.\n\n' +
    [runtimeManifest, common]
      .map(
        (m) =>
          `${rule}\n${m.name} ${m.version} (${m.license})\n${m.repository?.url ?? ''}\n${rule}\n` +
          `The npm package ships no license file; its package.json declares ${m.license}:\n\n${mit}\n`,
      )
      .join('\n')
  );
}

/** Runs `npm pack` in `dir`, writing the tarball to `out`; returns npm's description of it. */
function npmPack(dir) {
  mkdirSync(out, { recursive: true });
  const npm = process.env.npm_execpath;
  const [command, prefix] =
    npm && /\.c?js$/.test(npm)
      ? [process.execPath, [npm]]
      : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const json = execFileSync(
    command,
    [...prefix, 'pack', '--json', '--ignore-scripts', '--pack-destination', out],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [result] = JSON.parse(json);
  return { filename: result.filename, size: result.size, unpackedSize: result.unpackedSize };
}

function platformPackageName(platform) {
  return `@mlops-actions/cli-${platform.replace('/', '-')}`;
}

function selectPlatforms(flag) {
  const wanted =
    flag === undefined
      ? [`${process.platform}/${process.arch}`]
      : flag.trim() === 'all'
        ? allPlatforms
        : flag
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== '');
  for (const platform of wanted) {
    if (!allPlatforms.includes(platform)) {
      fail(
        `--platforms: onnxruntime-node has no native files for '${platform}'; available: ${allPlatforms.join(', ')}.`,
      );
    }
  }
  if (wanted.length === 0) fail(`--platforms is empty.\n${usage}`);
  return [...new Set(wanted)].sort();
}

/** `npm pack` / `npm publish` at the root would pack the development package: point to this script. */
function refuseRootPack() {
  // `npm run pack` runs the "prepack" script first (npm_command `run`, `run-script` in older npm): let it pass.
  if (process.env.npm_command === 'run' || process.env.npm_command === 'run-script') process.exit(0);
  fail(
    'the repository root is the development package (private, with onnxruntime-node and the test tools as ' +
      'dependencies), not what users install. Run `npm run pack`: it writes the npm packages of the CLI to ' +
      'dist-pack/ (see scripts/pack.js).',
  );
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function fail(message) {
  console.error(`pack: ${message}`);
  process.exit(2);
}

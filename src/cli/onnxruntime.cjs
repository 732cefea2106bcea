// ONNX Runtime for the CLI bundle: scripts/build.js resolves `onnxruntime-node` to this module in the
// CLI build only (the actions keep theirs in dist/node_modules). Evaluated on the first model load,
// it exports the onnxruntime-node API from, in this order:
//
// 1. the platform package of an npm installation, `@mlops-actions/cli-<os>-<arch>` (an optional
//    dependency of mlops-actions; npm installs the one matching the machine), which holds onnxruntime's
//    JavaScript and native files for that platform (scripts/pack.js builds them);
// 2. the copy scripts/build.js puts in dist/node_modules/ of a repository build (`node dist/cli/index.js`,
//    or dist/ as the released actions ship it).
//
// Otherwise it throws an error that names the platform package to install (the model loader turns it
// into a configuration error, exit 2). `require` here is the bundle's, created from its own file's URL,
// so packages resolve from where the bundle is installed.
const { existsSync, readFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const { version: mlopsVersion } = require('../../package.json');

const platform = `${process.platform}-${process.arch}`;
const platformPackage = `@mlops-actions/cli-${platform}`;

/** dist/ of this bundle: the parent of the `cli` folder that holds it (or its chunks/ folder). */
function findDistDirectory() {
  // The first lookup path is <folder of the bundle file>/node_modules.
  for (
    let dir = dirname(require.resolve.paths('onnxruntime-node')[0]);
    dirname(dir) !== dir;
    dir = dirname(dir)
  ) {
    if (basename(dir) === 'cli') return dirname(dir);
  }
  return undefined;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** An error about the platform package: the model loader shows its message as it is (code MLOPS_ORT_PACKAGE). */
function packageError(message) {
  const error = new Error(message);
  error.code = 'MLOPS_ORT_PACKAGE';
  return error;
}

function loadOnnxRuntime() {
  let manifestPath;
  try {
    manifestPath = require.resolve(`${platformPackage}/package.json`);
  } catch {
    // not installed: try a repository build's copy
  }
  if (manifestPath !== undefined) {
    const found = readJson(manifestPath)?.version;
    if (found !== mlopsVersion) {
      throw packageError(
        `mlops-actions ${mlopsVersion} needs ${platformPackage} ${mlopsVersion}, but ${dirname(manifestPath)} is version ${found}: ` +
          `install both at the same version (npm install mlops-actions@${mlopsVersion}).`,
      );
    }
    return require(platformPackage);
  }

  const dist = findDistDirectory();
  const copy = dist && join(dist, 'node_modules', 'onnxruntime-node');
  if (copy && existsSync(join(copy, 'package.json'))) return require(copy);

  // The platforms this installation's package.json offers, when it is the npm package.
  const offered = Object.keys(readJson(join(dist ?? '.', '..', 'package.json'))?.optionalDependencies ?? {})
    .filter((name) => name.startsWith('@mlops-actions/cli-'))
    .map((name) => name.slice('@mlops-actions/cli-'.length));
  if (offered.length > 0 && !offered.includes(platform)) {
    throw packageError(
      `mlops-actions has no ONNX Runtime package for ${platform} (there are packages for ${offered.join(', ')}): ` +
        'run the commands that load models on one of those platforms; the others work here',
    );
  }
  throw packageError(
    `the platform package ${platformPackage} is not installed (it holds ONNX Runtime for ${platform}). ` +
      `npm installs it with mlops-actions as an optional dependency: reinstall without --omit=optional or --no-optional, ` +
      `or install it next to mlops-actions (npm install ${platformPackage}@${mlopsVersion})`,
  );
}

module.exports = loadOnnxRuntime();

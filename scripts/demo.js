// `npm run demo`: the whole level-2 flow, locally, on an example project: the TypeScript one
// (templates/example-project, the default) or, with `npm run demo -- --example python`, the Python one
// (templates/example-project-python, scikit-learn exported to ONNX; its prebuilt model stands in for
// `python train.py`, so the demo needs no Python):
// validate data → train → validate the model against the one deployed in staging → package → deployment
// pull request into an environment repository → the PR report, then one blocked merge for contrast.
// Everything goes through the built CLI, exactly as a user would run it. The environment repository is a
// real git repository on disk (demo-output/environment-repo.git); with no GitHub API configured, the pull
// request is pushed as a branch and recorded in a file. Needs Node 24, git and this repository.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = {
  typescript: { dir: 'templates/example-project', model: 'breast-cancer' },
  python: { dir: 'templates/example-project-python', model: 'breast-cancer-classifier' },
};
const exampleName = parseExample(process.argv.slice(2));
const example = EXAMPLES[exampleName];
const out = join(root, 'demo-output');
const project = join(out, 'project');
const environmentRepo = join(out, 'environment-repo.git');
const environmentUrl = pathToFileURL(environmentRepo).href;
const cli = join(root, 'dist/cli/index.js');
const MODEL = example.model;
const shown = (path) => relative(process.cwd(), path) || '.';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// A copy, so training and reports never write into templates/.
cpSync(join(root, example.dir), project, {
  recursive: true,
  filter: (source) => !/[\\/](build|mlops-reports|node_modules|__pycache__)$/.test(source),
});
console.log(
  `Example: ${example.dir} (${exampleName}${exampleName === 'python' ? '' : '; --example python for the Python one'})`,
);

/** Runs a command, shows it, and stops the demo when its exit code is not the expected one. */
function run(command, args, { cwd = project, expected = 0, quiet = false, capture = false } = {}) {
  if (!quiet) console.log(`$ ${[command === process.execPath ? 'node' : command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd,
    // quiet: nothing shown; capture: stdout kept (a --json result), human text still shown.
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    // The demo has no GitHub: no token may leak in from the caller's shell and switch on API calls.
    env: { ...process.env, GITHUB_TOKEN: '', GITHUB_API_URL: '' },
  });
  if (result.status !== expected) {
    if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    console.error(
      `demo: \`${command} ${args.join(' ')}\` exited with ${result.status}, expected ${expected}`,
    );
    process.exit(1);
  }
  return result.stdout ?? '';
}
const mlops = (args, options) => run(process.execPath, [cli, ...args], options);
/** A command's --json result, its human text shown. */
const mlopsJson = (args) => JSON.parse(mlops([...args, '--json'], { capture: true }));
const node = (args, options) => run(process.execPath, args, options);
const git = (args, cwd) =>
  run('git', ['-c', 'user.name=mlops demo', '-c', 'user.email=demo@example.invalid', ...args], {
    cwd,
    quiet: true,
  });
const step = (title) => console.log(`\n── ${title}`);

step('0. An environment repository (GitOps): the template, as a real git repository on disk');
const seed = join(out, 'environment-seed');
cpSync(join(root, 'templates/environment-repo'), seed, { recursive: true });
git(['init', '--quiet', '--initial-branch=main'], seed);
git(['add', '.'], seed);
git(['commit', '--quiet', '-m', 'Environment repository from the mlops-actions template'], seed);
git(['clone', '--quiet', '--bare', seed, environmentRepo], out);
rmSync(seed, { recursive: true, force: true });
console.log(`${shown(environmentRepo)} (main: environments/staging, environments/production)`);

step('1. What staging runs today: an earlier, weaker model 1.0.0, deployed and merged');
if (exampleName === 'python') {
  prebuilt('baseline.onnx', 'build/previous.onnx', 'python train.py --c 0.001 --out build/previous.onnx');
} else {
  node(['train/train.ts', '--iterations', '1', '--out', 'build/previous.onnx']);
}
const previous = mlopsJson([
  'package',
  '--model',
  'build/previous.onnx',
  '--name',
  MODEL,
  '--version',
  '1.0.0',
  '--out',
  'build/previous-package',
]);
deploy(previous.packageRef, '1.0.0', join(out, 'previous-deploy-pr.json'));
mergeDeployment('1.0.0');

step('2. The data gate: contract, leakage against train, drift against train (mlops.yaml) → passes');
mlops(['validate-data', '--config', 'mlops.yaml', '--report', 'mlops-reports/data-validation.json']);

if (exampleName === 'python') {
  step(
    "3. Train the candidate (the project's train.py: scikit-learn, exported with skl2onnx; here its prebuilt output)",
  );
  prebuilt('model.onnx', 'build/model.onnx', 'python train.py');
  prebuilt('golden.json', 'build/golden.json', 'python train.py');
} else {
  step(
    "3. Train the candidate (the project's own TypeScript training: logistic regression, written as ONNX)",
  );
  node(['train/train.ts', '--out', 'build/model.onnx']);
}

step('4. The model gate: the candidate against the model staging runs, on the same holdout rows → passes');
mlops([
  'validate-model',
  '--config',
  'mlops.yaml',
  '--model',
  'build/model.onnx',
  '--baseline',
  'environment:staging',
  '--env-repo',
  environmentUrl,
  '--deployed-model',
  MODEL,
  '--report',
  'mlops-reports/model-validation.json',
]);

step('5. Package the candidate with its reports: manifest, model card, reproducible archive, provenance');
const candidate = mlopsJson([
  'package',
  '--model',
  'build/model.onnx',
  '--name',
  MODEL,
  // Explicit, so the demo also runs outside a git checkout (else 0.0.0-<commit>); in CD, the tag.
  '--version',
  '1.1.0',
  '--reports',
  'mlops-reports',
  '--contract',
  'data/contract.json',
  '--out',
  'build/package',
]);
mlops(['package', 'verify', relative(project, candidate.archive)]);

step('6. The deployment pull request: staging 1.0.0 → 1.1.0 in the environment repository');
const prFile = join(out, 'deploy-pr.json');
deploy(candidate.packageRef, '1.1.0', prFile);
const pr = JSON.parse(readFileSync(prFile, 'utf8'));
const diff = git(['diff', `main...${pr.head}`, '--stat'], environmentRepo);
console.log(`pull request "${pr.title}": ${pr.head} → ${pr.base}\n${diff.trimEnd()}`);

step('7. What reviewers see on the pull request (rendered from the gate reports only)');
mlops([
  'report',
  '--reports',
  'mlops-reports/*.json',
  '--out',
  relative(project, join(out, 'pr-comment.md')),
]);

step('8. For contrast, a blocked merge: the data gate on a drifted batch → fails with the reasons');
cpSync(join(root, 'templates/example/data/drifted.csv'), join(project, 'data/drifted.csv'));
mlops(
  [
    'validate-data',
    '--config',
    'mlops.yaml',
    '--data',
    'data/drifted.csv',
    '--report',
    join('..', 'drifted-report.json'),
  ],
  { expected: 1 },
);

step('9. The environment’s history');
mlops(['history', '--env', 'staging', '--repo', environmentUrl, '--model', MODEL]);

// The short human report, read back from what the steps wrote (the reports and the recorded PR).
const dataReport = JSON.parse(readFileSync(join(project, 'mlops-reports/data-validation.json'), 'utf8'));
const modelReport = JSON.parse(readFileSync(join(project, 'mlops-reports/model-validation.json'), 'utf8'));
const verdict = (passed) => (passed ? 'PASSED' : 'FAILED');
const metric = (name) =>
  `${name} ${modelReport.metrics[name].value.toPrecision(3)} (staging ${modelReport.baselineMetrics?.[name]?.value.toPrecision(3) ?? 'n/a'})`;
console.log(`
Summary
  data gate    ${verdict(dataReport.passed)}  ${dataReport.summary.rows} rows, ${dataReport.summary.findings.error} errors, ${dataReport.summary.driftedColumns} drifted columns
  model gate   ${verdict(modelReport.passed)}  ${modelReport.gates.length} gates; ${metric('roc_auc')}, ${metric('log_loss')}
  package      ${MODEL} 1.1.0, sha256:${candidate.digest.replace(/^sha256:/, '').slice(0, 16)}…
  deployment   "${pr.title}" (${pr.previousVersion ?? 'none'} → 1.1.0), branch ${pr.head} of ${shown(environmentRepo)}`);

console.log(`
Demo done. Written:
  ${shown(project)}/                      the example project (build/model.onnx, mlops-reports/, build/package/)
  ${shown(environmentRepo)}          the environment repository; branch ${pr.head} is the pull request
  ${shown(prFile)}               the pull request that would be opened (title, body, branch)
  ${shown(join(out, 'pr-comment.md'))}                the PR comment the report action posts
The failing gate in step 8 is expected: it is what a blocked merge looks like.`);

/** `--example typescript|python` (default typescript); anything else stops the demo with exit 2. */
function parseExample(args) {
  const at = args.indexOf('--example');
  const value = at === -1 ? 'typescript' : args[at + 1];
  const name = value === 'ts' ? 'typescript' : value;
  const unknown = args.filter((arg, i) => arg !== '--example' && i !== at + 1);
  if (!(name in EXAMPLES) || unknown.length > 0) {
    console.error(
      `demo: ${unknown.length > 0 ? `unknown argument ${unknown[0]}` : `--example ${value ?? ''}`}: use --example typescript (default) or --example python.`,
    );
    process.exit(2);
  }
  return name;
}

/** A file of the Python example's prebuilt/ in place of what `command` writes (no Python needed). */
function prebuilt(file, destination, command) {
  console.log(
    `$ cp prebuilt/${file} ${destination}   # what \`${command}\` writes, prebuilt by scripts/fixtures/make-python-example.py`,
  );
  mkdirSync(dirname(join(project, destination)), { recursive: true });
  copyFileSync(join(project, 'prebuilt', file), join(project, destination));
}

/** `mlops deploy` to staging: the package by its reference (a file: URI with the archive's sha256). */
function deploy(packageRef, version, file) {
  mlops([
    'deploy',
    '--env',
    'staging',
    '--repo',
    environmentUrl,
    '--package-ref',
    packageRef,
    '--model',
    MODEL,
    '--version',
    version,
    '--pr-file',
    relative(project, file),
  ]);
}

/** What a reviewer's merge does: the deployment branch merged into main of the environment repository. */
function mergeDeployment(version) {
  const clone = join(out, 'environment-merge');
  git(['clone', '--quiet', environmentRepo, clone], out);
  git(
    [
      'merge',
      '--no-ff',
      '--quiet',
      '-m',
      `Merge: deploy ${MODEL} ${version} to staging`,
      `origin/mlops/deploy/staging/${MODEL}`,
    ],
    clone,
  );
  git(['push', '--quiet', 'origin', 'main', `:mlops/deploy/staging/${MODEL}`], clone);
  rmSync(clone, { recursive: true, force: true });
  if (!existsSync(environmentRepo)) throw new Error('demo: the environment repository vanished');
  console.log(`merged: staging now runs ${MODEL} ${version}`);
}

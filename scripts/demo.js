// `npm run demo`: the data and model gates on the bundled example (breast cancer Wisconsin), through the built CLI,
// exactly as a user would run it. Writes everything under demo-output/ and says where.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'demo-output');
const data = (name) => relative(root, join(root, 'templates/example/data', name));
const contract = relative(root, join(root, 'templates/example/contract.json'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function mlops(title, args, expected) {
  console.log(`\n── ${title}\n$ mlops ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [join(root, 'dist/cli/index.js'), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (run.status !== expected) {
    console.error(`demo: expected exit code ${expected}, got ${run.status}`);
    process.exit(1);
  }
}

const o = (name) => relative(root, join(out, name));
mlops(
  '1. Profile the training data (the reference for drift)',
  ['profile', '--data', data('train.csv'), '--out', o('train-profile.json')],
  0,
);
mlops(
  '2. Infer a data contract from it (review it before committing; the example ships a reviewed one)',
  [
    'schema',
    'infer',
    '--data',
    data('train.csv'),
    '--target',
    'target',
    '--out',
    o('inferred-contract.json'),
  ],
  0,
);
// The gate's inputs, the same for both runs: drift against the training profile, leakage against
// the training rows, the reviewed contract.
const gate = [
  '--reference',
  o('train-profile.json'),
  '--train',
  data('train.csv'),
  '--contract',
  contract,
  '--target',
  'target',
];
mlops(
  '3. The data gate on the holdout set: contract, leakage vs train, drift vs the training profile → passes',
  ['validate-data', '--data', data('test.csv'), ...gate, '--report', o('reports/data-validation.json')],
  0,
);
mlops(
  '4. The same gate on a drifted batch (two features scaled by 1.25, some values missing) → fails with reasons',
  ['validate-data', '--data', data('drifted.csv'), ...gate, '--report', o('drifted-report.json')],
  1,
);
// Two real models of the same holdout (made by scripts/fixtures/make-model-fixtures.py): a
// scikit-learn logistic regression exported with ZipMap, and a random forest.
const model = (name) => relative(root, join(root, 'test/fixtures/models', name));
// The package takes this run's gate reports from one folder.
const reportsDir = join(out, 'reports');
mkdirSync(reportsDir, { recursive: true });
const modelGates = [
  '--data',
  data('test.csv'),
  '--target',
  'target',
  '--gate',
  'roc_auc >= 0.95',
  '--gate',
  'log_loss <= baseline * 1.05',
];
mlops(
  '5. The model gate: the logistic regression as candidate, the forest as baseline, on the same rows → passes',
  [
    'validate-model',
    '--model',
    model('sklearn-logreg-zipmap.onnx'),
    '--baseline',
    model('sklearn-forest.onnx'),
    ...modelGates,
    '--report',
    o('reports/model-validation.json'),
  ],
  0,
);
mlops(
  '6. The same gates with the roles swapped: the forest loses more than 5% log loss → fails with the reason',
  [
    'validate-model',
    '--model',
    model('sklearn-forest.onnx'),
    '--baseline',
    model('sklearn-logreg-zipmap.onnx'),
    ...modelGates,
    '--report',
    o('model-report-worse.json'),
  ],
  1,
);
mlops(
  '7. Package the better model with its reports: manifest, model card, reproducible archive, provenance',
  [
    'package',
    '--model',
    model('sklearn-logreg-zipmap.onnx'),
    '--name',
    'breast-cancer',
    // Explicit, so the demo also runs outside a git checkout (else 0.0.0-<commit>).
    '--version',
    '0.1.0',
    '--reports',
    relative(root, reportsDir),
    '--contract',
    contract,
    '--profile',
    o('train-profile.json'),
    '--out',
    o('package'),
  ],
  0,
);
const archive = readdirSync(join(out, 'package')).find((name) => name.endsWith('.zip'));
mlops('8. Verify the package: every digest recomputed', ['package', 'verify', o(`package/${archive}`)], 0);
console.log(
  `\nDemo done. Reports and profiles are in ${relative(process.cwd(), out) || '.'}/ (the failing gates in steps 4 and 6 are expected: they are what a blocked merge looks like).`,
);

// Mutation testing of the decisions users rely on (issue #16): for each file below, Stryker mutates it
// (stryker.config.mjs) and runs the tests named for it, in-process; a mutant no test notices
// "survives", a bug the suite would let through.
//
//   npm run test:mutation                                        # every file (about 2–3 hours on 2 cores)
//   npm run test:mutation -- --mutate src/core/model/gates.ts    # one file (or several --mutate)
//   npm run test:mutation -- --list                              # the files and their tests
//
// Reports: reports/mutation/<file>.json and .html per file (Stryker's formats), and
// reports/mutation/summary.json with each file's score; the table is printed at the end. Not part of
// `npm test` (.ci/run): too slow for every push; .github/workflows/mutation.yml runs it on a schedule.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The files that decide, each with the in-process test files that exercise it. A file's tests are
 * the ones written for it and the ones whose assertions depend on its decisions.
 */
export const MUTATION_TARGETS = {
  // How the gates decide.
  'src/core/model/gates.ts': ['test/unit/gates.test.ts'],
  'src/core/model/classification-metrics.ts': ['test/unit/metrics.test.ts'],
  'src/core/model/regression-metrics.ts': [
    'test/unit/metrics.test.ts',
    'test/unit/regression-metrics.test.ts',
  ],
  'src/core/model/metric-states.ts': ['test/unit/metrics.test.ts', 'test/unit/block-bootstrap.test.ts'],
  'src/core/stats/multiple-testing.ts': ['test/unit/multiple-testing.test.ts', 'test/unit/drift.test.ts'],
  'src/core/stats/drift-p-values.ts': ['test/unit/drift-p-values.test.ts'],
  'src/core/stats/chi-square.ts': ['test/unit/stats.test.ts', 'test/unit/multiple-testing.test.ts'],
  'src/core/stats/kolmogorov-smirnov.ts': ['test/unit/kolmogorov-smirnov.test.ts', 'test/unit/stats.test.ts'],
  'src/core/stats/distances.ts': [
    'test/unit/distances.test.ts',
    'test/unit/stats.test.ts',
    'test/unit/drift.test.ts',
  ],
  'src/core/data/drift.ts': ['test/unit/drift.test.ts'],
  // test/hostile/contracts.test.ts runs the CLI bundle (absent from Stryker's sandbox).
  'src/core/data/contract-check.ts': ['test/unit/contract.test.ts'],
  'src/core/data/row-checks.ts': ['test/unit/row-checks.test.ts'],
  // What a package and a deployment may be.
  // test/hostile/packages.test.ts builds its package with the CLI bundle (absent from Stryker's sandbox).
  'src/core/package/verify-package.ts': ['test/unit/verify-package.test.ts'],
  // Only the in-process tests: test/hostile/packages.test.ts runs the CLI bundle, which Stryker's sandbox lacks.
  'src/core/zip/zip.ts': ['test/unit/zip.test.ts'],
  'src/core/deploy/deploy-plan.ts': ['test/unit/deploy-plan.test.ts'],
  // The flows the actions and the CLI share: which mode, which option wins, what the outputs say.
  'src/core/flows/data-gate.ts': ['test/unit/flows-data-gate.test.ts'],
  'src/core/flows/model-gate.ts': ['test/unit/flows-model-gate.test.ts'],
  'src/core/flows/package.ts': ['test/unit/flows-package.test.ts'],
  'src/core/flows/smoke-test.ts': ['test/unit/flows-smoke-test.test.ts'],
  'src/core/flows/deployment.ts': ['test/integration/deploy-flow.test.ts'],
  'src/core/flows/profile.ts': ['test/unit/flows-profile.test.ts'],
  'src/core/flows/schema.ts': ['test/unit/flows-schema.test.ts'],
  'src/core/flows/history.ts': ['test/unit/flows-history.test.ts'],
  'src/core/flows/report.ts': ['test/unit/flows-report.test.ts'],
  'src/core/flows/init.ts': ['test/unit/flows-init.test.ts'],
  'src/core/flows/oci.ts': ['test/unit/flows-oci.test.ts'],
  'src/core/flows/serve.ts': ['test/unit/flows-serve.test.ts'],
  // What reviewers read.
  'src/core/markdown.ts': ['test/unit/markdown.test.ts'],
};

const { values } = parseArgs({
  options: {
    mutate: { type: 'string', multiple: true },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node scripts/mutation.js [--mutate <file> ...] [--list]');
  process.exit(0);
}
if (values.list) {
  for (const [file, tests] of Object.entries(MUTATION_TARGETS))
    console.log(`${file}\n  ${tests.join('\n  ')}`);
  process.exit(0);
}

const chosen = values.mutate ?? Object.keys(MUTATION_TARGETS);
const unknown = chosen.filter((file) => !(file in MUTATION_TARGETS));
if (unknown.length > 0) {
  console.error(
    `No tests are named for ${unknown.join(', ')}: add the file and its tests to MUTATION_TARGETS in scripts/mutation.js.`,
  );
  process.exit(2);
}

const out = join(root, 'reports/mutation');
mkdirSync(out, { recursive: true });
const summaryFile = join(out, 'summary.json');
const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : {};
let failed = false;
for (const file of chosen) {
  const tests = MUTATION_TARGETS[file].filter((test) => existsSync(join(root, test)));
  const slug = file.replace(/^src\//, '').replace(/[/.]/g, '-');
  console.log(`\n=== ${file}: ${tests.join(', ')}`);
  const run = spawnSync('npx', ['stryker', 'run', '--mutate', file], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      MLOPS_MUTATION_TESTS: tests.join(','),
      MLOPS_MUTATION_REPORT: `reports/mutation/${slug}`,
    },
  });
  if (run.status !== 0) {
    failed = true;
    continue;
  }
  const report = JSON.parse(readFileSync(join(out, `${slug}.json`), 'utf8'));
  const mutants = Object.values(report.files).flatMap((entry) => entry.mutants);
  const count = (status) => mutants.filter((m) => m.status === status).length;
  const killed = count('Killed') + count('Timeout');
  const survived = count('Survived') + count('NoCoverage');
  const valid = killed + survived;
  summary[file] = {
    score: valid === 0 ? null : Math.round((1000 * killed) / valid) / 10,
    killed,
    survived,
    ignored: count('Ignored'),
    errors: count('CompileError') + count('RuntimeError'),
    tests,
    date: new Date().toISOString(),
  };
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
}

console.log('\n| file | score | killed | survived | ignored (equivalent) |\n| --- | --- | --- | --- | --- |');
for (const [file, entry] of Object.entries(summary)) {
  console.log(
    `| ${file} | ${entry.score ?? '–'} % | ${entry.killed} | ${entry.survived} | ${entry.ignored} |`,
  );
}
process.exit(failed ? 1 : 0);

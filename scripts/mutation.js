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
import { MUTATION_TARGETS } from './mutation-targets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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
    `No tests are named for ${unknown.join(', ')}: add the file and its tests to MUTATION_TARGETS in scripts/mutation-targets.js.`,
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

// Mutation testing of the files that hold the decisions users rely on (issue #16). Run it with
// scripts/mutation.js (npm run test:mutation [-- --mutate <file>]), which runs Stryker once per
// file with that file's tests: see the comment at the top of that script.
//
// Each mutant (a >= into >, a condition into true, two arguments swapped …) is run against the test
// files named for its source file (process.env.MLOPS_MUTATION_TESTS, set by the script) through
// Stryker's command runner: one `vitest run` per mutant, the mutant chosen by the environment
// variable Stryker sets; `--bail 1` stops at the first failing test, as one failure already kills
// the mutant (a survivor still runs every test). The Vitest runner plugin runs no test at all on Vitest 5 (every mutant
// "survives" with 0 tests completed; stryker-mutator/stryker-js#6210, #6213), so it is not used.
// Equivalent mutants are disabled where they live with a reason:
//   // Stryker disable next-line <mutator>: <reason>

// The report files, per mutated file (set by scripts/mutation.js).
const report = process.env.MLOPS_MUTATION_REPORT ?? 'reports/mutation/mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'command',
  commandRunner: {
    command:
      'node node_modules/vitest/vitest.mjs run --config vitest.mutation.config.ts --reporter dot --bail 1',
  },
  checkers: ['typescript'],
  // The checker type-checks src/ only (tsconfig.mutation.json): a mutant is a compile error when the
  // source does not compile; tests are run by Vitest, which strips types. The whole project (tests,
  // scripts, bench) doubled the checker's work, and it takes one of two cores for the whole run.
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'off',
  concurrency: 2,
  // A mutant that loops forever costs this plus 1.5 times the tests' own time (Stryker adds them).
  timeoutMS: 15_000,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  clearTextReporter: { logTests: false, reportScoreTable: true },
  jsonReporter: { fileName: `${report}.json` },
  htmlReporter: { fileName: `${report}.html` },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // Root-anchored: test/fixtures/reports is needed, /reports (Stryker's own output) is not.
  ignorePatterns: [
    '/dist',
    '/dist.tmp-*',
    '/dist-pack',
    '/bench/data',
    '/reports',
    '/.stryker-tmp',
    '/demo-output',
  ],
};

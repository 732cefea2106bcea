// The files mutation testing mutates, each with the in-process tests that guard it (issue #16);
// read by scripts/mutation.js (runs Stryker) and scripts/recheck-mutants.js.

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

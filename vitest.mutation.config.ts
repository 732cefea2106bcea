import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against each mutant: the test files scripts/mutation.js names for the file
 * being mutated (MLOPS_MUTATION_TESTS, comma-separated). A mutant is switched on by an environment
 * variable of the test process, so in-process tests kill it; bundle tests would run dist/, which
 * Stryker does not mutate, and are not named.
 */
const files = (process.env.MLOPS_MUTATION_TESTS ?? '').split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: files.length > 0 ? files : ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // @actions/workflow-parser imports its JSON schema without an import attribute.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    pool: 'forks',
    // Builds dist/ once when it is missing or older than src/: the harness runs the real bundles.
    globalSetup: ['test/setup/build-bundles.ts'],
  },
});

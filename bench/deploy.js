#!/usr/bin/env node
// Deployment pull requests against the loopback servers (issue "deploy-pr", section Speed):
//
//   npm run bench:deploy                # 5 single runs, then 10 concurrent runs
//
// Starts the tests' real git smart-HTTP server and the OpenAPI-checked GitHub stand-in, seeds an
// environment repository from templates/environment-repo, and measures (wall time, in this process):
//   single      one deployment end to end: clone, edit, commit, push, open or update the pull request;
//   concurrent  10 runs of 10 versions at once until all settle (one pull request, newest version).
// Targets: single <= 3 s; 10 concurrent <= 20 s.

import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startGitServer } = await import('../test/harness/git-server.ts');
const { startGitHubApi } = await import('../test/harness/github-api.ts');
const { deploy } = await import('../src/core/deploy/deploy.ts');
const { createGitHubPulls } = await import('../src/actions/shared/github-pulls.ts');

const REPO = 'octo-org/environments';
const git = await startGitServer();
const github = await startGitHubApi({
  repositories: [REPO],
  token: git.token,
  beforeOperation: async () => {
    for (const [ref, head] of Object.entries(await git.refs(REPO))) {
      if (ref.startsWith('refs/heads/')) github.state.setBranch(REPO, ref.slice('refs/heads/'.length), head);
    }
  },
});
try {
  const template = (path) => readFile(join(root, 'templates/environment-repo', path), 'utf8');
  await git.createRepository(REPO, {
    'README.md': await template('README.md'),
    'environments/staging/kustomization.yaml': await template('environments/staging/kustomization.yaml'),
  });
  const run = (version, model = 'churn') =>
    deploy({
      repository: git.url(REPO),
      base: 'main',
      environment: 'staging',
      model: { name: model, version },
      packageRef: `https://example.test/${model}-${version}.zip#sha256=${'ab'.repeat(32)}`,
      source: { repository: 'octo-org/churn', commit: 'c'.repeat(40) },
      deployedAt: '2026-12-01T00:00:00Z',
      auth: { token: git.token },
      pullRequests: createGitHubPulls({ token: git.token, repository: REPO, apiUrl: github.baseUrl }),
      maxAttempts: 20,
      backoffMs: 50,
    });
  const single = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await run(`1.0.${i}`);
    single.push((performance.now() - started) / 1000);
  }
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => run(`2.0.${i}`, 'fraud')));
  const concurrent = (performance.now() - started) / 1000;
  const open = github.state.pullRequests.filter((pr) => pr.state === 'open' && pr.head.endsWith('/fraud'));
  const text = await git.readFile(
    REPO,
    'mlops/deploy/staging/fraud',
    'environments/staging/models/fraud.yaml',
  );
  const best = Math.min(...single);
  console.log(
    `single deployment: best ${best.toFixed(2)} s (runs ${single.map((s) => s.toFixed(2)).join(' ')}), target <= 3 s: ${best <= 3 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `10 concurrent runs: ${concurrent.toFixed(2)} s, attempts ${results.map((r) => r.attempts).join(' ')}, ` +
      `${open.length} open pull request(s), newest version ${/version: "?([\d.]+)/.exec(text ?? '')?.[1]}; target <= 20 s: ${concurrent <= 20 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}; contract violations: ${github.violations.length}`,
  );
} finally {
  await Promise.all([git.stop(), github.stop()]);
}

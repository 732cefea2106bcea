import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const fixtures = join(repoRoot, 'test/fixtures/reports');
const REPOSITORY = 'octo-org/mlops-demo';
const MERGE_SHA = 'f'.repeat(40);

let github: GitHubApi;
let forbidden: (operationId: string) => boolean = () => false;

beforeAll(async () => {
  github = await startGitHubApi({ repositories: [REPOSITORY], forbid: (id) => forbidden(id) });
});
afterAll(async () => {
  await github?.stop();
});
beforeEach(() => {
  forbidden = () => false;
});

/** A workspace with the reports a CI run leaves in mlops-reports/. */
async function workspaceWith(reports: Record<string, string>): Promise<string> {
  const dir = await temporaryDirectory();
  await mkdir(join(dir, 'mlops-reports'));
  for (const [name, fixture] of Object.entries(reports)) {
    await copyFile(join(fixtures, fixture), join(dir, 'mlops-reports', name));
  }
  return dir;
}

function openPullRequest(branch: string, headSha: string) {
  const pr = github.state.addPullRequest(REPOSITORY, { head: branch, headSha });
  return {
    pr,
    event: { pull_request: { number: pr.number, head: { sha: headSha, ref: branch } } },
  };
}

function run(
  cwd: string,
  options: { event?: object; eventName?: string; inputs?: Record<string, string>; sha?: string } = {},
) {
  return runAction('report', {
    cwd,
    event: options.event ?? {},
    eventName: options.eventName ?? 'pull_request',
    githubToken: github.token,
    inputs: options.inputs,
    env: { GITHUB_API_URL: github.baseUrl, GITHUB_SHA: options.sha ?? MERGE_SHA },
  });
}

const runsOn = (sha: string) => github.state.checkRuns.filter((r) => r.headSha === sha);

describe('report action (bundle)', () => {
  it('comments on the pull request and creates one check run per gate on its head; a re-run updates both', async () => {
    const head = '1'.repeat(40);
    const { pr, event } = openPullRequest('feature/retrain', head);
    const cwd = await workspaceWith({
      'data-validation.json': 'data-failed.json',
      'model-validation.json': 'model-passed.json',
    });

    const first = await run(cwd, { event });
    expect(first.stderr).toBe('');
    // A failed gate does not fail the report step: the gate's own step did.
    expect(first.exitCode).toBe(0);
    expect(first.outputs.passed).toBe('false');

    const comments = github.state.comments.filter((c) => c.issueNumber === pr.number);
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    expect(comment.body.startsWith('<!-- mlops-actions:report title="CI" -->')).toBe(true);
    expect(comment.body).toContain('## ❌ CI: 1 of 2 gates failed');
    expect(comment.body).toContain('xychart-beta');
    expect(comment.body).toContain('petal length (cm)');
    expect(first.outputs['comment-url']).toMatch(
      new RegExp(`/pull/${pr.number}#issuecomment-${comment.id}$`),
    );
    expect(first.summary).toContain('## ❌ CI: 1 of 2 gates failed');

    // On the pull request's head, not on the merge commit GITHUB_SHA names.
    expect(runsOn(MERGE_SHA)).toEqual([]);
    const runs = runsOn(head);
    expect(runs.map((r) => [r.name, r.status, r.conclusion]).sort()).toEqual([
      ['mlops / data', 'completed', 'failure'],
      ['mlops / model', 'completed', 'success'],
    ]);
    const data = runs.find((r) => r.name === 'mlops / data')!;
    expect(data.output.title).toBe('Failed: 3 errors, 1 warning; 1 of 4 columns drifted in 46 rows');
    expect(data.output.summary).toContain('## ❌ Data gate failed');
    // Every example line of the located findings: 10 + 3 + 1.
    expect(data.output.annotations).toHaveLength(14);
    expect(data.output.annotations[0]).toMatchObject({
      path: 'test/fixtures/reports/iris-drifted.csv',
      start_line: 2,
      end_line: 2,
      annotation_level: 'failure',
      title: 'contract (maximum): petal length (cm)',
    });
    expect(data.output.annotations).toContainEqual(
      expect.objectContaining({ start_line: 47, annotation_level: 'warning' }),
    );
    const ids = Object.fromEntries(runs.map((r) => [r.name, r.id]));
    expect(JSON.parse(first.outputs['check-runs'])).toEqual(ids);

    // A re-run of the same commit: the same comment and check runs, updated; no annotation twice.
    const again = await run(cwd, { event });
    expect(again.exitCode).toBe(0);
    expect(github.state.comments.filter((c) => c.issueNumber === pr.number)).toHaveLength(1);
    expect(runsOn(head)).toHaveLength(2);
    expect(JSON.parse(again.outputs['check-runs'])).toEqual(ids);
    expect(github.state.checkRuns.find((r) => r.id === data.id)?.output.annotations).toHaveLength(14);
    const operations = (from: number) => github.requests.slice(from).map((r) => r.operationId);
    expect(operations(0)).toContain('issues/update-comment');
    expect(operations(0).filter((id) => id === 'checks/update')).toHaveLength(2);

    // The data fixed and pushed to the same head (a re-run after the data changed): same run, now green.
    await copyFile(join(fixtures, 'data-passed.json'), join(cwd, 'mlops-reports/data-validation.json'));
    const fixed = await run(cwd, { event });
    expect(fixed.outputs.passed).toBe('true');
    expect(github.state.checkRuns.find((r) => r.id === data.id)).toMatchObject({ conclusion: 'success' });
    expect(runsOn(head)).toHaveLength(2);
    const updated = github.state.comments.filter((c) => c.issueNumber === pr.number);
    expect(updated).toHaveLength(1);
    expect(updated[0].body).toContain('## ✅ CI: all 2 gates passed');
    expect(github.violations).toEqual([]);
  });

  it('on a push, comments on the commit (sticky too) and checks the pushed commit', async () => {
    const sha = '2'.repeat(40);
    const cwd = await workspaceWith({ 'model-validation.json': 'model-failed.json' });
    const first = await run(cwd, { eventName: 'push', sha });
    expect(first.exitCode).toBe(0);
    const again = await run(cwd, { eventName: 'push', sha });
    expect(again.exitCode).toBe(0);
    const comments = github.state.commitComments.filter((c) => c.commitSha === sha);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('## ❌ CI: 1 of 1 gate failed');
    expect(comments[0].body).toContain('log_loss');
    expect(again.outputs['comment-url']).toContain(`/commit/${sha}#commitcomment-${comments[0].id}`);
    expect(runsOn(sha).map((r) => [r.name, r.conclusion])).toEqual([['mlops / model', 'failure']]);
    expect(github.violations).toEqual([]);
  });

  it('names one check per report when a gate ran twice, and keeps comments of other titles apart', async () => {
    const sha = '3'.repeat(40);
    const cwd = await workspaceWith({
      'model-candidate.json': 'model-passed.json',
      'model-challenger.json': 'model-failed.json',
    });
    const result = await run(cwd, { eventName: 'push', sha, inputs: { title: 'Nightly' } });
    expect(result.exitCode).toBe(0);
    expect(
      runsOn(sha)
        .map((r) => [r.name, r.conclusion])
        .sort(),
    ).toEqual([
      ['mlops / model (model-candidate)', 'success'],
      ['mlops / model (model-challenger)', 'failure'],
    ]);
    await run(cwd, { eventName: 'push', sha, inputs: { title: 'CI' } });
    const bodies = github.state.commitComments.filter((c) => c.commitSha === sha).map((c) => c.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toContain('title="Nightly"');
    expect(bodies[1]).toContain('title="CI"');
    expect(github.violations).toEqual([]);
  });

  it('warns, and does not fail, when the token may not create check runs or comments (403)', async () => {
    const head = '4'.repeat(40);
    const { pr, event } = openPullRequest('feature/no-checks', head);
    const cwd = await workspaceWith({ 'data-validation.json': 'data-passed.json' });
    forbidden = (id) => id.startsWith('checks/');
    const noChecks = await run(cwd, { event });
    expect(noChecks.exitCode).toBe(0);
    expect(runsOn(head)).toEqual([]);
    expect(noChecks.outputs['check-runs']).toBe('{}');
    expect(noChecks.annotations).toContainEqual(
      expect.objectContaining({ level: 'warning', message: expect.stringContaining('checks: write') }),
    );
    // The comment still went out.
    expect(github.state.comments.filter((c) => c.issueNumber === pr.number)).toHaveLength(1);

    forbidden = (id) => id.startsWith('issues/');
    const { pr: other, event: otherEvent } = openPullRequest('feature/no-comments', '5'.repeat(40));
    const noComment = await run(cwd, { event: otherEvent });
    expect(noComment.exitCode).toBe(0);
    expect(github.state.comments.filter((c) => c.issueNumber === other.number)).toEqual([]);
    expect(noComment.annotations).toContainEqual(
      expect.objectContaining({ level: 'warning', message: expect.stringContaining('pull-requests: write') }),
    );
    expect(runsOn('5'.repeat(40))).toHaveLength(1);
    expect(github.violations).toEqual([]);
  });

  it('fails with an error naming the file for a report that is not a gate report, or no report at all', async () => {
    const cwd = await workspaceWith({ 'model-validation.json': 'model-passed.json' });
    await writeFile(
      join(cwd, 'mlops-reports/profile.json'),
      JSON.stringify({ kind: 'data-profile', rows: 3 }),
    );
    const before = github.requests.length;
    const wrongKind = await run(cwd, { eventName: 'push' });
    expect(wrongKind.exitCode).toBe(1);
    expect(wrongKind.annotations).toContainEqual(
      expect.objectContaining({
        level: 'error',
        file: 'mlops-reports/profile.json',
        message: expect.stringMatching(
          /mlops-reports\/profile\.json is not a gate report: its kind is "data-profile"/,
        ),
      }),
    );
    // Nothing half-published.
    expect(github.requests.length).toBe(before);

    const broken = JSON.parse(await readFile(join(fixtures, 'model-passed.json'), 'utf8'));
    delete broken.gates;
    await writeFile(join(cwd, 'mlops-reports/profile.json'), JSON.stringify(broken));
    const invalid = await run(cwd, { eventName: 'push' });
    expect(invalid.exitCode).toBe(1);
    expect(invalid.annotations[0]?.message).toMatch(
      /profile\.json does not match the model-validation report schema/,
    );

    const none = await run(cwd, { eventName: 'push', inputs: { reports: 'reports/*.json' } });
    expect(none.exitCode).toBe(1);
    expect(none.annotations[0]?.message).toMatch(/No file matches "reports\/\*\.json"/);
    expect(github.requests.length).toBe(before);
  });
});

describe('mlops report (CLI)', () => {
  it('renders the same Markdown locally, without any API', async () => {
    const cwd = await workspaceWith({
      'data-validation.json': 'data-failed.json',
      'model-validation.json': 'model-passed.json',
    });
    const run = await runCli(
      ['report', '--reports', 'mlops-reports/*.json', '--title', 'CI', '--out', 'comment.md', '--json'],
      { cwd },
    );
    expect(run.code).toBe(0);
    const { stdout } = run;
    expect(JSON.parse(stdout)).toEqual({
      passed: false,
      gates: [
        { name: 'mlops / data', file: 'mlops-reports/data-validation.json', conclusion: 'failure' },
        { name: 'mlops / model', file: 'mlops-reports/model-validation.json', conclusion: 'success' },
      ],
      out: 'comment.md',
    });
    const markdown = await readFile(join(cwd, 'comment.md'), 'utf8');
    expect(
      markdown.startsWith('<!-- mlops-actions:report title="CI" -->\n## ❌ CI: 1 of 2 gates failed'),
    ).toBe(true);
    // As a shell expands `--reports mlops-reports/*.json`: the second file is an argument, not dropped.
    const expanded = await runCli(
      [
        'report',
        '--reports',
        'mlops-reports/data-validation.json',
        'mlops-reports/model-validation.json',
        '--json',
      ],
      { cwd },
    );
    expect(expanded.code).toBe(0);
    expect(JSON.parse(expanded.stdout).gates).toHaveLength(2);
    // A file that is not a gate report is a usage error (exit 2) naming it.
    await writeFile(join(cwd, 'mlops-reports/other.json'), '{"kind":"model-package"}');
    const failed = await runCli(['report'], { cwd });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/mlops-reports\/other\.json is not a gate report/);
  });
});

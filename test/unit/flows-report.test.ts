/**
 * runReport (src/core/flows/report.ts), in process, on the committed gate reports: which reports are
 * read (the request's, else mlops-reports/*.json), the verdicts and the Markdown, the out file, and
 * what the action publishes through its ports: check runs on the pull request's head (not the test
 * merge commit), the comment on the pull request or the pushed commit (none on other events), the
 * token required to publish, and a refused permission turned into a warning while other errors fail.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import {
  type CommentTarget,
  type ReportEvent,
  type ReportPorts,
  type ReportPublication,
  type ReportRequest,
  runReport,
} from '../../src/core/flows/report.ts';
import { commentMarker } from '../../src/core/report/render-pr-report.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const FIXTURES = join(repoRoot, 'test/fixtures/reports');
const HEAD = 'a'.repeat(40);
const MERGE = 'b'.repeat(40);

/** A folder with data-passed.json and model-failed.json in mlops-reports/, as the gates leave them. */
async function workspace(): Promise<string> {
  const cwd = await temporaryDirectory('flows-report-');
  await mkdir(join(cwd, 'mlops-reports'));
  for (const name of ['data-passed.json', 'model-failed.json'])
    await copyFile(join(FIXTURES, name), join(cwd, 'mlops-reports', name));
  return cwd;
}

const PUBLISH: ReportPublication = {
  comment: true,
  checks: true,
  token: 'ghs_test',
  workspace: '/',
  names: { token: 'token', comment: 'comment', checks: 'checks' },
};

/** A publisher that records its calls; `refuse` makes a call fail with that error. */
function recording(refuse: { checks?: unknown; comment?: unknown } = {}) {
  const calls = {
    checkRuns: [] as {
      name: string;
      conclusion: string;
      headSha: string;
      externalId: string;
      runUrl?: string;
    }[],
    comments: [] as { target: CommentTarget; marker: string; body: string }[],
    tokens: [] as string[],
  };
  const said: string[] = [];
  const warnings: { message: string; title: string }[] = [];
  const ports: ReportPorts = {
    createPublisher(token) {
      calls.tokens.push(token);
      return {
        async upsertCheckRun(run, headSha, externalId, runUrl) {
          if (refuse.checks) throw refuse.checks;
          calls.checkRuns.push({ name: run.name, conclusion: run.conclusion, headSha, externalId, runUrl });
          return { id: calls.checkRuns.length, operation: 'created' };
        },
        async upsertComment(target, marker, body) {
          if (refuse.comment) throw refuse.comment;
          calls.comments.push({ target, marker, body });
          return { url: 'https://github.invalid/comment/1', operation: 'created' };
        },
      };
    },
    deniedPermission: (error) => (error instanceof Denied ? error.permission : undefined),
    say: {
      info: (message) => said.push(message),
      warning: (message, title) => warnings.push({ message, title }),
    },
  };
  return { calls, said, warnings, ports };
}

class Denied extends Error {
  readonly permission: string;
  constructor(permission: string) {
    super('The token may not do that (403).');
    this.permission = permission;
  }
}

const pullRequestEvent: ReportEvent = {
  name: 'pull_request',
  pullRequest: { number: 7, head: { sha: HEAD } },
  sha: MERGE,
  runUrl: 'https://github.invalid/octo/repo/actions/runs/1',
};

async function request(overrides: Partial<ReportRequest> = {}): Promise<ReportRequest> {
  return { cwd: await workspace(), title: 'CI', ...overrides };
}

describe('runReport', () => {
  it('reads mlops-reports/*.json when the request lists none, and says which gates failed', async () => {
    const result = await runReport(await request());
    expect(result.gates).toEqual([
      { name: 'mlops / data', file: join('mlops-reports', 'data-passed.json'), conclusion: 'success' },
      { name: 'mlops / model', file: join('mlops-reports', 'model-failed.json'), conclusion: 'failure' },
    ]);
    expect(result.passed).toBe(false);
    expect(result.markdown).toContain('CI');
    expect(result.checkRuns).toEqual({});
    expect(result.out).toBeUndefined();
  });

  it('reads only the reports the request lists; an empty list is refused', async () => {
    const cwd = await workspace();
    const result = await runReport({ cwd, title: 'CI', reports: ['mlops-reports/data-*.json'] });
    expect(result.gates.map((gate) => gate.conclusion)).toEqual(['success']);
    expect(result.passed).toBe(true);
    await expect(runReport({ cwd, title: 'CI', reports: [] })).rejects.toThrow(InputError);
  });

  it('writes the Markdown to out, and refuses an out path that is a report before reading any', async () => {
    const cwd = await workspace();
    const out = join(cwd, 'comment.md');
    const result = await runReport({ cwd, title: 'CI', out, names: { out: '--out' } });
    expect(result.out).toBe(out);
    expect(await readFile(out, 'utf8')).toBe(result.markdown);
    const report = join(cwd, 'mlops-reports/data-passed.json');
    const before = await readFile(report, 'utf8');
    await expect(
      runReport({ cwd, title: 'CI', reports: [report], out: report, names: { out: '--out' } }),
    ).rejects.toThrow(`--out ${report} is the report ${report}`);
    expect(await readFile(report, 'utf8')).toBe(before);
    // Without the adapter's names, the request's own field name.
    await expect(runReport({ cwd, title: 'CI', reports: [report], out: report })).rejects.toThrow(
      `out ${report} is the report ${report}`,
    );
  });

  it('publishes a check run per gate on the head of the pull request, and comments on the pull request', async () => {
    const { calls, said, ports } = recording();
    let renderedFirst = false;
    const result = await runReport(await request({ event: pullRequestEvent, publish: PUBLISH }), {
      ...ports,
      rendered: (rendered) => {
        renderedFirst = calls.checkRuns.length === 0 && calls.comments.length === 0;
        expect(rendered.passed).toBe(false);
      },
    });
    expect(renderedFirst).toBe(true);
    expect(calls.tokens).toEqual(['ghs_test']);
    expect(calls.checkRuns).toEqual([
      {
        name: 'mlops / data',
        conclusion: 'success',
        headSha: HEAD,
        externalId: 'mlops-actions/report:CI',
        runUrl: pullRequestEvent.runUrl,
      },
      {
        name: 'mlops / model',
        conclusion: 'failure',
        headSha: HEAD,
        externalId: 'mlops-actions/report:CI',
        runUrl: pullRequestEvent.runUrl,
      },
    ]);
    expect(calls.comments).toEqual([
      { target: { pullRequest: 7 }, marker: commentMarker('CI'), body: result.markdown },
    ]);
    expect(result.markdown).toContain(HEAD.slice(0, 12));
    expect(result.markdown).not.toContain(MERGE.slice(0, 12));
    expect(result.markdown).toContain(pullRequestEvent.runUrl);
    expect(result.checkRuns).toEqual({ 'mlops / data': 1, 'mlops / model': 2 });
    expect(result.commentUrl).toBe('https://github.invalid/comment/1');
    expect(said).toContain('Report comment created: https://github.invalid/comment/1');
    expect(said.filter((m) => m.startsWith('Check run '))).toEqual([
      expect.stringMatching(/^Check run "mlops \/ data" created: success \(.+\)\.$/),
      expect.stringMatching(/^Check run "mlops \/ model" created: failure \(.+\)\.$/),
    ]);
  });

  it('treats pull_request_target and pull_request_review like pull_request', async () => {
    for (const name of ['pull_request_target', 'pull_request_review']) {
      const { calls, ports } = recording();
      await runReport(await request({ event: { ...pullRequestEvent, name }, publish: PUBLISH }), ports);
      expect(
        calls.comments.map((c) => c.target),
        name,
      ).toEqual([{ pullRequest: 7 }]);
      expect(
        calls.checkRuns.map((c) => c.headSha),
        name,
      ).toEqual([HEAD, HEAD]);
    }
  });

  it('comments on the pushed commit on a push, and nowhere on other events', async () => {
    const push = recording();
    await runReport(await request({ event: { name: 'push', sha: MERGE }, publish: PUBLISH }), push.ports);
    expect(push.calls.comments.map((c) => c.target)).toEqual([{ commit: MERGE }]);
    expect(push.calls.checkRuns.map((c) => c.headSha)).toEqual([MERGE, MERGE]);

    const dispatch = recording();
    // A payload's pull request counts only on pull-request events.
    const event = { name: 'workflow_dispatch', sha: MERGE, pullRequest: { number: 7, head: { sha: HEAD } } };
    const result = await runReport(await request({ event, publish: PUBLISH }), dispatch.ports);
    expect(dispatch.calls.comments).toEqual([]);
    expect(dispatch.calls.checkRuns.map((c) => c.headSha)).toEqual([MERGE, MERGE]);
    expect(result.commentUrl).toBeUndefined();
    expect(dispatch.said).toContain(
      'No comment on a workflow_dispatch event (comments go on pull requests and pushed commits): the report is in the job summary.',
    );
  });

  it('publishes only what the request asks for', async () => {
    const onlyChecks = recording();
    await runReport(
      await request({ event: pullRequestEvent, publish: { ...PUBLISH, comment: false } }),
      onlyChecks.ports,
    );
    expect([onlyChecks.calls.checkRuns.length, onlyChecks.calls.comments.length]).toEqual([2, 0]);
    const onlyComment = recording();
    await runReport(
      await request({ event: pullRequestEvent, publish: { ...PUBLISH, checks: false } }),
      onlyComment.ports,
    );
    expect([onlyComment.calls.checkRuns.length, onlyComment.calls.comments.length]).toEqual([0, 1]);
    const neither = recording();
    const result = await runReport(
      await request({
        event: pullRequestEvent,
        publish: { ...PUBLISH, checks: false, comment: false, token: undefined },
      }),
      neither.ports,
    );
    expect(neither.calls.tokens).toEqual([]);
    expect(result.checkRuns).toEqual({});
  });

  it('refuses to publish without a token, naming the inputs, after rendering', async () => {
    const { ports } = recording();
    let rendered = false;
    const error = await runReport(
      await request({ event: pullRequestEvent, publish: { ...PUBLISH, token: undefined } }),
      {
        ...ports,
        rendered: () => {
          rendered = true;
        },
      },
    ).catch((e: unknown) => e);
    expect(rendered).toBe(true);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      'Input "token" is empty: the comment and the check runs need a token (default: the job\'s GITHUB_TOKEN), or set "comment" and "checks" to false.',
    );
    // Either of the two needs it.
    for (const publish of [
      { ...PUBLISH, token: undefined, comment: false },
      { ...PUBLISH, token: undefined, checks: false },
    ]) {
      await expect(runReport(await request({ event: pullRequestEvent, publish }), ports)).rejects.toThrow(
        ConfigurationError,
      );
    }
  });

  it('turns a refused permission into a warning naming it, and fails on any other error', async () => {
    const refused = recording({
      checks: new Denied('checks: write'),
      comment: new Denied('pull-requests: write'),
    });
    const result = await runReport(
      await request({ event: pullRequestEvent, publish: PUBLISH }),
      refused.ports,
    );
    expect(result.checkRuns).toEqual({});
    expect(result.commentUrl).toBeUndefined();
    expect(refused.warnings).toEqual([
      {
        title: 'mlops report: no check runs',
        message:
          'The token may not do that (403). No check runs were published: add `permissions: checks: write` to the job (pull requests from forks get a read-only token).',
      },
      {
        title: 'mlops report: no comment',
        message:
          'The token may not do that (403). The report is in the job summary only: add `permissions: pull-requests: write` to the job (pull requests from forks get a read-only token).',
      },
    ]);
    const broken = recording({ comment: new Error('socket hang up') });
    await expect(
      runReport(await request({ event: pullRequestEvent, publish: PUBLISH }), broken.ports),
    ).rejects.toThrow('socket hang up');
  });
});

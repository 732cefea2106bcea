/**
 * report: what reviewers see on a pull request, rendered from the gates' JSON reports: one sticky
 * comment per workflow (a commit comment on pushes) and one check run per gate, plus the job
 * summary. A failed gate does not fail this step (the gate's own step already did); only the
 * report's own errors do (no report found, a file that is not a gate report, a bad input).
 */
import * as core from '@actions/core';
import { context } from '@actions/github';
import { ConfigurationError } from '../core/errors.ts';
import { findReportFiles, nameGateChecks, readGateReports } from '../core/report/gate-reports.ts';
import { renderGateCheckRun } from '../core/report/render-check-run.ts';
import { allGatesPassed, commentMarker, renderPullRequestReport } from '../core/report/render-pr-report.ts';
import { type CommentTarget, createReportPublisher, PermissionDenied } from './shared/github-report.ts';
import { getBooleanInput, getListInput, getOptionalInput } from './shared/inputs.ts';
import { runAction } from './shared/run-action.ts';

/** Input and output names, defined once (they match actions/report/action.yml). */
export const INPUTS = {
  reports: 'reports',
  token: 'token',
  comment: 'comment',
  checks: 'checks',
  title: 'title',
} as const;

export const OUTPUTS = {
  passed: 'passed',
  commentUrl: 'comment-url',
  checkRuns: 'check-runs',
} as const;

/** Events whose payload names a pull request: the comment goes there, the checks on its head. */
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review']);

interface Inputs {
  reports: string[];
  token?: string;
  comment: boolean;
  checks: boolean;
  title: string;
}

function getInputs(): Inputs {
  return {
    // One path or glob per line: a glob may hold a comma (`{data,model}.json`).
    reports: getListInput(INPUTS.reports, 'lines'),
    token: getOptionalInput(INPUTS.token),
    comment: getBooleanInput(INPUTS.comment) ?? true,
    checks: getBooleanInput(INPUTS.checks) ?? true,
    title: getOptionalInput(INPUTS.title) ?? context.workflow ?? 'mlops',
  };
}

async function main(): Promise<void> {
  const inputs = getInputs();
  if (inputs.token) core.setSecret(inputs.token);
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const files = await findReportFiles(inputs.reports, process.cwd());
  const reports = await readGateReports(files, process.cwd());
  for (const entry of reports) {
    if (entry.inconsistency)
      core.warning(entry.inconsistency, { title: 'mlops report: inconsistent report' });
  }
  const names = nameGateChecks(reports);
  const pullRequest = PULL_REQUEST_EVENTS.has(context.eventName)
    ? (context.payload.pull_request as { number: number; head: { sha: string } } | undefined)
    : undefined;
  // On pull_request events GITHUB_SHA is the test merge commit; reviewers look at the head.
  const headSha = pullRequest?.head.sha ?? context.sha;
  const runUrl =
    context.runId && context.repo.owner
      ? `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`
      : undefined;
  const passed = allGatesPassed(reports);
  const markdown = renderPullRequestReport(reports, { title: inputs.title, names, commit: headSha, runUrl });
  core.setOutput(OUTPUTS.passed, String(passed));
  await core.summary.addRaw(markdown).write();

  if ((inputs.comment || inputs.checks) && !inputs.token) {
    throw new ConfigurationError(
      `Input "${INPUTS.token}" is empty: the comment and the check runs need a token (default: the job's GITHUB_TOKEN), or set "${INPUTS.comment}" and "${INPUTS.checks}" to false.`,
    );
  }
  const publisher = inputs.token
    ? createReportPublisher({
        token: inputs.token,
        repository: `${context.repo.owner}/${context.repo.repo}`,
        apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
      })
    : undefined;

  const checkRuns: Record<string, number> = {};
  if (inputs.checks && publisher) {
    try {
      for (const [index, entry] of reports.entries()) {
        const run = renderGateCheckRun(entry, names[index], workspace);
        const result = await publisher.upsertCheckRun(
          run,
          headSha,
          `mlops-actions/report:${inputs.title}`,
          runUrl,
        );
        checkRuns[run.name] = result.id;
        core.info(`Check run "${run.name}" ${result.operation}: ${run.conclusion} (${run.title}).`);
      }
    } catch (error) {
      if (!(error instanceof PermissionDenied)) throw error;
      core.warning(
        `${error.message} No check runs were published: add \`permissions: ${error.permission}\` to the job (pull requests from forks get a read-only token).`,
        { title: 'mlops report: no check runs' },
      );
    }
  }
  core.setOutput(OUTPUTS.checkRuns, JSON.stringify(checkRuns));

  if (inputs.comment && publisher) {
    const target: CommentTarget | undefined = pullRequest
      ? { pullRequest: pullRequest.number }
      : context.eventName === 'push'
        ? { commit: context.sha }
        : undefined;
    if (!target) {
      core.info(
        `No comment on a ${context.eventName} event (comments go on pull requests and pushed commits): the report is in the job summary.`,
      );
    } else {
      try {
        const comment = await publisher.upsertComment(target, commentMarker(inputs.title), markdown);
        core.setOutput(OUTPUTS.commentUrl, comment.url);
        core.info(`Report comment ${comment.operation}: ${comment.url}`);
      } catch (error) {
        if (!(error instanceof PermissionDenied)) throw error;
        core.warning(
          `${error.message} The report is in the job summary only: add \`permissions: ${error.permission}\` to the job (pull requests from forks get a read-only token).`,
          { title: 'mlops report: no comment' },
        );
      }
    }
  }

  const failed = reports.filter((entry) => !entry.report.passed).length;
  core.info(
    passed
      ? `All ${reports.length} gate report(s) passed.`
      : `${failed} of ${reports.length} gate report(s) failed; the gate steps fail the job, this step does not.`,
  );
}

await runAction(main);

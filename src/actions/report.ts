/**
 * report: what reviewers see on a pull request, rendered from the gates' JSON reports: one sticky
 * comment per workflow (a commit comment on pushes) and one check run per gate, plus the job
 * summary. A failed gate does not fail this step (the gate's own step already did); only the
 * report's own errors do (no report found, a file that is not a gate report, a bad input).
 */
import * as core from '@actions/core';
import { context } from '@actions/github';
import { runReport } from '../core/flows/report.ts';
import { createReportPublisher, PermissionDenied } from './shared/github-report.ts';
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
  const result = await runReport(
    {
      reports: inputs.reports,
      cwd: process.cwd(),
      title: inputs.title,
      event: {
        name: context.eventName,
        pullRequest: context.payload.pull_request as { number: number; head: { sha: string } } | undefined,
        sha: context.sha,
        runUrl:
          context.runId && context.repo.owner
            ? `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`
            : undefined,
      },
      publish: {
        comment: inputs.comment,
        checks: inputs.checks,
        token: inputs.token,
        workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
        names: { token: INPUTS.token, comment: INPUTS.comment, checks: INPUTS.checks },
      },
    },
    {
      async rendered({ reports, passed, markdown }) {
        for (const entry of reports) {
          if (entry.inconsistency)
            core.warning(entry.inconsistency, { title: 'mlops report: inconsistent report' });
        }
        core.setOutput(OUTPUTS.passed, String(passed));
        await core.summary.addRaw(markdown).write();
      },
      createPublisher: (token) =>
        createReportPublisher({
          token,
          repository: `${context.repo.owner}/${context.repo.repo}`,
          apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
        }),
      deniedPermission: (error) => (error instanceof PermissionDenied ? error.permission : undefined),
      say: { info: core.info, warning: (message, title) => core.warning(message, { title }) },
    },
  );
  core.setOutput(OUTPUTS.checkRuns, JSON.stringify(result.checkRuns));
  if (result.commentUrl) core.setOutput(OUTPUTS.commentUrl, result.commentUrl);
  const failed = result.reports.filter((entry) => !entry.report.passed).length;
  core.info(
    result.passed
      ? `All ${result.reports.length} gate report(s) passed.`
      : `${failed} of ${result.reports.length} gate report(s) failed; the gate steps fail the job, this step does not.`,
  );
}

await runAction(main);

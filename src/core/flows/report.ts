/**
 * The pull-request report as one flow, shared by the report action and `mlops report`: the gate
 * reports are found (the request's paths and globs, else mlops-reports/*.json), read and named, and
 * the Markdown rendered once; the CLI writes it where `out` says; the action publishes it on GitHub
 * through its ports: one check run per gate on the commit reviewers look at (a pull request's head,
 * not its test merge commit), and the sticky comment on the pull request or the pushed commit. A token
 * that may not publish is a warning naming the permission, not a failure: the gates decide that.
 */
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath, writeFileAtomic } from '../files.ts';
import { findReportFiles, type GateReport, nameGateChecks, readGateReports } from '../report/gate-reports.ts';
import { concludeGate, type GateCheckRun, renderGateCheckRun } from '../report/render-check-run.ts';
import { allGatesPassed, commentMarker, renderPullRequestReport } from '../report/render-pr-report.ts';

/** The reports read when the request lists none (the action's default input too). */
export const DEFAULT_REPORT_PATTERNS = ['mlops-reports/*.json'];

/** Events whose payload names a pull request: the comment goes there, the checks on its head. */
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review']);

/** Where the sticky comment goes. */
export type CommentTarget = { pullRequest: number } | { commit: string };

/** The GitHub event the report is published for (the action's context). */
export interface ReportEvent {
  /** e.g. `pull_request`, `push`. */
  name: string;
  /** The event payload's `pull_request`, when it has one. */
  pullRequest?: { number: number; head: { sha: string } };
  /** The run's commit (GITHUB_SHA): on pull_request events, the test merge commit. */
  sha: string;
  /** The workflow run's page. */
  runUrl?: string;
}

/** What the action publishes, and with which token. */
export interface ReportPublication {
  comment: boolean;
  checks: boolean;
  token?: string;
  /** The checkout's folder: report paths in check-run annotations are made relative to it. */
  workspace: string;
  /** How the action names its inputs, for messages. */
  names: { token: string; comment: string; checks: string };
}

export interface ReportRequest {
  /** Report paths and globs, relative to `cwd`; undefined: {@link DEFAULT_REPORT_PATTERNS}. */
  reports?: string[];
  cwd: string;
  title: string;
  /** Write the Markdown here (checked against the reports before any is read). */
  out?: string;
  /** The event the report is for: its commit and run are named in the Markdown. */
  event?: ReportEvent;
  /** Publish on GitHub (the action); needs `event`. */
  publish?: ReportPublication;
  /** How the adapter names the out flag, for messages (only with `out`). */
  names?: { out: string };
}

/** The GitHub calls publishing needs; the adapter makes them (Octokit). */
export interface ReportPublisher {
  upsertCheckRun(
    run: GateCheckRun,
    headSha: string,
    externalId: string,
    runUrl?: string,
  ): Promise<{ id: number; operation: string }>;
  upsertComment(
    target: CommentTarget,
    marker: string,
    body: string,
  ): Promise<{ url: string; operation: string }>;
}

export interface ReportPorts {
  /** Called once the Markdown is rendered, before anything is published (the job summary). */
  rendered?(result: RenderedReport): void | Promise<void>;
  /** Makes the publisher with the token; only called when something is published. */
  createPublisher?(token: string): ReportPublisher;
  /** The permission a refused publication needs (`checks: write`), or undefined for any other error. */
  deniedPermission?(error: unknown): string | undefined;
  /** Where publishing says what it did; warnings carry a title (an annotation's). */
  say?: { info(message: string): void; warning(message: string, title: string): void };
}

/** The report as rendered from the gates' reports. */
export interface RenderedReport {
  reports: GateReport[];
  /** Each gate's check name, in the order of `reports`. */
  names: string[];
  markdown: string;
  passed: boolean;
  gates: { name: string; file: string; conclusion: string }[];
  /** Where the Markdown was written, when the request named a path. */
  out?: string;
}

export interface ReportResult extends RenderedReport {
  /** Check run ids by name (empty when none were published). */
  checkRuns: Record<string, number>;
  commentUrl?: string;
}

/**
 * Renders (and writes or publishes) the report of the request's gate reports. Throws `InputError`
 * when a report is missing or is not a gate report, `ConfigurationError` for an out path that is a
 * report and for publishing without a token; a failed gate is `passed: false`, not an error.
 */
export async function runReport(request: ReportRequest, ports: ReportPorts = {}): Promise<ReportResult> {
  const files = await findReportFiles(request.reports ?? DEFAULT_REPORT_PATTERNS, request.cwd);
  const { out } = request;
  if (out)
    checkOutputPath(
      out,
      files.map((path) => ({ label: 'the report', path })),
      request.names?.out ?? 'out',
    );
  const reports = await readGateReports(files, request.cwd);
  const names = nameGateChecks(reports);
  const event = request.event;
  const pullRequest =
    event && PULL_REQUEST_EVENTS.has(event.name) && event.pullRequest ? event.pullRequest : undefined;
  // On pull_request events GITHUB_SHA is the test merge commit; reviewers look at the head.
  const headSha = event ? (pullRequest?.head.sha ?? event.sha) : undefined;
  const markdown = renderPullRequestReport(reports, {
    title: request.title,
    names,
    ...(headSha ? { commit: headSha } : {}),
    ...(event?.runUrl ? { runUrl: event.runUrl } : {}),
  });
  if (out) await writeFileAtomic(out, markdown);
  const rendered: RenderedReport = {
    reports,
    names,
    markdown,
    passed: allGatesPassed(reports),
    gates: reports.map((entry, index) => ({
      name: names[index],
      file: entry.file,
      conclusion: concludeGate(entry),
    })),
    ...(out ? { out } : {}),
  };
  await ports.rendered?.(rendered);
  if (!request.publish || !event || headSha === undefined) return { ...rendered, checkRuns: {} };
  return {
    ...rendered,
    ...(await publish(rendered, request.publish, event, pullRequest, headSha, request.title, ports)),
  };
}

/** The check runs and the comment, each skipped with a warning when the token may not publish it. */
async function publish(
  rendered: RenderedReport,
  publication: ReportPublication,
  event: ReportEvent,
  pullRequest: ReportEvent['pullRequest'],
  headSha: string,
  title: string,
  ports: ReportPorts,
): Promise<{ checkRuns: Record<string, number>; commentUrl?: string }> {
  const { names } = publication;
  if ((publication.comment || publication.checks) && !publication.token) {
    throw new ConfigurationError(
      `Input "${names.token}" is empty: the comment and the check runs need a token (default: the job's GITHUB_TOKEN), or set "${names.comment}" and "${names.checks}" to false.`,
    );
  }
  const say = ports.say ?? { info() {}, warning() {} };
  const publisher = publication.token ? ports.createPublisher?.(publication.token) : undefined;
  /** The permission a refused call needs; any other error is rethrown. */
  const denied = (error: unknown): string => {
    const permission = ports.deniedPermission?.(error);
    if (permission === undefined) throw error;
    return permission;
  };

  const checkRuns: Record<string, number> = {};
  if (publication.checks && publisher) {
    try {
      for (const [index, entry] of rendered.reports.entries()) {
        const run = renderGateCheckRun(entry, rendered.names[index], publication.workspace);
        const result = await publisher.upsertCheckRun(
          run,
          headSha,
          `mlops-actions/report:${title}`,
          event.runUrl,
        );
        checkRuns[run.name] = result.id;
        say.info(`Check run "${run.name}" ${result.operation}: ${run.conclusion} (${run.title}).`);
      }
    } catch (error) {
      const permission = denied(error);
      say.warning(
        `${(error as Error).message} No check runs were published: add \`permissions: ${permission}\` to the job (pull requests from forks get a read-only token).`,
        'mlops report: no check runs',
      );
    }
  }

  if (!publication.comment || !publisher) return { checkRuns };
  const target: CommentTarget | undefined = pullRequest
    ? { pullRequest: pullRequest.number }
    : event.name === 'push'
      ? { commit: event.sha }
      : undefined;
  if (!target) {
    say.info(
      `No comment on a ${event.name} event (comments go on pull requests and pushed commits): the report is in the job summary.`,
    );
    return { checkRuns };
  }
  try {
    const comment = await publisher.upsertComment(target, commentMarker(title), rendered.markdown);
    say.info(`Report comment ${comment.operation}: ${comment.url}`);
    return { checkRuns, commentUrl: comment.url };
  } catch (error) {
    const permission = denied(error);
    say.warning(
      `${(error as Error).message} The report is in the job summary only: add \`permissions: ${permission}\` to the job (pull requests from forks get a read-only token).`,
      'mlops report: no comment',
    );
    return { checkRuns };
  }
}

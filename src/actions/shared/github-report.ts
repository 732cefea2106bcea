/**
 * Publishing the report on GitHub (REST, through Octokit): the sticky comment of a pull request or
 * a commit, found again by its hidden marker and updated in place; and one check run per gate,
 * found again on a re-run (same name, same commit, our external_id) and updated.
 *
 * A token without the permission (403) is not a crash: the caller turns {@link PermissionDenied}
 * into a warning that names the permission to add.
 */
import { getOctokit } from '@actions/github';
import { ConfigurationError } from '../../core/errors.ts';
import type { CheckAnnotation, GateCheckRun } from '../../core/report/render-check-run.ts';
import { classifyApiError } from '../../github/errors.ts';

type Octokit = ReturnType<typeof getOctokit>;

/** The token may not do this (403): `permission` is what the job's `permissions:` needs. */
export class PermissionDenied extends Error {
  override name = 'PermissionDenied';
  readonly permission: string;
  constructor(message: string, permission: string) {
    super(message);
    this.permission = permission;
  }
}

/** Where the sticky comment goes. */
export type CommentTarget = { pullRequest: number } | { commit: string };

/** What the report published. */
export interface PublishedComment {
  id: number;
  url: string;
  operation: 'created' | 'updated';
}

/** A GitHub client for `repository` (owner/name) at `apiUrl`. */
export function createReportPublisher(options: { token: string; repository: string; apiUrl: string }) {
  const [owner, repo] = options.repository.split('/');
  if (!owner || !repo) {
    throw new ConfigurationError(`GITHUB_REPOSITORY must be owner/name; got "${options.repository}".`);
  }
  const octokit: Octokit = getOctokit(options.token, { baseUrl: options.apiUrl.replace(/\/+$/, '') });

  const call = async <T>(operation: string, permission: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      const problem = classifyApiError(error);
      const reason = (error as Error).message;
      if (problem === 'forbidden') {
        throw new PermissionDenied(
          `The token may not ${operation} on ${options.repository} (403: ${reason}).`,
          permission,
        );
      }
      if (problem === 'token-refused') {
        throw new ConfigurationError(
          `GitHub refused the token while trying to ${operation} (401: ${reason}): pass a valid token in the "token" input (default: the job's GITHUB_TOKEN).`,
        );
      }
      throw error;
    }
  };

  return {
    /**
     * Creates the comment carrying `marker`, or updates the one that already does (the oldest
     * such comment, so that a duplicate made by a race is left alone rather than multiplied).
     */
    async upsertComment(target: CommentTarget, marker: string, body: string): Promise<PublishedComment> {
      // Pull requests (issue comments) and commits (commit comments) differ only in their endpoints.
      type Comment = { id: number; html_url: string; body?: string | null };
      const api: {
        permission: string;
        place: string;
        list(): Promise<Comment[]>;
        update(id: number): Promise<{ data: Comment }>;
        create(): Promise<{ data: Comment }>;
      } =
        'pullRequest' in target
          ? {
              permission: 'pull-requests: write',
              place: 'the pull request',
              list: () =>
                octokit.paginate(octokit.rest.issues.listComments, {
                  owner,
                  repo,
                  issue_number: target.pullRequest,
                  per_page: 100,
                }),
              update: (id) => octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body }),
              create: () =>
                octokit.rest.issues.createComment({ owner, repo, issue_number: target.pullRequest, body }),
            }
          : {
              permission: 'contents: write',
              place: 'the commit',
              list: () =>
                octokit.paginate(octokit.rest.repos.listCommentsForCommit, {
                  owner,
                  repo,
                  commit_sha: target.commit,
                  per_page: 100,
                }),
              update: (id) => octokit.rest.repos.updateCommitComment({ owner, repo, comment_id: id, body }),
              create: () =>
                octokit.rest.repos.createCommitComment({ owner, repo, commit_sha: target.commit, body }),
            };
      const comments = await call(`list the comments of ${api.place}`, api.permission, api.list);
      const found = comments.find((comment) => comment.body?.startsWith(marker));
      const { data } = found
        ? await call('update the report comment', api.permission, () => api.update(found.id))
        : await call(`comment on ${api.place}`, api.permission, api.create);
      return { id: data.id, url: data.html_url, operation: found ? 'updated' : 'created' };
    },

    /**
     * Creates the completed check run of a gate on `headSha`, or updates ours of the same name
     * there (a re-run). GitHub appends annotations on every update, so an update sends only the
     * annotations the run does not have yet.
     */
    async upsertCheckRun(
      run: GateCheckRun,
      headSha: string,
      externalId: string,
      detailsUrl: string | undefined,
    ): Promise<{ id: number; operation: 'created' | 'updated' }> {
      const permission = 'checks: write';
      const { data: listed } = await call('list check runs', permission, () =>
        octokit.rest.checks.listForRef({
          owner,
          repo,
          ref: headSha,
          check_name: run.name,
          filter: 'all',
          per_page: 100,
        }),
      );
      const existing = listed.check_runs.find(
        (candidate) => candidate.name === run.name && candidate.external_id === externalId,
      );
      const fields = {
        status: 'completed' as const,
        conclusion: run.conclusion,
        completed_at: new Date().toISOString(),
        external_id: externalId,
        ...(detailsUrl ? { details_url: detailsUrl } : {}),
      };
      if (!existing) {
        const { data } = await call('create check runs', permission, () =>
          octokit.rest.checks.create({
            owner,
            repo,
            name: run.name,
            head_sha: headSha,
            ...fields,
            output: { title: run.title, summary: run.summary, annotations: run.annotations },
          }),
        );
        return { id: data.id, operation: 'created' };
      }
      let annotations: CheckAnnotation[] = run.annotations;
      if (existing.output.annotations_count > 0 && annotations.length > 0) {
        const present = await call('read check-run annotations', permission, () =>
          octokit.paginate(octokit.rest.checks.listAnnotations, {
            owner,
            repo,
            check_run_id: existing.id,
            per_page: 100,
          }),
        );
        const key = (a: { path: string; start_line: number; message: string | null }) =>
          `${a.path}\u0000${a.start_line}\u0000${a.message}`;
        const seen = new Set(present.map(key));
        annotations = annotations.filter((annotation) => !seen.has(key(annotation)));
      }
      const { data } = await call('update check runs', permission, () =>
        octokit.rest.checks.update({
          owner,
          repo,
          check_run_id: existing.id,
          ...fields,
          output: { title: run.title, summary: run.summary, annotations },
        }),
      );
      return { id: data.id, operation: 'updated' };
    },
  };
}

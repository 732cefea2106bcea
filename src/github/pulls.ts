/**
 * The deployment's pull-request API on GitHub (REST, through Octokit): find the open pull request
 * of a branch, create or update it with labels and reviewers, close it with a comment. Errors
 * name the operation and what to change (token permissions, a missing repository).
 */
import { getOctokit } from '@actions/github';
import type { PullRequestApi, PullRequestContent } from '../core/deploy/deploy.ts';
import { TIME_LIMITS } from '../core/deploy/transport.ts';
import { ConfigurationError } from '../core/errors.ts';
import { classifyApiError, statusOf } from './errors.ts';

/** GraphQL mutation of auto-merge (REST has none). */
export const ENABLE_AUTO_MERGE = `mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) {
    pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
  }
}`;

/**
 * A pull-request API for `repository` (owner/name) at `apiUrl` (GitHub or GitHub Enterprise Server).
 * Each request gives up after TIME_LIMITS.apiMs; an API that cannot be reached is the user's to fix
 * (a `ConfigurationError` naming `apiUrlName`, the flag or input that set the URL).
 */
export function createGitHubPulls(options: {
  token: string;
  repository: string;
  /** The REST API's base URL (https://api.github.com, or https://<host>/api/v3): the caller's, never guessed here. */
  apiUrl: string;
  /** How the user set the API URL, for messages (e.g. "--api-url"); default GITHUB_API_URL. */
  apiUrlName?: string;
}): PullRequestApi {
  const [owner, repo] = options.repository.split('/');
  if (!owner || !repo)
    throw new ConfigurationError(
      `The environment repository must be owner/name; got "${options.repository}".`,
    );
  const baseUrl = options.apiUrl.replace(/\/+$/, '');
  const octokit = getOctokit(options.token, {
    baseUrl,
    request: {
      fetch: (url: string | URL, init: RequestInit = {}) =>
        fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(TIME_LIMITS.apiMs) }),
    },
  });
  const call = async <T>(operation: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      const problem = classifyApiError(error);
      const reason = (error as Error).message;
      // Octokit reports a request that got no answer (refused, unknown host, timed out) as a 500
      // without a response.
      if (statusOf(error) === 500 && !(error as { response?: unknown }).response) {
        throw new ConfigurationError(
          `The GitHub API at ${baseUrl} (${options.apiUrlName ?? 'GITHUB_API_URL'}) cannot be reached to ${operation}: ${reason}. Check the URL (GitHub Enterprise Server: https://<host>/api/v3) and that it is reachable from here.`,
          { key: options.apiUrlName },
        );
      }
      if (problem === 'token-refused')
        throw new ConfigurationError(
          `GitHub refused the token while trying to ${operation} (401): ${reason}.`,
        );
      if (problem === 'forbidden') {
        throw new ConfigurationError(
          `The token may not ${operation} on ${options.repository} (403): ${reason}. It needs pull-requests: write (and contents: write to push).`,
        );
      }
      if (problem === 'not-found') {
        throw new ConfigurationError(
          `${options.repository} was not found while trying to ${operation} (404): is the name right, and can the token see it?`,
        );
      }
      throw error;
    }
  };
  const decorate = async (number: number, content: PullRequestContent) => {
    if (content.labels.length > 0) {
      await call('label the pull request', () =>
        octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels: content.labels }),
      );
    }
    if (content.reviewers.length > 0) {
      await call('request reviewers', () =>
        octokit.rest.pulls.requestReviewers({
          owner,
          repo,
          pull_number: number,
          reviewers: content.reviewers,
        }),
      );
    }
  };
  return {
    async findOpen(branch, base) {
      const { data } = await call('list pull requests', () =>
        octokit.rest.pulls.list({
          owner,
          repo,
          head: `${owner}:${branch}`,
          base,
          state: 'open',
          per_page: 10,
        }),
      );
      const found = data.find((pr) => pr.head.ref === branch);
      return found
        ? { number: found.number, url: found.html_url, title: found.title, body: found.body ?? '' }
        : undefined;
    },
    async create(request) {
      const { data } = await call('open the pull request', () =>
        octokit.rest.pulls.create({
          owner,
          repo,
          head: request.branch,
          base: request.base,
          title: request.title,
          body: request.body,
          draft: request.draft,
        }),
      );
      await decorate(data.number, request);
      return { number: data.number, url: data.html_url };
    },
    async update(number, request) {
      const { data } = await call('update the pull request', () =>
        octokit.rest.pulls.update({
          owner,
          repo,
          pull_number: number,
          title: request.title,
          body: request.body,
        }),
      );
      await decorate(number, request);
      return { number: data.number, url: data.html_url };
    },
    async enableAutoMerge(number, method) {
      // GraphQL only: the REST API has no auto-merge. The query is checked against GitHub's schema in tests.
      const { data } = await call('read the pull request', () =>
        octokit.rest.pulls.get({ owner, repo, pull_number: number }),
      );
      await call(
        'enable auto-merge (the repository must allow it: Settings → General → Allow auto-merge)',
        () =>
          octokit.graphql(ENABLE_AUTO_MERGE, {
            pullRequestId: data.node_id,
            mergeMethod: method.toUpperCase(),
          }),
      );
    },
    async close(number, comment) {
      await call('comment on the pull request', () =>
        octokit.rest.issues.createComment({ owner, repo, issue_number: number, body: comment }),
      );
      await call('close the pull request', () =>
        octokit.rest.pulls.update({ owner, repo, pull_number: number, state: 'closed' }),
      );
    },
  };
}

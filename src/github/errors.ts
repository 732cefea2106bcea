/**
 * What an Octokit error means for the user, shared by every adapter that calls GitHub's REST API:
 * the answers a user can fix (a refused token, a missing permission, a repository the token cannot
 * see) are told apart from the rest. A 403 from the rate limiter is not a missing permission.
 */

/** The HTTP status of an Octokit request error, if it is one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A 403 or 429 because the rate limit is used up (retrying later helps; permissions do not). */
export function isRateLimited(error: unknown): boolean {
  const headers = (error as { response?: { headers?: Record<string, string> } } | null)?.response?.headers;
  return headers?.['x-ratelimit-remaining'] === '0';
}

/** Whether a 422's body lists an error with this `code` (e.g. `already_exists`). */
export function hasErrorCode(error: unknown, code: string): boolean {
  const data = (error as { response?: { data?: { errors?: { code?: string }[] } } } | null)?.response?.data;
  return data?.errors?.some((item) => item.code === code) ?? false;
}

/** The user-fixable kind of an API error, or undefined for anything else. */
export function classifyApiError(error: unknown): 'token-refused' | 'forbidden' | 'not-found' | undefined {
  const status = statusOf(error);
  if (status === 401) return 'token-refused';
  if (status === 403 && !isRateLimited(error)) return 'forbidden';
  if (status === 404) return 'not-found';
  return undefined;
}

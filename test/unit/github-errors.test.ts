import { describe, expect, it } from 'vitest';
import { classifyApiError, hasErrorCode } from '../../src/github/errors.ts';

// Shaped as @octokit/request-error's RequestError: status, response.headers, response.data.
const apiError = (status: number, headers: Record<string, string> = {}, data: unknown = {}) =>
  Object.assign(new Error(`HTTP ${status}`), { status, response: { headers, data } });

describe('classifyApiError', () => {
  it('tells the answers a user can fix from the rest', () => {
    expect(classifyApiError(apiError(401))).toBe('token-refused');
    expect(classifyApiError(apiError(403))).toBe('forbidden');
    expect(classifyApiError(apiError(404))).toBe('not-found');
    expect(classifyApiError(apiError(500))).toBeUndefined();
    expect(classifyApiError(new Error('socket hang up'))).toBeUndefined();
  });

  it('does not take an exhausted rate limit for a missing permission', () => {
    expect(classifyApiError(apiError(403, { 'x-ratelimit-remaining': '0' }))).toBeUndefined();
    expect(classifyApiError(apiError(403, { 'x-ratelimit-remaining': '12' }))).toBe('forbidden');
  });

  it('reads the error codes of a 422', () => {
    const exists = apiError(422, {}, { errors: [{ resource: 'Release', code: 'already_exists' }] });
    expect(hasErrorCode(exists, 'already_exists')).toBe(true);
    expect(hasErrorCode(exists, 'invalid')).toBe(false);
  });
});

/**
 * The decisions of a deployment run (src/core/deploy/deploy-plan.ts), one table per rule, each
 * with the case on either side of its boundary: the race rules that the integration tests reach
 * only by chance (concurrent runs) are pinned here, including the rollback over a stale branch
 * that the "newest version wins" rule must not swallow.
 */
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyPushFailure,
  decideOperation,
  planBranch,
  type ReferencedPackage,
  type RemoteBranch,
  shouldRetry,
} from '../../src/core/deploy/deploy-plan.ts';

const BASE = 'b'.repeat(40);
const OLD_BASE = 'o'.repeat(40);
const SHA_1 = '1'.repeat(64);
const SHA_2 = '2'.repeat(64);
const CAR = 'c'.repeat(64);

const proposed: ReferencedPackage = { version: '1.2.0', sha256: SHA_1 };

/** Our branch, made on the current base, holding `fields` (by default: the proposal). */
function branch(fields: Partial<RemoteBranch> = {}): RemoteBranch {
  return { head: 'h'.repeat(40), parent: BASE, version: '1.2.0', sha256: SHA_1, ours: true, ...fields };
}

const plan = (facts: Partial<Parameters<typeof planBranch>[0]>) =>
  planBranch({ running: undefined, remote: undefined, proposed, baseHead: BASE, ...facts });

describe('rule 1: the environment already runs the package', () => {
  it.each([
    ['same version, archive and no modelcar', { version: '1.2.0', sha256: SHA_1 }, 'already-running'],
    ['a modelcar running, none proposed', { version: '1.2.0', sha256: SHA_1, modelcar: CAR }, 'propose'],
    ['another archive under the same version', { version: '1.2.0', sha256: SHA_2 }, 'propose'],
    ['another version of the same archive', { version: '1.1.0', sha256: SHA_1 }, 'propose'],
  ] as const)('%s → %s', (_name, running, action) => {
    expect(plan({ running }).action).toBe(action);
  });

  it('compares the modelcar too: the same one is running, another one or none is a change', () => {
    const withCar = { ...proposed, modelcar: CAR };
    expect(plan({ running: { ...withCar }, proposed: withCar }).action).toBe('already-running');
    expect(plan({ running: { ...withCar, modelcar: 'd'.repeat(64) }, proposed: withCar }).action).toBe(
      'propose',
    );
    expect(plan({ running: { ...proposed }, proposed: withCar }).action).toBe('propose');
  });

  it('wins over every branch rule (a stale proposal is closed, not kept)', () => {
    expect(plan({ running: { ...proposed }, remote: branch({ ours: false }) }).action).toBe(
      'already-running',
    );
    expect(plan({ running: { ...proposed }, remote: branch({ version: '9.0.0' }) }).action).toBe(
      'already-running',
    );
  });
});

describe("rule 2: someone else's branch", () => {
  it('is refused, whatever it holds; ours is used', () => {
    expect(plan({ remote: branch({ ours: false }) }).action).toBe('refuse-foreign');
    expect(plan({ remote: branch({ ours: false, version: '9.0.0' }) }).action).toBe('refuse-foreign');
    expect(plan({ remote: branch() }).action).toBe('propose');
  });
});

describe('rule 3: the newest version wins, on the same base only', () => {
  it.each([
    ['a newer version on the same base', { version: '1.3.0' }, { action: 'keep-newer' }],
    ['a newer patch on the same base', { version: '1.2.1' }, { action: 'keep-newer' }],
    [
      'the same version (another archive) on the same base',
      { version: '1.2.0', sha256: SHA_2 },
      { action: 'propose', push: true },
    ],
    ['an older version on the same base', { version: '1.1.0' }, { action: 'propose', push: true }],
    [
      'a prerelease of the proposed version (older in semver)',
      { version: '1.2.0-rc.1' },
      { action: 'propose', push: true },
    ],
    ['a version that is not semver', { version: 'latest' }, { action: 'propose', push: true }],
    [
      'an unreadable reference file',
      { version: undefined, sha256: undefined },
      { action: 'propose', push: true },
    ],
  ] as const)('%s → %o', (_name, fields, expected) => {
    expect(plan({ remote: branch(fields) })).toEqual(expected);
  });

  it('rebuilds a stale branch (older base) holding a newer version: a rollback is proposed as asked', () => {
    // 1.3.0 was proposed (and merged, or left behind) on an older base; rolling back to 1.2.0 now must push.
    expect(plan({ remote: branch({ version: '1.3.0', parent: OLD_BASE }) })).toEqual({
      action: 'propose',
      push: true,
    });
    expect(plan({ remote: branch({ version: '1.3.0', parent: '' }) })).toEqual({
      action: 'propose',
      push: true,
    });
  });
});

describe('rule 4: a re-run does not push again', () => {
  it.each([
    ['the same package on the same base', {}, false],
    ['the same package on an older base', { parent: OLD_BASE }, true],
    ['another archive', { sha256: SHA_2 }, true],
    ['another modelcar', { modelcar: CAR }, true],
    ['another version', { version: '1.1.0' }, true],
  ] as const)('%s → push %s', (_name, fields, push) => {
    expect(plan({ remote: branch(fields) })).toEqual({ action: 'propose', push });
  });

  it('pushes a new branch', () => {
    expect(plan({})).toEqual({ action: 'propose', push: true });
  });
});

describe('rule 5: the operation reported', () => {
  it.each([
    // Without a pull-request API: what happened to the branch.
    [{ pushed: true, branchExisted: false, pullRequest: 'none' }, 'created'],
    [{ pushed: true, branchExisted: true, pullRequest: 'none' }, 'updated'],
    [{ pushed: false, branchExisted: true, pullRequest: 'none' }, 'unchanged'],
    // No open pull request: one is created, whatever the branch did.
    [{ pushed: true, branchExisted: true, pullRequest: 'absent' }, 'created'],
    [{ pushed: false, branchExisted: true, pullRequest: 'absent' }, 'created'],
    // An open pull request: unchanged only when neither the branch nor its text changed.
    [{ pushed: false, branchExisted: true, pullRequest: { sameContent: true } }, 'unchanged'],
    [{ pushed: false, branchExisted: true, pullRequest: { sameContent: false } }, 'updated'],
    [{ pushed: true, branchExisted: true, pullRequest: { sameContent: true } }, 'updated'],
    [{ pushed: true, branchExisted: false, pullRequest: { sameContent: true } }, 'updated'],
  ] as const)('%o → %s', (facts, operation) => {
    expect(decideOperation(facts)).toBe(operation);
  });
});

describe('rule 6: retries', () => {
  it('retries a push that lost a race, and only that', () => {
    expect(classifyPushFailure(' ! [rejected] HEAD -> mlops/deploy/staging/m (stale info)')).toBe('stale');
    expect(classifyPushFailure(' ! [rejected] HEAD -> main (fetch first)')).toBe('stale');
    expect(classifyPushFailure(' ! [remote rejected] HEAD -> b (protected branch hook declined)')).toBe(
      'refused',
    );
    expect(classifyPushFailure('remote: error: GH006: Protected branch update failed')).toBe('refused');
    expect(classifyPushFailure('fatal: unable to access: Could not resolve host')).toBe('failed');
  });

  it('stops after the last attempt', () => {
    expect(shouldRetry(1, 5)).toBe(true);
    expect(shouldRetry(4, 5)).toBe(true);
    expect(shouldRetry(5, 5)).toBe(false);
    expect(shouldRetry(1, 1)).toBe(false);
  });

  it('doubles the wait each attempt, with jitter from half to one and a half', () => {
    expect(backoffDelay(1, 200, 0)).toBe(100);
    expect(backoffDelay(1, 200, 0.5)).toBe(200);
    expect(backoffDelay(2, 200, 0.5)).toBe(400);
    expect(backoffDelay(3, 200, 0.5)).toBe(800);
    expect(backoffDelay(3, 200, 0.999)).toBeCloseTo(1199.2);
  });
});

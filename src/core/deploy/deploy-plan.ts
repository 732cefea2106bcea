/**
 * What a deployment run should do, decided from what it read, without touching git or GitHub
 * (deploy.ts does the work). The rules, each tested at its boundary in test/unit/deploy-plan.test.ts:
 *
 * 1. The environment already runs the proposed package (same version, archive sha256 and modelcar
 *    on the base branch): nothing is proposed, and an open proposal is closed.
 * 2. A deployment branch whose head this deployment did not make is never overwritten.
 * 3. Concurrent runs: when the branch holds a newer version made on the **same base**, the newest
 *    version wins and this run changes nothing. A branch made on an older base is a stale proposal
 *    (merged, or left behind): it is rebuilt, so a rollback to an older version is proposed as asked.
 * 4. A branch that already holds this package, made on the current base, is not pushed again (a re-run).
 * 5. The operation reported: `created` for a new pull request (or, without a pull-request API, a
 *    new branch), `updated` when the branch or an open pull request changed, `unchanged` when nothing did.
 * 6. A push that lost a race is retried on the new base, with exponential backoff and jitter, until
 *    the attempts run out; a push the server refuses (protection, hooks) is not retried.
 */

import { compareSemver, isSemver } from '../semver.ts';
import { isStalePush } from './git-workspace.ts';

/** A package as a model reference records it: what tells two deployments apart. */
export interface ReferencedPackage {
  version: string;
  sha256: string;
  /** The modelcar's sha256, when there is one. */
  modelcar?: string;
}

/** The deployment branch on the remote, as read before pushing. */
export interface RemoteBranch {
  head: string;
  /** The commit the branch was made on (its head's parent). */
  parent: string;
  /** The reference file on the branch; fields undefined when it is missing or unreadable. */
  version?: string;
  sha256?: string;
  modelcar?: string;
  /** Whether its head was made by this deployment (its author and message). */
  ours: boolean;
}

/** What one attempt does with the branch (see the rules in the module comment). */
export type BranchPlan =
  /** Rule 1: the base already runs the package. */
  | { action: 'already-running' }
  /** Rule 2: someone else's commits are on the branch. */
  | { action: 'refuse-foreign' }
  /** Rule 3: a newer version was proposed on the same base. */
  | { action: 'keep-newer' }
  /** Rule 4 (`push: false`) or a new proposal (`push: true`). */
  | { action: 'propose'; push: boolean };

/**
 * Decides what to do with the deployment branch, given what the base runs (`running`), the branch
 * on the remote (`remote`, undefined when absent), the proposal and the base's head.
 */
export function planBranch(facts: {
  running: ReferencedPackage | undefined;
  remote: RemoteBranch | undefined;
  proposed: ReferencedPackage;
  baseHead: string;
}): BranchPlan {
  const { running, remote, proposed, baseHead } = facts;
  if (running && samePackage(running, proposed)) return { action: 'already-running' };
  if (remote && !remote.ours) return { action: 'refuse-foreign' };
  const sameBase = remote !== undefined && remote.parent === baseHead;
  if (
    sameBase &&
    remote.version !== undefined &&
    isSemver(remote.version) &&
    compareSemver(remote.version, proposed.version) > 0
  ) {
    return { action: 'keep-newer' };
  }
  const upToDate = sameBase && samePackage(remote, proposed);
  return { action: 'propose', push: !upToDate };
}

/** Whether a reference (whose fields may be unreadable) names the proposed package: version, archive and modelcar. */
function samePackage(a: Partial<ReferencedPackage>, b: ReferencedPackage): boolean {
  return a.version === b.version && a.sha256 === b.sha256 && a.modelcar === b.modelcar;
}

/**
 * The operation a proposal reports (rule 5). `pushed`: the branch was pushed (not up to date);
 * `branchExisted`: the branch was on the remote before; `pullRequest`: `none` without a
 * pull-request API, else whether one was open and, if so, whether its title and body already
 * say what this run would write.
 */
export function decideOperation(facts: {
  pushed: boolean;
  branchExisted: boolean;
  pullRequest: 'none' | 'absent' | { sameContent: boolean };
}): 'created' | 'updated' | 'unchanged' {
  const { pushed, branchExisted, pullRequest } = facts;
  if (pullRequest === 'none') return !pushed ? 'unchanged' : branchExisted ? 'updated' : 'created';
  if (pullRequest === 'absent') return 'created';
  return !pushed && pullRequest.sameContent ? 'unchanged' : 'updated';
}

/** What a failed push means (rule 6): lost a race (retry), refused by the server, or another failure. */
export function classifyPushFailure(message: string): 'stale' | 'refused' | 'failed' {
  if (isStalePush(message)) return 'stale';
  if (/protected|declined|hook/i.test(message)) return 'refused';
  return 'failed';
}

/** Whether another attempt follows attempt number `attempt` (from 1) of at most `maxAttempts`. */
export function shouldRetry(attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts;
}

/**
 * The wait before the attempt after `attempt` (from 1): `baseMs` doubled each attempt, times a
 * jitter factor from 0.5 to 1.5 (`random` in [0, 1)), so runs that collided do not collide again.
 */
export function backoffDelay(attempt: number, baseMs: number, random: number): number {
  return baseMs * 2 ** (attempt - 1) * (0.5 + random);
}

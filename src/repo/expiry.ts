import { EdgesealError } from '../core/errors.js';
import { ROLLOUTS_ROLE } from '../rollout/narrow.js';
import type { Repository } from './repository.js';
import type { RoleStatus } from './status.js';

// Expiry decisions for the publisher: pure functions of the repository state and an explicit `now`.

export interface ExpiryProblem {
  readonly role: string;
  readonly version: number;
  readonly expires: string;
  readonly state: 'expired' | 'expiring';
  readonly inSeconds: number; // negative once expired
}

// Roles that have expired, or will within `withinSeconds` (unsigned drafts, version 0, are not published: skipped).
export function expiryProblems(status: readonly RoleStatus[], withinSeconds: number): ExpiryProblem[] {
  return status
    .filter((s) => s.version > 0 && s.expiresInSeconds <= withinSeconds)
    .map((s) => ({ role: s.role, version: s.version, expires: s.expires, state: s.expiresInSeconds <= 0 ? 'expired' : 'expiring', inSeconds: s.expiresInSeconds }));
}

// A role is due for re-signing when half its validity has passed, or when it would expire before the
// timestamp about to be signed (a fresh timestamp pointing at a stale snapshot or rollouts role still
// freezes devices).
export function roleDue(repo: Repository, role: string, now: Date): boolean {
  const expires = Date.parse(repo.envelope(role).signed.expires);
  const remaining = (expires - now.getTime()) / 1000;
  return remaining < repo.expirySeconds(role) / 2 || remaining < repo.expirySeconds('timestamp');
}

// Online signing (refresh, the collector's automatic halt) must never publish a change nobody signed off:
// it refuses while a role other than timestamp and snapshot has unsigned changes in the workdir.
export function assertNoUnsignedChanges(repo: Repository, what: string): void {
  const other = repo.pending().filter((r) => r !== 'timestamp' && r !== 'snapshot');
  if (other.length > 0) {
    throw new EdgesealError('SIGNATURE_THRESHOLD', `${what}: expected no unsigned changes outside timestamp and snapshot, found ${other.join(', ')} (sign and publish them with 'edgeseal repo publish' first)`);
  }
}

export interface RefreshPlan {
  readonly roles: string[]; // to mark for re-signing
  readonly keyless: string[]; // due, but their online keys are not at hand: left to expire loudly (repo status --check)
}

function hasThresholdKeys(repo: Repository, role: string): boolean {
  const { entry } = repo.roleEntry(role);
  return entry.keyids.filter((k) => repo.isSigningKeyAvailable(k)).length >= entry.threshold;
}

// The roles `repo refresh` re-signs: timestamp always, snapshot and the online-keyed `rollouts` role
// when due. Refuses while other roles have unsigned changes (their working copies are not publishable).
export function planRefresh(repo: Repository, now: Date): RefreshPlan {
  assertNoUnsignedChanges(repo, 'refresh');
  if (repo.envelope('timestamp').signed.version === 0) throw new EdgesealError('USAGE', `refresh: expected a published repository, found none signed yet (run 'edgeseal repo publish')`);
  const online = repo.targetRoles().includes(ROLLOUTS_ROLE) && roleDue(repo, ROLLOUTS_ROLE, now) ? [ROLLOUTS_ROLE] : [];
  // a missing rollouts key must not stop the timestamp from being renewed
  const keyless = online.filter((r) => !hasThresholdKeys(repo, r));
  const roles = [...online.filter((r) => !keyless.includes(r)), ...(roleDue(repo, 'snapshot', now) ? ['snapshot'] : []), 'timestamp'];
  return { roles, keyless };
}

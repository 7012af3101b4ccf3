import { createHash } from 'node:crypto';
import { EdgesealError, isEdgesealError, type ErrorCode } from '../core/errors.js';
import type { GateCandidate, RolloutResult } from '../core/gate.js';
import { resolveTarget } from '../tuf/offline/delegations.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';
import { listTargets } from '../tuf/offline/verify-image.js';
import { BUCKETS, decideRollout } from './decide.js';
import { assertNarrows, ROLLOUTS_ROLE, type SignedView } from './narrow.js';
import { MAX_ROLLOUT_POLICY_BYTES, parseRolloutPolicy, ROLLOUT_TARGET_NAME, type RolloutPolicy } from './policy.js';

// The device side (pure): from the verified metadata and the policy bytes it names, the gate's rollout
// step. Authenticity rides on TUF; this only accepts the exact bytes the verified metadata names.

export type RolloutGate = (candidate: GateCandidate, now: Date) => RolloutResult | undefined;

// What the verified metadata names for `rollouts/policy.json`; undefined when it names none.
export function namedPolicy(trusted: TrustedMetadata, now: Date): { length: number; sha256: string } | undefined {
  let target;
  try {
    target = resolveTarget(trusted, ROLLOUT_TARGET_NAME, now).target;
  } catch (err) {
    if (isEdgesealError(err, 'UNKNOWN_TARGET')) return undefined;
    throw err;
  }
  const sha256 = target.hashes.sha256?.toLowerCase();
  if (!sha256) throw new EdgesealError('MALFORMED_METADATA', `${ROLLOUT_TARGET_NAME}: expected a sha256 in its TUF target entry, found ${JSON.stringify(target.hashes)}`);
  // capped from the signed length, before anything is downloaded
  if (target.length > MAX_ROLLOUT_POLICY_BYTES) throw new EdgesealError('OVERSIZED', `${ROLLOUT_TARGET_NAME}: expected at most ${MAX_ROLLOUT_POLICY_BYTES} bytes, TUF metadata says ${target.length}`);
  return { length: target.length, sha256 };
}

// The device's side of the widening check, from the verified metadata.
export function trustedView(trusted: TrustedMetadata, now: Date): SignedView {
  const own = trusted.roles.get(ROLLOUTS_ROLE)?.md.signed;
  const delegations = own?.delegations;
  return {
    imageTargets: new Set(listTargets(trusted, now).filter((t) => t.signedBy.role !== ROLLOUTS_ROLE).map((t) => t.name)),
    rolloutRoleTargets: Object.keys(own?.targets ?? {}),
    rolloutRoleDelegations: [...Object.keys(delegations?.roles ?? {}), ...(delegations?.succinctRoles ? ['(succinct roles)'] : [])],
  };
}

const refuseAll = (code: ErrorCode, message: string): RolloutGate => () => ({ ok: false, code, message });

// The policy the verified metadata names, from its bytes: exact length and sha256, parsed, and
// narrowing what the rest of the metadata signs. Throws EdgesealError otherwise. The collector reads
// the policy through this too (src/fleet/rollouts/policy-source.ts).
export function verifiedPolicy(trusted: TrustedMetadata, info: { length: number; sha256: string }, bytes: Uint8Array, now: Date): RolloutPolicy {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== info.length || sha256 !== info.sha256) {
    throw new EdgesealError('DIGEST_MISMATCH', `rollout policy: expected ${info.length} bytes with sha256 ${info.sha256}, found ${bytes.length} bytes with sha256 ${sha256}`);
  }
  const policy = parseRolloutPolicy(bytes);
  assertNarrows(policy, trustedView(trusted, now));
  return policy;
}

// A policy that is altered, malformed or widening withholds every target (fail closed: a
// rollout is a brake, and a broken brake stops). A target the policy does not name is unaffected.
export function rolloutGate(trusted: TrustedMetadata, bytes: Uint8Array, reportPublicKeyHex: string, now: Date): RolloutGate | undefined {
  const info = namedPolicy(trusted, now);
  if (!info) return undefined;
  let policy: RolloutPolicy;
  try {
    policy = verifiedPolicy(trusted, info, bytes, now);
  } catch (err) {
    if (err instanceof EdgesealError) return refuseAll(err.code, err.message);
    throw err;
  }
  const key = Buffer.from(reportPublicKeyHex, 'hex');
  return (candidate, at) => {
    const rollout = Object.hasOwn(policy.rollouts, candidate.name) ? policy.rollouts[candidate.name] : undefined;
    if (!rollout) return undefined;
    const d = decideRollout(rollout, key, at);
    if (d.inCohort) return { ok: true, reason: d.reason, full: d.threshold === BUCKETS };
    return { ok: false, code: 'ROLLOUT_WITHHELD', message: `${candidate.name}: ${d.reason} (rollout policy v${policy.version})` };
  };
}

import { EdgesealError } from '../core/errors.js';
import { ROLLOUT_TARGET_NAME, type RolloutPolicy } from './policy.js';

// A rollout may only narrow what the targets role signed (docs/rollouts.md, "Narrow, never widen").
// The rollouts role is online-keyed, so it must not be able to put anything on a device by itself.
export const ROLLOUTS_ROLE = 'rollouts';

// What the rest of the metadata signs, as the publisher's repository or the device's verified set sees it.
export interface SignedView {
  readonly imageTargets: ReadonlySet<string>; // image targets signed by a role other than `rollouts`
  readonly rolloutRoleTargets: readonly string[]; // every target the `rollouts` role itself signs
  readonly rolloutRoleDelegations: readonly string[]; // roles the `rollouts` role delegates to
}

// Every way this policy, or the role that signs it, would widen; empty when it only narrows.
export function wideningProblems(policy: RolloutPolicy, view: SignedView): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(policy.rollouts)) {
    if (!view.imageTargets.has(name)) problems.push(`rollout for ${JSON.stringify(name)}: expected an image target signed by the targets role (or its image delegations), found none`);
  }
  for (const name of view.rolloutRoleTargets) {
    if (name !== ROLLOUT_TARGET_NAME) problems.push(`role ${ROLLOUTS_ROLE}: expected to sign only ${ROLLOUT_TARGET_NAME}, found ${JSON.stringify(name)}`);
  }
  if (view.rolloutRoleDelegations.length) problems.push(`role ${ROLLOUTS_ROLE}: expected no delegations, found ${view.rolloutRoleDelegations.join(', ')}`);
  return problems;
}

export function assertNarrows(policy: RolloutPolicy, view: SignedView): void {
  const problems = wideningProblems(policy, view);
  if (problems.length) throw new EdgesealError('ROLLOUT_WIDENS', `rollout policy v${policy.version} refused, it widens what the targets role signed: ${problems.join('; ')}`);
}

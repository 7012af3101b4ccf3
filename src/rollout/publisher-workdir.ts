import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { Ed25519Key } from '../crypto/ed25519.js';
import { assertNoUnsignedChanges } from '../repo/expiry.js';
import type { Repository, SignedRole } from '../repo/repository.js';
import { signAndWrite } from '../repo/sign-publish.js';
import type { TargetsSigned } from '../repo/tuf-json.js';
import { blobPath } from '../repo/workdir.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { nextRolloutPolicy, type RolloutChange } from './edit.js';
import { assertNarrows, ROLLOUTS_ROLE, type SignedView } from './narrow.js';
import { parseRolloutPolicy, ROLLOUT_POLICY_TYPE, ROLLOUT_TARGET_NAME, serializeRolloutPolicy, type RolloutPolicy } from './policy.js';

// The policy is the target `rollouts/policy.json` of the delegated role `rollouts` (own online keys,
// only `rollouts/*`); its bytes live in the workdir's blobs/<sha256>, like every target's content.

const signedOf = (repo: Repository, role: string): TargetsSigned => repo.envelope(role).signed as TargetsSigned;

// What the repository signs besides the rollout policy: the publisher's side of the widening check.
export function repositoryView(repo: Repository): SignedView {
  const imageTargets = new Set<string>();
  for (const role of repo.targetRoles()) {
    if (role === ROLLOUTS_ROLE) continue;
    for (const [name, t] of Object.entries(signedOf(repo, role).targets)) if (Array.isArray(t.custom?.hardwareIds)) imageTargets.add(name);
  }
  const own = repo.targetRoles().includes(ROLLOUTS_ROLE) ? signedOf(repo, ROLLOUTS_ROLE) : undefined;
  return { imageTargets, rolloutRoleTargets: Object.keys(own?.targets ?? {}), rolloutRoleDelegations: (own?.delegations?.roles ?? []).map((r) => r.name) };
}

export async function loadCurrentPolicy(dir: string, repo: Repository): Promise<RolloutPolicy | undefined> {
  if (!repo.targetRoles().includes(ROLLOUTS_ROLE)) return undefined;
  const target = signedOf(repo, ROLLOUTS_ROLE).targets[ROLLOUT_TARGET_NAME];
  if (!target) return undefined;
  const path = blobPath(dir, target.hashes.sha256);
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected the current rollout policy, found ${err.code ?? 'an error'}`, { cause: err });
  });
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== target.hashes.sha256) throw new EdgesealError('DIGEST_MISMATCH', `${path}: expected sha256 ${target.hashes.sha256} (signed in the repository), found ${found}`);
  return parseRolloutPolicy(bytes);
}

// Puts the policy into the repository as the rollouts role's target (creating the delegation with
// `newKeys()` on first use); the next repo.sign() re-signs rollouts, snapshot and timestamp (online keys).
// Returns the bytes the published targets/ directory must serve. Checks nothing: see stageRollout.
export function setRolloutTarget(repo: Repository, policy: RolloutPolicy, newKeys: () => Ed25519Key[]): { bytes: Uint8Array; sha256: string; created: boolean } {
  const created = !repo.targetRoles().includes(ROLLOUTS_ROLE);
  if (created) repo.delegate({ name: ROLLOUTS_ROLE, paths: ['rollouts/*'], keys: newKeys(), threshold: 1, terminating: true });
  const bytes = serializeRolloutPolicy(policy);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // not addTarget: the policy is not an image, so it carries no image custom fields
  repo.editSigned(ROLLOUTS_ROLE, (signed) => {
    (signed as TargetsSigned).targets[ROLLOUT_TARGET_NAME] = { length: bytes.length, hashes: { sha256 }, custom: { type: ROLLOUT_POLICY_TYPE, version: policy.version } };
  });
  return { bytes, sha256, created };
}

// The next policy after one change for `target`, refused if it would widen, staged in the repository.
export function applyRollout(
  repo: Repository,
  prev: RolloutPolicy | undefined,
  change: { target: string; change: RolloutChange; now: Date; salt: string; newKeys: () => Ed25519Key[] },
): { policy: RolloutPolicy; bytes: Uint8Array; sha256: string; created: boolean } {
  const policy = nextRolloutPolicy(prev, change.target, change.change, { now: change.now, salt: change.salt });
  assertNarrows(policy, repositoryView(repo));
  return { policy, ...setRolloutTarget(repo, policy, change.newKeys) };
}

// applyRollout on the workdir's current policy, with the bytes saved under blobs/. The caller saves the workdir.
export async function stageRollout(dir: string, repo: Repository, change: Parameters<typeof applyRollout>[2]): Promise<{ policy: RolloutPolicy; created: boolean }> {
  const { policy, bytes, sha256, created } = applyRollout(repo, await loadCurrentPolicy(dir, repo), change);
  await writeFileAtomic(blobPath(dir, sha256), bytes);
  return { policy, created };
}

// `edgeseal repo rollout TARGET --halt` then `repo publish`, in one step with online keys only (the
// collector's automatic halt): refuses while the workdir holds other unsigned changes, saves the
// workdir only once the halt is signed.
export async function haltAndPublish(dir: string, out: string, repo: Repository, target: string, now: Date, by: string): Promise<{ policy: RolloutPolicy; signed: SignedRole[] }> {
  assertNoUnsignedChanges(repo, 'rollout halt');
  // a halt never creates a rollout (nor the role): without one the salt below would be used
  if (!(await loadCurrentPolicy(dir, repo))?.rollouts[target]) throw new EdgesealError('USAGE', `rollout halt: expected a rollout for ${target} in the workdir's policy, found none`);
  const { policy } = await stageRollout(dir, repo, { target, change: { kind: 'halt' }, now, salt: '', newKeys: () => [] });
  const { signed } = await signAndWrite(dir, out, repo, now, by);
  return { policy, signed };
}

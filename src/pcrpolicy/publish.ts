import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import type { Repository } from '../repo/repository.js';
import { assertSafeTargetName, isDelegatedPath } from '../repo/target-path.js';
import type { TargetsSigned } from '../repo/tuf-json.js';
import { blobPath } from '../repo/workdir.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { PCR_POLICY_DIR, PCR_POLICY_TYPE, pcrPolicyFile } from './targets.js';

// The publisher's side: a signed PCR policy document becomes a TUF target of the targets role (or a
// delegated role whose paths cover it), its bytes in the workdir's blobs/<sha256> like every target's.
// The next `repo publish` signs it, and the promoted set of every device caches it.

export interface PcrPolicyTarget {
  readonly name: string;
  readonly role: string;
  readonly generation: number;
  readonly bytes: Uint8Array;
}

// Stages the target; refuses a name that already lists other bytes (a generation is approved once: a
// second board type's values go under another name, e.g. pcr-policies/board-b-3.json).
export async function stagePcrPolicyTarget(dir: string, repo: Repository, t: PcrPolicyTarget): Promise<{ sha256: string; unchanged: boolean }> {
  assertSafeTargetName(t.name);
  if (!pcrPolicyFile(t.name)) throw new EdgesealError('USAGE', `--name: expected ${PCR_POLICY_DIR}/<name>.json (letters, digits, ._-), found ${JSON.stringify(t.name)}`);
  if (t.role !== 'targets') {
    const { delegator, entry } = repo.roleEntry(t.role);
    if (!isDelegatedPath(repo.envelope(delegator).signed as TargetsSigned, t.role, t.name)) {
      throw new EdgesealError('DELEGATION_VIOLATION', `target ${t.name}: expected a path role ${t.role} is delegated (${'paths' in entry ? entry.paths.join(', ') : ''}), found none matching`);
    }
  }
  const sha256 = createHash('sha256').update(t.bytes).digest('hex');
  const listed = (repo.envelope(t.role).signed as TargetsSigned).targets[t.name] as TargetsSigned['targets'][string] | undefined;
  if (listed && listed.hashes.sha256 !== sha256) {
    throw new EdgesealError('USAGE', `${t.name} in ${t.role}: expected a new name, found it already lists other bytes (sha256 ${listed.hashes.sha256}); a signed generation is not replaced, sign a new generation`);
  }
  await writeFileAtomic(blobPath(dir, sha256), t.bytes);
  // not addTarget: a policy is not an image, so it carries no image custom fields (hardwareIds, …)
  repo.editSigned(t.role, (signed) => {
    (signed as TargetsSigned).targets[t.name] = { length: t.bytes.length, hashes: { sha256 }, custom: { type: PCR_POLICY_TYPE, generation: t.generation } };
  });
  return { sha256, unchanged: listed !== undefined };
}

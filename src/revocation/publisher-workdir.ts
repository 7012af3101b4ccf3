import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { Ed25519Key } from '../crypto/ed25519.js';
import type { Repository } from '../repo/repository.js';
import { blobPath } from '../repo/workdir.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { parseRevocationList, type RevocationList } from './list.js';
import { currentRevocationTarget, delegateRevocations, hasRevocationsRole, nextRevocationList, setRevocationTarget, type RevocationEntry } from './publish.js';

// The publisher's copy of the list lives where every target's content lives in the workdir:
// blobs/<sha256>, named by the digest the repository signs, so `repo publish` serves it as is.

// The list the repository currently holds (staged or signed), re-checked against its signed digest.
export async function loadCurrentList(dir: string, repo: Repository): Promise<RevocationList | undefined> {
  const target = currentRevocationTarget(repo);
  if (!target) return undefined;
  const path = blobPath(dir, target.sha256);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected the current revocation list, found ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { cause: err });
  }
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== target.sha256) throw new EdgesealError('DIGEST_MISMATCH', `${path}: expected sha256 ${target.sha256} (signed in the repository), found ${found}`);
  return parseRevocationList(bytes);
}

export interface RevokeResult {
  readonly list: RevocationList;
  readonly created: boolean; // the `revocations` delegation was created with `newKeys`
}

// Adds one entry (or none, to renew) to the list and stages it as the revocations role's target;
// creates the delegation with `newKeys()` on first use. The caller saves the workdir.
export async function stageRevocation(
  dir: string,
  repo: Repository,
  change: { entry: RevocationEntry | undefined; now: Date; validDays: number; newKeys: () => Ed25519Key[] },
): Promise<RevokeResult> {
  const created = !hasRevocationsRole(repo);
  if (created) delegateRevocations(repo, change.newKeys());
  const list = nextRevocationList(await loadCurrentList(dir, repo), change.entry, change.now, change.validDays);
  const bytes = setRevocationTarget(repo, list);
  await writeFileAtomic(blobPath(dir, createHash('sha256').update(bytes).digest('hex')), bytes);
  return { list, created };
}

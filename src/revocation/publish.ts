import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import type { Ed25519Key } from '../crypto/ed25519.js';
import type { Repository } from '../repo/repository.js';
import type { RootSigned, TargetsSigned } from '../repo/tuf-json.js';
import { parseIsoUtc, REVOCATION_LIST_TYPE, REVOCATION_TARGET_NAME, serializeRevocationList, type MinimumVersion, type RevocationList, type RevokedDigest, type RevokedKey } from './list.js';

// Publisher side (pure): edit the list, then hand its bytes to the TUF repository as the target
// `revocations/list.json` of the delegated role `revocations`, which signs it with its own keys.
export const REVOCATIONS_ROLE = 'revocations';
export const DEFAULT_LIST_VALIDITY_DAYS = 30;

export type RevocationEntry =
  | ({ readonly kind: 'key' } & RevokedKey)
  | ({ readonly kind: 'digest' } & RevokedDigest)
  | ({ readonly kind: 'min-version' } & MinimumVersion);

const DAY_MS = 86_400_000;

function withoutKind<T extends { kind: string }>(e: T): Omit<T, 'kind'> {
  const copy: Partial<T> = { ...e };
  delete copy.kind;
  return copy as Omit<T, 'kind'>;
}

// The next list: the previous entries plus `entry` (a minimum version replaces the one for the same
// target and hardware id), version + 1, issued now, valid for `validDays`.
export function nextRevocationList(prev: RevocationList | undefined, entry: RevocationEntry | undefined, now: Date, validDays = DEFAULT_LIST_VALIDITY_DAYS): RevocationList {
  if (!Number.isFinite(validDays) || validDays <= 0) throw new EdgesealError('USAGE', `list validity: expected a positive number of days, found ${validDays}`);
  let keys = [...(prev?.keys ?? [])];
  let digests = [...(prev?.digests ?? [])];
  let minimumVersions = [...(prev?.minimumVersions ?? [])];
  const already = (what: string): EdgesealError => new EdgesealError('USAGE', `${what} is already revoked (list version ${prev?.version ?? 0})`);
  if (entry?.kind === 'key') {
    if (keys.some((k) => k.keyid === entry.keyid)) throw already(`key ${entry.keyid}`);
    keys = [...keys, withoutKind(entry)];
  } else if (entry?.kind === 'digest') {
    if (digests.some((d) => d.sha256 === entry.sha256)) throw already(`digest sha256:${entry.sha256}`);
    digests = [...digests, withoutKind(entry)];
  } else if (entry?.kind === 'min-version') {
    minimumVersions = [...minimumVersions.filter((m) => m.target !== entry.target || m.hardwareId !== entry.hardwareId), withoutKind(entry)];
  }
  const issued = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return {
    _type: REVOCATION_LIST_TYPE,
    version: (prev?.version ?? 0) + 1,
    issued: issued.toISOString().replace('.000Z', 'Z'),
    expires: new Date(issued.getTime() + validDays * DAY_MS).toISOString().replace('.000Z', 'Z'),
    keys,
    digests,
    minimumVersions,
  };
}

export function hasRevocationsRole(repo: Repository): boolean {
  return repo.targetRoles().includes(REVOCATIONS_ROLE);
}

// Creates the `revocations` delegation (own keys and threshold, only `revocations/*`) under targets.
export function delegateRevocations(repo: Repository, keys: readonly Ed25519Key[], threshold = 1): void {
  repo.delegate({ name: REVOCATIONS_ROLE, paths: ['revocations/*'], keys, threshold, terminating: true });
}

// Puts the list into the repository; the next repo.sign() re-signs revocations, snapshot and timestamp.
// Returns the bytes the published targets/ directory must serve for it.
export function setRevocationTarget(repo: Repository, list: RevocationList): Uint8Array {
  if (!hasRevocationsRole(repo)) throw new EdgesealError('USAGE', `expected a '${REVOCATIONS_ROLE}' delegation in the repository, found none (create it with its keys first)`);
  if (Number.isNaN(parseIsoUtc(list.expires))) throw new EdgesealError('USAGE', `revocation list: expected an ISO expiry, found ${list.expires}`);
  const bytes = serializeRevocationList(list);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // Not addTarget: the list is not an image, so it carries no image custom fields (hardwareIds, …).
  repo.editSigned(REVOCATIONS_ROLE, (signed) => {
    (signed as TargetsSigned).targets[REVOCATION_TARGET_NAME] = { length: bytes.length, hashes: { sha256 }, custom: { type: REVOCATION_LIST_TYPE, version: list.version } };
  });
  return bytes;
}

// What the repository currently signs for the list, to check the publisher's saved copy against.
export function currentRevocationTarget(repo: Repository): { length: number; sha256: string } | undefined {
  if (!hasRevocationsRole(repo)) return undefined;
  const t = (repo.envelope(REVOCATIONS_ROLE).signed as TargetsSigned).targets[REVOCATION_TARGET_NAME];
  return t ? { length: t.length, sha256: t.hashes.sha256 } : undefined;
}

// Every key id the repository names (root's keys and every delegation's), to catch a mistyped revocation.
export function knownKeyIds(repo: Repository): Set<string> {
  const ids = new Set(Object.keys((repo.envelope('root').signed as RootSigned).keys));
  for (const role of repo.targetRoles()) for (const id of Object.keys((repo.envelope(role).signed as TargetsSigned).delegations?.keys ?? {})) ids.add(id);
  return ids;
}

import { join } from 'node:path';
import { asEdgesealError, EdgesealError, type ErrorCode } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { METADATA_MAX_LENGTH } from './limits.js';
import { metadataFileName, readMetadataDir } from './metadata-files.js';
import { delegationsToFetch } from './offline/delegations.js';
import { loadTrustedMetadata } from './offline/load-trusted.js';
import { checkExpiry } from './offline/top-level.js';
import type { MetadataFiles, TrustedMetadata } from './offline/types.js';

// tuf-js refresh() loads only root, timestamp, snapshot and targets; a delegated role is fetched only
// when a lookup walks through it. The offline verifier (boot check, update gate) reads the cache, so
// without this it never sees a delegated image, and a delegated copy cached earlier goes stale against
// a newer snapshot and then fails every lookup that reaches it.

export interface DelegatedRefreshOptions {
  readonly metadataDir: string; // the device cache, just refreshed by tuf-js
  readonly initialRoot: Uint8Array; // the TPM-pinned root the offline verifier walks from
  readonly fetchMetadata: (file: string, maxLength: number) => Promise<Uint8Array>; // DeviceUpdater.fetchMetadata
  readonly now: Date; // fetched roles must be unexpired at this time before they are stored (5.6.4)
}

export interface DelegatedRoleFailure {
  readonly role: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface DelegatedRefreshResult {
  readonly updated: readonly string[]; // roles written into the cache, at the version the snapshot names
  readonly failed: readonly DelegatedRoleFailure[]; // left as they were: only lookups reaching them fail
}

// Brings every delegated role the new snapshot names (recursively, within the delegation-depth cap) into
// the cache: each missing or non-verifying role is fetched, verified by the offline verifier from the
// pinned root against the snapshot and its delegator's keys, and only then written (atomically).
export async function refreshDelegatedRoles(opts: DelegatedRefreshOptions): Promise<DelegatedRefreshResult> {
  // top-level freshness was just enforced by tuf-js; delegated expiry is checked below, per fetched role
  const load = (f: MetadataFiles): TrustedMetadata => loadTrustedMetadata(f, { now: opts.now, expiry: 'ignore' });
  let files: MetadataFiles;
  let trusted: TrustedMetadata;
  try {
    files = await readMetadataDir(opts.metadataDir, { initialRoot: opts.initialRoot });
    trusted = load(files);
  } catch (err) {
    // e.g. a root.json in the cache that is not the pinned chain's: nothing below it can be trusted or
    // stored; the gate and the boot check refuse the same metadata with their own codes
    return { updated: [], failed: [failure('targets', err)] };
  }
  const attempted = new Set<string>();
  const fetched: string[] = [];
  const failed: DelegatedRoleFailure[] = [];
  // one round per delegation level: a child is only named once its delegator verifies
  for (let wanted = delegationsToFetch(trusted); wanted.length; wanted = delegationsToFetch(trusted).filter((r) => !attempted.has(r))) {
    const delegated = { ...files.delegated };
    for (const role of wanted) {
      attempted.add(role);
      try {
        delegated[role] = await opts.fetchMetadata(remoteName(trusted, role), maxLength(trusted, role));
        fetched.push(role);
      } catch (err) {
        failed.push(failure(role, err));
      }
    }
    files = { ...files, delegated };
    trusted = load(files);
  }
  const updated: string[] = [];
  for (const role of fetched) {
    try {
      const verified = trusted.roles.get(role);
      const rejected = trusted.rejected.get(role);
      if (!verified) throw new EdgesealError(rejected?.code ?? 'MALFORMED_METADATA', `delegated role ${role}: ${rejected?.message ?? 'not reachable from targets'}`);
      checkExpiry(verified.md, role, opts.now, 'enforce');
      await writeFileAtomic(join(opts.metadataDir, `${encodeURIComponent(role)}.json`), files.delegated[role]);
      updated.push(role);
    } catch (err) {
      failed.push(failure(role, err));
    }
  }
  return { updated, failed };
}

// The file name tuf-js would fetch for a role the snapshot lists.
function remoteName(trusted: TrustedMetadata, role: string): string {
  return metadataFileName(role, trusted.root.signed.consistentSnapshot ? trusted.snapshot.signed.meta[`${role}.json`].version : undefined);
}

// The snapshot's signed length when it gives one, never more than the cap for any targets file.
function maxLength(trusted: TrustedMetadata, role: string): number {
  const length = trusted.snapshot.signed.meta[`${role}.json`].length;
  return Math.min(length ?? METADATA_MAX_LENGTH.targets, METADATA_MAX_LENGTH.targets);
}

function failure(role: string, err: unknown): DelegatedRoleFailure {
  const e = asEdgesealError(err, 'FETCH_FAILED');
  return { role, code: e.code, message: e.message };
}

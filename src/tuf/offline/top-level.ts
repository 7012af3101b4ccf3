import { EdgesealError } from '../../core/errors.js';
import { METADATA_MAX_LENGTH } from '../limits.js';
import { verifyThreshold, type RoleKeys } from './keys.js';
import { checkMetaFile } from './meta-file.js';
import { isExpired, type Metadata, type Root, type Signed, type Snapshot, type Timestamp } from './model.js';
import { parseMetadata } from './parse.js';
import type { ExpiryPolicy, TrustedRole } from './types.js';
import { own } from '../../core/own.js';

export function checkExpiry(md: Metadata<Signed>, label: string, now: Date, policy: ExpiryPolicy): void {
  if (policy === 'enforce' && isExpired(md.signed, now)) {
    throw new EdgesealError('EXPIRED', `${label}: expected to be valid at ${now.toISOString()}, found it expired at ${md.signed.expires}; ${publisherFix(label)}`);
  }
}

// What the operator should ask the publisher to do, so an EXPIRED refusal is actionable on the device.
export function publisherFix(role: string): string {
  if (role === 'timestamp' || role === 'snapshot') {
    return `publisher fix: re-sign ${role} with the online keys and publish ('edgeseal repo refresh', run by edgeseal-repo-refresh.timer; 'edgeseal repo status --check' alerts before this happens)`;
  }
  return `publisher fix: re-sign ${role} and publish ('edgeseal repo sign --refresh ${role}' then 'edgeseal repo publish'; it needs ${role}'s keys, offline ones included)`;
}

export function checkFloor(version: number, floor: number | undefined, label: string): void {
  if (floor !== undefined && version < floor) {
    throw new EdgesealError('ROLLBACK', `${label}: expected version ≥ ${floor} (the device's floor), found ${version}`);
  }
}

export function topRole(root: Metadata<Root>, name: string): RoleKeys {
  const role = own(root.signed.roles, name);
  if (!role) throw new EdgesealError('MALFORMED_METADATA', `root: expected a '${name}' role, found none`);
  return role;
}

// Client workflow 5.4: timestamp signed by the root's timestamp keys.
export function trustTimestamp(root: Metadata<Root>, bytes: Uint8Array): Metadata<Timestamp> {
  const ts = parseMetadata('timestamp', bytes, METADATA_MAX_LENGTH.timestamp, 'timestamp');
  verifyThreshold(root.signed.keys, topRole(root, 'timestamp'), 'timestamp', ts);
  return ts.md;
}

// Client workflow 5.5: snapshot matches the timestamp's hash, length and version; signed by snapshot keys.
export function trustSnapshot(root: Metadata<Root>, ts: Metadata<Timestamp>, bytes: Uint8Array): Metadata<Snapshot> {
  if (bytes.length > METADATA_MAX_LENGTH.snapshot) {
    throw new EdgesealError('OVERSIZED', `snapshot: expected at most ${METADATA_MAX_LENGTH.snapshot} bytes, found ${bytes.length}`);
  }
  const meta = ts.signed.snapshotMeta;
  checkMetaFile(meta, bytes, 'snapshot');
  const snap = parseMetadata('snapshot', bytes, METADATA_MAX_LENGTH.snapshot, 'snapshot');
  verifyThreshold(root.signed.keys, topRole(root, 'snapshot'), 'snapshot', snap);
  if (snap.md.signed.version !== meta.version) {
    throw new EdgesealError('ROLLBACK', `snapshot: expected version ${meta.version} (named by timestamp), found ${snap.md.signed.version}`);
  }
  return snap.md;
}

// Client workflow 5.6 (top-level and delegated): bytes match the snapshot's entry, signed by a
// threshold of the delegator's keys for that role, version equal to the snapshot's.
export function trustTargetsRole(
  snap: Metadata<Snapshot>,
  name: string,
  bytes: Uint8Array,
  keys: Parameters<typeof verifyThreshold>[0],
  role: Parameters<typeof verifyThreshold>[1],
): TrustedRole {
  if (bytes.length > METADATA_MAX_LENGTH.targets) {
    throw new EdgesealError('OVERSIZED', `${name}: expected at most ${METADATA_MAX_LENGTH.targets} bytes, found ${bytes.length}`);
  }
  const meta = own(snap.signed.meta, `${name}.json`);
  if (!meta) throw new EdgesealError('MALFORMED_METADATA', `${name}: expected an entry '${name}.json' in snapshot, found none`);
  checkMetaFile(meta, bytes, name);
  const parsed = parseMetadata('targets', bytes, METADATA_MAX_LENGTH.targets, name);
  const keyids = verifyThreshold(keys, role, name, parsed);
  const { md } = parsed;
  if (md.signed.version !== meta.version) {
    throw new EdgesealError('ROLLBACK', `${name}: expected version ${meta.version} (named by snapshot), found ${md.signed.version}`);
  }
  return { md, keyids };
}

import { createHash } from 'node:crypto';
import { EdgesealError } from '../../core/errors.js';
import { METADATA_MAX_LENGTH } from '../limits.js';
import { resolveTarget, walkDelegations } from './delegations.js';
import { verifyThreshold } from './keys.js';
import { parseMetadata } from './parse.js';
import { trustRootChain } from './root-chain.js';
import { topRole } from './top-level.js';
import type { ListedTarget, MetadataFiles, TargetsView, TrustedRole } from './types.js';
import { findTarget } from './verify-image.js';

// An install record: which signed target an installed image is, and the signed metadata bytes that
// vouched for it (the root chain after the pinned root, targets and every delegated role on the
// target's path). It lets an image keep booting after its name is republished, removed or its keys
// rotated (docs/installed-images.md). On disk it is a hint: trustInstallRecord re-verifies it from the
// TPM-pinned root each time (ARCHITECTURE "Local state").
export interface InstallRecordDoc {
  readonly format: 1;
  readonly target: { readonly name: string; readonly length: number; readonly sha256: string };
  readonly rootChain: readonly string[]; // base64 of 2.root.json … N.root.json, N the root that signed targets
  readonly targets: string; // base64
  readonly delegated: Readonly<Record<string, string>>; // role → base64
}

// Enough for every delegated role a lookup may visit and a long root history.
export const INSTALL_RECORD_MAX_LENGTH = 64 * 1024 * 1024;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

// The record for `name` from the metadata files `trusted` was loaded from (it must vouch for `name`).
export function makeInstallRecord(files: MetadataFiles, trusted: TargetsView, name: string, now: Date): InstallRecordDoc {
  const target = findTarget(trusted, name, now);
  const delegated = Object.create(null) as Record<string, string>; // a role named __proto__ stays a key
  for (const role of resolveTarget(trusted, name, now).path) {
    const bytes = Object.hasOwn(files.delegated, role) ? files.delegated[role] : undefined; // role names come from input
    if (role !== 'targets' && bytes) delegated[role] = b64(bytes);
  }
  return { format: 1, target: { name, length: target.length, sha256: target.hashes.sha256 ?? '' }, rootChain: files.rootChain.map(b64), targets: b64(files.targets), delegated };
}

function bad(what: string, found: unknown): EdgesealError {
  return new EdgesealError('MALFORMED_METADATA', `install record: expected ${what}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

function bytesOf(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw bad(`${what} as base64`, value);
  return Buffer.from(value, 'base64');
}

// Parses a record's bytes at the boundary (size first); every problem is a coded error, never a crash.
export function parseInstallRecord(bytes: Uint8Array): InstallRecordDoc {
  if (bytes.length > INSTALL_RECORD_MAX_LENGTH) throw new EdgesealError('OVERSIZED', `install record: expected at most ${INSTALL_RECORD_MAX_LENGTH} bytes, found ${bytes.length}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `install record: expected JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  const r = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (r.format !== 1) throw bad('format 1', r.format);
  const t = (typeof r.target === 'object' && r.target !== null ? r.target : {}) as Record<string, unknown>;
  if (typeof t.name !== 'string' || !Number.isSafeInteger(t.length) || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256)) throw bad('a target {name, length, sha256}', r.target);
  if (!Array.isArray(r.rootChain)) throw bad('a rootChain array', r.rootChain);
  const delegated = r.delegated;
  if (typeof delegated !== 'object' || delegated === null || Array.isArray(delegated)) throw bad('a delegated object', delegated);
  for (const [role, v] of Object.entries(delegated)) bytesOf(v, `delegated role ${role}`);
  r.rootChain.forEach((v, i) => bytesOf(v, `root #${i + 2}`));
  bytesOf(r.targets, 'targets');
  return { format: 1, target: { name: t.name, length: t.length as number, sha256: t.sha256 }, rootChain: r.rootChain as string[], targets: r.targets as string, delegated: delegated as Record<string, string> };
}

// A record's role: signed by a threshold of its delegator's keys. No snapshot binds it: a record proves
// that the image was genuinely released, and rollback is held off by the securityVersion floor and revocation.
function trustRecordRole(name: string, bytes: Uint8Array, keys: Parameters<typeof verifyThreshold>[0], role: Parameters<typeof verifyThreshold>[1]): TrustedRole {
  const parsed = parseMetadata('targets', bytes, METADATA_MAX_LENGTH.targets, `install record ${name}`);
  return { md: parsed.md, keyids: verifyThreshold(keys, role, `install record ${name}`, parsed) };
}

// Re-verifies a record from the pinned root: its root chain (as of the root that signed its targets,
// however far today's root floor has moved, and byte for byte a prefix of the device's verified chain), then targets and delegated roles, then that the recorded
// target is what they list. Expiry is ignored (P5: an installed image never expires). Throws coded errors.
// `knownChain`: the roots after the pinned one that the device's verified metadata holds. A record's roots
// must be the same bytes, so that keys of a retired root cannot mint a root of their own for a record.
export function trustInstallRecord(initialRoot: Uint8Array, knownChain: readonly Uint8Array[], rec: InstallRecordDoc, now: Date): { view: TargetsView; target: ListedTarget } {
  const chain = rec.rootChain.map((r) => bytesOf(r, 'root'));
  chain.forEach((bytes, i) => {
    const known = knownChain[i];
    if (!known || !Buffer.from(known).equals(bytes)) {
      const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
      throw new EdgesealError('DIGEST_MISMATCH', `install record root #${i + 2}: expected the root the device's verified chain holds (sha256 ${known ? digest(known) : 'none'}), found sha256 ${digest(bytes)}`);
    }
  });
  const { root } = trustRootChain(initialRoot, chain);
  const targets = trustRecordRole('targets', bytesOf(rec.targets, 'targets'), root.signed.keys, topRole(root, 'targets'));
  // no prototype: a role named `constructor` or `__proto__` is looked up as data, never as a member
  const files = Object.assign(Object.create(null) as Record<string, Uint8Array>, Object.fromEntries(Object.entries(rec.delegated).map(([role, v]) => [role, bytesOf(v, role)])));
  const { roles, rejected } = walkDelegations(targets, files, trustRecordRole);
  const view: TargetsView = { root, roles, rejected, expiry: 'ignore', checkedAt: now };
  const target = findTarget(view, rec.target.name, now);
  if (target.length !== rec.target.length || target.hashes.sha256?.toLowerCase() !== rec.target.sha256) {
    throw new EdgesealError('DIGEST_MISMATCH', `install record ${rec.target.name}: expected its target entry (${rec.target.length} bytes, sha256 ${rec.target.sha256}) in its signed metadata, found ${target.length} bytes, sha256 ${target.hashes.sha256 ?? 'none'}`);
  }
  return { view, target };
}

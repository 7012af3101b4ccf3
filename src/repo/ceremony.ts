import { EdgesealError } from '../core/errors.js';
import { verifyTufSignature, type TufKey } from '../crypto/tuf-key.js';
import { canonicalBytes } from './signing.js';
import type { AnySigned, KeyJson, SignatureJson } from './tuf-json.js';

// A signing ceremony collects signatures for a pending version of a role one signer at a time.
// Rules (docs/ceremony.md):
//  - a pending version freezes the role's signed bytes (version and expiry included); a signature is
//    kept only if it verifies over exactly those bytes with a key the role requires;
//  - any change to the role after `prepare` drops the pending version and its signatures;
//  - a pending version expires with its own `expires`: publish refuses it, prepare it again;
//  - bundles with different bytes for the same role conflict (CEREMONY_CONFLICT): nothing is merged.

export interface PendingVersion {
  signed: AnySigned;
  signatures: SignatureJson[];
  preparedAt: string;
}

// One threshold the pending version must meet: the role's own, and for root also the previous root's.
export interface Requirement {
  readonly name: string;
  readonly keyids: readonly string[];
  readonly threshold: number;
}

export interface Tally extends Requirement {
  readonly signedBy: string[];
  readonly missing: string[];
  readonly met: boolean;
}

export function tally(pending: PendingVersion, reqs: readonly Requirement[]): Tally[] {
  const have = new Set(pending.signatures.map((s) => s.keyid));
  return reqs.map((r) => {
    const signedBy = r.keyids.filter((k) => have.has(k));
    return { ...r, signedBy, missing: r.keyids.filter((k) => !have.has(k)), met: signedBy.length >= r.threshold };
  });
}

// SIGNATURE_THRESHOLD naming, per unmet requirement, who signed and whose signatures are missing.
export function assertThresholds(role: string, pending: PendingVersion, reqs: readonly Requirement[]): void {
  const short = tally(pending, reqs).filter((t) => !t.met);
  if (short.length === 0) return;
  const text = short.map((t) => `${t.name}: expected ${t.threshold} signatures, found ${t.signedBy.length} (missing ${t.missing.map((k) => k.slice(0, 16)).join(', ')})`);
  throw new EdgesealError('SIGNATURE_THRESHOLD', `${role} v${pending.signed.version}: ${text.join('; ')}`);
}

// Adds one signature after checking it: a required key, valid over the pending bytes. Replaces an
// earlier signature by the same key (re-signing is idempotent).
export function withSignature(role: string, pending: PendingVersion, reqs: readonly Requirement[], keys: Readonly<Record<string, KeyJson>>, sig: SignatureJson): PendingVersion {
  const key: TufKey | undefined = keys[sig.keyid];
  if (!key || !reqs.some((r) => r.keyids.includes(sig.keyid))) {
    throw new EdgesealError('SIGNATURE_INVALID', `${role} v${pending.signed.version}: expected a signature by one of its keys (${reqs.flatMap((r) => r.keyids.map((k) => k.slice(0, 16))).join(', ')}), found key ${sig.keyid.slice(0, 16)}`);
  }
  if (!/^([0-9a-f]{2})+$/.test(sig.sig) || !verifyTufSignature(key, canonicalBytes(pending.signed), Buffer.from(sig.sig, 'hex'))) {
    throw new EdgesealError('SIGNATURE_INVALID', `${role} v${pending.signed.version}: expected a valid signature by key ${sig.keyid.slice(0, 16)} over the pending bytes, found one that does not verify`);
  }
  const signatures = [...pending.signatures.filter((s) => s.keyid !== sig.keyid), { keyid: sig.keyid, sig: sig.sig }].sort((a, b) => a.keyid.localeCompare(b.keyid));
  return { ...pending, signatures };
}

// True when two pending versions freeze the same bytes (so their signatures can be merged).
export function sameBytes(a: PendingVersion, b: PendingVersion): boolean {
  return Buffer.from(canonicalBytes(a.signed)).equals(Buffer.from(canonicalBytes(b.signed)));
}

export function assertNotExpired(role: string, pending: PendingVersion, now: Date): void {
  if (Date.parse(pending.signed.expires) <= now.getTime()) {
    throw new EdgesealError('EXPIRED', `${role} v${pending.signed.version}: expected the pending version to be valid at ${now.toISOString()}, found it expired at ${pending.signed.expires} (prepare it again: 'edgeseal repo ceremony prepare ${role}')`);
  }
}

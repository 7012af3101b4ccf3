import { EdgesealError } from '../core/errors.js';
import { signChecked, type Signer } from '../crypto/signer.js';
import { appendAudit, type AuditEntry } from './audit.js';
import { assertNotExpired, assertThresholds, sameBytes, tally, withSignature, type PendingVersion, type Requirement } from './ceremony.js';
import { canonicalBytes } from './signing.js';
import type { RepoState } from './state.js';
import type { DelegatedRoleJson, Envelope, KeyJson, RoleJson, SignatureJson, TargetsSigned } from './tuf-json.js';

// The Repository's signing-ceremony operations (src/repo/ceremony.ts has the rules): a pending
// version frozen for signatures collected one at a time, merged from bundles, completed at sign().
// Repository keeps one-line methods that call these with its own state.

// What these operations need of the Repository: its current state object (sign() may replace it)
// and the role lookups it owns.
export interface CeremonyHost {
  state(): RepoState;
  readonly keyring: ReadonlyMap<string, Signer>;
  envelope(role: string): Envelope;
  roleEntry(role: string): { delegator: string; entry: RoleJson | DelegatedRoleJson };
  nextVersion(role: string): number;
  expiresAt(role: string, now: Date): string;
  markDirty(role: string): void;
}

// The thresholds a new version of `role` must meet and the keys they name: for root both the new
// root's and the previous root's (spec 5.3.4), otherwise the delegator's entry for the role.
export function requirements(host: CeremonyHost, role: string): { reqs: Requirement[]; keys: Record<string, KeyJson> } {
  const state = host.state();
  if (role === 'root') {
    const next = state.pending?.root?.signed ?? state.root.signed;
    if (next._type !== 'root') throw new EdgesealError('MALFORMED_METADATA', 'pending root: expected _type root');
    const previous = state.roots.at(-1);
    const reqs: Requirement[] = [{ name: `root v${state.pending?.root?.signed.version ?? host.nextVersion('root')} (new)`, ...next.roles.root }];
    if (previous) reqs.push({ name: `root v${previous.signed.version} (previous)`, ...previous.signed.roles.root });
    return { reqs, keys: { ...previous?.signed.keys, ...next.keys } };
  }
  const { delegator, entry } = host.roleEntry(role);
  const keys = delegator === 'root' ? state.root.signed.keys : ((host.envelope(delegator).signed as TargetsSigned).delegations?.keys ?? {});
  return { reqs: [{ name: role, keyids: entry.keyids, threshold: entry.threshold }], keys };
}

function requirePending(host: CeremonyHost, role: string): PendingVersion {
  const p = host.state().pending?.[role];
  if (!p) throw new EdgesealError('USAGE', `${role}: expected a pending version, found none (start one with 'edgeseal repo ceremony prepare ${role}')`);
  return p;
}

function audit(host: CeremonyHost, entry: Omit<AuditEntry, 'id' | 'prev'>): void {
  const state = host.state();
  state.audit = appendAudit(state.audit ?? [], entry);
}

// Freezes the role's next version (bytes, version, expiry) for signatures collected one at a time.
export function prepare(host: CeremonyHost, role: string, now: Date, by: string): PendingVersion {
  if (role === 'snapshot' || role === 'timestamp') throw new EdgesealError('USAGE', `prepare ${role}: expected root, targets or a delegated role (snapshot and timestamp are signed online at publish)`);
  const env = host.envelope(role);
  host.markDirty(role);
  const pending: PendingVersion = { signed: { ...env.signed, version: host.nextVersion(role), expires: host.expiresAt(role, now) }, signatures: [], preparedAt: now.toISOString() };
  const state = host.state();
  state.pending = { ...state.pending, [role]: pending };
  audit(host, { at: now.toISOString(), action: 'prepare', role, version: pending.signed.version, by });
  return pending;
}

// Adds one checked signature to the pending version of role.
export function addSignature(host: CeremonyHost, role: string, sig: SignatureJson, who: { at: Date; by: string; key?: string }): void {
  const pending = requirePending(host, role);
  const { reqs, keys } = requirements(host, role);
  const state = host.state();
  state.pending = { ...state.pending, [role]: withSignature(role, pending, reqs, keys, sig) };
  audit(host, { at: who.at.toISOString(), action: 'sign', role, version: pending.signed.version, by: who.by, keyid: sig.keyid, ...(who.key ? { key: who.key } : {}) });
}

// Signs the pending version with every keyring key it still needs; returns the key ids that signed.
export function signPendingWithKeyring(host: CeremonyHost, role: string, now: Date, by: string): string[] {
  const pending = requirePending(host, role);
  const have = new Set(pending.signatures.map((s) => s.keyid));
  const wanted = [...new Set(requirements(host, role).reqs.flatMap((r) => r.keyids))].filter((k) => !have.has(k) && host.keyring.has(k));
  const bytes = canonicalBytes(pending.signed);
  for (const keyid of wanted) {
    const signer = host.keyring.get(keyid)!;
    addSignature(host, role, { keyid, sig: Buffer.from(signChecked(signer, bytes)).toString('hex') }, { at: now, by, key: signer.label });
  }
  return wanted;
}

// Merges a bundle's pending version: same bytes required (else CEREMONY_CONFLICT); each signature re-checked here.
export function importPending(host: CeremonyHost, role: string, incoming: PendingVersion, who: { at: Date; by: string }): string[] {
  const mine = host.state().pending?.[role];
  if (!mine) throw new EdgesealError('CEREMONY_CONFLICT', `${role}: expected a pending v${incoming.signed.version} here to merge into, found none (already published, or never prepared in this workdir)`);
  if (!sameBytes(mine, incoming)) {
    throw new EdgesealError('CEREMONY_CONFLICT', `${role}: expected the bundle's pending v${incoming.signed.version} to hold the same bytes as this workdir's v${mine.signed.version}, found different bytes (the role changed after the bundle was exported: export and sign again)`);
  }
  const known = new Set(mine.signatures.map((s) => `${s.keyid}:${s.sig}`));
  const fresh = incoming.signatures.filter((s) => !known.has(`${s.keyid}:${s.sig}`));
  for (const sig of fresh) {
    const { reqs, keys } = requirements(host, role);
    const state = host.state();
    state.pending = { ...state.pending, [role]: withSignature(role, requirePending(host, role), reqs, keys, sig) };
  }
  audit(host, { at: who.at.toISOString(), action: 'import', role, version: mine.signed.version, by: who.by, note: `${fresh.length} signature(s): ${fresh.map((s) => s.keyid.slice(0, 16)).join(', ')}` });
  return fresh.map((s) => s.keyid);
}

// The pending version with its collected signatures plus any the keyring can still add, checked
// against every threshold; it becomes the role's signed version.
export function completePending(host: CeremonyHost, role: string, now: Date, by: string): Envelope {
  const pending = requirePending(host, role);
  assertNotExpired(role, pending, now);
  if (pending.signed.version !== host.nextVersion(role)) {
    throw new EdgesealError('CEREMONY_CONFLICT', `${role}: expected the pending version to be v${host.nextVersion(role)}, found v${pending.signed.version} (stale: prepare it again)`);
  }
  // Keys at hand sign only while a threshold is unmet (an absent offline token is not needed then).
  if (!tally(pending, requirements(host, role).reqs).every((t) => t.met)) signPendingWithKeyring(host, role, now, by);
  const done = requirePending(host, role);
  assertThresholds(role, done, requirements(host, role).reqs);
  dropPending(host.state(), role);
  audit(host, { at: now.toISOString(), action: 'complete', role, version: done.signed.version, by, note: `${done.signatures.length} signature(s)` });
  return { signed: done.signed, signatures: done.signatures };
}

// Any change to a role's bytes invalidates its pending version and the signatures collected for it.
export function dropPending(state: RepoState, role: string): void {
  if (!state.pending?.[role]) return;
  const left = { ...state.pending };
  delete left[role];
  state.pending = left;
}

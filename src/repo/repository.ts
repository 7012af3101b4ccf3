import { EdgesealError } from '../core/errors.js';
import type { TargetCustom } from '../core/target-meta.js';
import { isSigningKey, type Ed25519Key } from '../crypto/ed25519.js';
import { fileSigner, isSigner, type Signer } from '../crypto/signer.js';
import type { PublicKeyInput } from '../crypto/tuf-key.js';
import { mergeAudit, type AuditEntry } from './audit.js';
import type { PendingVersion, Requirement } from './ceremony.js';
import { addSignature, dropPending, importPending, prepare, requirements, signPendingWithKeyring } from './repository-ceremony.js';
import { addTarget, checkTarget, delegate, removeTarget, rotateKeys, type DelegationInput, type EditHost, type TargetInput } from './repository-edits.js';
import { signChanged, type SignedRole, type SignHost } from './repository-sign.js';
import { emptyState, parseRepoState, type RepoState } from './state.js';
import { setRoleKeys, type KeyRotation } from './role-keys.js';
import {
  addSeconds,
  formatExpires,
  TOP_ROLES,
  type DelegatedRoleJson,
  type Envelope,
  type KeyJson,
  type RoleJson,
  type RootSigned,
  type SignatureJson,
  type TargetsSigned,
  type TopRole,
} from './tuf-json.js';

export const DEFAULT_EXPIRY_SECONDS: Readonly<Record<TopRole, number>> = {
  root: 365 * 86400,
  targets: 90 * 86400,
  snapshot: 7 * 86400,
  timestamp: 86400,
};

export interface RepositoryInit {
  readonly keys: Readonly<Record<TopRole, readonly (Ed25519Key | Signer)[]>>;
  readonly thresholds?: Partial<Record<TopRole, number>>;
  readonly expirySeconds?: Partial<Record<TopRole, number>>;
}

export type { KeyRotation } from './role-keys.js';
export type { DelegationInput, TargetInput } from './repository-edits.js';
export type { SignedRole } from './repository-sign.js';

// A TUF repository being published: plain, synchronous edits on in-memory state, signing with the keys
// it was given, an explicit `now`. Adapters (workdir, publish-dir) do the file I/O around it.
export class Repository {
  private readonly keyring = new Map<string, Signer>();
  private readonly host: SignHost & EditHost; // what repository-ceremony, -sign and -edits.ts need of it

  private constructor(private state: RepoState, signingKeys: readonly (Ed25519Key | Signer)[]) {
    this.addSigningKeys(signingKeys);
    this.host = {
      state: () => this.state,
      keyring: this.keyring,
      envelope: (role) => this.envelope(role),
      roleEntry: (role) => this.roleEntry(role),
      nextVersion: (role) => this.nextVersion(role),
      expiresAt: (role, now) => this.expiresAt(role, now),
      markDirty: (role) => this.markDirty(role),
      targetRoles: () => this.targetRoles(),
      targetsEnvelope: (role) => this.targetsEnvelope(role),
      expirySeconds: (role) => this.expirySeconds(role),
      addSigningKeys: (keys) => this.addSigningKeys(keys),
      mutateRoot: (fn) => this.mutateRoot(fn),
      mutateTargets: (role, fn) => this.mutateTargets(role, fn),
    };
  }

  // New repository: every role at version 0 with unsigned changes; the first sign() makes version 1.
  static init(opts: RepositoryInit): Repository {
    const state = emptyState({ ...DEFAULT_EXPIRY_SECONDS, ...opts.expirySeconds });
    const repo = new Repository(state, TOP_ROLES.flatMap((r) => opts.keys[r]));
    repo.mutateRoot((root) => {
      for (const role of TOP_ROLES) {
        const keys = opts.keys[role];
        setRoleKeys(root.keys, root.roles[role], role, { add: keys, threshold: opts.thresholds?.[role] ?? 1 });
      }
    });
    for (const role of TOP_ROLES) repo.markDirty(role);
    return repo;
  }

  static fromState(json: unknown, signingKeys: readonly (Ed25519Key | Signer)[] = []): Repository {
    return new Repository(parseRepoState(json), signingKeys);
  }

  toState(): RepoState {
    return structuredClone(this.state);
  }

  // Private key files and signers (PKCS#11, external command); public-only keys are ignored.
  addSigningKeys(keys: readonly (PublicKeyInput | Signer)[]): void {
    for (const k of keys) {
      if (isSigner(k)) this.keyring.set(k.keyid, k);
      else if ('publicHex' in k && isSigningKey(k)) this.keyring.set(k.keyid, fileSigner(k));
    }
  }

  // Roles holding targets: 'targets' then the delegated roles by name.
  targetRoles(): string[] {
    return ['targets', ...Object.keys(this.state.delegated).sort()];
  }

  rootHistory(): readonly Envelope<RootSigned>[] {
    return this.state.roots;
  }

  envelope(role: string): Envelope {
    if (role === 'root') return this.state.root;
    if (role === 'snapshot') return this.state.snapshot;
    if (role === 'timestamp') return this.state.timestamp;
    return this.targetsEnvelope(role);
  }

  pending(): string[] {
    return [...this.state.dirty];
  }

  expirySeconds(role: string): number {
    return this.state.expirySeconds[role] ?? this.state.expirySeconds.targets ?? DEFAULT_EXPIRY_SECONDS.targets;
  }

  isSigningKeyAvailable(keyid: string): boolean {
    return this.keyring.has(keyid);
  }

  // The role entry (keys, threshold) that authorises `role`: from root or from its delegator.
  roleEntry(role: string): { delegator: string; entry: RoleJson | DelegatedRoleJson } {
    if ((TOP_ROLES as readonly string[]).includes(role)) return { delegator: 'root', entry: this.state.root.signed.roles[role as TopRole] };
    const delegator = this.delegatorOf(role);
    const entry = this.targetsEnvelope(delegator).signed.delegations?.roles.find((r) => r.name === role);
    if (!entry) throw new EdgesealError('USAGE', `role ${role}: expected a delegation, found none`);
    return { delegator, entry };
  }

  // ---- targets, delegations and role keys (src/repo/repository-edits.ts does them) ----

  checkTarget(name: string, custom: unknown, role = 'targets'): TargetCustom {
    return checkTarget(this.host, name, custom, role);
  }

  addTarget(name: string, input: TargetInput, opts: { role?: string } = {}): void {
    addTarget(this.host, name, input, opts);
  }

  removeTarget(name: string, opts: { role?: string } = {}): void {
    removeTarget(this.host, name, opts);
  }

  delegate(d: DelegationInput): void {
    delegate(this.host, d);
  }

  rotateKeys(role: string, rotation: KeyRotation): void {
    rotateKeys(this.host, role, rotation);
  }

  setExpiry(role: string, seconds: number): void {
    this.envelope(role);
    if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new EdgesealError('USAGE', `expiry of ${role}: expected a positive number of seconds, found ${seconds}`);
    this.state.expirySeconds[role] = seconds;
    this.markDirty(role);
  }

  // Marks a role for re-signing (a new version with a fresh expiry) at the next sign().
  markDirty(role: string): void {
    this.envelope(role);
    if (!this.state.dirty.includes(role)) this.state.dirty.push(role);
  }

  // Signs every changed role with a new version (in the spec's order: src/repo/repository-sign.ts).
  sign(now: Date, by = 'unknown'): SignedRole[] {
    const before = structuredClone(this.state);
    try {
      return signChanged(this.host, now, by);
    } catch (err) {
      this.state = before; // all or nothing: a failed sign leaves no half-bumped versions behind
      throw err;
    }
  }

  // ---- signing ceremonies (src/repo/repository-ceremony.ts does them, src/repo/ceremony.ts has the rules) ----

  nextVersion(role: string): number {
    return role === 'root' ? (this.state.roots.at(-1)?.signed.version ?? 0) + 1 : this.envelope(role).signed.version + 1;
  }

  requirements(role: string): { reqs: Requirement[]; keys: Record<string, KeyJson> } {
    return requirements(this.host, role);
  }

  pendingVersion(role: string): PendingVersion | undefined {
    return this.state.pending?.[role];
  }

  pendingRoles(): string[] {
    return Object.keys(this.state.pending ?? {}).sort();
  }

  auditLog(): readonly AuditEntry[] {
    return this.state.audit ?? [];
  }

  prepare(role: string, now: Date, by: string): PendingVersion {
    return prepare(this.host, role, now, by);
  }

  addSignature(role: string, sig: SignatureJson, who: { at: Date; by: string; key?: string }): void {
    addSignature(this.host, role, sig, who);
  }

  signPendingWithKeyring(role: string, now: Date, by: string): string[] {
    return signPendingWithKeyring(this.host, role, now, by);
  }

  importPending(role: string, incoming: PendingVersion, who: { at: Date; by: string }): string[] {
    return importPending(this.host, role, incoming, who);
  }

  // Appends audit entries from a bundle this log does not hold (the bundle's log was verified by its reader).
  mergeAuditLog(entries: readonly AuditEntry[]): void {
    this.state.audit = mergeAudit(this.auditLog(), entries);
  }

  private expiresAt(role: string, now: Date): string {
    return formatExpires(addSeconds(now, this.expirySeconds(role)));
  }

  private targetsEnvelope(role: string): Envelope<TargetsSigned> {
    const env = role === 'targets' ? this.state.targets : this.state.delegated[role];
    if (!env) throw new EdgesealError('USAGE', `role ${JSON.stringify(role)}: expected targets or a delegated role (${this.targetRoles().join(', ')}), found no such role`);
    return env;
  }

  private delegatorOf(role: string): string {
    this.targetsEnvelope(role);
    const parent = this.targetRoles().find((r) => this.targetsEnvelope(r).signed.delegations?.roles.some((d) => d.name === role));
    if (!parent) throw new EdgesealError('MALFORMED_METADATA', `role ${role}: expected a delegating role, found none`);
    return parent;
  }

  // Edits the working copy (never a signed history entry) and drops its now-stale signatures.
  private mutateRoot(fn: (root: RootSigned) => void): void {
    const signed = structuredClone(this.state.root.signed);
    fn(signed);
    dropPending(this.state, 'root');
    this.state.root = { signed, signatures: [] };
    this.markDirty('root');
  }

  private mutateTargets(role: string, fn: (t: TargetsSigned) => void): void {
    const signed = structuredClone(this.targetsEnvelope(role).signed);
    fn(signed);
    dropPending(this.state, role);
    if (role === 'targets') this.state.targets = { signed, signatures: [] };
    else this.state.delegated[role] = { signed, signatures: [] };
    this.markDirty(role);
  }

  // Escape hatch for tests and fixtures: edit a role's signed JSON directly (it is re-signed as is).
  editSigned(role: string, fn: (signed: Envelope['signed']) => void): void {
    if (role === 'root') return this.mutateRoot(fn);
    if (role === 'snapshot' || role === 'timestamp') {
      const env = this.envelope(role);
      const signed = structuredClone(env.signed);
      fn(signed);
      Object.assign(this.state, { [role]: { signed, signatures: [] } });
      return this.markDirty(role);
    }
    this.mutateTargets(role, fn);
  }
}

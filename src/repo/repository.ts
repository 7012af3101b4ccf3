import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { parseTargetCustom, type TargetCustom } from '../core/target-meta.js';
import { isSigningKey, type Ed25519Key } from '../crypto/ed25519.js';
import { fileSigner, isSigner, type Signer } from '../crypto/signer.js';
import type { PublicKeyInput } from '../crypto/tuf-key.js';
import { mergeAudit, type AuditEntry } from './audit.js';
import type { PendingVersion, Requirement } from './ceremony.js';
import { addSignature, completePending, dropPending, importPending, prepare, requirements, signPendingWithKeyring, type CeremonyHost } from './repository-ceremony.js';
import { assertDelegateVerifies, encodeEnvelope, signRole, signRoot } from './signing.js';
import { assertSafePattern, assertSafeRoleName, assertSafeTargetName, isDelegatedPath } from './target-path.js';
import { emptyState, emptyTargetsSigned, parseRepoState, type RepoState } from './state.js';
import { pruneUnusedKeys, setRoleKeys, type KeyRotation } from './role-keys.js';
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

export interface TargetInput {
  readonly length: number;
  readonly sha256: string;
  readonly custom: unknown; // validated with parseTargetCustom
}

export interface DelegationInput {
  readonly name: string;
  readonly paths: readonly string[];
  readonly keys: readonly (Ed25519Key | Signer)[];
  readonly threshold?: number;
  readonly terminating?: boolean;
  readonly parent?: string; // delegating role, default 'targets'
  readonly expirySeconds?: number;
}

export type { KeyRotation } from './role-keys.js';

export interface SignedRole {
  readonly role: string;
  readonly version: number;
  readonly expires: string;
}

// A TUF repository being published: plain, synchronous edits on in-memory state, signing with the keys
// it was given, an explicit `now`. Adapters (workdir, publish-dir) do the file I/O around it.
export class Repository {
  private readonly keyring = new Map<string, Signer>();
  private readonly ceremony: CeremonyHost;

  private constructor(private state: RepoState, signingKeys: readonly (Ed25519Key | Signer)[]) {
    this.addSigningKeys(signingKeys);
    this.ceremony = {
      state: () => this.state,
      keyring: this.keyring,
      envelope: (role) => this.envelope(role),
      roleEntry: (role) => this.roleEntry(role),
      nextVersion: (role) => this.nextVersion(role),
      expiresAt: (role, now) => this.expiresAt(role, now),
      markDirty: (role) => this.markDirty(role),
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

  // Checks a target's name, role and custom fields without changing anything; returns the parsed fields.
  checkTarget(name: string, custom: unknown, role = 'targets'): TargetCustom {
    assertSafeTargetName(name);
    if (role !== 'targets') {
      const { delegator, entry } = this.roleEntry(role);
      if (!isDelegatedPath(this.targetsEnvelope(delegator).signed, role, name)) {
        throw new EdgesealError('DELEGATION_VIOLATION', `target ${name}: expected a path role ${role} is delegated (${(entry as DelegatedRoleJson).paths.join(', ')}), found none matching`);
      }
    } else {
      this.targetsEnvelope(role);
    }
    return parseTargetCustom(name, custom);
  }

  addTarget(name: string, input: TargetInput, opts: { role?: string } = {}): void {
    const role = opts.role ?? 'targets';
    const custom = this.checkTarget(name, input.custom, role);
    if (!Number.isSafeInteger(input.length) || input.length < 0) throw new EdgesealError('USAGE', `target ${name}: expected a non-negative length, found ${input.length}`);
    if (!/^[0-9a-f]{64}$/.test(input.sha256)) throw new EdgesealError('USAGE', `target ${name}: expected a sha256 in lowercase hex, found ${JSON.stringify(input.sha256)}`);
    this.mutateTargets(role, (t) => {
      t.targets[name] = { length: input.length, hashes: { sha256: input.sha256 }, custom: { ...custom } };
    });
  }

  removeTarget(name: string, opts: { role?: string } = {}): void {
    const role = opts.role ?? this.targetRoles().find((r) => name in this.targetsEnvelope(r).signed.targets);
    if (role === undefined || !(name in this.targetsEnvelope(role).signed.targets)) {
      throw new EdgesealError('UNKNOWN_TARGET', `target ${JSON.stringify(name)}: expected it in ${opts.role ?? 'any targets role'}, found no such target`);
    }
    this.mutateTargets(role, (t) => {
      delete t.targets[name];
    });
  }

  // Delegates path patterns to a new targets role (spec §4.5 delegations), with its own keys and threshold.
  delegate(d: DelegationInput): void {
    assertSafeRoleName(d.name);
    if (d.name in this.state.delegated) throw new EdgesealError('USAGE', `role ${d.name}: expected a new role name, found an existing delegation`);
    if (d.paths.length === 0) throw new EdgesealError('USAGE', `role ${d.name}: expected at least one path pattern`);
    for (const p of d.paths) assertSafePattern(p);
    const parent = d.parent ?? 'targets';
    this.targetsEnvelope(parent);
    this.mutateTargets(parent, (t) => {
      t.delegations ??= { keys: {}, roles: [] };
      const entry: DelegatedRoleJson = { name: d.name, keyids: [], threshold: 1, terminating: d.terminating ?? true, paths: [...d.paths] };
      setRoleKeys(t.delegations.keys, entry, d.name, { add: d.keys, threshold: d.threshold ?? 1 });
      t.delegations.roles.push(entry);
    });
    this.state.delegated[d.name] = { signed: emptyTargetsSigned(), signatures: [] };
    this.state.expirySeconds[d.name] = d.expirySeconds ?? this.expirySeconds('targets');
    this.markDirty(d.name);
    this.addSigningKeys(d.keys);
  }

  // Adds/removes keys of a role and/or changes its threshold. Top-level roles change root (so the next
  // sign() writes N+1.root.json signed by both the old and the new root keys); the role itself is re-signed.
  rotateKeys(role: string, rotation: KeyRotation): void {
    const { delegator } = this.roleEntry(role);
    const apply = (keys: Record<string, KeyJson>, entry: RoleJson): void => setRoleKeys(keys, entry, role, rotation);
    if (delegator === 'root') {
      this.mutateRoot((root) => {
        apply(root.keys, root.roles[role as TopRole]);
        pruneUnusedKeys(root.keys, Object.values(root.roles));
      });
    } else {
      this.mutateTargets(delegator, (t) => {
        const d = t.delegations!;
        apply(d.keys, d.roles.find((r) => r.name === role)!);
        pruneUnusedKeys(d.keys, d.roles);
      });
    }
    this.markDirty(role);
    this.addSigningKeys(rotation.add ?? []);
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

  // Signs every changed role with a new version: root (old and new thresholds), targets roles,
  // then snapshot if any targets role changed, then timestamp if snapshot changed (spec §6.1).
  sign(now: Date, by = 'unknown'): SignedRole[] {
    const before = structuredClone(this.state);
    try {
      return this.signPending(now, by);
    } catch (err) {
      this.state = before; // all or nothing: a failed sign leaves no half-bumped versions behind
      throw err;
    }
  }

  private signPending(now: Date, by: string): SignedRole[] {
    const dirty = new Set(this.state.dirty);
    if (dirty.size === 0) return [];
    const done: SignedRole[] = [];
    const s = this.state;
    if (dirty.has('root')) {
      const previous = s.roots.at(-1);
      const signed = { ...s.root.signed, version: this.nextVersion('root'), expires: this.expiresAt('root', now) };
      const env = s.pending?.root ? completePending(this.ceremony, 'root', now, by) : signRoot(previous, signed, this.keyring);
      if (previous) assertDelegateVerifies(previous, 'root', env);
      assertDelegateVerifies(env as Envelope<RootSigned>, 'root', env);
      s.roots.push(env as Envelope<RootSigned>);
      s.root = env as Envelope<RootSigned>;
      done.push(summary('root', env));
    }
    const changedTargets = this.targetRoles().filter((r) => dirty.has(r));
    for (const role of changedTargets) {
      const env = this.targetsEnvelope(role);
      const signed = { ...env.signed, version: env.signed.version + 1, expires: this.expiresAt(role, now) };
      const { delegator, entry } = this.roleEntry(role);
      const delegatorEnv = delegator === 'root' ? s.root : this.targetsEnvelope(delegator);
      let next: Envelope<TargetsSigned>;
      if (s.pending?.[role]) {
        next = completePending(this.ceremony, role, now, by) as Envelope<TargetsSigned>;
        assertDelegateVerifies(delegatorEnv, role, next);
      } else {
        next = signRole(role, signed, entry, this.keyring, delegatorEnv);
      }
      if (role === 'targets') s.targets = next;
      else s.delegated[role] = next;
      done.push(summary(role, next));
    }
    if (changedTargets.length > 0 || dirty.has('snapshot')) {
      const meta = Object.fromEntries(this.targetRoles().map((r) => [`${r}.json`, { version: this.targetsEnvelope(r).signed.version }]));
      const signed = { ...s.snapshot.signed, meta, version: s.snapshot.signed.version + 1, expires: this.expiresAt('snapshot', now) };
      s.snapshot = signRole('snapshot', signed, s.root.signed.roles.snapshot, this.keyring, s.root);
      done.push(summary('snapshot', s.snapshot));
      dirty.add('timestamp');
    }
    if (dirty.has('timestamp')) {
      const bytes = encodeEnvelope(s.snapshot);
      const snapshotMeta = { version: s.snapshot.signed.version, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } };
      const signed = { ...s.timestamp.signed, meta: { 'snapshot.json': snapshotMeta }, version: s.timestamp.signed.version + 1, expires: this.expiresAt('timestamp', now) };
      s.timestamp = signRole('timestamp', signed, s.root.signed.roles.timestamp, this.keyring, s.root);
      done.push(summary('timestamp', s.timestamp));
    }
    s.dirty = [];
    return done;
  }

  // ---- signing ceremonies (src/repo/repository-ceremony.ts does them, src/repo/ceremony.ts has the rules) ----

  nextVersion(role: string): number {
    return role === 'root' ? (this.state.roots.at(-1)?.signed.version ?? 0) + 1 : this.envelope(role).signed.version + 1;
  }

  requirements(role: string): { reqs: Requirement[]; keys: Record<string, KeyJson> } {
    return requirements(this.ceremony, role);
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
    return prepare(this.ceremony, role, now, by);
  }

  addSignature(role: string, sig: SignatureJson, who: { at: Date; by: string; key?: string }): void {
    addSignature(this.ceremony, role, sig, who);
  }

  signPendingWithKeyring(role: string, now: Date, by: string): string[] {
    return signPendingWithKeyring(this.ceremony, role, now, by);
  }

  importPending(role: string, incoming: PendingVersion, who: { at: Date; by: string }): string[] {
    return importPending(this.ceremony, role, incoming, who);
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

function summary(role: string, env: Envelope): SignedRole {
  return { role, version: env.signed.version, expires: env.signed.expires };
}

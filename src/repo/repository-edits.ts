import { EdgesealError } from '../core/errors.js';
import { parseTargetCustom, type TargetCustom } from '../core/target-meta.js';
import type { Ed25519Key } from '../crypto/ed25519.js';
import type { Signer } from '../crypto/signer.js';
import type { PublicKeyInput } from '../crypto/tuf-key.js';
import type { CeremonyHost } from './repository-ceremony.js';
import type { SignHost } from './repository-sign.js';
import { pruneUnusedKeys, setRoleKeys, type KeyRotation } from './role-keys.js';
import { emptyTargetsSigned } from './state.js';
import { assertSafePattern, assertSafeRoleName, assertSafeTargetName, isDelegatedPath } from './target-path.js';
import type { DelegatedRoleJson, KeyJson, RoleJson, RootSigned, TargetsSigned, TopRole } from './tuf-json.js';

// The Repository's edits of targets, delegations and role keys: each checks its input, then changes
// the working copy of the roles it touches (which drops their pending versions) and marks them dirty.

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

// What the edits need of the Repository: its state and role lookups, and its working-copy edits.
export interface EditHost extends Pick<CeremonyHost, 'state' | 'roleEntry' | 'markDirty'>, Pick<SignHost, 'targetRoles' | 'targetsEnvelope'> {
  expirySeconds(role: string): number;
  addSigningKeys(keys: readonly (PublicKeyInput | Signer)[]): void;
  mutateRoot(fn: (root: RootSigned) => void): void;
  mutateTargets(role: string, fn: (t: TargetsSigned) => void): void;
}

// Checks a target's name, role and custom fields without changing anything; returns the parsed fields.
export function checkTarget(host: EditHost, name: string, custom: unknown, role = 'targets'): TargetCustom {
  assertSafeTargetName(name);
  if (role !== 'targets') {
    const { delegator, entry } = host.roleEntry(role);
    if (!isDelegatedPath(host.targetsEnvelope(delegator).signed, role, name)) {
      throw new EdgesealError('DELEGATION_VIOLATION', `target ${name}: expected a path role ${role} is delegated (${(entry as DelegatedRoleJson).paths.join(', ')}), found none matching`);
    }
  } else {
    host.targetsEnvelope(role);
  }
  return parseTargetCustom(name, custom);
}

export function addTarget(host: EditHost, name: string, input: TargetInput, opts: { role?: string } = {}): void {
  const role = opts.role ?? 'targets';
  const custom = checkTarget(host, name, input.custom, role);
  if (!Number.isSafeInteger(input.length) || input.length < 0) throw new EdgesealError('USAGE', `target ${name}: expected a non-negative length, found ${input.length}`);
  if (!/^[0-9a-f]{64}$/.test(input.sha256)) throw new EdgesealError('USAGE', `target ${name}: expected a sha256 in lowercase hex, found ${JSON.stringify(input.sha256)}`);
  host.mutateTargets(role, (t) => {
    t.targets[name] = { length: input.length, hashes: { sha256: input.sha256 }, custom: { ...custom } };
  });
}

export function removeTarget(host: EditHost, name: string, opts: { role?: string } = {}): void {
  const role = opts.role ?? host.targetRoles().find((r) => name in host.targetsEnvelope(r).signed.targets);
  if (role === undefined || !(name in host.targetsEnvelope(role).signed.targets)) {
    throw new EdgesealError('UNKNOWN_TARGET', `target ${JSON.stringify(name)}: expected it in ${opts.role ?? 'any targets role'}, found no such target`);
  }
  host.mutateTargets(role, (t) => {
    delete t.targets[name];
  });
}

// Delegates path patterns to a new targets role (spec §4.5 delegations), with its own keys and threshold.
export function delegate(host: EditHost, d: DelegationInput): void {
  assertSafeRoleName(d.name);
  if (d.name in host.state().delegated) throw new EdgesealError('USAGE', `role ${d.name}: expected a new role name, found an existing delegation`);
  if (d.paths.length === 0) throw new EdgesealError('USAGE', `role ${d.name}: expected at least one path pattern`);
  for (const p of d.paths) assertSafePattern(p);
  const parent = d.parent ?? 'targets';
  host.targetsEnvelope(parent);
  host.mutateTargets(parent, (t) => {
    t.delegations ??= { keys: {}, roles: [] };
    const entry: DelegatedRoleJson = { name: d.name, keyids: [], threshold: 1, terminating: d.terminating ?? true, paths: [...d.paths] };
    setRoleKeys(t.delegations.keys, entry, d.name, { add: d.keys, threshold: d.threshold ?? 1 });
    t.delegations.roles.push(entry);
  });
  host.state().delegated[d.name] = { signed: emptyTargetsSigned(), signatures: [] };
  host.state().expirySeconds[d.name] = d.expirySeconds ?? host.expirySeconds('targets');
  host.markDirty(d.name);
  host.addSigningKeys(d.keys);
}

// Adds/removes keys of a role and/or changes its threshold. Top-level roles change root (so the next
// sign() writes N+1.root.json signed by both the old and the new root keys); the role itself is re-signed.
export function rotateKeys(host: EditHost, role: string, rotation: KeyRotation): void {
  const { delegator } = host.roleEntry(role);
  const apply = (keys: Record<string, KeyJson>, entry: RoleJson): void => setRoleKeys(keys, entry, role, rotation);
  if (delegator === 'root') {
    host.mutateRoot((root) => {
      apply(root.keys, root.roles[role as TopRole]);
      pruneUnusedKeys(root.keys, Object.values(root.roles));
    });
  } else {
    host.mutateTargets(delegator, (t) => {
      const d = t.delegations!;
      apply(d.keys, d.roles.find((r) => r.name === role)!);
      pruneUnusedKeys(d.keys, d.roles);
    });
  }
  host.markDirty(role);
  host.addSigningKeys(rotation.add ?? []);
}

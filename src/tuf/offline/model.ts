import { isTargetInPathPattern } from './path-pattern.js';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { createHash } = process.getBuiltinModule('node:crypto');

// The offline verifier's model of TUF metadata: plain data, parsed by from-json.ts. The shapes are a
// structural subset of @tufjs/models' classes with the same property names, so code written against
// either reads the same and a tuf-js Metadata object is assignable to these types; the behaviour the
// classes carry as methods is here as pure functions, computed the way @tufjs/models computes it so
// that the online refresh (tuf-js) and the offline check agree on which role may sign which target.

// Fields the document holds besides those modelled (our parser always sets them; optional where the
// models' declarations make them so, which keeps their objects assignable).
type Fields = Readonly<Record<string, unknown>>;

export interface Key {
  readonly keyID: string;
  readonly keyType: string;
  readonly scheme: string;
  readonly keyVal: Readonly<Record<string, string>>;
  readonly unrecognizedFields?: Fields;
}

export interface Role {
  readonly keyIDs: readonly string[];
  readonly threshold: number;
  readonly unrecognizedFields?: Fields;
}

export interface DelegatedRole extends Role {
  readonly name: string;
  readonly terminating: boolean;
  readonly paths?: readonly string[];
  readonly pathHashPrefixes?: readonly string[];
}

// TAP 15 hash bins: 2^bitLength roles named `${namePrefix}-${zero-padded hex}`.
export interface SuccinctRoles extends Role {
  readonly bitLength: number;
  readonly namePrefix: string;
  readonly numberOfBins: number;
  readonly suffixLen: number;
}

export interface Delegations {
  readonly keys: Readonly<Record<string, Key>>;
  readonly roles?: Readonly<Record<string, DelegatedRole>>;
  readonly succinctRoles?: SuccinctRoles;
  readonly unrecognizedFields?: Fields;
}

export interface MetaFile {
  readonly version: number;
  readonly length?: number;
  readonly hashes?: Readonly<Record<string, string>>;
  readonly unrecognizedFields?: Fields;
}

export interface TargetFile {
  readonly path: string;
  readonly length: number;
  readonly hashes: Readonly<Record<string, string>>;
  readonly custom: Record<string, unknown>; // the entry's custom field when it is an object, else {}
}

export interface Signed {
  readonly specVersion: string;
  readonly expires: string;
  readonly version: number;
  readonly unrecognizedFields: Fields;
}

export interface Root extends Signed {
  readonly keys: Readonly<Record<string, Key>>;
  readonly roles: Readonly<Record<string, Role>>;
  readonly consistentSnapshot: boolean;
}

export interface Timestamp extends Signed {
  readonly snapshotMeta: MetaFile;
}

export interface Snapshot extends Signed {
  readonly meta: Readonly<Record<string, MetaFile>>;
}

export interface Targets extends Signed {
  readonly targets: Readonly<Record<string, TargetFile>>;
  readonly delegations?: Delegations;
}

export interface Signature {
  readonly keyID: string;
  readonly sig: string;
}

export interface Metadata<T extends Signed> {
  readonly signed: T;
  readonly signatures: Readonly<Record<string, Signature>>;
  readonly unrecognizedFields: Fields;
}

// Signed.isExpired: expired at and after the instant `expires` names (as `new Date(expires)` reads it).
export function isExpired(signed: Pick<Signed, 'expires'>, now: Date): boolean {
  return now >= new Date(signed.expires);
}

const sha256 = (path: string): Buffer => createHash('sha256').update(path).digest();

// DelegatedRole.isDelegatedPath: a path pattern matches, or the sha256 of the path starts with a prefix.
export function isDelegatedPath(role: Pick<DelegatedRole, 'paths' | 'pathHashPrefixes'>, targetPath: string): boolean {
  if (role.paths) return role.paths.some((pattern) => isTargetInPathPattern(targetPath, pattern));
  if (role.pathHashPrefixes) {
    const hash = sha256(targetPath).toString('hex');
    return role.pathHashPrefixes.some((prefix) => hash.startsWith(prefix));
  }
  return false;
}

// SuccinctRoles.getRoleForTarget: the bin is the leftmost bitLength bits of the path's sha256.
export function binForTarget(bins: Pick<SuccinctRoles, 'bitLength' | 'namePrefix' | 'suffixLen'>, targetPath: string): string {
  const bin = sha256(targetPath).readUInt32BE(0) >>> (32 - bins.bitLength);
  return `${bins.namePrefix}-${bin.toString(16).padStart(bins.suffixLen, '0')}`;
}

// SuccinctRoles.isDelegatedRole: `${namePrefix}-` then suffixLen hex digits (either case) below numberOfBins.
export function isDelegatedRole(bins: Pick<SuccinctRoles, 'namePrefix' | 'suffixLen' | 'numberOfBins'>, roleName: string): boolean {
  const prefix = `${bins.namePrefix}-`;
  if (!roleName.startsWith(prefix)) return false;
  const suffix = roleName.slice(prefix.length);
  return suffix.length === bins.suffixLen && /^[0-9a-fA-F]+$/.test(suffix) && parseInt(suffix, 16) < bins.numberOfBins;
}

// Delegations.rolesForTarget: the roles trusted for `targetPath`, in the order of `roles` (a hash bin is
// always terminating).
export function rolesForTarget(delegations: Pick<Delegations, 'roles' | 'succinctRoles'>, targetPath: string): { role: string; terminating: boolean }[] {
  if (delegations.roles) {
    return Object.values(delegations.roles)
      .filter((role) => isDelegatedPath(role, targetPath))
      .map((role) => ({ role: role.name, terminating: role.terminating }));
  }
  return delegations.succinctRoles ? [{ role: binForTarget(delegations.succinctRoles, targetPath), terminating: true }] : [];
}

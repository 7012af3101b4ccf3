import { EdgesealError, asEdgesealError, type ErrorCode } from '../../core/errors.js';
import { MAX_DELEGATIONS } from '../limits.js';
import { isDelegatedRole, rolesForTarget, type Metadata, type Snapshot, type TargetFile, type Targets } from './model.js';
import { checkExpiry, trustTargetsRole } from './top-level.js';
import type { TargetsView, TrustedMetadata, TrustedRole } from './types.js';
import { own } from '../../core/own.js';

// The role (keys + threshold) a targets role delegates `name` to, explicit or hash-binned (TAP 15).
function delegationFor(delegator: Targets, name: string): { keyIDs: readonly string[]; threshold: number } | undefined {
  const d = delegator.delegations;
  if (!d) return undefined;
  if (d.roles) return own(d.roles, name);
  return d.succinctRoles && isDelegatedRole(d.succinctRoles, name) ? d.succinctRoles : undefined;
}

// Child role names in delegation order (for hash bins: the bins we hold files for).
function childNames(delegator: Targets, available: readonly string[]): string[] {
  const d = delegator.delegations;
  if (!d) return [];
  if (d.roles) return Object.values(d.roles).map((r) => r.name);
  const bins = d.succinctRoles;
  return bins ? available.filter((n) => isDelegatedRole(bins, n)) : [];
}

// Verifies every delegated role reachable from 'targets' against the first delegator that names it
// (preorder, as the client workflow 5.6.7 walks). A role that fails is remembered, not fatal: it only
// blocks the lookups that reach it.
export function trustDelegations(
  snap: Metadata<Snapshot>,
  targets: TrustedRole,
  files: Readonly<Record<string, Uint8Array>>,
): { roles: Map<string, TrustedRole>; rejected: Map<string, { code: ErrorCode; message: string }> } {
  return walkDelegations(targets, files, (name, bytes, keys, role) => trustTargetsRole(snap, name, bytes, keys, role));
}

type VerifyRole = (name: string, bytes: Uint8Array, keys: Parameters<typeof trustTargetsRole>[3], role: Parameters<typeof trustTargetsRole>[4]) => TrustedRole;

// The walk of trustDelegations with the per-role check given (an install record's roles have no snapshot).
export function walkDelegations(
  targets: TrustedRole,
  files: Readonly<Record<string, Uint8Array>>,
  verifyRole: VerifyRole,
): { roles: Map<string, TrustedRole>; rejected: Map<string, { code: ErrorCode; message: string }> } {
  const roles = new Map<string, TrustedRole>([['targets', targets]]);
  const rejected = new Map<string, { code: ErrorCode; message: string }>();
  const available = Object.keys(files);
  const stack: string[] = ['targets'];
  while (stack.length) {
    const parentName = stack.pop()!;
    const parent = roles.get(parentName)!.md.signed;
    const children: string[] = [];
    for (const name of childNames(parent, available)) {
      const bytes = own(files, name);
      if (name === 'targets' || roles.has(name) || rejected.has(name) || bytes === undefined) continue;
      try {
        roles.set(name, verifyRole(name, bytes, parent.delegations!.keys, delegationFor(parent, name)!));
        children.push(name);
      } catch (err) {
        const e = asEdgesealError(err, 'MALFORMED_METADATA');
        rejected.set(name, { code: e.code, message: e.message });
      }
    }
    stack.push(...children.reverse());
  }
  return { roles, rejected };
}

// Delegated roles a trusted delegator names and the snapshot lists, whose metadata is missing or did not
// verify (e.g. a copy older than the snapshot): what a refresh must fetch (5.6.7), breadth-first, no
// deeper than maxDepth below 'targets' (a lookup visiting at most MAX_DELEGATIONS roles reaches no further).
export function delegationsToFetch(trusted: TrustedMetadata, maxDepth = MAX_DELEGATIONS): string[] {
  const meta = trusted.snapshot.signed.meta;
  const listed = Object.keys(meta).map((f) => f.replace(/\.json$/, ''));
  const wanted: string[] = [];
  const seen = new Set<string>(['targets']);
  const queue: [string, number][] = [['targets', 0]];
  while (queue.length) {
    const [name, depth] = queue.shift()!;
    const role = trusted.roles.get(name);
    if (!role || depth >= maxDepth) continue;
    for (const child of childNames(role.md.signed, listed)) {
      if (seen.has(child) || !own(meta, `${child}.json`)) continue;
      seen.add(child);
      if (trusted.roles.has(child)) queue.push([child, depth + 1]);
      else wanted.push(child);
    }
  }
  return wanted;
}

export interface ResolvedTarget {
  readonly target: TargetFile;
  readonly role: string;
  readonly keyids: readonly string[];
  readonly path: readonly string[]; // the roles visited, in order, ending with `role`
}

// Client workflow 5.6.7: preorder depth-first search of the delegation graph for `name`, honouring
// path patterns (a `*` never crosses '/'), terminating delegations and a cap on roles visited.
export function resolveTarget(trusted: TargetsView, name: string, now: Date): ResolvedTarget {
  const found = searchTarget(name, (roleName) => {
    const failed = trusted.rejected.get(roleName);
    if (failed) throw new EdgesealError(failed.code, `delegated role ${roleName} (needed to resolve ${JSON.stringify(name)}): ${failed.message}`);
    const role = trusted.roles.get(roleName);
    if (!role) throw notPresent(roleName, name);
    checkExpiry(role.md, roleName, now, trusted.expiry);
    return role;
  });
  if (!found) throw notFound(trusted, name);
  return found;
}

// The search itself: `enter` yields each role it visits, with the delegator that led there, or throws.
function searchTarget(name: string, enter: (role: string, delegator: string) => TrustedRole): ResolvedTarget | undefined {
  const stack: [string, string][] = [['targets', 'root']];
  const visited = new Set<string>();
  while (stack.length && visited.size < MAX_DELEGATIONS) {
    const [roleName, delegator] = stack.pop()!;
    if (visited.has(roleName)) continue;
    const role = enter(roleName, delegator);
    const target = own(role.md.signed.targets, name);
    visited.add(roleName);
    if (target) return { target, role: roleName, keyids: role.keyids, path: [...visited] };
    const children: [string, string][] = [];
    for (const { role: child, terminating } of (role.md.signed.delegations ? rolesForTarget(role.md.signed.delegations, name) : [])) {
      children.push([child, roleName]);
      if (terminating) {
        stack.length = 0; // 5.6.7.2.1: a terminating delegation ends the search below this point
        break;
      }
    }
    stack.push(...children.reverse());
  }
  return undefined;
}

// Like trustDelegations, but verifies only the delegated roles a lookup of `name` walks, each against
// the delegator that led the search to it (docs/metadata-cache.md, "Delegated roles a lookup walks"). A role off that
// walk is never read, so it cannot block this lookup. When the walk does not find `name`, every role is
// verified as trustDelegations does, so that a refusal says the same as before (DELEGATION_VIOLATION).
export function trustDelegationsFor(
  snap: Metadata<Snapshot>,
  targets: TrustedRole,
  files: Readonly<Record<string, Uint8Array>>,
  name: string,
): { roles: Map<string, TrustedRole>; rejected: Map<string, { code: ErrorCode; message: string }> } {
  const roles = new Map<string, TrustedRole>([['targets', targets]]);
  const rejected = new Map<string, { code: ErrorCode; message: string }>();
  let found: ResolvedTarget | undefined;
  try {
    found = searchTarget(name, (roleName, delegator) => {
      const known = roles.get(roleName);
      if (known) return known;
      const parent = roles.get(delegator)!.md.signed;
      const bytes = own(files, roleName);
      if (bytes === undefined) throw notPresent(roleName, name);
      try {
        const role = trustTargetsRole(snap, roleName, bytes, parent.delegations!.keys, delegationFor(parent, roleName)!);
        roles.set(roleName, role);
        return role;
      } catch (err) {
        const e = asEdgesealError(err, 'MALFORMED_METADATA');
        rejected.set(roleName, { code: e.code, message: e.message });
        throw e;
      }
    });
  } catch {
    // the walk stopped at a role that is missing or failed: resolveTarget over these maps says which
    return { roles, rejected };
  }
  return found ? { roles, rejected } : trustDelegations(snap, targets, files);
}

function notPresent(role: string, name: string): EdgesealError {
  return new EdgesealError('MALFORMED_METADATA', `delegated role ${role} is needed to resolve ${JSON.stringify(name)} but its metadata is not present`);
}

// Distinguishes "nobody signed it" from "a delegated role signed it outside the paths it was given".
function notFound(trusted: TargetsView, name: string): EdgesealError {
  for (const [roleName, role] of trusted.roles) {
    if (roleName !== 'targets' && own(role.md.signed.targets, name)) {
      return new EdgesealError('DELEGATION_VIOLATION', `target ${JSON.stringify(name)} is listed by role ${roleName}, which is not trusted for that path (outside its delegated patterns, or behind a terminating delegation)`);
    }
  }
  return new EdgesealError('UNKNOWN_TARGET', `expected a target named ${JSON.stringify(name)} in trusted metadata, found none`);
}

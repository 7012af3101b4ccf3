import { tally, type Tally } from './ceremony.js';
import type { Repository } from './repository.js';

export interface RoleStatus {
  readonly role: string;
  readonly delegatedBy: string;
  readonly version: number; // 0 = never signed
  readonly expires: string;
  readonly expiresInSeconds: number; // negative once expired
  readonly threshold: number;
  readonly keyids: readonly string[];
  readonly signingKeysAvailable: number;
  readonly pending: boolean; // unsigned changes
  readonly targets?: number;
  readonly ceremony?: CeremonyStatus; // a pending version collecting signatures
}

export interface Signature {
  readonly keyid: string;
  readonly by?: string; // from the audit log
  readonly key?: string;
}

export interface CeremonyStatus {
  readonly version: number;
  readonly expires: string;
  readonly preparedAt: string;
  // One per threshold: for root the new root's and the previous root's.
  readonly thresholds: (Omit<Tally, 'signedBy'> & { readonly signedBy: Signature[] })[];
  readonly ready: boolean;
}

function ceremonyStatus(repo: Repository, role: string): CeremonyStatus | undefined {
  const pending = repo.pendingVersion(role);
  if (!pending) return undefined;
  const signs = repo.auditLog().filter((e) => e.action === 'sign' && e.role === role && e.version === pending.signed.version);
  const who = (keyid: string): Signature => {
    const e = signs.filter((s) => s.keyid === keyid).at(-1);
    return { keyid, ...(e ? { by: e.by, ...(e.key ? { key: e.key } : {}) } : {}) };
  };
  const thresholds = tally(pending, repo.requirements(role).reqs).map((t) => ({ ...t, signedBy: t.signedBy.map(who) }));
  return { version: pending.signed.version, expires: pending.signed.expires, preparedAt: pending.preparedAt, thresholds, ready: thresholds.every((t) => t.met) };
}

// Each role's version, expiry relative to `now`, threshold and keys (for `edgeseal repo status`).
export function repoStatus(repo: Repository, now: Date): RoleStatus[] {
  const pending = new Set(repo.pending());
  return ['root', 'timestamp', 'snapshot', ...repo.targetRoles()].map((role) => {
    const env = repo.envelope(role);
    const { delegator, entry } = repo.roleEntry(role);
    return {
      role,
      delegatedBy: delegator,
      version: env.signed.version,
      expires: env.signed.expires,
      expiresInSeconds: Math.floor((Date.parse(env.signed.expires) - now.getTime()) / 1000),
      threshold: entry.threshold,
      keyids: [...entry.keyids],
      signingKeysAvailable: entry.keyids.filter((id) => repo.isSigningKeyAvailable(id)).length,
      pending: pending.has(role),
      ...(env.signed._type === 'targets' ? { targets: Object.keys(env.signed.targets).length } : {}),
      ...(repo.pendingVersion(role) ? { ceremony: ceremonyStatus(repo, role) } : {}),
    };
  });
}

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
    };
  });
}

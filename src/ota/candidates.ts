import type { GateCandidate } from '../core/gate.js';
import type { ListedTarget } from '../tuf/offline/types.js';
import type { InstallTarget } from './install-journal.js';

// listTargets() → gate candidates. A target without a sha256 cannot be verified after download, so
// it is never offered to the gate (fail closed) — the caller may report the names left out.
export function toGateCandidates(listed: readonly ListedTarget[]): { candidates: GateCandidate[]; unverifiable: string[] } {
  const candidates: GateCandidate[] = [];
  const unverifiable: string[] = [];
  for (const t of listed) {
    const sha256 = t.hashes.sha256?.toLowerCase();
    if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) unverifiable.push(t.name);
    else candidates.push({ name: t.name, length: t.length, sha256, custom: t.custom, signedBy: t.signedBy });
  }
  return { candidates, unverifiable };
}

// The gate's chosen candidate, as the install journal records it.
export function toInstallTarget(c: GateCandidate): InstallTarget {
  return { name: c.name, length: c.length, sha256: c.sha256, version: c.custom.version, securityVersion: c.custom.securityVersion };
}

import type { EdgesealError, ErrorCode } from '../core/errors.js';
import type { GateCandidate, RevocationResult } from '../core/gate.js';
import { checkRevocation, decideFreshness, DEFAULT_FRESHNESS_POLICY, type FreshnessPolicy, type Operation, type RevocationSubject } from './policy.js';
import type { RevocationList } from './list.js';
import type { RevocationStatus } from './store.js';

// Where the agent applies revocation (pure): the freshness decision for the operation first, then the
// held list — enforced whenever one is held, even an expired one, because old revocations stay true.
export type Enforcement =
  | { readonly ok: true; readonly level: 'ok' | 'warn' | 'alarm'; readonly message: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string }; // KEY_REVOKED, IMAGE_REVOKED, BELOW_MINIMUM_VERSION, REVOCATION_STALE, REVOCATION_UNAUTHENTICATED

// `unauthenticated`: the held list failed its check against the pinned-root metadata (src/revocation/authenticate.ts).
// `authenticated`: the list inside the promoted metadata set, enforced too, so a held list forged to drop an
// entry never lets that image through (it can only add refusals).
export function enforceRevocation(status: RevocationStatus, operation: Operation, subject: RevocationSubject, policy: FreshnessPolicy = DEFAULT_FRESHNESS_POLICY, unauthenticated?: EdgesealError, authenticated?: RevocationList): Enforcement {
  const fresh = decideFreshness(status, operation, policy, unauthenticated);
  if (!fresh.proceed) return { ok: false, code: fresh.error.code, message: fresh.error.message };
  for (const list of [authenticated, status.list]) {
    const refused = list ? checkRevocation(list, subject) : undefined;
    if (refused) return { ok: false, code: refused.code, message: refused.message };
  }
  return { ok: true, level: fresh.level, message: fresh.message };
}

// The `revocation` step of the OTA gate (src/core/gate.ts) for one device.
export function gateRevocationStep(status: RevocationStatus, hardwareId: string, policy: FreshnessPolicy = DEFAULT_FRESHNESS_POLICY): (c: GateCandidate) => RevocationResult {
  return (c) => {
    const r = enforceRevocation(status, 'update', { targetName: c.name, sha256: c.sha256, version: c.custom.version, hardwareId, keyids: c.signedBy?.keyids ?? [] }, policy);
    return r.ok ? { ok: true } : r;
  };
}

import type { EdgesealError } from '../core/errors.js';
import type { CacheStatus } from '../revocation/cache.js';
import { decideFreshness, type FreshnessDecision, type Operation } from '../revocation/policy.js';
import type { RevocationRef } from '../telemetry/event.js';
import type { Device } from './device.js';

// What the held revocation list means for an operation, said out loud: the pure decision
// (src/revocation/policy.ts) logged at its level and reported whenever it is not plainly fresh.

export function revocationRef(status: CacheStatus): RevocationRef | undefined {
  if (status.version === undefined || status.ageDays === undefined) return undefined;
  return { version: status.version, ageSeconds: Math.max(0, Math.round(status.ageDays * 86_400)) };
}

// Logs and reports the freshness decision for `operation` at `now`, and a cache found damaged at start
// (moved aside, refetch pending): never silently ignored (issue 5). `unauthenticated`: the held list is not
// what the metadata verified from the TPM-pinned root names (ImageVerifier.revocationProblem), an alarm.
export async function announceFreshness(dev: Device, operation: Operation, now: Date, unauthenticated?: EdgesealError): Promise<FreshnessDecision> {
  const log = dev.logger.child({ component: 'revocation' });
  const status = dev.revocations.status(now);
  const revocation = revocationRef(status);
  const problem = status.cacheProblem;
  if (problem) {
    log.error(`[${problem.code}] ${problem.message}`, { code: problem.code });
    await dev.report({ type: 'revocation-refresh', verdict: 'error', code: problem.code, detail: problem.message.slice(0, 512) });
  }
  const decision = decideFreshness(status, operation, dev.freshness, unauthenticated);
  if (decision.proceed && decision.level === 'ok') return decision;
  const message = `${operation}: ${decision.proceed ? decision.message : decision.error.message}`;
  const fields = { state: decision.state, version: status.version, expires: status.expires, policy: dev.freshness };
  if (decision.level === 'warn') log.warn(`revocation list ${decision.state}: ${message}`, fields);
  else log.error(`ALARM revocation list ${decision.state}: ${message}`, fields);
  await dev.report({
    type: 'revocation-refresh',
    // a warning is information for the fleet; an alarm or a block is an error it must act on
    verdict: !decision.proceed ? 'refused' : decision.level === 'alarm' ? 'error' : 'info',
    ...(decision.level === 'alarm' ? { code: unauthenticated?.code ?? 'REVOCATION_STALE' } : {}),
    ...(revocation ? { revocation } : {}),
    detail: message.slice(0, 512),
  });
  return decision;
}

import { EdgesealError } from '../core/errors.js';
import { compareSemVer } from '../core/semver.js';
import type { BackoffPolicy } from '../telemetry/backoff.js';
import { isTargetInPathPattern } from '../tuf/offline/path-pattern.js';
import type { RevocationList } from './list.js';
import type { Freshness, RevocationStatus } from './store.js';

// What the device does when its revocation list is not fresh (docs/revocation.md, "Freshness policy").
export const ON_EXPIRED_UPDATE = ['block', 'allow-with-warning'] as const;
export const ON_EXPIRED_BOOT = ['continue-with-alarm', 'block'] as const;
export const ON_NEVER = ['allow', 'require'] as const;

export interface FreshnessPolicy {
  readonly graceDays: number;
  readonly onExpired: {
    readonly update: (typeof ON_EXPIRED_UPDATE)[number];
    readonly boot: (typeof ON_EXPIRED_BOOT)[number];
  };
  readonly onNever: (typeof ON_NEVER)[number];
}

// The one set of defaults (the config schema takes its defaults from here): freeze updates on an
// outdated list, never brick a device that booted fine yesterday. onNever is 'allow' so a fleet whose
// publisher has not published a list yet keeps updating (loudly warned and reported); once a list is
// published TUF makes its absence detectable, and the agent blocks updates if a published list fails to verify.
export const DEFAULT_FRESHNESS_POLICY: FreshnessPolicy = {
  graceDays: 7,
  onExpired: { update: 'block', boot: 'continue-with-alarm' },
  onNever: 'allow',
};

export type Operation = 'boot' | 'update';

// `proceed` says whether the operation may go on; a held list is enforced (checkRevocation) whenever it
// exists, even past its expiry, because old revocations are still true.
export type FreshnessDecision =
  | { readonly proceed: true; readonly level: 'ok' | 'warn' | 'alarm'; readonly state: Freshness; readonly message: string }
  | { readonly proceed: false; readonly level: 'alarm'; readonly state: Freshness; readonly error: EdgesealError };

// `unauthenticated` (src/revocation/authenticate.ts): the held list, or its absence after one was accepted,
// is not what the metadata verified from the pinned root names.
export function decideFreshness(status: RevocationStatus, operation: Operation, policy: FreshnessPolicy = DEFAULT_FRESHNESS_POLICY, unauthenticated?: EdgesealError): FreshnessDecision {
  const { state } = status;
  // a list nothing vouches for cannot be relied on: updates are blocked; boot follows onExpired.boot, the
  // policy for a list that is no longer usable (never silent: an alarm either way)
  if (unauthenticated) {
    if (operation === 'update' || policy.onExpired.boot === 'block') {
      return { proceed: false, level: 'alarm', state, error: new EdgesealError(unauthenticated.code, `${operation} blocked: ${unauthenticated.message}`, { cause: unauthenticated }) };
    }
    return { proceed: true, level: 'alarm', state, message: `boot continues (policy onExpired.boot=${policy.onExpired.boot}): ${unauthenticated.message}` };
  }
  const held = `revocation list version ${status.version ?? '-'}`;
  if (state === 'fresh') return { proceed: true, level: 'ok', state, message: `${held} is fresh until ${status.expires ?? '-'}` };
  if (state === 'stale') {
    return { proceed: true, level: 'warn', state, message: `${held} expired at ${status.expires ?? '-'} and is enforced within the ${policy.graceDays}-day grace period` };
  }
  const block = (message: string): FreshnessDecision => ({ proceed: false, level: 'alarm', state, error: new EdgesealError('REVOCATION_STALE', message) });
  if (state === 'expired') {
    const what = `${held} expired at ${status.expires ?? '-'}, beyond the ${policy.graceDays}-day grace period`;
    const action = operation === 'update' ? policy.onExpired.update : policy.onExpired.boot;
    if (action === 'block') return block(`${operation} blocked: expected a revocation list within its grace period, found ${what}`);
    return { proceed: true, level: operation === 'update' ? 'warn' : 'alarm', state, message: `${operation} continues (policy ${action}): ${what}; it is still enforced` };
  }
  // Never fetched: updates follow onNever; boot is never blocked by a list that never existed.
  if (operation === 'update' && policy.onNever === 'require') {
    return block('update blocked: expected a verified revocation list (policy onNever=require), found none fetched yet');
  }
  return { proceed: true, level: operation === 'boot' && policy.onNever === 'require' ? 'alarm' : 'warn', state, message: `${operation} continues without a revocation list (policy onNever=${policy.onNever})` };
}

export interface RevocationSubject {
  readonly targetName: string;
  readonly sha256: string;
  readonly version: string; // the target's custom.version
  readonly hardwareId: string;
  readonly keyids: readonly string[]; // keys whose signatures the TUF verdict counted for the target
  readonly threshold?: number; // that role's threshold; without it any revoked signer refuses (fail closed)
}

// Compiles path patterns with the delegation matcher the TUF clients use (spec §4.5 delegation paths:
// per-segment shell patterns, `*` never crosses `/`), so a minimum-version pattern means what it would
// mean in a delegation.
export function compilePatterns(patterns: readonly string[]): ((name: string) => boolean)[] {
  return patterns.map((pattern) => (name: string) => isTargetInPathPattern(name, pattern));
}

// Once per list object: a list is checked against every installed image and every update candidate.
const compiled = new WeakMap<RevocationList, ((name: string) => boolean)[]>();
function minimumMatchers(list: RevocationList): ((name: string) => boolean)[] {
  let m = compiled.get(list);
  if (!m) compiled.set(list, (m = compilePatterns(list.minimumVersions.map((e) => e.target))));
  return m;
}

const why = (e: { reason?: string; reference?: string }): string => `${e.reason ? ` (reason: ${e.reason})` : ''}${e.reference ? ` [ref: ${e.reference}]` : ''}`;

// Checks one verified image against the list; returns the refusal naming the entry, or undefined.
export function checkRevocation(list: RevocationList, subject: RevocationSubject): EdgesealError | undefined {
  const ver = `revocation list version ${list.version}`;
  const digest = list.digests.find((d) => d.sha256 === subject.sha256.toLowerCase());
  if (digest) return new EdgesealError('IMAGE_REVOKED', `${subject.targetName}: image sha256 ${digest.sha256} is revoked by ${ver}${why(digest)}`);
  const signers = subject.keyids.map((id) => id.toLowerCase());
  const revoked = list.keys.filter((k) => signers.includes(k.keyid));
  const remaining = signers.filter((id) => !revoked.some((k) => k.keyid === id)).length;
  // A revoked key's signature no longer counts toward the threshold.
  if (revoked.length && (subject.threshold === undefined || remaining < subject.threshold)) {
    const need = subject.threshold === undefined ? 'no revoked signer' : `${subject.threshold} unrevoked signature(s)`;
    return new EdgesealError('KEY_REVOKED', `${subject.targetName}: expected ${need}, found ${remaining} after ${ver} revoked ${revoked.map((k) => `key ${k.keyid}${why(k)}`).join(', ')}`);
  }
  const matchers = minimumMatchers(list);
  for (const [i, m] of list.minimumVersions.entries()) {
    if (m.hardwareId !== undefined && m.hardwareId !== subject.hardwareId) continue;
    if (!matchers[i]?.(subject.targetName)) continue;
    if (compareSemVer(subject.version, m.version) < 0) {
      const scope = `${m.target}${m.hardwareId ? ` on ${m.hardwareId}` : ''}`;
      return new EdgesealError('BELOW_MINIMUM_VERSION', `${subject.targetName}: expected version ≥ ${m.version} for ${scope} (${ver}), found ${subject.version}${why(m)}`);
    }
  }
  return undefined;
}

// A list is valid for weeks: after a failed refresh, retry every minute at first, at most every 6 hours.
export const REFRESH_BACKOFF: BackoffPolicy = { baseMs: 60_000, maxMs: 6 * 3_600_000 };

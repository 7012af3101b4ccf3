import { createHash } from 'node:crypto';
import { keyIdOf } from '../crypto/ed25519.js';
import { parseIsoUtc, type TargetRollout } from './policy.js';

// The device's rollout decision (pure): which bucket this device is in, and whether the rollout
// reaches that bucket at `now`. The collector computes the same bucket to know the cohorts.
export const BUCKETS = 10_000; // one bucket is 0.01 %

export interface RolloutDecision {
  readonly inCohort: boolean;
  readonly bucket: number;
  readonly threshold: number; // buckets [0, threshold) are in the cohort
  readonly reason: string;
}

// SHA-256(report public key bytes ‖ salt bytes), read as a big-endian unsigned integer, mod 10000.
export function rolloutBucket(reportPublicKey: Uint8Array, salt: Uint8Array): number {
  const digest = createHash('sha256').update(reportPublicKey).update(salt).digest();
  // 2^256 mod 10000 folded byte by byte: exact, no bigint needed
  let r = 0;
  for (const b of digest) r = (r * 256 + b) % BUCKETS;
  return r;
}

// The percentage in force at `now`: 0 before `start`; the last step reached when steps are given.
export function percentAt(rollout: TargetRollout, now: Date): number {
  if (rollout.start === undefined) return rollout.percent;
  const elapsedHours = (now.getTime() - parseIsoUtc(rollout.start)) / 3_600_000;
  if (elapsedHours < 0) return 0;
  if (!rollout.steps) return rollout.percent;
  let percent = 0;
  for (const s of rollout.steps) if (s.afterHours <= elapsedHours) percent = s.percent;
  return percent;
}

export function decideRollout(rollout: TargetRollout, reportPublicKey: Uint8Array, now: Date): RolloutDecision {
  const bucket = rolloutBucket(reportPublicKey, Buffer.from(rollout.salt, 'hex'));
  const threshold = Math.round(percentAt(rollout, now) * 100);
  if (rollout.halted) return { inCohort: false, bucket, threshold, reason: 'rollout halted' };
  if (rollout.allow?.includes(keyIdOf(Buffer.from(reportPublicKey).toString('hex')))) return { inCohort: true, bucket, threshold, reason: 'in canary ring' };
  if (bucket < threshold) return { inCohort: true, bucket, threshold, reason: `in rollout cohort (${bucket} < ${threshold})` };
  return { inCohort: false, bucket, threshold, reason: `not yet in rollout (${bucket} ≥ ${threshold})` };
}

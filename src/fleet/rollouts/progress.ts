import { percentAt, rolloutBucket } from '../../rollout/decide.js';
import { parseIsoUtc, type RolloutPolicy, type TargetRollout } from '../../rollout/policy.js';
import type { SliRow } from '../sli.js';
import type { DeviceRecord } from '../store/port.js';

// The rollout view (pure): per rollout and step, which enrolled devices are in the cohort (the device's
// own bucket function, src/rollout/decide.ts, over the report keys the registry holds) and what they
// reported for that target; the failure rate the automatic halt and the alert act on.

export interface RolloutImage {
  readonly name: string;
  readonly version: string;
  readonly hardwareIds: readonly string[];
}

export interface StepProgress {
  readonly percent: number;
  readonly from: string | null; // when it takes effect (null: at once)
  readonly current: boolean; // the step in force at `now`
  readonly cohort: number; // eligible devices in the cohort at this step (canary ring included)
  readonly installed: number; // of those, reported an install of the target
  readonly committed: number; // of those, reported its commit
}

export interface RolloutProgress {
  readonly target: string;
  readonly version: string | null;
  readonly hardwareIds: readonly string[];
  readonly halted: boolean;
  readonly percentNow: number;
  readonly eligible: number; // active enrolled devices of those hardware ids
  readonly steps: readonly StepProgress[];
  readonly installs: number; // devices that installed the target or had its install refused
  readonly failures: number; // devices with a rollback, refused install or failed commit of the target
  readonly failureRate: number | null;
  readonly overThreshold: boolean; // failureRate > threshold with installs ≥ minSample, not halted
}

export interface FailurePolicy {
  readonly thresholdPercent: number;
  readonly minSample: number;
}

interface Eligible {
  readonly id: string; // fleet/deviceId
  readonly bucket: number;
  readonly canary: boolean;
}

// Devices that count as failed and as installing, from their verified events for this target.
function outcomes(rows: readonly SliRow[], target: string): { installed: Set<string>; committed: Set<string>; failed: Set<string> } {
  const out = { installed: new Set<string>(), committed: new Set<string>(), failed: new Set<string>() };
  for (const r of rows) {
    const e = r.event;
    if (e.image?.name !== target) continue;
    const id = `${r.fleet}/${r.deviceId}`;
    if (e.type === 'install' && e.verdict === 'ok') out.installed.add(id);
    else if (e.type === 'commit' && e.verdict === 'ok') out.committed.add(id);
    else if (e.type === 'rollback' || (e.type === 'install' && e.verdict === 'refused') || (e.type === 'commit' && e.verdict === 'error')) out.failed.add(id);
  }
  return out;
}

// Each step with the time it takes effect; a plain percentage is one step in force from `start` (or at once).
function stepsOf(r: TargetRollout, now: Date): { percent: number; from: string | null; current: boolean }[] {
  if (!r.steps || r.start === undefined) return [{ percent: r.percent, from: r.start ?? null, current: r.start === undefined || parseIsoUtc(r.start) <= now.getTime() }];
  const start = parseIsoUtc(r.start);
  const at = (h: number): number => start + h * 3_600_000;
  const reached = r.steps.filter((s) => at(s.afterHours) <= now.getTime()).length;
  return r.steps.map((s, i) => ({ percent: s.percent, from: new Date(at(s.afterHours)).toISOString(), current: i === reached - 1 }));
}

export function rolloutProgress(policy: RolloutPolicy, images: readonly RolloutImage[], devices: readonly DeviceRecord[], rows: readonly SliRow[], failure: FailurePolicy, now: Date): RolloutProgress[] {
  return Object.entries(policy.rollouts).map(([target, r]) => {
    const image = images.find((i) => i.name === target);
    const hardwareIds = image?.hardwareIds ?? [];
    const salt = Buffer.from(r.salt, 'hex');
    const eligible: Eligible[] = [];
    for (const d of devices) {
      const key = d.keys.find((k) => k.retiredAt === undefined);
      if (d.status !== 'active' || !key || !hardwareIds.includes(d.hardwareId)) continue;
      const publicKey = Buffer.from(key.publicKey, 'hex');
      eligible.push({ id: `${d.fleet}/${d.deviceId}`, bucket: rolloutBucket(publicKey, salt), canary: r.allow?.includes(key.keyId) ?? false });
    }
    const o = outcomes(rows, target);
    const steps = stepsOf(r, now).map((s) => {
      const threshold = Math.round(s.percent * 100);
      const cohort = eligible.filter((e) => e.canary || e.bucket < threshold);
      return { ...s, cohort: cohort.length, installed: cohort.filter((e) => o.installed.has(e.id)).length, committed: cohort.filter((e) => o.committed.has(e.id)).length };
    });
    const installs = new Set([...o.installed, ...o.failed]).size;
    const failureRate = installs === 0 ? null : o.failed.size / installs;
    const halted = r.halted === true;
    const overThreshold = !halted && failureRate !== null && installs >= failure.minSample && failureRate * 100 > failure.thresholdPercent;
    return { target, version: image?.version ?? null, hardwareIds, halted, percentNow: percentAt(r, now), eligible: eligible.length, steps, installs, failures: o.failed.size, failureRate, overThreshold };
  });
}

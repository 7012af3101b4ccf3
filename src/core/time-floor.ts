import { EdgesealError } from './errors.js';

// P5 time: the device keeps a time floor, the newest time evidence it has accepted (the clock at
// which TUF accepted fresh metadata, a signed revocation list's `issued`). Pure: the floor and `now`
// are inputs; the agent persists the floor.

export interface TimeFloor {
  readonly at: Date;
  readonly source: string; // what raised it last, for operators
}

export type ClockCheck = { readonly ok: true } | { readonly ok: false; readonly code: 'CLOCK_BEHIND_FLOOR'; readonly message: string; readonly behindMs: number };

// A clock more than `toleranceMs` behind the floor was rolled back (or lost its RTC).
export function checkClock(now: Date, floor: TimeFloor | undefined, toleranceMs: number): ClockCheck {
  if (!floor) return { ok: true };
  const behindMs = floor.at.getTime() - now.getTime();
  if (behindMs <= toleranceMs) return { ok: true };
  const message = `system clock: expected at least ${floor.at.toISOString()} (time floor from ${floor.source}, tolerance ${Math.round(toleranceMs / 1000)} s), found ${now.toISOString()}`;
  return { ok: false, code: 'CLOCK_BEHIND_FLOOR', message, behindMs };
}

// The time to judge expiry at: a clock set back cannot make expired metadata (or a stale revocation
// list) current again, because time never runs backwards past what the device has already seen.
export function effectiveTime(now: Date, floor: TimeFloor | undefined): Date {
  return floor && floor.at.getTime() > now.getTime() ? floor.at : now;
}

// The floor only rises: older evidence leaves it as it is (returns undefined: nothing to persist).
export function raiseTimeFloor(floor: TimeFloor | undefined, evidence: Date, source: string): TimeFloor | undefined {
  if (!Number.isFinite(evidence.getTime())) throw new EdgesealError('MALFORMED_METADATA', `time floor evidence from ${source}: expected a valid time, found ${String(evidence)}`);
  if (floor && floor.at.getTime() >= evidence.getTime()) return undefined;
  return { at: evidence, source };
}

// The newest of several floors (file, TPM NV, verified revocation list): each is evidence the device saw.
export function newestFloor(...floors: readonly (TimeFloor | undefined)[]): TimeFloor | undefined {
  return floors.reduce<TimeFloor | undefined>((best, f) => (f && (!best || f.at.getTime() > best.at.getTime()) ? f : best), undefined);
}

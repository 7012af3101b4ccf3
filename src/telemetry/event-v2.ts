import type { SeqRange } from './seq-ranges.js';

// What schema version 2 adds to an event (docs/telemetry.md, "Schema versions"):
// - `device` on periodic `metrics` events: the facts the fleet inventory shows per device;
// - the `outbox-drop` event: every sequence range the device dropped by its own drop policy, signed,
//   so the fleet can tell a device-side drop from an event lost in transit.
export type SlotName = 'A' | 'B';

export interface SlotFacts {
  target: string;
  version?: string;
  sha256?: string;
}

export interface FloorFacts {
  rootVersion: number;
  securityVersion: number;
  revocationVersion: number;
  targetsVersion: number;
}

export interface DeviceFacts {
  slots: Partial<Record<SlotName, SlotFacts>>;
  active?: SlotName;
  good?: SlotName;
  floors?: FloorFacts; // the TPM anti-rollback floors as read when the event was built
}

export const V2_FIELDS = ['device', 'dropped'] as const;
const SLOT_NAMES: readonly unknown[] = ['A', 'B'];
const FLOOR_KEYS = ['rootVersion', 'securityVersion', 'revocationVersion', 'targetsVersion'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_RANGES = 256;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function slotProblems(name: string, s: unknown): string[] {
  if (!isObject(s)) return [`device.slots.${name}: expected an object`];
  const out: string[] = [];
  if (typeof s.target !== 'string' || s.target === '') out.push(`device.slots.${name}.target: expected a non-empty string`);
  if (s.version !== undefined && typeof s.version !== 'string') out.push(`device.slots.${name}.version: expected a string`);
  if (s.sha256 !== undefined && !(typeof s.sha256 === 'string' && HEX64.test(s.sha256))) out.push(`device.slots.${name}.sha256: expected 64 lowercase hex characters`);
  return out;
}

export function deviceFactsProblems(d: unknown): string[] {
  if (!isObject(d)) return ['device: expected an object'];
  const out: string[] = [];
  if (!isObject(d.slots)) out.push('device.slots: expected an object');
  else for (const [k, v] of Object.entries(d.slots)) out.push(...(SLOT_NAMES.includes(k) ? slotProblems(k, v) : [`device.slots: expected keys A|B, found ${JSON.stringify(k)}`]));
  for (const k of ['active', 'good'] as const) if (d[k] !== undefined && !SLOT_NAMES.includes(d[k])) out.push(`device.${k}: expected A|B, found ${JSON.stringify(d[k])}`);
  if (d.floors !== undefined && !(isObject(d.floors) && FLOOR_KEYS.every((k) => isCount((d.floors as Record<string, unknown>)[k])))) {
    out.push(`device.floors: expected { ${FLOOR_KEYS.join(', ')} } integers ≥ 0`);
  }
  return out;
}

// Ranges ascending, disjoint, each [from ≤ to], seqs ≥ 1, bounded in number (the outbox merges them).
export function droppedProblems(x: unknown): string[] {
  const ok = Array.isArray(x) && x.length >= 1 && x.length <= MAX_RANGES && x.every((r, i) => {
    if (!Array.isArray(r) || r.length !== 2 || !isCount(r[0]) || !isCount(r[1]) || r[0] < 1 || r[0] > r[1]) return false;
    const prev = x[i - 1] as SeqRange | undefined;
    return prev === undefined || r[0] > prev[1] + 1;
  });
  return ok ? [] : [`dropped: expected 1..${MAX_RANGES} ascending disjoint [from, to] ranges of seqs ≥ 1`];
}

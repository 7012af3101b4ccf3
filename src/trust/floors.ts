import { EdgesealError } from '../core/errors.js';
import type { FloorKind } from './nv-pin.js';

// Floor arithmetic over TPM NV counters (ARCHITECTURE P3). A counter never restarts at zero — a fresh
// one starts at the highest value the TPM has seen — so a floor is the counter's distance from the
// base recorded at provisioning, and it can only move up, one TPM2_NV_Increment at a time.
export type Floors = Readonly<Record<FloorKind, number>>;

// One raise may not cost more increments than this: a signed but absurd version (2^40) must not wear
// out TPM NV or stall the agent for hours.
export const MAX_FLOOR_STEP = 4096;

export function floorFromCounter(kind: FloorKind, counter: bigint, base: bigint): number {
  if (counter < base) {
    // counters only go up, so this pin was not written for this counter
    throw new EdgesealError('NV_PIN_INVALID', `${kind} counter: expected a value ≥ the pinned base ${base}, found ${counter}`);
  }
  const floor = counter - base;
  if (floor > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EdgesealError('NV_PIN_INVALID', `${kind} counter: floor ${floor} exceeds the largest version this agent handles`);
  }
  return Number(floor);
}

// How many increments take the floor from current to target; lowering is never possible.
export function incrementsToRaise(kind: FloorKind, current: number, target: number): number {
  if (!Number.isSafeInteger(target) || target < 0) {
    throw new EdgesealError('FLOOR_VIOLATION', `${kind} floor: expected a non-negative integer, found ${target}`);
  }
  if (target < current) {
    throw new EdgesealError('FLOOR_VIOLATION', `${kind} floor: cannot lower it from ${current} to ${target}; TPM counters only go up`);
  }
  const steps = target - current;
  if (steps > MAX_FLOOR_STEP) {
    throw new EdgesealError('FLOOR_VIOLATION', `${kind} floor: raising from ${current} to ${target} needs ${steps} increments, at most ${MAX_FLOOR_STEP} allowed per raise`);
  }
  return steps;
}

// The rollback gate's check: a version below its floor was superseded and must not be accepted.
export function checkFloor(floors: Floors, kind: FloorKind, value: number): void {
  if (value < floors[kind]) {
    throw new EdgesealError('ROLLBACK', `${kind}: expected ≥ ${floors[kind]} (TPM floor), found ${value}`);
  }
}

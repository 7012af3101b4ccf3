import { EdgesealError } from '../core/errors.js';
import { TPMA_NV, TPMA_NV_TYPE_MASK, TPMA_NV_TYPE_SHIFT, TPM_NT, type NvAttributeName } from '../tpm/constants.js';
import { encodeNvAttributes } from '../tpm/nv.js';

// The NV indices edgeseal defines, in the owner range of the TCG handle registry (0x01800000–0x01BFFFFF):
//   0x018E5E00  pin: write-once record of the initial root digest, counter bases, policy PCRs, sealed object name
//   0x018E5E01  NV counter: trusted root version floor
//   0x018E5E02  NV counter: image security version floor
//   0x018E5E03  NV counter: revocation list version floor
//   0x018E5E04  NV counter: top-level targets version floor (older signed metadata restored on disk)
//   0x018E5E05  time floor: seconds since 1970 as a big-endian uint64 (P5; src/trust/time-floor-nv.ts),
//               outside NvIndices because the agent creates it on devices provisioned before it existed
//   0x018E5E10  PCR-policy revocation bits (src/trust/pcr-policy.ts), fixed: signed policies name it fleet-wide
//   0x018E5E11  reseal record (src/trust/seal-record.ts), fixed: found without any state on disk
export interface NvIndices {
  readonly pin: number;
  readonly rootVersion: number;
  readonly securityVersion: number;
  readonly revocationVersion: number;
  readonly targetsVersion: number;
}

export const DEFAULT_NV_INDICES: NvIndices = { pin: 0x018e5e00, rootVersion: 0x018e5e01, securityVersion: 0x018e5e02, revocationVersion: 0x018e5e03, targetsVersion: 0x018e5e04 };

export const TIME_FLOOR_NV_INDEX = 0x018e5e05;
export const REVOCATION_BITS_NV_INDEX = 0x018e5e10;
export const SEAL_RECORD_NV_INDEX = 0x018e5e11;
// The fixed handles above: a configured NvIndices must not land on one, or provisioning would define the
// pin or a counter over the index a later reseal or policy revocation writes.
const FIXED = { timeFloor: TIME_FLOOR_NV_INDEX, revocationBits: REVOCATION_BITS_NV_INDEX, sealRecord: SEAL_RECORD_NV_INDEX };

const OWNER_RANGE = { min: 0x01800000, max: 0x01bfffff };

export function checkOwnerRange(indices: NvIndices): void {
  const bad = (Object.entries(indices) as [string, number][]).filter(([, h]) => h < OWNER_RANGE.min || h > OWNER_RANGE.max);
  if (bad.length) {
    throw new EdgesealError('CONFIG_INVALID', `NV indices: expected handles in the owner range 0x01800000–0x01bfffff, found ${bad.map(([k, h]) => `${k}=${hex(h)}`).join(', ')}`);
  }
  const handles = Object.values(indices);
  if (new Set(handles).size !== handles.length) throw new EdgesealError('CONFIG_INVALID', `NV indices: expected ${handles.length} distinct handles, found duplicates`);
  const taken = (Object.entries(indices) as [string, number][]).flatMap(([k, h]) => Object.entries(FIXED).filter(([, f]) => f === h).map(([f]) => `${k}=${hex(h)} (${f})`));
  if (taken.length) throw new EdgesealError('CONFIG_INVALID', `NV indices: expected handles other than edgeseal's fixed ones, found ${taken.join(', ')}`);
}

// Pin: owner-written once, then write-locked until the index is deleted (WRITEDEFINE), so nobody —
// not even the owner — can rewrite it in place; readable by the owner. NO_DA: reading it must never
// count toward dictionary-attack lockout.
export const PIN_DEFINITION = { type: 'ordinary', attributes: ['OWNERWRITE', 'OWNERREAD', 'WRITEDEFINE', 'NO_DA'] } as const;
// What a provisioned pin must look like: the above, plus WRITTEN and WRITELOCKED set by the TPM.
export const PIN_ATTRIBUTES_LOCKED = (encodeNvAttributes(PIN_DEFINITION.type, PIN_DEFINITION.attributes) | TPMA_NV.WRITTEN | TPMA_NV.WRITELOCKED) >>> 0;

// Counters: the TPM only ever increments them (TPM2_NV_Increment); owner-authorised, never orderly so
// that every increment reaches NV before the command returns.
export const COUNTER_DEFINITION = { type: 'counter', attributes: ['OWNERWRITE', 'OWNERREAD', 'NO_DA'] } as const;
export const COUNTER_ATTRIBUTES = encodeNvAttributes(COUNTER_DEFINITION.type, COUNTER_DEFINITION.attributes);
export const COUNTER_ATTRIBUTES_WRITTEN = (COUNTER_ATTRIBUTES | TPMA_NV.WRITTEN) >>> 0;

// Owner-written and -read like the counters; an ordinary index because time jumps, it does not count.
export const TIME_FLOOR_DEFINITION = { type: 'ordinary', attributes: ['OWNERWRITE', 'OWNERREAD', 'NO_DA'] } as const;
export const TIME_FLOOR_ATTRIBUTES = encodeNvAttributes(TIME_FLOOR_DEFINITION.type, TIME_FLOOR_DEFINITION.attributes);

export function hex(handle: number): string {
  return `0x${handle.toString(16).padStart(8, '0')}`;
}

// Names the set bits of a TPMA_NV value, for status output and error messages.
export function describeNvAttributes(attributes: number): string {
  const names = (Object.keys(TPMA_NV) as NvAttributeName[]).filter((n) => (attributes & TPMA_NV[n]) >>> 0 === TPMA_NV[n]);
  const type = (attributes & TPMA_NV_TYPE_MASK) >> TPMA_NV_TYPE_SHIFT;
  const typeName = Object.entries(TPM_NT).find(([, v]) => v === type)?.[0] ?? `type${type}`;
  return [typeName, ...names].join('|');
}

// Compares an index's attributes with exactly what provisioning set: a look-alike index defined with,
// say, no write lock or a different type is not our pin, whatever bytes it holds.
export function checkNvAttributes(what: string, handle: number, expected: number, found: number): void {
  if (expected >>> 0 !== found >>> 0) {
    throw new EdgesealError(
      'NV_PIN_INVALID',
      `${what} ${hex(handle)}: expected attributes ${describeNvAttributes(expected)}, found ${describeNvAttributes(found)}`,
    );
  }
}

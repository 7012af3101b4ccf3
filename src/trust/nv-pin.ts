import { EdgesealError } from '../core/errors.js';
import { PCR_SELECT_BYTES, pcrBitmap, pcrsFromBitmap, type PcrSelection } from './pcr-selection.js';

// The anti-rollback floors (ARCHITECTURE P3), each held by its own TPM NV counter.
export const FLOOR_KINDS = ['rootVersion', 'securityVersion', 'revocationVersion', 'targetsVersion'] as const;
export type FloorKind = (typeof FLOOR_KINDS)[number];

export interface CounterPin {
  readonly nvIndex: number; // the NV counter's handle, pinned so config cannot point at another counter
  readonly base: bigint; // the counter's value right after provisioning: floor = counter − base
}

// The write-once NV pin record (ARCHITECTURE P2): what the device was provisioned with.
export interface NvPin {
  readonly initialRootDigest: Uint8Array;
  // sha256 of the hardware id: device.json is plain disk, and the hardware id decides which images fit
  readonly hardwareIdDigest: Uint8Array;
  readonly counters: Readonly<Record<FloorKind, CounterPin>>;
  readonly policyPcrs: PcrSelection;
  // TPM Name of the sealed anchor object (nameAlg ‖ sha256 of its public area): the public area holds
  // a hash of the sealed secret, so this binds exactly one blob — one sealed later, by anyone, differs
  readonly sealedObjectName: Uint8Array;
  // TPM Name of the storage primary our sessions are salted to (version 3); absent in a version-2 pin,
  // written by releases before salted sessions (see docs/tpm-sessions.md for what that leaves open)
  readonly saltKeyName?: Uint8Array;
}

// Fixed layout, big-endian like the TPM itself:
//   version u8 ‖ root digest [32] ‖ hardware id digest [32] ‖ 4 × (counter handle u32 ‖ base u64)
//   ‖ TPM_ALG_ID u16 ‖ pcrSelect [3] ‖ sealed object name [34] ‖ (version 3) salt key name [34]
// version 2 added the targets-version counter (version 1 held three counters); version 3 the salt key
export const NV_PIN_VERSION = 3;
export const SEALED_NAME_LENGTH = 2 + 32;
export const NV_PIN_V2_LENGTH = 1 + 32 + 32 + FLOOR_KINDS.length * 12 + 2 + PCR_SELECT_BYTES + SEALED_NAME_LENGTH;
export const NV_PIN_LENGTH = NV_PIN_V2_LENGTH + SEALED_NAME_LENGTH;
export const nvPinLength = (version: 2 | 3): number => (version === 2 ? NV_PIN_V2_LENGTH : NV_PIN_LENGTH);
const TPM_ALG_SHA256 = 0x000b;
const UINT64_MAX = (1n << 64n) - 1n;

export function encodeNvPin(pin: NvPin): Uint8Array {
  if (pin.initialRootDigest.length !== 32) {
    throw new EdgesealError('INTERNAL', `NV pin: expected a 32-byte root digest, found ${pin.initialRootDigest.length} bytes`);
  }
  if (pin.hardwareIdDigest.length !== 32) {
    throw new EdgesealError('INTERNAL', `NV pin: expected a 32-byte hardware id digest, found ${pin.hardwareIdDigest.length} bytes`);
  }
  if (pin.sealedObjectName.length !== SEALED_NAME_LENGTH) {
    throw new EdgesealError('INTERNAL', `NV pin: expected a ${SEALED_NAME_LENGTH}-byte sealed object name, found ${pin.sealedObjectName.length} bytes`);
  }
  if (pin.saltKeyName && pin.saltKeyName.length !== SEALED_NAME_LENGTH) {
    throw new EdgesealError('INTERNAL', `NV pin: expected a ${SEALED_NAME_LENGTH}-byte salt key name, found ${pin.saltKeyName.length} bytes`);
  }
  // without a salt key only the version-2 record can be written (tests of devices provisioned before it)
  const out = new Uint8Array(pin.saltKeyName ? NV_PIN_LENGTH : NV_PIN_V2_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = pin.saltKeyName ? NV_PIN_VERSION : 2;
  out.set(pin.initialRootDigest, 1);
  out.set(pin.hardwareIdDigest, 33);
  let at = 65;
  for (const kind of FLOOR_KINDS) {
    const { nvIndex, base } = pin.counters[kind];
    if (base < 0n || base > UINT64_MAX) throw new EdgesealError('INTERNAL', `NV pin: counter base for ${kind} out of uint64 range: ${base}`);
    view.setUint32(at, nvIndex);
    view.setBigUint64(at + 4, base);
    at += 12;
  }
  view.setUint16(at, TPM_ALG_SHA256);
  out.set(pcrBitmap(pin.policyPcrs), at + 2);
  out.set(pin.sealedObjectName, at + 2 + PCR_SELECT_BYTES);
  if (pin.saltKeyName) out.set(pin.saltKeyName, NV_PIN_V2_LENGTH);
  return out;
}

// Parses the NV index contents (version 3, or version 2 from earlier releases); any other layout is
// NV_PIN_INVALID (not ours, or damaged).
export function decodeNvPin(bytes: Uint8Array): NvPin {
  const version = bytes[0];
  if (version !== 2 && version !== 3) {
    throw new EdgesealError('NV_PIN_INVALID', `NV pin: expected format version 2 or ${NV_PIN_VERSION}, found ${version ?? 'no bytes'}`);
  }
  if (bytes.length !== nvPinLength(version)) {
    throw new EdgesealError('NV_PIN_INVALID', `NV pin: expected ${nvPinLength(version)} bytes for version ${version}, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 65;
  const counters = {} as Record<FloorKind, CounterPin>;
  for (const kind of FLOOR_KINDS) {
    counters[kind] = { nvIndex: view.getUint32(at), base: view.getBigUint64(at + 4) };
    at += 12;
  }
  const alg = view.getUint16(at);
  if (alg !== TPM_ALG_SHA256) {
    throw new EdgesealError('NV_PIN_INVALID', `NV pin: expected PCR bank sha256 (0x000b), found 0x${alg.toString(16).padStart(4, '0')}`);
  }
  const pcrs = pcrsFromBitmap(bytes.subarray(at + 2, at + 2 + PCR_SELECT_BYTES));
  if (pcrs.length === 0) throw new EdgesealError('NV_PIN_INVALID', 'NV pin: expected at least one policy PCR, found none');
  const nameAt = at + 2 + PCR_SELECT_BYTES;
  if (view.getUint16(nameAt) !== TPM_ALG_SHA256) throw new EdgesealError('NV_PIN_INVALID', 'NV pin: expected a sha256 sealed object name');
  if (version === 3 && view.getUint16(NV_PIN_V2_LENGTH) !== TPM_ALG_SHA256) throw new EdgesealError('NV_PIN_INVALID', 'NV pin: expected a sha256 salt key name');
  return {
    initialRootDigest: bytes.slice(1, 33),
    hardwareIdDigest: bytes.slice(33, 65),
    counters,
    policyPcrs: { hash: 'sha256', pcrs },
    sealedObjectName: bytes.slice(nameAt, nameAt + SEALED_NAME_LENGTH),
    ...(version === 3 ? { saltKeyName: bytes.slice(NV_PIN_V2_LENGTH) } : {}),
  };
}

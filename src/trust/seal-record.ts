import { EdgesealError } from '../core/errors.js';
import { TPMA_NV } from '../tpm/constants.js';
import type { TpmClient } from '../tpm/client.js';
import { encodeNvAttributes, type NvAuth } from '../tpm/nv.js';
import type { SaltedSession } from '../tpm/salted-session.js';
import { readNvPublicIfDefined } from './counters.js';
import { SEAL_RECORD_NV_INDEX, checkNvAttributes, hex } from './nv-layout.js';
import { SEALED_NAME_LENGTH, type NvPin } from './nv-pin.js';

// The reseal record (`edgeseal reseal`, issue 11 B): the write-once pin names the sealed object it was
// provisioned with; a reseal (to a PCR-policy authority, or a new one) writes the new object's Name and
// the salt key's Name here instead, so neither the pin, its counters nor the report key change. It
// supersedes the pin's two Names once written. Owner-authorized like the counters and the revocation
// bits: who can write it could as well undefine the pin and provision again.
export const SEAL_RECORD_INDEX = SEAL_RECORD_NV_INDEX;
export const SEAL_RECORD_DEFINITION = { type: 'ordinary', attributes: ['OWNERWRITE', 'OWNERREAD', 'NO_DA'] } as const;
const RECORD_VERSION = 1;
export const SEAL_RECORD_LENGTH = 1 + 2 * SEALED_NAME_LENGTH; // version u8 ‖ sealed object Name ‖ salt key Name
const ATTRIBUTES = encodeNvAttributes(SEAL_RECORD_DEFINITION.type, SEAL_RECORD_DEFINITION.attributes);

export interface SealRecord {
  readonly sealedObjectName: Uint8Array;
  readonly saltKeyName: Uint8Array;
}

export function encodeSealRecord(r: SealRecord): Uint8Array {
  if (r.sealedObjectName.length !== SEALED_NAME_LENGTH || r.saltKeyName.length !== SEALED_NAME_LENGTH) {
    throw new EdgesealError('INTERNAL', `reseal record: expected two ${SEALED_NAME_LENGTH}-byte Names, found ${r.sealedObjectName.length} and ${r.saltKeyName.length} bytes`);
  }
  const out = new Uint8Array(SEAL_RECORD_LENGTH);
  out[0] = RECORD_VERSION;
  out.set(r.sealedObjectName, 1);
  out.set(r.saltKeyName, 1 + SEALED_NAME_LENGTH);
  return out;
}

export function decodeSealRecord(bytes: Uint8Array): SealRecord {
  if (bytes.length !== SEAL_RECORD_LENGTH || bytes[0] !== RECORD_VERSION) {
    throw new EdgesealError('NV_PIN_INVALID', `reseal record ${hex(SEAL_RECORD_INDEX)}: expected version ${RECORD_VERSION}, ${SEAL_RECORD_LENGTH} bytes, found version ${bytes[0] ?? '-'}, ${bytes.length} bytes`);
  }
  return { sealedObjectName: bytes.slice(1, 1 + SEALED_NAME_LENGTH), saltKeyName: bytes.slice(1 + SEALED_NAME_LENGTH) };
}

// The record, read like the pin (attributes exactly ours, HMAC-checked under the salted session);
// undefined when the device was never resealed (or a reseal stopped before writing it).
export async function readSealRecord(tpm: TpmClient, auth: NvAuth, session?: SaltedSession): Promise<SealRecord | undefined> {
  const pub = await readNvPublicIfDefined(tpm, SEAL_RECORD_INDEX);
  if (!pub || (pub.attributes.raw & TPMA_NV.WRITTEN) === 0) return undefined;
  checkNvAttributes('reseal record', SEAL_RECORD_INDEX, (ATTRIBUTES | TPMA_NV.WRITTEN) >>> 0, pub.attributes.raw);
  if (pub.nameAlg !== 'sha256' || pub.dataSize !== SEAL_RECORD_LENGTH || pub.authPolicy.length !== 0) {
    throw new EdgesealError('NV_PIN_INVALID', `reseal record ${hex(SEAL_RECORD_INDEX)}: expected nameAlg sha256, ${SEAL_RECORD_LENGTH} bytes, no policy; found ${pub.nameAlg}, ${pub.dataSize} bytes, ${pub.authPolicy.length}-byte policy`);
  }
  return decodeSealRecord(await tpm.nvRead(SEAL_RECORD_INDEX, SEAL_RECORD_LENGTH, 0, auth, session && { session, nvName: pub.name }));
}

// The pin as the device is sealed now: the record's Names over the pin's once a reseal wrote them.
export const effectivePin = (pin: NvPin, record: SealRecord | undefined): NvPin => (record ? { ...pin, sealedObjectName: record.sealedObjectName, saltKeyName: record.saltKeyName } : pin);

// One NV_Write of the whole record: the commit point of a reseal (atomic in the TPM).
export async function writeSealRecord(tpm: TpmClient, r: SealRecord, auth: NvAuth): Promise<void> {
  const pub = await readNvPublicIfDefined(tpm, SEAL_RECORD_INDEX);
  if (pub && (pub.attributes.raw & ~TPMA_NV.WRITTEN) >>> 0 !== ATTRIBUTES) {
    throw new EdgesealError('ANCHOR_EXISTS', `reseal record ${hex(SEAL_RECORD_INDEX)}: expected no index or ours, found attributes ${pub.attributes.raw.toString(16)}`);
  }
  if (!pub) await tpm.nvDefineSpace({ index: SEAL_RECORD_INDEX, ...SEAL_RECORD_DEFINITION, dataSize: SEAL_RECORD_LENGTH }, auth);
  await tpm.nvWrite(SEAL_RECORD_INDEX, encodeSealRecord(r), 0, auth);
}

// Provisioning starts over: a record of an earlier provisioning would name a blob that no longer exists.
export async function clearSealRecord(tpm: TpmClient, auth: NvAuth): Promise<void> {
  if (await readNvPublicIfDefined(tpm, SEAL_RECORD_INDEX)) await tpm.nvUndefineSpace(SEAL_RECORD_INDEX, auth);
}

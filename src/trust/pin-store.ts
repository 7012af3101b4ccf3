import { EdgesealError } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import { readNvPublicIfDefined } from './counters.js';
import { PIN_ATTRIBUTES_LOCKED, PIN_DEFINITION, checkNvAttributes, hex } from './nv-layout.js';
import type { SaltedSession } from '../tpm/salted-session.js';
import { NV_PIN_LENGTH, NV_PIN_V2_LENGTH, decodeNvPin, encodeNvPin, type NvPin } from './nv-pin.js';

// The write-once NV pin (ARCHITECTURE P2) in the TPM: written and locked once, checked at every start.

// Defines, writes and write-locks the pin. With WRITEDEFINE the lock holds until the index is deleted,
// so the record can never be rewritten in place (TPM2_NV_WriteLock, Part 3 §31.11).
export async function writePin(tpm: TpmClient, index: number, pin: NvPin, auth: NvAuth = ownerAuth()): Promise<void> {
  const bytes = encodeNvPin(pin);
  await tpm.nvDefineSpace({ index, ...PIN_DEFINITION, dataSize: bytes.length }, auth);
  await tpm.nvWrite(index, bytes, 0, auth);
  await tpm.nvWriteLock(index, auth);
}

// Reads the pin after checking the index is exactly what provisioning left: the attributes (WRITTEN,
// WRITELOCKED, the definition's bits), name algorithm, size and empty policy — not only the bytes.
// Under a salted session the read is HMAC-authenticated, and the index's Name (so these very
// attributes) enters the TPM's own check: a forged NV_ReadPublic or NV_Read answer is refused.
export async function readPin(tpm: TpmClient, index: number, auth: NvAuth = ownerAuth(), session?: SaltedSession): Promise<NvPin> {
  const pub = await readNvPublicIfDefined(tpm, index);
  if (!pub) throw new EdgesealError('NV_PIN_INVALID', `NV pin ${hex(index)}: expected the provisioned index, found none (deleted, or never provisioned)`);
  checkNvAttributes('NV pin', index, PIN_ATTRIBUTES_LOCKED, pub.attributes.raw);
  if (pub.nameAlg !== 'sha256' || (pub.dataSize !== NV_PIN_LENGTH && pub.dataSize !== NV_PIN_V2_LENGTH) || pub.authPolicy.length !== 0) {
    throw new EdgesealError(
      'NV_PIN_INVALID',
      `NV pin ${hex(index)}: expected nameAlg sha256, ${NV_PIN_LENGTH} (or version 2: ${NV_PIN_V2_LENGTH}) bytes, no policy; found ${pub.nameAlg}, ${pub.dataSize} bytes, ${pub.authPolicy.length}-byte policy`,
    );
  }
  return decodeNvPin(await tpm.nvRead(index, pub.dataSize, 0, auth, session && { session, nvName: pub.name }));
}

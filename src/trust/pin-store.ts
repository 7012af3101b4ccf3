import { EdgesealError } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import { readNvPublicIfDefined } from './counters.js';
import { PIN_ATTRIBUTES_LOCKED, PIN_DEFINITION, checkNvAttributes, hex } from './nv-layout.js';
import { NV_PIN_LENGTH, decodeNvPin, encodeNvPin, type NvPin } from './nv-pin.js';

// The write-once NV pin (ARCHITECTURE P2) in the TPM: written and locked once, checked at every start.

// Defines, writes and write-locks the pin. With WRITEDEFINE the lock holds until the index is deleted,
// so the record can never be rewritten in place (TPM2_NV_WriteLock, Part 3 §31.11).
export async function writePin(tpm: TpmClient, index: number, pin: NvPin, auth: NvAuth = ownerAuth()): Promise<void> {
  await tpm.nvDefineSpace({ index, ...PIN_DEFINITION, dataSize: NV_PIN_LENGTH }, auth);
  await tpm.nvWrite(index, encodeNvPin(pin), 0, auth);
  await tpm.nvWriteLock(index, auth);
}

// Reads the pin after checking the index is exactly what provisioning left: the attributes (WRITTEN,
// WRITELOCKED, the definition's bits), name algorithm, size and empty policy — not only the bytes.
export async function readPin(tpm: TpmClient, index: number, auth: NvAuth = ownerAuth()): Promise<NvPin> {
  const pub = await readNvPublicIfDefined(tpm, index);
  if (!pub) throw new EdgesealError('NV_PIN_INVALID', `NV pin ${hex(index)}: expected the provisioned index, found none (deleted, or never provisioned)`);
  checkNvAttributes('NV pin', index, PIN_ATTRIBUTES_LOCKED, pub.attributes.raw);
  if (pub.nameAlg !== 'sha256' || pub.dataSize !== NV_PIN_LENGTH || pub.authPolicy.length !== 0) {
    throw new EdgesealError(
      'NV_PIN_INVALID',
      `NV pin ${hex(index)}: expected nameAlg sha256, ${NV_PIN_LENGTH} bytes, no policy; found ${pub.nameAlg}, ${pub.dataSize} bytes, ${pub.authPolicy.length}-byte policy`,
    );
  }
  return decodeNvPin(await tpm.nvRead(index, NV_PIN_LENGTH, 0, auth));
}

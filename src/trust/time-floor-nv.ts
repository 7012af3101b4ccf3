import { EdgesealError } from '../core/errors.js';
import { TPMA_NV } from '../tpm/constants.js';
import type { TpmClient } from '../tpm/client.js';
import type { NvAuth } from '../tpm/nv.js';
import { isTpmRc } from '../tpm/rc.js';
import { readNvPublicIfDefined } from './counters.js';
import { TIME_FLOOR_ATTRIBUTES, TIME_FLOOR_DEFINITION, TIME_FLOOR_NV_INDEX, checkNvAttributes, describeNvAttributes, hex } from './nv-layout.js';

// The P5 time floor kept in TPM NV, where deleting or restoring the state dir cannot reset it. NV
// wears: it is written only when the floor advances by a day or more, and a TPM that asks to slow
// down (TPM_RC_NV_RATE) is simply written at a later raise.

const SIZE = 8;
export const NV_TIME_STEP_MS = 86_400_000;

export type NvTimeRaise = 'raised' | 'unchanged' | 'later';

// The floor in NV, or undefined when the index was never defined or written (old provisioning).
export async function readNvTimeFloor(tpm: TpmClient, auth: NvAuth, index = TIME_FLOOR_NV_INDEX): Promise<Date | undefined> {
  const pub = await readNvPublicIfDefined(tpm, index);
  if (!pub || (pub.attributes.raw & TPMA_NV.WRITTEN) === 0) return undefined;
  checkNvAttributes('time floor', index, (TIME_FLOOR_ATTRIBUTES | TPMA_NV.WRITTEN) >>> 0, pub.attributes.raw);
  if (pub.dataSize !== SIZE) throw new EdgesealError('NV_PIN_INVALID', `time floor ${hex(index)}: expected ${SIZE} bytes, found ${pub.dataSize}`);
  const seconds = Buffer.from(await tpm.nvRead(index, SIZE, 0, auth)).readBigUInt64BE();
  return new Date(Number(seconds) * 1000);
}

// Raises the NV floor to `at` when that is a day or more past it; defines the index on first use (a
// device provisioned before the index existed gets it here, without re-provisioning).
export async function raiseNvTimeFloor(tpm: TpmClient, auth: NvAuth, at: Date, index = TIME_FLOOR_NV_INDEX): Promise<NvTimeRaise> {
  const pub = await readNvPublicIfDefined(tpm, index);
  if (pub && (pub.attributes.raw & ~TPMA_NV.WRITTEN) >>> 0 !== TIME_FLOOR_ATTRIBUTES) {
    throw new EdgesealError('NV_PIN_INVALID', `time floor ${hex(index)}: expected our index or none, found attributes ${describeNvAttributes(pub.attributes.raw)}`);
  }
  const current = pub ? await readNvTimeFloor(tpm, auth, index) : undefined;
  if (current && at.getTime() - current.getTime() < NV_TIME_STEP_MS) return 'unchanged';
  const bytes = Buffer.alloc(SIZE);
  bytes.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 1000)));
  try {
    if (!pub) await tpm.nvDefineSpace({ index, ...TIME_FLOOR_DEFINITION, dataSize: SIZE }, auth);
    await tpm.nvWrite(index, bytes, 0, auth);
  } catch (err) {
    if (isTpmRc(err, 'TPM_RC_NV_RATE')) return 'later';
    throw err;
  }
  return 'raised';
}

import type { CommandRunner } from './command.js';
import { TPM_CC } from './constants.js';
import { TpmWriter } from './marshal.js';
import type { NvAuth } from './nv.js';
import { sha256 } from './session-crypto.js';

// TPM2_PolicyNV (Part 3 §23.9) for bit-field indices: the session passes only while the bits of
// operandB are all clear in the index (TPM_EO_BITCLEAR). With an NV_SetBits index this revokes a
// policy for good (bits are never cleared), and the policy bytes are the same on every device.

export const TPM_EO_BITCLEAR = 0x000b;

const operand = (bits: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, bits);
  return b;
};

// policyDigest' = H(policyDigest ‖ TPM_CC_PolicyNV ‖ H(operandB ‖ offset ‖ operation) ‖ nvIndex.Name)
export function computePolicyNvBitsClear(previous: Uint8Array, nvName: Uint8Array, bits: bigint): Uint8Array {
  const args = sha256(new TpmWriter().bytes(operand(bits)).u16(0).u16(TPM_EO_BITCLEAR).finish());
  return sha256(previous, new TpmWriter().u32(TPM_CC.PolicyNV).finish(), args, nvName);
}

// Asserts in `session` that none of `bits` is set in the bit-field index (read authorized by `auth`).
export async function policyNvBitsClear(tpm: CommandRunner, session: number, index: number, bits: bigint, auth: NvAuth): Promise<void> {
  const params = new TpmWriter().tpm2b(operand(bits)).u16(0).u16(TPM_EO_BITCLEAR).finish();
  const { params: r } = await tpm.run({ cc: 'PolicyNV', handles: [auth.handle, index, session], auths: [auth.auth], params });
  r.end();
}

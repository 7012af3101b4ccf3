import { EdgesealError } from '../core/errors.js';
import type { CommandRunner } from './command.js';
import { TPM_ALG, TPM_CC, TPM_ECC_NIST_P256, TPM_HT, TPM_RH, TPM_ST, TPMA_OBJECT } from './constants.js';
import { TpmWriter } from './marshal.js';
import type { LoadedObject } from './object.js';
import { runCreating } from './policy.js';
import type { EccPoint } from './salted-session.js';
import { entityName, sha256 } from './session-crypto.js';

// TPM2_PolicyAuthorize (Part 3 §23.16) with an ECC P-256 authority key: an object sealed to
// "any policy this key signed" opens under a PolicyPCR the authority approved, so a new boot chain
// needs a new signature, not a new seal.

// The authority's public area as the TPM sees it: a P-256 verify-only key (sign, no decrypt, not
// restricted), no scheme so the signature names its own (ECDSA-sha256). Its Name is what the sealed
// object's policy commits to.
export function authorityPublic(point: EccPoint): Uint8Array {
  return new TpmWriter()
    .u16(TPM_ALG.ECC)
    .u16(TPM_ALG.SHA256)
    .u32(TPMA_OBJECT.sign | TPMA_OBJECT.userWithAuth)
    .tpm2b(new Uint8Array(0)) // authPolicy
    .u16(TPM_ALG.NULL) // symmetric
    .u16(TPM_ALG.NULL) // scheme
    .u16(TPM_ECC_NIST_P256)
    .u16(TPM_ALG.NULL) // kdf
    .tpm2b(point.x)
    .tpm2b(point.y)
    .finish();
}

export const authorityName = (point: EccPoint): Uint8Array => entityName(authorityPublic(point));

// policyDigest = H(H(0…0 ‖ TPM_CC_PolicyAuthorize ‖ keySign.Name) ‖ policyRef): PolicyAuthorize resets
// the digest before it extends it, so nothing before it in a session survives.
export function computePolicyAuthorize(keyName: Uint8Array, policyRef: Uint8Array = new Uint8Array(0)): Uint8Array {
  const cc = new TpmWriter().u32(TPM_CC.PolicyAuthorize).finish();
  return sha256(sha256(new Uint8Array(32), cc, keyName), policyRef);
}

// What the authority signs (ECDSA-sha256 over these bytes, i.e. over aHash = H(approvedPolicy ‖ policyRef)).
export function authorizationMessage(approvedPolicy: Uint8Array, policyRef: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new Uint8Array(Buffer.concat([approvedPolicy, policyRef]));
}

export interface VerifiedTicket {
  readonly hierarchy: number;
  readonly digest: Uint8Array;
}

// TPM2_LoadExternal (Part 3 §12.3) of the authority's public key into the owner hierarchy: a ticket from
// a NULL-hierarchy key is refused by PolicyAuthorize, so the key must belong to a real hierarchy.
export async function loadAuthority(tpm: CommandRunner, point: EccPoint): Promise<LoadedObject> {
  const pub = authorityPublic(point);
  const params = new TpmWriter().u16(0).tpm2b(pub).u32(TPM_RH.OWNER).finish();
  return runCreating(tpm, { cc: 'LoadExternal', params, responseHandles: 1 }, TPM_HT.TRANSIENT, 'objectHandle', (r, handle) => {
    const name = r.tpm2b('name');
    r.end();
    const ours = entityName(pub);
    if (Buffer.compare(name, ours) !== 0) throw r.malformed(`name: expected ${Buffer.from(ours).toString('hex')}, found ${Buffer.from(name).toString('hex')}`);
    return { handle, name: ours };
  });
}

// TPM2_VerifySignature (Part 3 §20.1) of an ECDSA-sha256 signature (r ‖ s, 32 bytes each) over `digest`.
export async function verifySignature(tpm: CommandRunner, key: LoadedObject, digest: Uint8Array, signature: Uint8Array): Promise<VerifiedTicket> {
  if (signature.length !== 64) throw new EdgesealError('SIGNATURE_INVALID', `PCR policy signature: expected 64 bytes (ECDSA P-256 r ‖ s), found ${signature.length}`);
  const params = new TpmWriter().tpm2b(digest).u16(TPM_ALG.ECDSA).u16(TPM_ALG.SHA256).tpm2b(signature.subarray(0, 32)).tpm2b(signature.subarray(32)).finish();
  const { params: r } = await tpm.run({ cc: 'VerifySignature', handles: [key.handle], params });
  const tag = r.u16('validation.tag');
  if (tag !== TPM_ST.VERIFIED) throw r.malformed(`validation.tag: expected 0x8022, found 0x${tag.toString(16)}`);
  const hierarchy = r.u32('validation.hierarchy');
  const ticket = r.tpm2b('validation.digest');
  r.end();
  return { hierarchy, digest: ticket };
}

// TPM2_PolicyAuthorize (Part 3 §23.16): the session's digest must equal approvedPolicy, and the ticket
// must say keySign signed H(approvedPolicy ‖ policyRef).
export async function policyAuthorize(tpm: CommandRunner, session: number, approvedPolicy: Uint8Array, policyRef: Uint8Array, keyName: Uint8Array, ticket: VerifiedTicket): Promise<void> {
  const params = new TpmWriter()
    .tpm2b(approvedPolicy)
    .tpm2b(policyRef)
    .tpm2b(keyName)
    .u16(TPM_ST.VERIFIED)
    .u32(ticket.hierarchy)
    .tpm2b(ticket.digest)
    .finish();
  const { params: r } = await tpm.run({ cc: 'PolicyAuthorize', handles: [session], params });
  r.end();
}

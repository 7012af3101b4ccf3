import { EMPTY_PASSWORD, type CommandRunner } from './command.js';
import { authorizationMessage, loadAuthority, policyAuthorize, verifySignature } from './authorize.js';
import { load, unseal, type SealedObject } from './object.js';
import type { PcrSelection } from './pcr.js';
import { policyPcr, withFlush, withSession } from './policy.js';
import { policyNvBitsClear } from './policy-nv.js';
import type { EccPoint } from './salted-session.js';
import type { SecureScope } from './seal.js';
import { sha256 } from './session-crypto.js';

// Unsealing an object sealed to computePolicyAuthorize(authorityName(key)) with a PCR policy the
// authority signed: PolicyPCR (and PolicyNV, for a revocable policy) put the current state into the
// session, PolicyAuthorize accepts it only if it equals the approved policy and the signature verifies.

export interface SignedPcrPolicy {
  readonly authority: EccPoint;
  readonly approvedPolicy: Uint8Array; // computePolicyPcr(sel, values) for the boot state it approves
  readonly policyRef: Uint8Array;
  readonly signature: Uint8Array; // ECDSA P-256 r ‖ s over authorizationMessage(approvedPolicy, policyRef)
  // the approved policy also asserts these bits clear in a bit-field NV index (PolicyNV, BITCLEAR):
  // setting one revokes every policy that names it
  readonly revocation?: { readonly index: number; readonly bits: bigint };
}

export async function unsealAuthorizedInScope(tpm: CommandRunner, scope: SecureScope, sealed: SealedObject, sel: PcrSelection, signed: SignedPcrPolicy): Promise<Uint8Array> {
  const item = await load(tpm, scope.primary.handle, sealed);
  return withFlush(tpm, item.handle, async () => {
    const key = await loadAuthority(tpm, signed.authority);
    const aHash = sha256(authorizationMessage(signed.approvedPolicy, signed.policyRef));
    const ticket = await withFlush(tpm, key.handle, () => verifySignature(tpm, key, aHash, signed.signature));
    return withSession(tpm, 'policy', async (s) => {
      await policyPcr(tpm, s, sel);
      if (signed.revocation) await policyNvBitsClear(tpm, s, signed.revocation.index, signed.revocation.bits, { handle: signed.revocation.index, auth: EMPTY_PASSWORD });
      await policyAuthorize(tpm, s, signed.approvedPolicy, signed.policyRef, key.name, ticket);
      return unseal(tpm, item, { kind: 'policy', handle: s }, { session: scope.session });
    });
  });
}

import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { isTpmRc, TpmResponseError } from '../tpm/rc.js';
import type { TpmClient } from '../tpm/client.js';
import type { NvAuth } from '../tpm/nv.js';
import { authorityName, computePolicyAuthorize } from '../tpm/authorize.js';
import type { EccPoint } from '../tpm/salted-session.js';
import type { SecureScope } from '../tpm/seal.js';
import type { SignedPcrPolicy } from '../tpm/seal-authorized.js';
import { SEALED_NAME_LENGTH } from './nv-pin.js';
import type { PcrSelection } from './pcr-selection.js';
import type { SealedAnchorFile } from './state-files.js';

// Sealing and unsealing the anchor secret (ARCHITECTURE P1), with TPM failures mapped to trust codes.

const TPM_ALG_SHA256 = Uint8Array.of(0x00, 0x0b);

// TPM Name of an object: nameAlg ‖ H(TPMT_PUBLIC) (Part 1 §16). The public area of a sealed object
// carries unique = H(seedValue ‖ data), so no two sealings share a name.
export function sealedObjectName(pub: Uint8Array): Uint8Array {
  const name = new Uint8Array(SEALED_NAME_LENGTH);
  name.set(TPM_ALG_SHA256);
  name.set(createHash('sha256').update(pub).digest(), 2);
  return name;
}

// ownerAuth: the owner hierarchy's password, which the storage primary (TPM2_CreatePrimary) needs when set.
// The secret crosses the bus encrypted (TPM2_Create under a salted session); saltKeyName is that key's Name.
// With a PCR-policy authority the blob opens under any PCR policy it signed (PolicyAuthorize), not
// under today's PCR values.
export async function sealAnchor(
  tpm: TpmClient,
  secret: Uint8Array,
  pcrs: PcrSelection,
  ownerAuth?: NvAuth,
  pcrAuthority?: EccPoint,
  pinnedSaltName?: Uint8Array,
): Promise<SealedAnchorFile & { name: Uint8Array; saltKeyName: Uint8Array }> {
  const authPolicy = pcrAuthority && computePolicyAuthorize(authorityName(pcrAuthority));
  const sealed = await tpm.sealToPcrs(secret, pcrs, authPolicy, ownerAuth?.auth, pinnedSaltName);
  return { public: sealed.public, private: sealed.private, saltKeyName: sealed.saltKeyName, name: sealedObjectName(sealed.public), ...(pcrAuthority ? { pcrAuthority } : {}) };
}

// Unseals the pinned blob in a salted scope (the secret comes back encrypted and HMAC-checked). A blob
// that is not the pinned one is ANCHOR_MISMATCH before the TPM sees it; a pinned blob the TPM refuses
// to open means the boot state changed: ANCHOR_UNAVAILABLE, fail closed.
// `signed`: the authority's policy to unseal a PolicyAuthorize blob with.
export async function unsealAnchor(tpm: TpmClient, scope: SecureScope, blob: SealedAnchorFile, pinnedName: Uint8Array, pcrs: PcrSelection, signed?: SignedPcrPolicy): Promise<Uint8Array> {
  const name = sealedObjectName(blob.public);
  if (Buffer.compare(name, pinnedName) !== 0) {
    throw new EdgesealError(
      'ANCHOR_MISMATCH',
      `sealed anchor blob: expected the object named ${Buffer.from(pinnedName).toString('hex')} (TPM NV pin), found ${Buffer.from(name).toString('hex')}: the blob on disk was replaced`,
    );
  }
  try {
    const sealed = { public: blob.public, private: blob.private };
    return await (signed ? tpm.unsealAuthorizedInScope(scope, sealed, pcrs, signed) : tpm.unsealInScope(scope, sealed, pcrs));
  } catch (err) {
    // TPM2_Unseal via PolicyPCR: POLICY_FAIL on the session, or PCR_CHANGED if PCRs moved mid-session;
    // via PolicyAuthorize: VALUE (the session is not the approved policy); PolicyNV: POLICY (revoked)
    const refusedPolicy = isTpmRc(err, 'TPM_RC_POLICY_FAIL') || isTpmRc(err, 'TPM_RC_PCR_CHANGED') || (err instanceof TpmResponseError && ['PolicyAuthorize', 'PolicyNV'].includes(err.command));
    if (err instanceof TpmResponseError && refusedPolicy) {
      throw new EdgesealError(
        'ANCHOR_UNAVAILABLE',
        `anchor secret: expected PCRs ${pcrs.hash}:${pcrs.pcrs.join(',')} to match the sealed boot state, the TPM refused to unseal (${err.rcName}); trusting nothing`,
        { cause: err },
      );
    }
    if (isTpmRc(err, 'TPM_RC_INTEGRITY') || isTpmRc(err, 'TPM_RC_SIZE') || isTpmRc(err, 'TPM_RC_VALUE')) {
      throw new EdgesealError('ANCHOR_MISMATCH', `sealed anchor blob: the TPM does not accept it as its own (${err.rcName})`, { cause: err });
    }
    throw err;
  }
}

import { EMPTY_PASSWORD, type Auth, type CommandRunner } from './command.js';
import { createSealed, createStoragePrimary, load, unseal, type LoadedObject, type SealedObject } from './object.js';
import type { PcrSelection } from './pcr.js';
import { policyGetDigest, policyPcr, withFlush, withSession } from './policy.js';

// Sealing to a PCR policy, composed from the object and policy commands, with every transient
// handle flushed on every path (a socket TPM has no resource manager; the third leak fails with 0x902).

// The storage primary is re-created under the owner hierarchy, so it takes the owner password when one is set.
async function withPrimary<T>(tpm: CommandRunner, ownerAuth: Auth, fn: (primary: LoadedObject) => Promise<T>): Promise<T> {
  const primary = await createStoragePrimary(tpm, undefined, ownerAuth);
  return withFlush(tpm, primary.handle, () => fn(primary));
}

// The PolicyPCR digest for the PCRs' current values, computed by the TPM in a trial session.
export function trialPolicyPcr(tpm: CommandRunner, sel: PcrSelection): Promise<Uint8Array> {
  return withSession(tpm, 'trial', async (s) => {
    await policyPcr(tpm, s, sel);
    return policyGetDigest(tpm, s);
  });
}

// Seals data (≤ 128 bytes) so that only a policy session asserting `sel` at the values behind
// `authPolicy` can unseal it. authPolicy defaults to the current PCR values (trial session); pass
// computePolicyPcr(...) to seal to a predicted future boot state.
export async function sealToPcrs(tpm: CommandRunner, data: Uint8Array, sel: PcrSelection, authPolicy?: Uint8Array, ownerAuth: Auth = EMPTY_PASSWORD): Promise<SealedObject & { policyDigest: Uint8Array }> {
  const policyDigest = authPolicy ?? (await trialPolicyPcr(tpm, sel));
  const sealed = await withPrimary(tpm, ownerAuth, (primary) => createSealed(tpm, primary.handle, data, policyDigest));
  return { ...sealed, policyDigest };
}

// Unseals with a PolicyPCR session: TPM_RC_POLICY_FAIL (on session 1) when the PCRs no longer match.
export function unsealWithPcrs(tpm: CommandRunner, sealed: SealedObject, sel: PcrSelection, ownerAuth: Auth = EMPTY_PASSWORD): Promise<Uint8Array> {
  return withPrimary(tpm, ownerAuth, async (primary) => {
    const item = await load(tpm, primary.handle, sealed);
    return withFlush(tpm, item.handle, () =>
      withSession(tpm, 'policy', async (s) => {
        await policyPcr(tpm, s, sel);
        return unseal(tpm, item.handle, { kind: 'policy', handle: s });
      }),
    );
  });
}

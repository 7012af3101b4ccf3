import { EdgesealError } from '../core/errors.js';
import { EMPTY_PASSWORD, type Auth, type CommandRunner } from './command.js';
import { createSealed, createStoragePrimary, load, unseal, type SealedObject, type StoragePrimary } from './object.js';
import type { PcrSelection } from './pcr.js';
import { policyGetDigest, policyPcr, withFlush, withSession } from './policy.js';
import { startSaltedSession, type SaltedSession } from './salted-session.js';

// Sealing to a PCR policy, composed from the object and policy commands, with every transient
// handle flushed on every path (a socket TPM has no resource manager; the third leak fails with 0x902).

// The storage primary and a session salted to it: what every command that moves a secret or reads a
// pinned record runs under.
export interface SecureScope {
  readonly primary: StoragePrimary;
  readonly session: SaltedSession;
}

// Re-creates the storage primary under the owner hierarchy (it takes the owner password when one is
// set) and salts a session to it. With `pinnedName` a primary of any other Name is refused before a
// salt is encrypted to it: an interposer answering CreatePrimary with its own key learns nothing.
export async function withSecureScope<T>(tpm: CommandRunner, ownerAuth: Auth, pinnedName: Uint8Array | undefined, fn: (scope: SecureScope) => Promise<T>): Promise<T> {
  const primary = await createStoragePrimary(tpm, undefined, ownerAuth);
  return withFlush(tpm, primary.handle, async () => {
    if (pinnedName && Buffer.compare(primary.name, pinnedName) !== 0) {
      const h = (b: Uint8Array): string => Buffer.from(b).toString('hex');
      throw new EdgesealError('ANCHOR_MISMATCH', `storage primary key: expected the Name ${h(pinnedName)} pinned at provisioning, found ${h(primary.name)} (another TPM, a cleared owner hierarchy, or an interposer)`);
    }
    const session = await startSaltedSession(tpm, primary);
    return withFlush(tpm, session.handle, () => fn({ primary, session }));
  });
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
// computePolicyPcr(...) to seal to a predicted future boot state. The data crosses the bus encrypted;
// saltKeyName is the storage primary's Name, to pin so later sessions salt to this very key.
export async function sealToPcrs(
  tpm: CommandRunner,
  data: Uint8Array,
  sel: PcrSelection,
  authPolicy?: Uint8Array,
  ownerAuth: Auth = EMPTY_PASSWORD,
  pinnedSaltName?: Uint8Array, // a reseal: the salt key pinned at provisioning, so no interposer's key gets the secret
): Promise<SealedObject & { policyDigest: Uint8Array; saltKeyName: Uint8Array }> {
  const policyDigest = authPolicy ?? (await trialPolicyPcr(tpm, sel));
  return withSecureScope(tpm, ownerAuth, pinnedSaltName, async ({ primary, session }) => {
    const sealed = await createSealed(tpm, primary, data, policyDigest, { session });
    return { ...sealed, policyDigest, saltKeyName: primary.name };
  });
}

// Unseals under a scope with a PolicyPCR session: TPM_RC_POLICY_FAIL (on session 1) when the PCRs no
// longer match. The data comes back encrypted and HMAC-authenticated by the scope's salted session.
export async function unsealInScope(tpm: CommandRunner, scope: SecureScope, sealed: SealedObject, sel: PcrSelection): Promise<Uint8Array> {
  const item = await load(tpm, scope.primary.handle, sealed);
  return withFlush(tpm, item.handle, () =>
    withSession(tpm, 'policy', async (s) => {
      await policyPcr(tpm, s, sel);
      return unseal(tpm, item, { kind: 'policy', handle: s }, { session: scope.session });
    }),
  );
}

export function unsealWithPcrs(tpm: CommandRunner, sealed: SealedObject, sel: PcrSelection, ownerAuth: Auth = EMPTY_PASSWORD, pinnedSaltName?: Uint8Array): Promise<Uint8Array> {
  return withSecureScope(tpm, ownerAuth, pinnedSaltName, (scope) => unsealInScope(tpm, scope, sealed, sel));
}

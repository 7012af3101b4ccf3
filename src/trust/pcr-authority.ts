import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { authorityName, computePolicyAuthorize } from '../tpm/authorize.js';
import type { TpmClient } from '../tpm/client.js';
import { TPMA_NV } from '../tpm/constants.js';
import { encodeNvAttributes, type NvAuth } from '../tpm/nv.js';
import { sealedAuthPolicy } from '../tpm/object.js';
import type { EccPoint, SaltedSession } from '../tpm/salted-session.js';
import type { SecureScope } from '../tpm/seal.js';
import type { SignedPcrPolicy } from '../tpm/seal-authorized.js';
import { unsealAnchor } from './anchor-blob.js';
import { readNvPublicIfDefined } from './counters.js';
import { describeNvAttributes, hex } from './nv-layout.js';
import { MAX_GENERATION, REVOCATION_DEFINITION, REVOCATION_INDEX, decodePcrPolicy, generationBit, revocationIndexName, type SignedPcrPolicyDocument } from './pcr-policy.js';
import { formatPcrSelection, type PcrSelection } from './pcr-selection.js';
import type { SealedAnchorFile } from './state-files.js';

// An anchor sealed to a PCR-policy authority (TPM2_PolicyAuthorize): the revocation index at
// provisioning, and at start the signed policy to unseal with.

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

// Defines the revocation bit-field index with bit 0 set (so its Name is the fleet-wide one signed
// policies commit to). An index there with other attributes is not ours: replaced only with `replace`.
export async function prepareRevocationIndex(tpm: TpmClient, replace: boolean, auth: NvAuth): Promise<void> {
  const pub = await readNvPublicIfDefined(tpm, REVOCATION_INDEX);
  const ours = encodeNvAttributes(REVOCATION_DEFINITION.type, REVOCATION_DEFINITION.attributes);
  if (pub && (replace || (pub.attributes.raw & ~TPMA_NV.WRITTEN) >>> 0 !== ours)) {
    if (!replace) {
      throw new EdgesealError('ANCHOR_EXISTS', `PCR policy revocation index ${hex(REVOCATION_INDEX)}: expected no index or ours, found attributes ${describeNvAttributes(pub.attributes.raw)}; use --force to replace it`);
    }
    await tpm.nvUndefineSpace(REVOCATION_INDEX, auth); // --force: a new device, revocations start over like the floors
  }
  if (!pub || replace) await tpm.nvDefineSpace({ index: REVOCATION_INDEX, ...REVOCATION_DEFINITION, dataSize: 8 }, auth);
  await tpm.nvSetBits(REVOCATION_INDEX, 1n, auth);
  const name = (await tpm.nvReadPublic(REVOCATION_INDEX)).name;
  if (!same(name, revocationIndexName())) {
    throw new EdgesealError('TPM_ERROR', `PCR policy revocation index ${hex(REVOCATION_INDEX)}: expected Name ${Buffer.from(revocationIndexName()).toString('hex')}, found ${Buffer.from(name).toString('hex')}`);
  }
}

// The blob's policy must be this authority's PolicyAuthorize: the blob is pinned by Name, so a
// pcrAuthority edited on disk cannot make another key's policies count.
export function checkAuthorityBinding(blobPublic: Uint8Array, authority: EccPoint): void {
  const expected = computePolicyAuthorize(authorityName(authority));
  const found = sealedAuthPolicy(blobPublic);
  if (!same(expected, found)) {
    throw new EdgesealError('ANCHOR_MISMATCH', `sealed anchor: expected the PolicyAuthorize of authority ${Buffer.from(authorityName(authority)).toString('hex')} (${Buffer.from(expected).toString('hex')}), found policy ${Buffer.from(found).toString('hex')}`);
  }
}

// Verified signed policies in `dirs` (the trust dir and the promoted metadata set's copy) by this
// authority for this selection, newest generation first. Unreadable or forged files are skipped: only a
// verified one counts. The same document found twice counts once.
export async function readPolicies(dirs: readonly string[], authority: EccPoint, sel: PcrSelection): Promise<SignedPcrPolicyDocument[]> {
  const docs = new Map<string, SignedPcrPolicyDocument>();
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names.filter((f) => f.endsWith('.json'))) {
      try {
        const doc = decodePcrPolicy(await readFile(join(dir, n), 'utf8'));
        docs.set(Buffer.from(doc.signature).toString('hex'), doc);
      } catch {
        // not a verified policy of any authority: ignored, like a file that is not there
      }
    }
  }
  const wanted = authorityName(authority);
  return [...docs.values()].filter((d) => same(authorityName(d.authority), wanted) && d.pcrs.pcrs.join(',') === sel.pcrs.join(',')).sort((a, b) => b.generation - a.generation);
}

// readPolicies whose PCR values equal the current ones.
export async function matchingPolicies(dirs: readonly string[], authority: EccPoint, sel: PcrSelection, current: ReadonlyMap<number, Uint8Array>): Promise<SignedPcrPolicyDocument[]> {
  const docs = await readPolicies(dirs, authority, sel);
  return docs.filter((d) => sel.pcrs.every((p) => same(d.values.get(p) ?? new Uint8Array(0), current.get(p) ?? new Uint8Array(1))));
}

// The revocation index's bits: bit g set means generation g no longer opens the anchor on this TPM.
// Under a salted session the read is HMAC-checked against the fleet-wide index Name.
export async function readRevokedGenerations(tpm: TpmClient, auth: NvAuth, session?: SaltedSession): Promise<bigint> {
  return tpm.nvReadCounter(REVOCATION_INDEX, auth, session && { session, nvName: revocationIndexName() });
}

export function revokedSet(bits: bigint): Set<number> {
  const out = new Set<number>();
  for (let g = 1; g <= MAX_GENERATION; g++) if ((bits >> BigInt(g)) & 1n) out.add(g);
  return out;
}

// Revokes every generation below `generation` (bits 1..generation-1; bits only ever get set). Called
// when a boot chain that unsealed with `generation` commits, never at arm: an A/B rollback during the
// trial still opens the anchor with its own, older generation. Idempotent.
export async function revokeGenerationsBelow(tpm: TpmClient, generation: number, auth: NvAuth): Promise<bigint> {
  const below = generationBit(generation) - 2n; // bits 1..generation-1; bit 0 is set at provisioning
  if (below > 0n) await tpm.nvSetBits(REVOCATION_INDEX, below, auth);
  return readRevokedGenerations(tpm, auth);
}

// What unsealAuthorizedInScope needs for one document: PolicyPCR ‖ PolicyNV(bit clear) ‖ PolicyAuthorize.
export function toSignedPolicy(doc: SignedPcrPolicyDocument): SignedPcrPolicy {
  return { authority: doc.authority, approvedPolicy: doc.approvedPolicy, policyRef: new Uint8Array(0), signature: doc.signature, revocation: { index: REVOCATION_INDEX, bits: generationBit(doc.generation) } };
}

// Unseals a PolicyAuthorize blob with the newest signed policy in `dirs` that matches the PCRs now;
// an older one is tried only if a newer one is refused (e.g. its generation revoked on this TPM).
export async function unsealWithSignedPolicies(
  tpm: TpmClient,
  scope: SecureScope,
  blob: SealedAnchorFile & { pcrAuthority: EccPoint },
  pinnedName: Uint8Array,
  sel: PcrSelection,
  dirs: readonly string[],
): Promise<{ secret: Uint8Array; generation: number }> {
  checkAuthorityBinding(blob.public, blob.pcrAuthority);
  const { values } = await tpm.pcrRead(sel);
  const candidates = await matchingPolicies(dirs, blob.pcrAuthority, sel, values);
  let refusal: unknown;
  for (const doc of candidates) {
    try {
      return { secret: await unsealAnchor(tpm, scope, blob, pinnedName, sel, toSignedPolicy(doc)), generation: doc.generation };
    } catch (err) {
      if (!isEdgesealError(err, 'ANCHOR_UNAVAILABLE')) throw err;
      refusal = err;
    }
  }
  throw new EdgesealError(
    'ANCHOR_UNAVAILABLE',
    `anchor secret: expected a signed PCR policy in ${dirs.join(' or ')} for the current PCRs ${formatPcrSelection(sel)} by authority ${Buffer.from(authorityName(blob.pcrAuthority)).toString('hex')}, ` +
      `found ${candidates.length ? `${candidates.length}, all refused by the TPM` : 'none'}; trusting nothing`,
    { cause: refusal },
  );
}

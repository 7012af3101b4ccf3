import { readFile, rename } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../store/atomic-write.js';
import { authorityName } from '../tpm/authorize.js';
import type { TpmClient } from '../tpm/client.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import type { EccPoint } from '../tpm/salted-session.js';
import { sealAnchor, sealedObjectName } from './anchor-blob.js';
import { encodeAnchorSecret } from './anchor-secret.js';
import { establishTrust } from './establish.js';
import { matchingPolicies, prepareRevocationIndex, unsealWithSignedPolicies } from './pcr-authority.js';
import { formatPcrSelection } from './pcr-selection.js';
import { writeSealRecord } from './seal-record.js';
import { decodeSealedAnchor, encodeSealedAnchor, trustPaths, type TrustPaths } from './state-files.js';

// `edgeseal reseal` (issue 11 B): moves an existing device's anchor (a plain PolicyPCR seal, or one sealed
// to another PCR-policy authority) to the PolicyAuthorize of `pcrAuthority`: the same secret, so the
// same report key; the pin, its counters and the floors untouched. Crash-safe at every step:
//   sealed    the TPM created the new blob (secret sent parameter-encrypted, salted to the pinned key)
//   written   the new blob is on disk beside the old one (sealed-anchor.resealed.json); nothing names it
//   verified  it unseals under a signed policy of the new authority for the PCRs now, to the same secret
//   recorded  the reseal record names it (one NV_Write: the commit point); from here it is the anchor
//   replaced  it has replaced sealed-anchor.json
// Before `recorded` the old blob is the anchor; after it the new one, whichever file holds it.

export const RESEAL_STEPS = ['sealed', 'written', 'verified', 'recorded', 'replaced'] as const;
export type ResealStep = (typeof RESEAL_STEPS)[number];

export interface ResealOptions {
  readonly tpm: TpmClient;
  readonly stateDir: string;
  readonly pcrAuthority: EccPoint;
  readonly ownerAuth?: NvAuth;
  readonly pinIndex?: number;
  readonly step?: (step: ResealStep) => void | Promise<void>; // called after each step (crash tests)
}

export interface ResealResult {
  readonly status: 'resealed' | 'already-resealed';
  readonly deviceId: string;
  readonly from: string; // what the anchor was sealed to
  readonly authorityName: string;
  readonly generation: number; // the signed policy the new blob was verified with
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// A reseal killed after `recorded`: its blob is the pinned one, so it replaces the old file now.
async function finishInterrupted(paths: TrustPaths, pinnedName: Uint8Array): Promise<void> {
  const text = await readFile(paths.resealedAnchor, 'utf8').catch(() => undefined);
  if (text === undefined || !same(sealedObjectName(decodeSealedAnchor(text).public), pinnedName)) return;
  await rename(paths.resealedAnchor, paths.sealedAnchor);
  await fsyncDir(paths.dir);
}

export async function reseal(opts: ResealOptions): Promise<ResealResult> {
  const { tpm } = opts;
  const auth = opts.ownerAuth ?? ownerAuth();
  const paths = trustPaths(opts.stateDir);
  const step = async (s: ResealStep): Promise<void> => void (await opts.step?.(s));
  // the secret comes only from the blob that opens now: a device that cannot start cannot be resealed
  const trust = await establishTrust({ tpm, stateDir: opts.stateDir, ownerAuth: auth, startMeasurementLog: false, ...(opts.pinIndex === undefined ? {} : { pinIndex: opts.pinIndex }) });
  await finishInterrupted(paths, trust.pin.sealedObjectName);
  const wanted = authorityName(opts.pcrAuthority);
  const from = trust.pcrAuthority ? `the PolicyAuthorize of authority ${hexOf(authorityName(trust.pcrAuthority))}` : `plain PolicyPCR ${formatPcrSelection(trust.pin.policyPcrs)}`;
  const current = decodeSealedAnchor(await readFile(paths.sealedAnchor, 'utf8'));
  if (current.pcrAuthority && same(authorityName(current.pcrAuthority), wanted) && trust.pcrPolicyGeneration !== undefined) {
    return { status: 'already-resealed', deviceId: trust.identity.deviceId, from, authorityName: hexOf(wanted), generation: trust.pcrPolicyGeneration };
  }

  // the new blob must open at the next start: without a signed policy for the PCRs now, change nothing
  const sel = trust.pin.policyPcrs;
  const dirs = [paths.pcrPolicies, paths.cachedPcrPolicies];
  const { values } = await tpm.pcrRead(sel);
  if ((await matchingPolicies(dirs, opts.pcrAuthority, sel, values)).length === 0) {
    throw new EdgesealError(
      'PCR_POLICY_MISSING',
      `reseal: expected a signed PCR policy by authority ${hexOf(wanted)} for the current PCRs ${formatPcrSelection(sel)} in ${dirs.join(' or ')}, found none; nothing changed (the device would not start after the reseal)`,
    );
  }
  await prepareRevocationIndex(tpm, false, auth);
  const secret = encodeAnchorSecret({ initialRootDigest: trust.initialRootDigest, reportSeed: trust.reportSeed });
  const sealed = await sealAnchor(tpm, secret, sel, auth, opts.pcrAuthority, trust.pin.saltKeyName);
  await step('sealed');
  await writeFileAtomic(paths.resealedAnchor, encodeSealedAnchor(sealed), 0o600);
  await step('written');
  const opened = await tpm.withSecureScope(auth.auth, sealed.saltKeyName, (scope) => unsealWithSignedPolicies(tpm, scope, { ...sealed, pcrAuthority: opts.pcrAuthority }, sealed.name, sel, dirs));
  if (!same(opened.secret, secret)) throw new EdgesealError('ANCHOR_MISMATCH', 'reseal: expected the new blob to unseal to the anchor secret, found other bytes; nothing changed');
  await step('verified');
  await writeSealRecord(tpm, { sealedObjectName: sealed.name, saltKeyName: sealed.saltKeyName }, auth);
  await step('recorded');
  await rename(paths.resealedAnchor, paths.sealedAnchor);
  await fsyncDir(paths.dir);
  await step('replaced');
  return { status: 'resealed', deviceId: trust.identity.deviceId, from, authorityName: hexOf(wanted), generation: opened.generation };
}

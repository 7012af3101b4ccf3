import { lstat, rm } from 'node:fs/promises';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { generateKey } from '../crypto/ed25519.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { TpmClient } from '../tpm/client.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import type { EccPoint } from '../tpm/salted-session.js';
import { sealAnchor } from './anchor-blob.js';
import { prepareRevocationIndex } from './pcr-authority.js';
import { encodeAnchorSecret, sha256 } from './anchor-secret.js';
import { prepareCounter, readNvPublicIfDefined } from './counters.js';
import { establishTrust, type Trust } from './establish.js';
import { DEFAULT_NV_INDICES, TIME_FLOOR_NV_INDEX, checkOwnerRange, hex, type NvIndices } from './nv-layout.js';
import { FLOOR_KINDS, type CounterPin, type FloorKind } from './nv-pin.js';
import { writePin } from './pin-store.js';
import { DEFAULT_POLICY_PCRS, formatPcrSelection, parsePcrSelection, type PcrSelection } from './pcr-selection.js';
import { clearSealRecord } from './seal-record.js';
import { anchorFiles, deviceIdFor, encodeDeviceIdentity, encodeSealedAnchor, isValidHardwareId, trustPaths, type DeviceIdentity } from './state-files.js';

// `edgeseal provision`: creates the device's TPM anchors (ARCHITECTURE P1–P3) and its identity files.

export interface ProvisionOptions {
  readonly tpm: TpmClient;
  readonly stateDir: string;
  readonly rootBytes: Uint8Array; // the initial trusted root.json, exactly as it will be kept
  readonly hardwareId: string;
  readonly now: Date;
  readonly pcrs?: PcrSelection;
  readonly nvIndices?: NvIndices;
  readonly force?: boolean;
  readonly ownerAuth?: NvAuth;
  // seal to this PCR-policy authority's PolicyAuthorize instead of today's PCR values (issue 11 B)
  readonly pcrAuthority?: EccPoint;
}

export interface ProvisionResult {
  readonly status: 'provisioned' | 'already-provisioned';
  readonly identity: DeviceIdentity;
  readonly initialRootDigest: string;
}

// Trust on first use of the root is the point of provisioning, so its signatures are not checked here;
// but it must at least be a TUF root, or the boot verifier could never start from it.
function checkRootShape(bytes: Uint8Array): void {
  let signed: unknown;
  try {
    signed = (JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { signed?: unknown }).signed;
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `initial root: expected UTF-8 JSON, found unparseable bytes`, { cause: err });
  }
  const s = (typeof signed === 'object' && signed !== null ? signed : {}) as Record<string, unknown>;
  if (s._type !== 'root' || !Number.isSafeInteger(s.version) || (s.version as number) < 1) {
    throw new EdgesealError('MALFORMED_METADATA', `initial root: expected signed._type "root" with a version ≥ 1, found ${JSON.stringify({ _type: s._type, version: s.version })}`);
  }
}

// Anchor files already in the state dir while the TPM holds no pin belong to another TPM (the board's
// real one, swapped out or cleared) or to a provisioning that stopped before its commit point: writing
// over them would leave the real TPM with ANCHOR_MISMATCH forever, so only --force does.
async function refuseOrphanFiles(opts: ProvisionOptions, indices: NvIndices): Promise<void> {
  const found = (await Promise.all(Object.values(anchorFiles(opts.stateDir)).map(async (p) => ((await lstat(p).catch(() => undefined)) ? [p] : [])))).flat();
  if (found.length === 0) return;
  throw new EdgesealError(
    'ANCHOR_EXISTS',
    `${trustPaths(opts.stateDir).dir}: expected no anchor files while the TPM holds no pin at ${hex(indices.pin)}, found ${found.join(', ')}; ` +
      `they do not match this TPM (another TPM's anchors, or a provisioning interrupted before its pin); refusing to overwrite them without --force`,
  );
}

// Without --force an existing pin is either these very anchors (idempotent: nothing to do) or a refusal.
async function existingAnchors(opts: ProvisionOptions, indices: NvIndices, pcrs: PcrSelection): Promise<Trust | undefined> {
  if (opts.force) return undefined;
  if (!(await readNvPublicIfDefined(opts.tpm, indices.pin))) return void (await refuseOrphanFiles(opts, indices));
  let trust: Trust;
  try {
    trust = await establishTrust({ tpm: opts.tpm, stateDir: opts.stateDir, pinIndex: indices.pin, ownerAuth: opts.ownerAuth });
  } catch (err) {
    if (!isEdgesealError(err) || err.code === 'TPM_UNREACHABLE') throw err;
    throw new EdgesealError(
      'ANCHOR_EXISTS',
      `NV pin ${hex(indices.pin)}: expected no anchors, found anchors that do not verify (${err.code}: ${err.message}); use --force to replace them`,
      { cause: err },
    );
  }
  const same =
    Buffer.compare(trust.initialRootDigest, sha256(opts.rootBytes)) === 0 &&
    trust.identity.hardwareId === opts.hardwareId &&
    formatPcrSelection(trust.pin.policyPcrs) === formatPcrSelection(pcrs);
  if (!same) {
    throw new EdgesealError(
      'ANCHOR_EXISTS',
      `NV pin ${hex(indices.pin)}: this device is provisioned for root sha256 ${Buffer.from(trust.initialRootDigest).toString('hex')}, hardware id ${trust.identity.hardwareId}, PCRs ${formatPcrSelection(trust.pin.policyPcrs)}; ` +
        `refusing to overwrite trust anchors without --force (floors would restart at 0)`,
    );
  }
  return trust;
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  const indices = opts.nvIndices ?? DEFAULT_NV_INDICES;
  const pcrs = opts.pcrs ?? parsePcrSelection(DEFAULT_POLICY_PCRS);
  const auth = opts.ownerAuth ?? ownerAuth();
  checkOwnerRange(indices);
  if (!isValidHardwareId(opts.hardwareId)) {
    throw new EdgesealError('USAGE', `hardware id: expected 1–64 characters of A–Z a–z 0–9 . _ -, found ${JSON.stringify(opts.hardwareId)}`);
  }
  checkRootShape(opts.rootBytes);
  const rootDigest = sha256(opts.rootBytes);
  const existing = await existingAnchors(opts, indices, pcrs);
  if (existing) return { status: 'already-provisioned', identity: existing.identity, initialRootDigest: Buffer.from(rootDigest).toString('hex') };

  const counters = {} as Record<FloorKind, CounterPin>;
  for (const kind of FLOOR_KINDS) counters[kind] = { nvIndex: indices[kind], base: await prepareCounter(opts.tpm, kind, indices[kind], opts.force === true, auth) };
  const key = generateKey();
  if (opts.pcrAuthority) await prepareRevocationIndex(opts.tpm, opts.force === true, auth);
  const sealed = await sealAnchor(opts.tpm, encodeAnchorSecret({ initialRootDigest: rootDigest, reportSeed: key.seed }), pcrs, auth, opts.pcrAuthority);
  const identity: DeviceIdentity = {
    deviceId: deviceIdFor(opts.hardwareId, key.keyid),
    hardwareId: opts.hardwareId,
    reportPublicKey: key.publicHex,
    reportKeyId: key.keyid,
    nvIndices: indices,
    policyPcrs: formatPcrSelection(pcrs),
    provisionedAt: opts.now.toISOString(),
  };
  // files first, pin last: the pin is the commit point, so a crash before it leaves nothing that counts
  const paths = trustPaths(opts.stateDir);
  await writeFileAtomic(paths.initialRoot, opts.rootBytes);
  await writeFileAtomic(paths.sealedAnchor, encodeSealedAnchor(sealed), 0o600);
  await writeFileAtomic(paths.device, encodeDeviceIdentity(identity));
  if (await readNvPublicIfDefined(opts.tpm, indices.pin)) await opts.tpm.nvUndefineSpace(indices.pin, auth);
  // a reseal record of the earlier provisioning names a blob that is gone
  await clearSealRecord(opts.tpm, auth);
  await rm(paths.resealedAnchor, { force: true });
  // --force starts every floor afresh, the NV time floor too (the agent defines it again at its first raise)
  if (opts.force && (await readNvPublicIfDefined(opts.tpm, TIME_FLOOR_NV_INDEX))) await opts.tpm.nvUndefineSpace(TIME_FLOOR_NV_INDEX, auth);
  await writePin(
    opts.tpm,
    indices.pin,
    { initialRootDigest: rootDigest, hardwareIdDigest: sha256(new TextEncoder().encode(opts.hardwareId)), counters, policyPcrs: pcrs, sealedObjectName: sealed.name, saltKeyName: sealed.saltKeyName },
    auth,
  );
  return { status: 'provisioned', identity, initialRootDigest: Buffer.from(rootDigest).toString('hex') };
}

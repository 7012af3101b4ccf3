import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { keyFromSeed } from '../crypto/ed25519.js';
import type { TpmClient } from '../tpm/client.js';
import { SerialQueue } from '../tpm/queue.js';
import type { EccPoint, SaltedSession } from '../tpm/salted-session.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import { sealedObjectName, unsealAnchor } from './anchor-blob.js';
import { effectivePin, readSealRecord } from './seal-record.js';
import { readRevokedGenerations, revokeGenerationsBelow, unsealWithSignedPolicies } from './pcr-authority.js';
import { decodeAnchorSecret, sha256 } from './anchor-secret.js';
import { raiseFloor, readFloors } from './counters.js';
import { DEFAULT_MEASUREMENT_PCR, type MeasurementEvent } from './event-log.js';
import type { Floors } from './floors.js';
import { checkMeasurementPcr } from './measurement-pcr.js';
import { raiseNvTimeFloor, readNvTimeFloor, type NvTimeRaise } from './time-floor-nv.js';
import { measure, startMeasurementLog, verifyMeasurementLog, type MeasuredImage, type MeasurementLog } from './measure.js';
import { DEFAULT_NV_INDICES } from './nv-layout.js';
import type { FloorKind, NvPin } from './nv-pin.js';
import { readPin } from './pin-store.js';
import { decodeDeviceIdentity, decodeSealedAnchor, deviceIdFor, trustPaths, type DeviceIdentity, type SealedAnchorFile } from './state-files.js';

// Agent start: unseal and cross-check every anchor (ARCHITECTURE P1–P3) before anything is trusted.

export interface TrustDeps {
  readonly tpm: TpmClient;
  readonly stateDir: string;
  readonly pinIndex?: number;
  readonly ownerAuth?: NvAuth;
  readonly measurementPcr?: number; // default 23
  readonly eventLogPath?: string; // default <stateDir>/trust/measurements.jsonl
  // at boot the log of the previous boot is moved aside; read-only callers (status) leave it alone
  readonly startMeasurementLog?: boolean;
}

export interface Trust {
  readonly identity: DeviceIdentity;
  readonly reportSeed: Uint8Array; // ed25519 seed for signing telemetry
  readonly initialRoot: Uint8Array; // the root.json bytes that matched the pin: start the root chain here
  readonly initialRootDigest: Uint8Array;
  readonly floors: Floors; // as read at start
  readonly pin: NvPin;
  readonly measurementLog: MeasurementLog;
  // the generation of the signed PCR policy that opened the anchor (undefined: plain PolicyPCR)
  readonly pcrPolicyGeneration: number | undefined;
  // the PCR-policy authority the anchor is sealed to (undefined: plain PolicyPCR)
  readonly pcrAuthority: EccPoint | undefined;
  // signed PCR policy generations revoked on this TPM (bit g set: g no longer opens the anchor)
  readRevokedPcrPolicies(): Promise<bigint>;
  // at commit: revokes every generation below the one this boot unsealed with; returns the bits after
  revokeOlderPcrPolicies(): Promise<bigint>;
  readFloors(): Promise<Floors>;
  // only up; lowering is FLOOR_VIOLATION. Returns the floors after the raise.
  raiseFloor(kind: FloorKind, value: number): Promise<Floors>;
  measure(image: MeasuredImage, now: Date): Promise<MeasurementEvent>;
  verifyEventLog(): Promise<MeasurementEvent[]>;
  // the P5 time floor in TPM NV (src/trust/time-floor-nv.ts); undefined until first written
  readTimeFloor(): Promise<Date | undefined>;
  raiseTimeFloor(at: Date): Promise<NvTimeRaise>;
}

async function readAnchorFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EdgesealError(
      code === 'ENOENT' ? 'ANCHOR_UNAVAILABLE' : 'STORAGE_ERROR',
      `${what}: expected ${path} (written by 'edgeseal provision'), ${code === 'ENOENT' ? 'found no file' : `could not read it (${code ?? String(err)})`}`,
      { cause: err },
    );
  }
}

function mismatch(what: string, expected: Uint8Array, found: Uint8Array): EdgesealError {
  const h = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return new EdgesealError('ANCHOR_MISMATCH', `${what}: expected sha256 ${h(expected)} (TPM NV pin), found ${h(found)}`);
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

// The salt key Name, from disk and from the pin: the disk copy is what we salt to before the TPM has
// said anything (a pin read can be forged until then); the pin, read under that session, must agree.
// A version-2 pin and a file without the field are a device provisioned before salted sessions.
function pinnedSaltKey(blob: SealedAnchorFile | undefined, pin: NvPin, path: string): Uint8Array | undefined {
  // no file: reading it later says ANCHOR_UNAVAILABLE, which is the finding
  if (!pin.saltKeyName || !blob) return pin.saltKeyName ?? blob?.saltKeyName;
  if (!blob.saltKeyName) {
    throw new EdgesealError('ANCHOR_MISMATCH', `sealed anchor file ${path}: expected saltKeyName ${Buffer.from(pin.saltKeyName).toString('hex')} (TPM NV pin), found none`);
  }
  if (!same(blob.saltKeyName, pin.saltKeyName)) throw mismatch(`salt key name in ${path}`, pin.saltKeyName, blob.saltKeyName);
  return pin.saltKeyName;
}

async function readSealedAnchorIfPresent(path: string): Promise<SealedAnchorFile | undefined> {
  try {
    return decodeSealedAnchor(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function establishTrust(deps: TrustDeps): Promise<Trust> {
  const { tpm } = deps;
  const auth = deps.ownerAuth ?? ownerAuth();
  const paths = trustPaths(deps.stateDir);
  const mainBlob = await readSealedAnchorIfPresent(paths.sealedAnchor);
  // a reseal's new blob: it counts only once the reseal record names it (src/trust/reseal.ts)
  const resealed = await readSealedAnchorIfPresent(paths.resealedAnchor).catch(() => undefined);
  // one salted session for the pin, the unseal and the floors; later floor reads open their own
  const started = await tpm.withSecureScope(auth.auth, mainBlob?.saltKeyName ?? resealed?.saltKeyName, async (scope) => {
    const pin = effectivePin(await readPin(tpm, deps.pinIndex ?? DEFAULT_NV_INDICES.pin, auth, scope.session), await readSealRecord(tpm, auth, scope.session));
    // a reseal killed after writing its record, before replacing the file: the new blob is the pinned one
    const diskBlob = resealed && same(sealedObjectName(resealed.public), pin.sealedObjectName) ? resealed : mainBlob;
    const saltKeyName = pinnedSaltKey(diskBlob, pin, paths.sealedAnchor);
    const measurementPcr = deps.measurementPcr ?? DEFAULT_MEASUREMENT_PCR;
    // extending a policy PCR would lock this boot out of its own anchors
    checkMeasurementPcr(measurementPcr, pin.policyPcrs);

    const initialRoot = new Uint8Array(await readAnchorFile(paths.initialRoot, 'initial root'));
    const identity = decodeDeviceIdentity((await readAnchorFile(paths.device, 'device identity')).toString('utf8'));
    const blob = diskBlob ?? decodeSealedAnchor((await readAnchorFile(paths.sealedAnchor, 'sealed anchor')).toString('utf8'));
    const rootDigest = sha256(initialRoot);
    if (!same(rootDigest, pin.initialRootDigest)) throw mismatch(`initial root ${paths.initialRoot}`, pin.initialRootDigest, rootDigest);
    const hwDigest = sha256(new TextEncoder().encode(identity.hardwareId));
    if (!same(hwDigest, pin.hardwareIdDigest)) throw mismatch(`hardware id ${JSON.stringify(identity.hardwareId)} in ${paths.device}`, pin.hardwareIdDigest, hwDigest);

    // fails closed: no unsealed copy exists anywhere to fall back to
    const { pcrAuthority } = blob;
    const opened = pcrAuthority
      ? await unsealWithSignedPolicies(tpm, scope, { ...blob, pcrAuthority }, pin.sealedObjectName, pin.policyPcrs, [paths.pcrPolicies, paths.cachedPcrPolicies])
      : { secret: await unsealAnchor(tpm, scope, blob, pin.sealedObjectName, pin.policyPcrs), generation: undefined };
    const secret = decodeAnchorSecret(opened.secret);
    if (!same(secret.initialRootDigest, pin.initialRootDigest)) throw mismatch('root digest inside the sealed anchor', pin.initialRootDigest, secret.initialRootDigest);
    const key = keyFromSeed(secret.reportSeed);
    const deviceId = deviceIdFor(identity.hardwareId, key.keyid);
    if (key.publicHex !== identity.reportPublicKey || identity.deviceId !== deviceId) {
      throw new EdgesealError(
        'ANCHOR_MISMATCH',
        `device identity ${paths.device}: expected report key ${key.publicHex} (from the sealed seed) and device id ${deviceId}, found ${identity.reportPublicKey} and ${identity.deviceId}`,
      );
    }
    return { pin, saltKeyName, measurementPcr, initialRoot, identity, rootDigest, secret, pcrPolicyGeneration: opened.generation, pcrAuthority, floors: await readFloors(tpm, pin, auth, scope.session) };
  });
  const { pin, saltKeyName, measurementPcr, initialRoot, identity, rootDigest, secret, pcrPolicyGeneration, pcrAuthority, floors } = started;
  const secured = <T>(fn: (session: SaltedSession) => Promise<T>): Promise<T> => tpm.withSecureScope(auth.auth, saltKeyName, (scope) => fn(scope.session));

  const measurementLog: MeasurementLog = {
    pcr: measurementPcr,
    path: deps.eventLogPath ?? paths.eventLog,
    previousPath: deps.eventLogPath ? `${deps.eventLogPath}.prev` : paths.previousEventLog,
  };
  if (deps.startMeasurementLog !== false) await startMeasurementLog(tpm, measurementLog);
  // a raise is read-then-increment: two interleaved raises would both add their steps and overshoot
  const raises = new SerialQueue();
  return {
    identity,
    reportSeed: secret.reportSeed,
    initialRoot,
    initialRootDigest: rootDigest,
    floors,
    pin,
    measurementLog,
    pcrPolicyGeneration,
    pcrAuthority,
    readRevokedPcrPolicies: () => (pcrAuthority ? secured((session) => readRevokedGenerations(tpm, auth, session)) : Promise.resolve(0n)),
    revokeOlderPcrPolicies: () => (pcrPolicyGeneration === undefined ? Promise.resolve(0n) : raises.run(() => revokeGenerationsBelow(tpm, pcrPolicyGeneration, auth))),
    readFloors: () => secured((session) => readFloors(tpm, pin, auth, session)),
    raiseFloor: (kind, value) =>
      raises.run(() =>
        secured(async (session) => {
          await raiseFloor(tpm, pin, kind, value, auth, session);
          return readFloors(tpm, pin, auth, session);
        }),
      ),
    measure: (image, now) => measure(tpm, measurementLog, image, now),
    verifyEventLog: () => verifyMeasurementLog(tpm, measurementLog),
    readTimeFloor: () => readNvTimeFloor(tpm, auth),
    raiseTimeFloor: (at) => raises.run(() => raiseNvTimeFloor(tpm, auth, at)),
  };
}

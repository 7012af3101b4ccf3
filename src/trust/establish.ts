import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { keyFromSeed } from '../crypto/ed25519.js';
import type { TpmClient } from '../tpm/client.js';
import { SerialQueue } from '../tpm/queue.js';
import { ownerAuth, type NvAuth } from '../tpm/nv.js';
import { unsealAnchor } from './anchor-blob.js';
import { decodeAnchorSecret, sha256 } from './anchor-secret.js';
import { raiseFloor, readFloors } from './counters.js';
import { DEFAULT_MEASUREMENT_PCR, type MeasurementEvent } from './event-log.js';
import type { Floors } from './floors.js';
import { raiseNvTimeFloor, readNvTimeFloor, type NvTimeRaise } from './time-floor-nv.js';
import { measure, startMeasurementLog, verifyMeasurementLog, type MeasuredImage, type MeasurementLog } from './measure.js';
import { DEFAULT_NV_INDICES } from './nv-layout.js';
import type { FloorKind, NvPin } from './nv-pin.js';
import { readPin } from './pin-store.js';
import { formatPcrSelection } from './pcr-selection.js';
import { decodeDeviceIdentity, decodeSealedAnchor, deviceIdFor, trustPaths, type DeviceIdentity } from './state-files.js';

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

export async function establishTrust(deps: TrustDeps): Promise<Trust> {
  const { tpm } = deps;
  const auth = deps.ownerAuth ?? ownerAuth();
  const paths = trustPaths(deps.stateDir);
  const pin = await readPin(tpm, deps.pinIndex ?? DEFAULT_NV_INDICES.pin, auth);
  const measurementPcr = deps.measurementPcr ?? DEFAULT_MEASUREMENT_PCR;
  if (pin.policyPcrs.pcrs.includes(measurementPcr)) {
    // extending a policy PCR would lock this boot out of its own anchors
    throw new EdgesealError('CONFIG_INVALID', `tpm.measurePcr: expected a PCR outside the seal policy ${formatPcrSelection(pin.policyPcrs)}, found ${measurementPcr}`);
  }

  const initialRoot = new Uint8Array(await readAnchorFile(paths.initialRoot, 'initial root'));
  const identity = decodeDeviceIdentity((await readAnchorFile(paths.device, 'device identity')).toString('utf8'));
  const blob = decodeSealedAnchor((await readAnchorFile(paths.sealedAnchor, 'sealed anchor')).toString('utf8'));
  const rootDigest = sha256(initialRoot);
  if (!same(rootDigest, pin.initialRootDigest)) throw mismatch(`initial root ${paths.initialRoot}`, pin.initialRootDigest, rootDigest);
  const hwDigest = sha256(new TextEncoder().encode(identity.hardwareId));
  if (!same(hwDigest, pin.hardwareIdDigest)) throw mismatch(`hardware id ${JSON.stringify(identity.hardwareId)} in ${paths.device}`, pin.hardwareIdDigest, hwDigest);

  // fails closed: no unsealed copy exists anywhere to fall back to
  const secret = decodeAnchorSecret(await unsealAnchor(tpm, blob, pin.sealedObjectName, pin.policyPcrs, auth));
  if (!same(secret.initialRootDigest, pin.initialRootDigest)) throw mismatch('root digest inside the sealed anchor', pin.initialRootDigest, secret.initialRootDigest);
  const key = keyFromSeed(secret.reportSeed);
  const deviceId = deviceIdFor(identity.hardwareId, key.keyid);
  if (key.publicHex !== identity.reportPublicKey || identity.deviceId !== deviceId) {
    throw new EdgesealError(
      'ANCHOR_MISMATCH',
      `device identity ${paths.device}: expected report key ${key.publicHex} (from the sealed seed) and device id ${deviceId}, found ${identity.reportPublicKey} and ${identity.deviceId}`,
    );
  }

  const floors = await readFloors(tpm, pin, auth);
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
    readFloors: () => readFloors(tpm, pin, auth),
    raiseFloor: (kind, value) =>
      raises.run(async () => {
        await raiseFloor(tpm, pin, kind, value, auth);
        return readFloors(tpm, pin, auth);
      }),
    measure: (image, now) => measure(tpm, measurementLog, image, now),
    verifyEventLog: () => verifyMeasurementLog(tpm, measurementLog),
    readTimeFloor: () => readNvTimeFloor(tpm, auth),
    raiseTimeFloor: (at) => raises.run(() => raiseNvTimeFloor(tpm, auth, at)),
  };
}

import { readFile } from 'node:fs/promises';
import { asEdgesealError, type ErrorCode } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import type { TpmIdentity } from '../tpm/capability.js';
import { ownerAuth as defaultOwnerAuth, type NvAuth } from '../tpm/nv.js';
import { authorityName } from '../tpm/authorize.js';
import { readRevokedGenerations, revokedSet } from './pcr-authority.js';
import { readFloors, readNvPublicIfDefined } from './counters.js';
import { establishTrust } from './establish.js';
import type { Floors } from './floors.js';
import { DEFAULT_MEASUREMENT_PCR } from './event-log.js';
import { readPcr } from './measure.js';
import { COUNTER_ATTRIBUTES_WRITTEN, DEFAULT_NV_INDICES, PIN_ATTRIBUTES_LOCKED, describeNvAttributes, hex, type NvIndices } from './nv-layout.js';
import { readPin } from './pin-store.js';
import { DEFAULT_POLICY_PCRS, formatPcrSelection, parsePcrSelection, type PcrSelection } from './pcr-selection.js';
import { decodeDeviceIdentity, decodeSealedAnchor, trustPaths, type DeviceIdentity } from './state-files.js';

// `edgeseal tpm status`: a read-only look at the TPM and the anchors; it changes nothing, rotates nothing.

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

export interface NvIndexStatus {
  readonly role: keyof NvIndices;
  readonly index: string;
  readonly defined: boolean;
  readonly attributes?: string;
  readonly expected: string;
  readonly asProvisioned: boolean;
}

export interface TrustStatus {
  readonly transport: string;
  readonly tpm: Outcome<TpmIdentity>;
  readonly policyPcrs: string;
  readonly pcrValues: Outcome<{ pcr: number; sha256: string }[]>;
  readonly nvIndices: NvIndexStatus[];
  readonly floors: Outcome<Floors>;
  // whether the anchors unseal and cross-check right now (establishTrust)
  readonly anchors: Outcome<{ deviceId: string; hardwareId: string; reportKeyId: string }>;
  // events: how many log lines replay to the PCR (only when the anchors verify)
  readonly measurement: Outcome<{ pcr: number; sha256: string; events?: number }>;
  // the PCR-policy authority the anchor is sealed to; undefined: plain PolicyPCR
  readonly pcrPolicy: Outcome<PcrPolicyStatus | undefined>;
}

export interface PcrPolicyStatus {
  readonly authorityName: string; // the authority key's TPM Name (hex): its key id
  readonly generation?: number; // the signed policy that opens the anchor now (when it does)
  // the newest committed generation: a commit revokes every generation below it on this TPM
  readonly committed?: number;
  readonly revoked: readonly number[];
}

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const e = asEdgesealError(err);
    return { ok: false, code: e.code, message: e.message };
  }
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function collectTrustStatus(deps: { tpm: TpmClient; stateDir: string; measurementPcr?: number; ownerAuth?: NvAuth }): Promise<TrustStatus> {
  const { tpm, stateDir, ownerAuth } = deps;
  const measurementPcr = deps.measurementPcr ?? DEFAULT_MEASUREMENT_PCR;
  const identityFile = await attempt(async () => decodeDeviceIdentity(await readFile(trustPaths(stateDir).device, 'utf8')));
  const device: DeviceIdentity | undefined = identityFile.ok ? identityFile.value : undefined;
  const indices = device?.nvIndices ?? DEFAULT_NV_INDICES;
  const pin = await attempt(() => readPin(tpm, indices.pin, ownerAuth));
  // the pin says what the anchor is sealed to; device.json and the default are only fallbacks
  const pcrs: PcrSelection = (pin.ok ? pin.value.policyPcrs : undefined) ?? parsePcrSelection(device?.policyPcrs ?? DEFAULT_POLICY_PCRS);

  const nvIndices: NvIndexStatus[] = [];
  for (const role of Object.keys(indices) as (keyof NvIndices)[]) {
    const expected = role === 'pin' ? PIN_ATTRIBUTES_LOCKED : COUNTER_ATTRIBUTES_WRITTEN;
    const pub = await readNvPublicIfDefined(tpm, indices[role]);
    nvIndices.push({
      role,
      index: hex(indices[role]),
      defined: pub !== undefined,
      ...(pub ? { attributes: describeNvAttributes(pub.attributes.raw) } : {}),
      expected: describeNvAttributes(expected),
      asProvisioned: pub?.attributes.raw === expected,
    });
  }

  const anchors = await attempt(() => establishTrust({ tpm, stateDir, pinIndex: indices.pin, measurementPcr, startMeasurementLog: false, ownerAuth }));
  return {
    transport: tpm.description,
    tpm: await attempt(() => tpm.getIdentity()),
    policyPcrs: formatPcrSelection(pcrs),
    pcrValues: await attempt(async () => {
      const { values } = await tpm.pcrRead(pcrs);
      return pcrs.pcrs.map((pcr) => ({ pcr, sha256: hexOf(values.get(pcr) ?? new Uint8Array()) }));
    }),
    nvIndices,
    floors: pin.ok ? await attempt(() => readFloors(tpm, pin.value, ownerAuth)) : pin,
    anchors: anchors.ok
      ? { ok: true, value: { deviceId: anchors.value.identity.deviceId, hardwareId: anchors.value.identity.hardwareId, reportKeyId: anchors.value.identity.reportKeyId } }
      : anchors,
    pcrPolicy: await attempt(async () => {
      const blob = decodeSealedAnchor(await readFile(trustPaths(stateDir).sealedAnchor, 'utf8'));
      if (!blob.pcrAuthority) return undefined;
      const revoked = [...revokedSet(await readRevokedGenerations(tpm, ownerAuth ?? defaultOwnerAuth()))].sort((a, b) => a - b);
      const generation = anchors.ok ? anchors.value.pcrPolicyGeneration : undefined;
      return { authorityName: hexOf(authorityName(blob.pcrAuthority)), ...(generation !== undefined ? { generation } : {}), ...(revoked.length ? { committed: revoked[revoked.length - 1] + 1 } : {}), revoked };
    }),
    measurement: await attempt(async () => {
      const sha256 = hexOf(await readPcr(tpm, measurementPcr));
      return anchors.ok ? { pcr: measurementPcr, sha256, events: (await anchors.value.verifyEventLog()).length } : { pcr: measurementPcr, sha256 };
    }),
  };
}

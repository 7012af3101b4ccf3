import { join } from 'node:path';
import { EdgesealError, type ErrorCode } from '../core/errors.js';
import type { NvIndices } from './nv-layout.js';

// What provisioning leaves on disk, under <stateDir>/trust/. None of it is trusted by itself: the
// sealed blob only opens under the PCR policy, and the root copy must match the TPM-pinned digest.
export interface TrustPaths {
  readonly dir: string;
  readonly initialRoot: string; // exact bytes of the initial trusted root.json
  readonly sealedAnchor: string; // TPM2B_PUBLIC + TPM2B_PRIVATE of the sealed anchor secret
  // `edgeseal reseal`'s new blob until the reseal record names it and it replaces sealedAnchor
  readonly resealedAnchor: string;
  readonly device: string; // device identity: ids and the report-signing public key
  readonly eventLog: string; // measurement event log of this boot (JSON lines)
  readonly previousEventLog: string; // the log of the boot before, kept for forensics
  readonly pcrPolicies: string; // signed PCR policies (one JSON each) for an anchor sealed to an authority
  // the signed PCR policies TUF delivered: the promoted metadata set's copy (src/pcrpolicy/cache.ts)
  readonly cachedPcrPolicies: string;
}

export function trustPaths(stateDir: string): TrustPaths {
  const dir = join(stateDir, 'trust');
  return {
    dir,
    initialRoot: join(dir, 'initial-root.json'),
    sealedAnchor: join(dir, 'sealed-anchor.json'),
    resealedAnchor: join(dir, 'sealed-anchor.resealed.json'),
    pcrPolicies: join(dir, 'pcr-policies'),
    cachedPcrPolicies: join(stateDir, 'metadata', 'current', 'pcr-policies'),
    device: join(dir, 'device.json'),
    eventLog: join(dir, 'measurements.jsonl'),
    previousEventLog: join(dir, 'measurements.prev.jsonl'),
  };
}

// The files provisioning writes and the pin vouches for (the event logs are per boot, not anchors).
export function anchorFiles(stateDir: string): Pick<TrustPaths, 'initialRoot' | 'sealedAnchor' | 'device'> {
  const { initialRoot, sealedAnchor, device } = trustPaths(stateDir);
  return { initialRoot, sealedAnchor, device };
}

export interface SealedAnchorFile {
  readonly public: Uint8Array; // marshalled TPM2B_PUBLIC of the keyedhash object
  readonly private: Uint8Array; // TPM2B_PRIVATE, encrypted under the storage primary key
  // the storage primary's TPM Name, known before the TPM is asked anything: sessions are salted only
  // to a key with this Name (absent in files written before salted sessions)
  readonly saltKeyName?: Uint8Array;
  // the PCR-policy authority (ECC P-256 point) the blob's PolicyAuthorize names; absent: plain PolicyPCR
  readonly pcrAuthority?: { readonly x: Uint8Array; readonly y: Uint8Array };
}

export interface DeviceIdentity {
  readonly deviceId: string;
  readonly hardwareId: string;
  readonly reportPublicKey: string; // ed25519, hex
  readonly reportKeyId: string; // TUF-style keyid of that key
  readonly nvIndices: NvIndices;
  readonly policyPcrs: string; // e.g. sha256:0,2,4,7
  readonly provisionedAt: string;
}

const FORMAT = 1;
// Hardware ids become MQTT topic segments: no wildcards, separators or whitespace.
const ID = /^[A-Za-z0-9._-]{1,64}$/;

// The device id fleets see in topics: readable hardware id plus the report key's keyid prefix.
export function deviceIdFor(hardwareId: string, reportKeyId: string): string {
  return `${hardwareId}-${reportKeyId.slice(0, 12)}`;
}

export function isValidHardwareId(id: string): boolean {
  return ID.test(id);
}

export function encodeSealedAnchor(blob: SealedAnchorFile): string {
  const salt = blob.saltKeyName ? { saltKeyName: Buffer.from(blob.saltKeyName).toString('hex') } : {};
  const authority = blob.pcrAuthority ? { pcrAuthority: { x: Buffer.from(blob.pcrAuthority.x).toString('hex'), y: Buffer.from(blob.pcrAuthority.y).toString('hex') } } : {};
  return `${JSON.stringify({ format: FORMAT, public: Buffer.from(blob.public).toString('base64'), private: Buffer.from(blob.private).toString('base64'), ...salt, ...authority }, null, 2)}\n`;
}

function fields(text: string, what: string, code: ErrorCode): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError(code, `${what}: expected JSON, found unparseable text`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || (v as Record<string, unknown>).format !== FORMAT) {
    throw new EdgesealError(code, `${what}: expected an object with format ${FORMAT}, found ${JSON.stringify(v).slice(0, 80)}`);
  }
  return v as Record<string, unknown>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// A blob that is not even well-formed was not written by provisioning: treat it as replaced.
export function decodeSealedAnchor(text: string): SealedAnchorFile {
  const o = fields(text, 'sealed anchor file', 'ANCHOR_MISMATCH');
  if (typeof o.public !== 'string' || !BASE64.test(o.public) || typeof o.private !== 'string' || !BASE64.test(o.private)) {
    throw new EdgesealError('ANCHOR_MISMATCH', 'sealed anchor file: expected base64 "public" and "private" fields');
  }
  if (o.saltKeyName !== undefined && (typeof o.saltKeyName !== 'string' || !/^000b[0-9a-f]{64}$/.test(o.saltKeyName))) {
    throw new EdgesealError('ANCHOR_MISMATCH', `sealed anchor file: expected "saltKeyName" as 000b + 64 hex digits, found ${JSON.stringify(o.saltKeyName).slice(0, 80)}`);
  }
  const authority = o.pcrAuthority as { x?: unknown; y?: unknown } | undefined;
  const coordinate = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  if (authority !== undefined && (typeof authority !== 'object' || authority === null || !coordinate(authority.x) || !coordinate(authority.y))) {
    throw new EdgesealError('ANCHOR_MISMATCH', 'sealed anchor file: expected "pcrAuthority" as {x, y} of 64 hex digits each');
  }
  return {
    public: new Uint8Array(Buffer.from(o.public, 'base64')),
    private: new Uint8Array(Buffer.from(o.private, 'base64')),
    ...(typeof o.saltKeyName === 'string' ? { saltKeyName: new Uint8Array(Buffer.from(o.saltKeyName, 'hex')) } : {}),
    ...(authority ? { pcrAuthority: { x: new Uint8Array(Buffer.from(authority.x as string, 'hex')), y: new Uint8Array(Buffer.from(authority.y as string, 'hex')) } } : {}),
  };
}

export function encodeDeviceIdentity(id: DeviceIdentity): string {
  return `${JSON.stringify({ format: FORMAT, ...id }, null, 2)}\n`;
}

export function decodeDeviceIdentity(text: string): DeviceIdentity {
  const o = fields(text, 'device identity file', 'CONFIG_INVALID');
  const nv = (typeof o.nvIndices === 'object' && o.nvIndices !== null ? o.nvIndices : {}) as Record<string, unknown>;
  const strings = ['deviceId', 'hardwareId', 'reportPublicKey', 'reportKeyId', 'policyPcrs', 'provisionedAt'] as const;
  const bad = [
    ...strings.filter((k) => typeof o[k] !== 'string'),
    ...['pin', 'rootVersion', 'securityVersion', 'revocationVersion', 'targetsVersion'].filter((k) => !Number.isInteger(nv[k])).map((k) => `nvIndices.${k}`),
  ];
  if (bad.length) throw new EdgesealError('CONFIG_INVALID', `device identity file: expected fields ${bad.join(', ')}`);
  const str = (k: (typeof strings)[number]): string => o[k] as string;
  return {
    deviceId: str('deviceId'),
    hardwareId: str('hardwareId'),
    reportPublicKey: str('reportPublicKey'),
    reportKeyId: str('reportKeyId'),
    nvIndices: {
      pin: nv.pin as number,
      rootVersion: nv.rootVersion as number,
      securityVersion: nv.securityVersion as number,
      revocationVersion: nv.revocationVersion as number,
      targetsVersion: nv.targetsVersion as number,
    },
    policyPcrs: str('policyPcrs'),
    provisionedAt: str('provisionedAt'),
  };
}

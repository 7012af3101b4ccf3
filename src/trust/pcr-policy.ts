import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { MAX_PCR_POLICY_GENERATION } from '../core/target-meta.js';
import { authorityName, authorizationMessage } from '../tpm/authorize.js';
import { TPM_ALG, TPMA_NV } from '../tpm/constants.js';
import { TpmWriter } from '../tpm/marshal.js';
import { encodeNvAttributes } from '../tpm/nv.js';
import { computePolicyPcr } from '../tpm/policy.js';
import { computePolicyNvBitsClear } from '../tpm/policy-nv.js';
import type { EccPoint } from '../tpm/salted-session.js';
import { entityName } from '../tpm/session-crypto.js';
import { REVOCATION_BITS_NV_INDEX } from './nv-layout.js';
import { formatPcrSelection, parsePcrSelection, type PcrSelection } from './pcr-selection.js';

// A signed PCR policy (issue 11 B): the PCR values one boot chain produces, approved by the fleet's
// PCR-policy authority (ECC P-256). Its approved policy is PolicyPCR ‖ PolicyNV(bit `generation` clear
// in the revocation index), the same bytes for every device; setting that bit on a device after a
// newer chain committed revokes it there.

// The bit-field NV index revocations go to: the same handle, attributes and size on every device, and
// bit 0 set when it is defined, so its Name (which the signed policy commits to) is fleet-wide.
export const REVOCATION_INDEX = REVOCATION_BITS_NV_INDEX;
export const REVOCATION_DEFINITION = { type: 'bits', attributes: ['OWNERWRITE', 'OWNERREAD', 'AUTHREAD', 'NO_DA'] } as const;
export const MAX_GENERATION = MAX_PCR_POLICY_GENERATION;

// Name of the revocation index once written: nameAlg ‖ H(TPMS_NV_PUBLIC) (Part 1 §16), computable
// by the publisher without a TPM.
export function revocationIndexName(index = REVOCATION_INDEX): Uint8Array {
  const attributes = (encodeNvAttributes(REVOCATION_DEFINITION.type, REVOCATION_DEFINITION.attributes) | TPMA_NV.WRITTEN) >>> 0;
  return entityName(new TpmWriter().u32(index).u16(TPM_ALG.SHA256).u32(attributes).tpm2b(new Uint8Array(0)).u16(8).finish());
}

export interface PcrPolicy {
  readonly generation: number; // 1..63: the revocation bit
  readonly pcrs: PcrSelection;
  readonly values: ReadonlyMap<number, Uint8Array>;
}

export interface SignedPcrPolicyDocument extends PcrPolicy {
  readonly authority: EccPoint;
  readonly approvedPolicy: Uint8Array;
  readonly signature: Uint8Array; // ECDSA P-256 r ‖ s over the approved policy (policyRef empty)
}

export const generationBit = (generation: number): bigint => 1n << BigInt(generation);

export function approvedPolicyFor(p: PcrPolicy): Uint8Array {
  if (!Number.isInteger(p.generation) || p.generation < 1 || p.generation > MAX_GENERATION) {
    throw new EdgesealError('USAGE', `PCR policy generation: expected 1..${MAX_GENERATION}, found ${p.generation}`);
  }
  return computePolicyNvBitsClear(computePolicyPcr(p.pcrs, p.values), revocationIndexName(), generationBit(p.generation));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const HEX = (n: number): RegExp => new RegExp(`^[0-9a-f]{${n}}$`);

export function pointFromKey(key: KeyObject): EccPoint {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new EdgesealError('KEY_INVALID', `PCR-policy authority: expected an ECC P-256 key, found ${jwk.kty ?? '?'} ${jwk.crv ?? ''}`);
  return { x: new Uint8Array(Buffer.from(jwk.x, 'base64url')), y: new Uint8Array(Buffer.from(jwk.y, 'base64url')) };
}

function keyFromPoint(point: EccPoint): KeyObject {
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(point.x).toString('base64url'), y: Buffer.from(point.y).toString('base64url') }, format: 'jwk' });
}

// The publisher's side: approve the PCR values of one boot chain as generation `generation`.
export function signPcrPolicy(policy: PcrPolicy, key: KeyObject): SignedPcrPolicyDocument {
  const approvedPolicy = approvedPolicyFor(policy);
  const signature = new Uint8Array(sign('sha256', authorizationMessage(approvedPolicy), { key, dsaEncoding: 'ieee-p1363' }));
  return { ...policy, authority: pointFromKey(key), approvedPolicy, signature };
}

export function encodePcrPolicy(doc: SignedPcrPolicyDocument): string {
  const values = Object.fromEntries([...doc.values].sort(([a], [b]) => a - b).map(([p, v]) => [String(p), hex(v)]));
  return `${JSON.stringify(
    {
      _type: 'edgeseal-pcr-policy',
      format: 1,
      generation: doc.generation,
      pcrs: formatPcrSelection(doc.pcrs),
      values,
      authority: { x: hex(doc.authority.x), y: hex(doc.authority.y), name: hex(authorityName(doc.authority)) },
      approvedPolicy: hex(doc.approvedPolicy),
      signature: hex(doc.signature),
    },
    null,
    2,
  )}\n`;
}

function invalid(detail: string): EdgesealError {
  return new EdgesealError('SIGNATURE_INVALID', `signed PCR policy: ${detail}`);
}

// Parses a signed PCR policy and checks it: its approved policy is what its PCR values and generation
// give, and the authority's signature over it verifies (the TPM checks it again at unseal).
export function decodePcrPolicy(text: string): SignedPcrPolicyDocument {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new EdgesealError('SIGNATURE_INVALID', 'signed PCR policy: expected JSON, found unparseable text', { cause: err });
  }
  if (o._type !== 'edgeseal-pcr-policy' || o.format !== 1) throw invalid(`expected _type edgeseal-pcr-policy format 1, found ${JSON.stringify([o._type, o.format])}`);
  const a = (typeof o.authority === 'object' && o.authority !== null ? o.authority : {}) as Record<string, unknown>;
  const values = (typeof o.values === 'object' && o.values !== null ? o.values : {}) as Record<string, unknown>;
  const str = (v: unknown, n: number, what: string): Uint8Array => {
    if (typeof v !== 'string' || !HEX(n).test(v)) throw invalid(`${what}: expected ${n} hex digits, found ${JSON.stringify(v)?.slice(0, 80)}`);
    return new Uint8Array(Buffer.from(v, 'hex'));
  };
  const pcrs = parsePcrSelection(typeof o.pcrs === 'string' ? o.pcrs : '');
  const policy: PcrPolicy = {
    generation: typeof o.generation === 'number' ? o.generation : NaN,
    pcrs,
    values: new Map(pcrs.pcrs.map((p) => [p, str(values[String(p)], 64, `values.${p}`)])),
  };
  const doc: SignedPcrPolicyDocument = {
    ...policy,
    authority: { x: str(a.x, 64, 'authority.x'), y: str(a.y, 64, 'authority.y') },
    approvedPolicy: str(o.approvedPolicy, 64, 'approvedPolicy'),
    signature: str(o.signature, 128, 'signature'),
  };
  const expected = approvedPolicyFor(policy);
  if (hex(expected) !== hex(doc.approvedPolicy)) throw invalid(`approvedPolicy: expected ${hex(expected)} (from its PCR values and generation), found ${hex(doc.approvedPolicy)}`);
  if (!verify('sha256', authorizationMessage(doc.approvedPolicy), { key: keyFromPoint(doc.authority), dsaEncoding: 'ieee-p1363' }, doc.signature)) {
    throw invalid(`signature: does not verify under authority ${hex(authorityName(doc.authority))}`);
  }
  return doc;
}

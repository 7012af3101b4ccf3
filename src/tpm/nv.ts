import { EdgesealError } from '../core/errors.js';
import { EMPTY_PASSWORD, type Auth, type CommandRunner } from './command.js';
import { HASH_ALG, TPM_HT, TPM_NT, TPM_RH, TPMA_NV, TPMA_NV_TYPE_MASK, TPMA_NV_TYPE_SHIFT, hashName, type HashName, type NvAttributeName } from './constants.js';
import { TpmReader, TpmWriter } from './marshal.js';
import type { SaltedSession } from './salted-session.js';
import { entityName, handleName } from './session-crypto.js';

export type NvType = Lowercase<keyof typeof TPM_NT>;

// TPMA_NV decoded: the index type plus every attribute bit that is set, with the raw word kept.
export interface NvAttributes {
  readonly raw: number;
  readonly type: NvType | 'unknown';
  readonly set: ReadonlySet<NvAttributeName>;
  readonly written: boolean;
  readonly writeLocked: boolean;
}

export interface NvPublic {
  readonly index: number;
  readonly nameAlg: HashName | 'unknown';
  readonly attributes: NvAttributes;
  readonly authPolicy: Uint8Array;
  readonly dataSize: number;
  // nameAlg ‖ H(TPMS_NV_PUBLIC), computed from the bytes received: it enters a salted session's cpHash,
  // so a read under that session fails unless the TPM's own index has exactly this public area
  readonly name: Uint8Array;
}

// A salted session to authenticate an NV read with (response HMAC), and the Name the index must have.
export interface NvSecureRead {
  readonly session: SaltedSession;
  readonly nvName: Uint8Array;
}

export interface NvDefinition {
  readonly index: number;
  readonly type: NvType;
  readonly attributes: readonly NvAttributeName[];
  readonly dataSize: number;
  readonly authValue?: Uint8Array;
  readonly authPolicy?: Uint8Array;
}

// Who authorizes an NV read/write: the index itself (AUTHREAD/AUTHWRITE) by default, or e.g. the owner.
export interface NvAuth {
  readonly handle: number;
  readonly auth: Auth;
}
export const ownerAuth = (password?: Uint8Array): NvAuth => ({ handle: TPM_RH.OWNER, auth: { kind: 'password', password } });
const indexAuth = (index: number): NvAuth => ({ handle: index, auth: EMPTY_PASSWORD });

// NV_Read/NV_Write move at most TPM_PT_NV_BUFFER_MAX bytes per command; 512 is below every TPM's value.
const NV_CHUNK = 512;

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index >>> 24 !== TPM_HT.NV_INDEX) {
    throw new EdgesealError('INTERNAL', `NV index: expected a handle 0x01xxxxxx, found 0x${(index >>> 0).toString(16)}`);
  }
}

export function encodeNvAttributes(type: NvType, names: readonly NvAttributeName[]): number {
  const nt = TPM_NT[type.toUpperCase() as keyof typeof TPM_NT];
  return (names.reduce((acc, n) => acc | TPMA_NV[n], 0) | (nt << TPMA_NV_TYPE_SHIFT)) >>> 0;
}

export function decodeNvAttributes(raw: number): NvAttributes {
  const nt = (raw & TPMA_NV_TYPE_MASK) >> TPMA_NV_TYPE_SHIFT;
  const typeKey = (Object.keys(TPM_NT) as (keyof typeof TPM_NT)[]).find((k) => TPM_NT[k] === nt);
  const set = new Set((Object.keys(TPMA_NV) as NvAttributeName[]).filter((n) => (raw & TPMA_NV[n]) >>> 0 !== 0));
  return { raw: raw >>> 0, type: typeKey ? (typeKey.toLowerCase() as NvType) : 'unknown', set, written: set.has('WRITTEN'), writeLocked: set.has('WRITELOCKED') };
}

function readNvPublic(raw: Uint8Array): NvPublic {
  const r = new TpmReader(raw, 'TPM2_NV_ReadPublic response nvPublic');
  const index = r.u32('nvIndex');
  const nameAlg = hashName(r.u16('nameAlg')) ?? 'unknown';
  const attributes = decodeNvAttributes(r.u32('attributes'));
  const authPolicy = r.tpm2b('authPolicy');
  const dataSize = r.u16('dataSize');
  r.end();
  return { index, nameAlg, attributes, authPolicy, dataSize, name: entityName(raw) };
}

// TPM2_NV_DefineSpace (Part 3 §31.3) under the owner hierarchy.
export async function nvDefineSpace(tpm: CommandRunner, def: NvDefinition, hierarchy: NvAuth = ownerAuth()): Promise<void> {
  checkIndex(def.index);
  const params = new TpmWriter()
    .tpm2b(def.authValue ?? new Uint8Array(0))
    .sized((w) =>
      w.u32(def.index).u16(HASH_ALG.sha256).u32(encodeNvAttributes(def.type, def.attributes)).tpm2b(def.authPolicy ?? new Uint8Array(0)).u16(def.dataSize),
    )
    .finish();
  const { params: r } = await tpm.run({ cc: 'NV_DefineSpace', handles: [hierarchy.handle], auths: [hierarchy.auth], params });
  r.end();
}

// TPM2_NV_ReadPublic (Part 3 §31.6): no authorization; the attributes say WRITTEN / WRITELOCKED.
export async function nvReadPublic(tpm: CommandRunner, index: number): Promise<{ public: NvPublic; name: Uint8Array }> {
  checkIndex(index);
  const { params: r } = await tpm.run({ cc: 'NV_ReadPublic', handles: [index] });
  const pub = readNvPublic(r.tpm2b('nvPublic'));
  const name = r.tpm2b('nvName');
  r.end();
  if (pub.index !== index) throw r.malformed(`nvPublic.nvIndex: expected 0x${index.toString(16)}, found 0x${pub.index.toString(16)}`);
  return { public: pub, name };
}

// TPM2_NV_Read (Part 3 §31.13), in chunks. With `secure` each chunk comes back encrypted and HMAC-checked.
export async function nvRead(tpm: CommandRunner, index: number, size: number, offset = 0, auth: NvAuth = indexAuth(index), secure?: NvSecureRead): Promise<Uint8Array> {
  checkIndex(index);
  const protection = secure && { protect: { session: secure.session, encrypt: true }, names: [auth.handle === index ? secure.nvName : handleName(auth.handle), secure.nvName] };
  const out = new Uint8Array(size);
  for (let done = 0; done < size; ) {
    const n = Math.min(NV_CHUNK, size - done);
    const { params: r } = await tpm.run({ cc: 'NV_Read', handles: [auth.handle, index], auths: [auth.auth], params: new TpmWriter().u16(n).u16(offset + done).finish(), ...protection });
    const data = r.tpm2b('data');
    r.end();
    if (data.length !== n) throw r.malformed(`data: expected ${n} bytes, found ${data.length}`);
    out.set(data, done);
    done += n;
  }
  return out;
}

// TPM2_NV_Write (Part 3 §31.10), in chunks.
export async function nvWrite(tpm: CommandRunner, index: number, data: Uint8Array, offset = 0, auth: NvAuth = indexAuth(index)): Promise<void> {
  checkIndex(index);
  for (let done = 0; done < data.length; done += NV_CHUNK) {
    const chunk = data.subarray(done, done + NV_CHUNK);
    const { params: r } = await tpm.run({ cc: 'NV_Write', handles: [auth.handle, index], auths: [auth.auth], params: new TpmWriter().tpm2b(chunk).u16(offset + done).finish() });
    r.end();
  }
}

// TPM2_NV_WriteLock (Part 3 §31.11): with WRITEDEFINE the lock lasts until the index is deleted.
export async function nvWriteLock(tpm: CommandRunner, index: number, auth: NvAuth = indexAuth(index)): Promise<void> {
  checkIndex(index);
  const { params: r } = await tpm.run({ cc: 'NV_WriteLock', handles: [auth.handle, index], auths: [auth.auth] });
  r.end();
}

// TPM2_NV_Increment (Part 3 §31.8): a counter index only goes up.
export async function nvIncrement(tpm: CommandRunner, index: number, auth: NvAuth = indexAuth(index)): Promise<void> {
  checkIndex(index);
  const { params: r } = await tpm.run({ cc: 'NV_Increment', handles: [auth.handle, index], auths: [auth.auth] });
  r.end();
}

// TPM2_NV_SetBits (Part 3 §31.12): ORs `bits` into a bit-field index; bits are only ever set.
export async function nvSetBits(tpm: CommandRunner, index: number, bits: bigint, auth: NvAuth = indexAuth(index)): Promise<void> {
  checkIndex(index);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, bits);
  const { params: r } = await tpm.run({ cc: 'NV_SetBits', handles: [auth.handle, index], auths: [auth.auth], params: new TpmWriter().bytes(b).finish() });
  r.end();
}

// Reads a counter index as the 64-bit big-endian value it holds.
export async function nvReadCounter(tpm: CommandRunner, index: number, auth: NvAuth = indexAuth(index), secure?: NvSecureRead): Promise<bigint> {
  const bytes = await nvRead(tpm, index, 8, 0, auth, secure);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
}

// TPM2_NV_UndefineSpace (Part 3 §31.4)
export async function nvUndefineSpace(tpm: CommandRunner, index: number, hierarchy: NvAuth = ownerAuth()): Promise<void> {
  checkIndex(index);
  const { params: r } = await tpm.run({ cc: 'NV_UndefineSpace', handles: [hierarchy.handle, index], auths: [hierarchy.auth] });
  r.end();
}

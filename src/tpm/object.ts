import { EdgesealError } from '../core/errors.js';
import { EMPTY_PASSWORD, type Auth, type CommandRunner } from './command.js';
import { TPM_ALG, TPM_ECC_NIST_P256, TPM_HT, TPM_RH, TPMA_OBJECT } from './constants.js';
import { TpmReader, TpmWriter } from './marshal.js';
import { runCreating } from './policy.js';
import type { EccPoint, Protection } from './salted-session.js';
import { entityName } from './session-crypto.js';

// A loaded transient object: its handle (flush it when done) and TPM Name (nameAlg || H(public)).
export interface LoadedObject {
  readonly handle: number;
  readonly name: Uint8Array;
}

// A sealed data object as stored on disk: the TPMT_PUBLIC and TPM2B_PRIVATE contents (without the
// outer u16 size). The private part is encrypted by the parent, so it is useless without this TPM.
export interface SealedObject {
  readonly public: Uint8Array;
  readonly private: Uint8Array;
}

// TPM2B_SENSITIVE_DATA is capped at MAX_SYM_DATA (128 bytes on every TPM we know).
export const MAX_SEALED_BYTES = 128;

// The storage primary: ECC NIST P-256 with AES-128-CFB, restricted decrypt, under the owner hierarchy.
// ECC because it is derived from the hierarchy seed without a prime search: measured on swtpm, ≈ 0.5 ms
// per CreatePrimary (npm run bench) against 30–80 ms more for RSA-2048 (tpm2_createprimary timings), and
// real TPMs take seconds for RSA. Recreating it on each use needs no persistent handle or owner auth.
// tpm2-tools builds the same key with `-G ecc256:aes128cfb -a 'restricted|decrypt|fixedtpm|fixedparent|
// sensitivedataorigin|userwithauth|noda'` (the interop test loads our sealed blobs under it).
function storagePrimaryTemplate(): Uint8Array {
  return new TpmWriter()
    .u16(TPM_ALG.ECC)
    .u16(TPM_ALG.SHA256)
    .u32(
      TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth |
        TPMA_OBJECT.noDA | TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt,
    )
    .tpm2b(new Uint8Array(0)) // authPolicy
    .u16(TPM_ALG.AES).u16(128).u16(TPM_ALG.CFB) // symmetric
    .u16(TPM_ALG.NULL) // scheme
    .u16(TPM_ECC_NIST_P256)
    .u16(TPM_ALG.NULL) // kdf
    .tpm2b(new Uint8Array(0)).tpm2b(new Uint8Array(0)) // unique: empty point
    .finish();
}

// A keyedhash data object holding `data`, usable only through a policy session satisfying authPolicy:
// no userWithAuth (a password cannot unseal it), fixedTPM/fixedParent (it cannot be duplicated away).
function sealedTemplate(authPolicy: Uint8Array): Uint8Array {
  return new TpmWriter()
    .u16(TPM_ALG.KEYEDHASH)
    .u16(TPM_ALG.SHA256)
    .u32(TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent)
    .tpm2b(authPolicy)
    .u16(TPM_ALG.NULL) // keyedhash scheme: none (a sealed data object)
    .tpm2b(new Uint8Array(0)) // unique
    .finish();
}

function sensitiveCreate(data: Uint8Array): (w: TpmWriter) => void {
  return (w) => w.tpm2b(new Uint8Array(0)).tpm2b(data); // userAuth empty, data
}

// Skips creationData, creationHash and creationTicket: we do not certify creation.
function skipCreationInfo(r: TpmReader): void {
  r.tpm2b('creationData');
  r.tpm2b('creationHash');
  r.u16('creationTicket.tag');
  r.u32('creationTicket.hierarchy');
  r.tpm2b('creationTicket.digest');
}

// The storage primary also salts our sessions: its public point, and its Name computed here from the
// public area we will encrypt to (not the Name the response claims).
export interface StoragePrimary extends LoadedObject {
  readonly point: EccPoint;
}

// The unique point of our ECC template's public area (TPMT_PUBLIC, Part 2 §12.2.4).
function eccPoint(pub: Uint8Array): EccPoint {
  const r = new TpmReader(pub, 'storage primary public area');
  const type = r.u16('type');
  if (type !== TPM_ALG.ECC) throw r.malformed(`type: expected ecc (0x23), found 0x${type.toString(16)}`);
  r.u16('nameAlg');
  r.u32('objectAttributes');
  r.tpm2b('authPolicy');
  r.u16('symmetric.algorithm');
  r.u16('symmetric.keyBits');
  r.u16('symmetric.mode');
  r.u16('scheme');
  const curve = r.u16('curveID');
  if (curve !== TPM_ECC_NIST_P256) throw r.malformed(`curveID: expected NIST P-256 (0x3), found 0x${curve.toString(16)}`);
  r.u16('kdf');
  const x = r.tpm2b('unique.x', 32);
  const y = r.tpm2b('unique.y', 32);
  r.end();
  return { x, y };
}

// TPM2_CreatePrimary (Part 3 §24.1): the same template and seed always give the same key.
export async function createStoragePrimary(tpm: CommandRunner, hierarchy: number = TPM_RH.OWNER, auth: Auth = EMPTY_PASSWORD): Promise<StoragePrimary> {
  const params = new TpmWriter()
    .sized(sensitiveCreate(new Uint8Array(0)))
    .tpm2b(storagePrimaryTemplate())
    .tpm2b(new Uint8Array(0)) // outsideInfo
    .u32(0) // creationPCR: none
    .finish();
  return runCreating(tpm, { cc: 'CreatePrimary', handles: [hierarchy], auths: [auth], params, responseHandles: 1 }, TPM_HT.TRANSIENT, 'objectHandle', (r, handle) => {
    const pub = r.tpm2b('outPublic');
    skipCreationInfo(r);
    r.tpm2b('name');
    r.end();
    return { handle, name: entityName(pub), point: eccPoint(pub) };
  });
}

// TPM2_Create (Part 3 §12.1) of a sealed data object under a loaded storage parent. With `protect` the
// inSensitive parameter (which holds the data) crosses the bus encrypted under a salted session.
export async function createSealed(tpm: CommandRunner, parent: LoadedObject, data: Uint8Array, authPolicy: Uint8Array, protect?: Protection): Promise<SealedObject> {
  if (data.length === 0 || data.length > MAX_SEALED_BYTES) {
    throw new EdgesealError('OVERSIZED', `seal: expected 1..${MAX_SEALED_BYTES} bytes of data, found ${data.length} (seal a hash or seed, not a file)`);
  }
  const params = new TpmWriter()
    .sized(sensitiveCreate(data))
    .tpm2b(sealedTemplate(authPolicy))
    .tpm2b(new Uint8Array(0))
    .u32(0)
    .finish();
  const { params: r } = await tpm.run({ cc: 'Create', handles: [parent.handle], auths: [EMPTY_PASSWORD], params, protect: protect && { ...protect, decrypt: true }, names: [parent.name] });
  const priv = r.tpm2b('outPrivate');
  const pub = r.tpm2b('outPublic');
  skipCreationInfo(r);
  r.end();
  return { public: pub, private: priv };
}

// TPM2_Load (Part 3 §12.2): loads a sealed object under its parent; flush the returned handle.
export async function load(tpm: CommandRunner, parent: number, obj: SealedObject): Promise<LoadedObject> {
  const params = new TpmWriter().tpm2b(obj.private).tpm2b(obj.public).finish();
  return runCreating(tpm, { cc: 'Load', handles: [parent], auths: [EMPTY_PASSWORD], params, responseHandles: 1 }, TPM_HT.TRANSIENT, 'objectHandle', (r, handle) => {
    r.tpm2b('name'); // ours is computed from the public area we sent, not taken from the response
    r.end();
    return { handle, name: entityName(obj.public) };
  });
}

// TPM2_Unseal (Part 3 §12.7). With `protect` the outData comes back encrypted and HMAC-authenticated.
export async function unseal(tpm: CommandRunner, item: LoadedObject, auth: Auth, protect?: Protection): Promise<Uint8Array> {
  const { params: r } = await tpm.run({ cc: 'Unseal', handles: [item.handle], auths: [auth], protect: protect && { ...protect, encrypt: true }, names: [item.name] });
  const data = r.tpm2b('outData', MAX_SEALED_BYTES);
  r.end();
  return data;
}

// Reads the authPolicy of a sealed object's public area (to report which policy a blob is bound to).
export function sealedAuthPolicy(pub: Uint8Array): Uint8Array {
  const r = new TpmReader(pub, 'sealed object public area');
  const type = r.u16('type');
  if (type !== TPM_ALG.KEYEDHASH) throw r.malformed(`type: expected keyedhash (0x8), found 0x${type.toString(16)}`);
  r.u16('nameAlg');
  r.u32('objectAttributes');
  return r.tpm2b('authPolicy');
}

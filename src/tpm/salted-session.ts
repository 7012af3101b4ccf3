import { createECDH, randomBytes, timingSafeEqual } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import type { CommandResult, CommandRunner, CommandSpec, SessionEntry } from './command.js';
import { TPM_ALG, TPM_CC, TPM_HT, TPM_RH, TPM_SE, TPMA_SESSION } from './constants.js';
import { TpmReader, TpmWriter } from './marshal.js';
import { runCreating } from './policy.js';
import { cfb, commandHmac, cpHash, kdfe, responseHmac, rpHash, sessionKey } from './session-crypto.js';

// A salted, unbound HMAC session (Part 1 §19.6) that rides along as an extra session on a command: it
// authorizes nothing, but encrypts the first parameter (AES-128-CFB) and authenticates the response
// with its HMAC, keyed by a salt only the TPM holding the salt key's private part can decrypt.

export interface EccPoint {
  readonly x: Uint8Array;
  readonly y: Uint8Array;
}

// A loaded ECC P-256 decrypt key to salt to: its handle, TPM Name and public point.
export interface SaltKey {
  readonly handle: number;
  readonly name: Uint8Array;
  readonly point: EccPoint;
}

// What the extra session does on one command.
export interface Protection {
  readonly session: SaltedSession;
  readonly decrypt?: boolean; // encrypt the command's first parameter (a TPM2B) on its way to the TPM
  readonly encrypt?: boolean; // the TPM encrypts the response's first parameter (a TPM2B)
}

const NONCE_BYTES = 32;
const DIGEST_BYTES = 32;

// The salt, encrypted to an ECC key (Part 1 §C.6.1): an ephemeral ECDH on P-256; the TPM derives
// the same salt = KDFe(sha256, Z.x, "SECRET", ephemeral.x, key.x, 256) from its private key.
export function eccSalt(point: EccPoint): { salt: Uint8Array; encryptedSalt: Uint8Array } {
  const ecdh = createECDH('prime256v1');
  const eph = new Uint8Array(ecdh.generateKeys());
  const pad = (b: Uint8Array): Uint8Array => (b.length >= 32 ? b : new Uint8Array(Buffer.concat([new Uint8Array(32 - b.length), b])));
  const z = new Uint8Array(ecdh.computeSecret(Buffer.concat([Uint8Array.of(4), pad(point.x), pad(point.y)])));
  const ephX = eph.subarray(1, 33);
  const salt = kdfe(z, 'SECRET', ephX, point.x, 256);
  return { salt, encryptedSalt: new TpmWriter().tpm2b(ephX).tpm2b(eph.subarray(33, 65)).finish() };
}

// Encrypts or decrypts the data of a leading TPM2B in place of the original (its size stays in clear).
function cryptFirstParameter(params: Uint8Array, what: string, crypt: (data: Uint8Array) => Uint8Array): Uint8Array {
  const r = new TpmReader(params, what);
  const data = r.tpm2b('first parameter');
  const out = new Uint8Array(params);
  out.set(crypt(data), 2);
  return out;
}

export class SaltedSession {
  private nonceTpm: Uint8Array;

  constructor(
    readonly handle: number,
    private readonly key: Uint8Array,
    nonceTpm: Uint8Array,
  ) {
    this.nonceTpm = nonceTpm;
  }

  // The command as it goes on the wire: first parameter encrypted if asked, this session appended with
  // its HMAC over cpHash. `check` then authenticates the response and decrypts it.
  protect(spec: CommandSpec, p: Protection): { wire: CommandSpec; check: (result: CommandResult, raw: { params: Uint8Array; sessions: readonly SessionEntry[] }) => CommandResult } {
    const names = spec.names ?? [];
    if (names.length !== (spec.handles?.length ?? 0)) {
      throw new EdgesealError('INTERNAL', `TPM2_${spec.cc}: expected a Name for each of ${spec.handles?.length ?? 0} handles, found ${names.length}`);
    }
    const nonceCaller = new Uint8Array(randomBytes(NONCE_BYTES));
    const attributes = TPMA_SESSION.continueSession | (p.decrypt ? TPMA_SESSION.decrypt : 0) | (p.encrypt ? TPMA_SESSION.encrypt : 0);
    const plain = spec.params ?? new Uint8Array(0);
    const params = p.decrypt ? cryptFirstParameter(plain, `TPM2_${spec.cc} command`, (d) => cfb('encrypt', this.key, nonceCaller, this.nonceTpm, d)) : plain;
    const cc = TPM_CC[spec.cc];
    const hmac = commandHmac(this.key, cpHash(cc, names, params), nonceCaller, this.nonceTpm, attributes);
    const entry: SessionEntry = { handle: this.handle, nonce: nonceCaller, attributes, hmac };
    const wire: CommandSpec = { ...spec, params, auths: [...(spec.auths ?? []), { kind: 'raw', entry }] };
    const check = (result: CommandResult, raw: { params: Uint8Array; sessions: readonly SessionEntry[] }): CommandResult => {
      const mine = raw.sessions[raw.sessions.length - 1];
      if (!mine) throw result.params.malformed('expected our salted session in the response, found none');
      const expected = responseHmac(this.key, rpHash(cc, raw.params), mine.nonce, nonceCaller, mine.attributes);
      if (mine.hmac.length !== DIGEST_BYTES || !timingSafeEqual(mine.hmac, expected)) {
        throw new EdgesealError('TPM_RESPONSE_FORGED', `TPM2_${spec.cc} response: expected an HMAC made with our salted session key, found one that does not verify (something between us and the TPM changed the response)`);
      }
      this.nonceTpm = mine.nonce;
      if (!p.encrypt) return result;
      const clear = cryptFirstParameter(raw.params, `TPM2_${spec.cc} response`, (d) => cfb('decrypt', this.key, mine.nonce, nonceCaller, d));
      return { handles: result.handles, params: new TpmReader(clear, `TPM2_${spec.cc} response`) };
    };
    return { wire, check };
  }
}

// TPM2_StartAuthSession (Part 3 §11.1): an HMAC session salted to `saltKey`, unbound, AES-128-CFB, sha256.
export async function startSaltedSession(tpm: CommandRunner, saltKey: SaltKey): Promise<SaltedSession> {
  const nonceCaller = new Uint8Array(randomBytes(NONCE_BYTES));
  const { salt, encryptedSalt } = eccSalt(saltKey.point);
  const params = new TpmWriter()
    .tpm2b(nonceCaller)
    .tpm2b(encryptedSalt)
    .u8(TPM_SE.HMAC)
    .u16(TPM_ALG.AES).u16(128).u16(TPM_ALG.CFB)
    .u16(TPM_ALG.SHA256)
    .finish();
  const spec: CommandSpec = { cc: 'StartAuthSession', handles: [saltKey.handle, TPM_RH.NULL], params, responseHandles: 1 };
  return runCreating(tpm, spec, TPM_HT.HMAC_SESSION, 'sessionHandle', (r, handle) => {
    const nonceTpm = r.tpm2b('nonceTPM');
    r.end();
    if (nonceTpm.length < 16) throw r.malformed(`nonceTPM: expected 16..32 bytes, found ${nonceTpm.length}`);
    return new SaltedSession(handle, sessionKey(salt, new Uint8Array(0), nonceTpm, nonceCaller), nonceTpm);
  });
}

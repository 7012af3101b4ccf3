import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { keyFromSeed, publicKeyFromHex, type Ed25519Key } from './ed25519.js';

// Key files in the securesystemslib/TUF JSON shape: {keytype, scheme, keyid, keyval:{public[, private]}}.
// `keyval.private` is the 32-byte RFC 8032 seed in hex. With a passphrase the seed is instead sealed in
// `encrypted` (scrypt → AES-256-GCM, keyid as associated data so the public half cannot be swapped).

export interface KeyFileJson {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyid: string;
  keyval: { public: string; private?: string };
  encrypted?: EncryptedSeed;
}

interface EncryptedSeed {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  ciphertext: string;
}

// scrypt cost: 2^15 × r=8 needs 32 MiB; maxmem is raised accordingly.
const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase, salt, 32, { ...params, maxmem: 128 * params.N * params.r * 2 });
}

export function encodePublicKeyFile(key: Ed25519Key): string {
  const json: KeyFileJson = { keytype: 'ed25519', scheme: 'ed25519', keyid: key.keyid, keyval: { public: key.publicHex } };
  return `${JSON.stringify(json, null, 2)}\n`;
}

export function encodePrivateKeyFile(key: Ed25519Key, passphrase?: string): string {
  if (!key.seed) throw new EdgesealError('KEY_INVALID', `key ${key.keyid}: expected a private key, found a public-only key`);
  const json: KeyFileJson = { keytype: 'ed25519', scheme: 'ed25519', keyid: key.keyid, keyval: { public: key.publicHex } };
  if (passphrase === undefined) {
    json.keyval.private = Buffer.from(key.seed).toString('hex');
  } else {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, SCRYPT), iv);
    cipher.setAAD(Buffer.from(key.keyid));
    const ciphertext = Buffer.concat([cipher.update(key.seed), cipher.final()]);
    json.encrypted = {
      kdf: 'scrypt',
      ...SCRYPT,
      salt: salt.toString('hex'),
      cipher: 'aes-256-gcm',
      iv: iv.toString('hex'),
      tag: cipher.getAuthTag().toString('hex'),
      ciphertext: ciphertext.toString('hex'),
    };
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

function invalid(what: string, found: unknown): EdgesealError {
  return new EdgesealError('KEY_INVALID', `key file: expected ${what}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

function hexField(obj: Record<string, unknown>, name: string, bytes?: number): Buffer {
  const v = obj[name];
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v) || (bytes !== undefined && v.length !== bytes * 2)) {
    throw invalid(`${name} as ${bytes ?? 'some'} bytes of lowercase hex`, v);
  }
  return Buffer.from(v, 'hex');
}

function decryptSeed(enc: unknown, keyid: string, passphrase: string | undefined): Buffer {
  if (typeof enc !== 'object' || enc === null) throw invalid('an encrypted object', enc);
  const e = enc as Record<string, unknown>;
  if (e.kdf !== 'scrypt' || e.cipher !== 'aes-256-gcm') throw invalid('kdf scrypt and cipher aes-256-gcm', { kdf: e.kdf, cipher: e.cipher });
  const params = { N: e.N, r: e.r, p: e.p };
  if (!Object.values(params).every((n) => Number.isSafeInteger(n) && (n as number) > 0) || (e.N as number) > 1 << 20) {
    throw invalid('scrypt N ≤ 2^20, r and p positive integers', params);
  }
  if (passphrase === undefined) {
    throw new EdgesealError('PASSPHRASE_REQUIRED', `key ${keyid} is encrypted: expected a passphrase (EDGESEAL_PASSPHRASE), found none`);
  }
  const key = deriveKey(passphrase, hexField(e, 'salt'), params as { N: number; r: number; p: number });
  const decipher = createDecipheriv('aes-256-gcm', key, hexField(e, 'iv', 12));
  decipher.setAAD(Buffer.from(keyid));
  decipher.setAuthTag(hexField(e, 'tag', 16));
  try {
    return Buffer.concat([decipher.update(hexField(e, 'ciphertext', 32)), decipher.final()]);
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `key ${keyid}: wrong passphrase or corrupted key file (authentication failed)`, { cause: err });
  }
}

// Parses a key file; returns a signing key when it holds a private half (decrypting with passphrase).
export function decodeKeyFile(text: string, passphrase?: string): Ed25519Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `key file: expected JSON, found a parse error (${(err as Error).message})`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('a JSON object', parsed);
  const json = parsed as Record<string, unknown>;
  if (json.keytype !== 'ed25519' || json.scheme !== 'ed25519') throw invalid('keytype and scheme ed25519', { keytype: json.keytype, scheme: json.scheme });
  if (typeof json.keyval !== 'object' || json.keyval === null) throw invalid('keyval object', json.keyval);
  const keyval = json.keyval as Record<string, unknown>;
  const pub = publicKeyFromHex(hexField(keyval, 'public', 32).toString('hex'));
  if (json.keyid !== undefined && json.keyid !== pub.keyid) throw invalid(`keyid ${pub.keyid} (derived from the public key)`, json.keyid);
  let seed: Buffer | undefined;
  if (json.encrypted !== undefined) seed = decryptSeed(json.encrypted, pub.keyid, passphrase);
  else if (keyval.private !== undefined) seed = hexField(keyval, 'private', 32);
  if (seed === undefined) return pub;
  const key = keyFromSeed(seed);
  if (key.publicHex !== pub.publicHex) throw invalid(`a private key matching public ${pub.publicHex}`, key.publicHex);
  return key;
}

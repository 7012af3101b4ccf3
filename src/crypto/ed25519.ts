import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { canonicalize } from '../core/canonical-json.js';
import { EdgesealError } from '../core/errors.js';

// An ed25519 key as TUF names it. `seed` (32 bytes, RFC 8032 private key) is absent for public-only keys.
export interface Ed25519Key {
  readonly keyid: string;
  readonly publicHex: string;
  readonly seed?: Uint8Array;
}

export type SigningKey = Ed25519Key & { readonly seed: Uint8Array };

// The public key object TUF signs over and hashes into the keyid (spec §4.2 KEYID).
export interface TufPublicKey {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyval: { public: string };
}

export function tufPublicKey(publicHex: string): TufPublicKey {
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
}

// keyid = hex SHA-256 of the canonical JSON of the public key object.
export function keyIdOf(publicHex: string): string {
  return createHash('sha256').update(canonicalize(tufPublicKey(publicHex))).digest('hex');
}

export function keyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.length !== nacl.sign.seedLength) {
    throw new EdgesealError('KEY_INVALID', `ed25519 seed: expected ${nacl.sign.seedLength} bytes, found ${seed.length}`);
  }
  const publicHex = Buffer.from(nacl.sign.keyPair.fromSeed(seed).publicKey).toString('hex');
  return { keyid: keyIdOf(publicHex), publicHex, seed: Uint8Array.from(seed) };
}

export function generateKey(): SigningKey {
  return keyFromSeed(nacl.randomBytes(nacl.sign.seedLength));
}

export function publicKeyFromHex(publicHex: string): Ed25519Key {
  if (!/^[0-9a-f]{64}$/.test(publicHex)) {
    throw new EdgesealError('KEY_INVALID', `ed25519 public key: expected 64 lowercase hex digits, found ${JSON.stringify(publicHex.slice(0, 80))}`);
  }
  return { keyid: keyIdOf(publicHex), publicHex };
}

// Drops the private half so the key can be shared or embedded in metadata.
export function publicOnly(key: Ed25519Key): Ed25519Key {
  return { keyid: key.keyid, publicHex: key.publicHex };
}

export function isSigningKey(key: Ed25519Key): key is SigningKey {
  return key.seed !== undefined;
}

// Detached RFC 8032 signature (64 bytes) over message.
export function signBytes(key: SigningKey, message: Uint8Array): Uint8Array {
  return nacl.sign.detached(message, nacl.sign.keyPair.fromSeed(key.seed).secretKey);
}

export function verifyBytes(publicHex: string, message: Uint8Array, signature: Uint8Array): boolean {
  const pub = Buffer.from(publicHex, 'hex');
  if (pub.length !== nacl.sign.publicKeyLength || signature.length !== nacl.sign.signatureLength) return false;
  return nacl.sign.detached.verify(message, signature, pub);
}

import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

// RFC 8032 ed25519 through Node's native OpenSSL instead of tweetnacl on the per-event hot path.
// Ed25519 is deterministic, so the signature bytes are identical to nacl.sign.detached for the same
// seed (tested); measured on this VM: tweetnacl 5.9 ms per event signature, native 0.04 ms — the
// difference between telemetry visibly slowing the boot check and not.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex'); // RFC 8410 PrivateKeyInfo
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex'); // RFC 8410 SubjectPublicKeyInfo

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromRaw(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

export function signDetached(message: Uint8Array, key: KeyObject): Buffer {
  return sign(null, message, key);
}

export function verifyDetached(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return verify(null, message, publicKeyFromRaw(publicKey), signature);
}

import { EdgesealError } from '../core/errors.js';
import { signBytes, tufPublicKey, type SigningKey } from './ed25519.js';
import { verifyTufSignature, type TufKey } from './tuf-key.js';

// One interface for every place a private key can live: a key file, a PKCS#11 token, an external
// command (KMS CLIs and the like). The publisher never needs the private key, only `sign`.
export interface Signer {
  readonly keyid: string;
  readonly publicKey: TufKey;
  readonly label: string; // where the key lives, for messages and the audit log
  // The TUF `sig` bytes over message: raw 64 bytes for ed25519, DER (r, s) over SHA-256 for ECDSA.
  sign(message: Uint8Array): Uint8Array;
}

export function fileSigner(key: SigningKey, label = 'key file'): Signer {
  return { keyid: key.keyid, publicKey: tufPublicKey(key.publicHex), label, sign: (message) => signBytes(key, message) };
}

export function isSigner(x: object): x is Signer {
  return typeof (x as Partial<Signer>).sign === 'function';
}

// Signs and checks the result against the signer's public key, so a token or command that signs with
// another key (or returns garbage) is caught here rather than by every device.
export function signChecked(signer: Signer, message: Uint8Array): Uint8Array {
  const sig = signer.sign(message);
  if (!verifyTufSignature(signer.publicKey, message, sig)) {
    throw new EdgesealError('SIGNER_FAILED', `${signer.label}: expected a ${signer.publicKey.scheme} signature by key ${signer.keyid.slice(0, 16)}, found one that does not verify`);
  }
  return sig;
}

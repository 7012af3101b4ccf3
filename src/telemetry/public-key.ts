import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';

const HEX32 = /^[0-9a-fA-F]{64}$/;

// Decodes a device report public key given as 64 hex characters, 32 raw bytes, or an ed25519 SPKI PEM.
export function decodePublicKey(data: Uint8Array | string, source: string): Uint8Array {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  if (HEX32.test(text.trim())) return Uint8Array.from(Buffer.from(text.trim(), 'hex'));
  if (text.includes('-----BEGIN PUBLIC KEY-----')) {
    try {
      const jwk = createPublicKey(text).export({ format: 'jwk' });
      if (jwk.crv === 'Ed25519' && typeof jwk.x === 'string') return Uint8Array.from(Buffer.from(jwk.x, 'base64url'));
    } catch (err) {
      throw new EdgesealError('KEY_INVALID', `${source}: unreadable PEM public key`, { cause: err });
    }
    throw new EdgesealError('KEY_INVALID', `${source}: expected an Ed25519 public key, found another key type`);
  }
  if (typeof data !== 'string' && data.length === 32) return Uint8Array.from(data);
  throw new EdgesealError('KEY_INVALID', `${source}: expected an ed25519 public key (64 hex characters, 32 raw bytes or PEM)`);
}

// --pubkey takes either the key in hex or a path to a key file.
export async function loadPublicKey(arg: string): Promise<Uint8Array> {
  if (HEX32.test(arg)) return decodePublicKey(arg, '--pubkey');
  let bytes: Buffer;
  try {
    bytes = await readFile(arg);
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `--pubkey: expected 64 hex characters or a readable key file, cannot read ${arg}: ${(err as Error).message}`, { cause: err });
  }
  return decodePublicKey(bytes, arg);
}

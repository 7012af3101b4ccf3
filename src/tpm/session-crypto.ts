import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';

// The session cryptography of TPM 2.0 Part 1, for sha256 sessions with AES-128-CFB parameter encryption.
// Pure functions of bytes: no TPM, no randomness.

const enc = new TextEncoder();
const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
};
// Labels are used with their terminating zero octet (Part 1 §11.4.10.4: "a null-terminated string").
const label0 = (label: string): Uint8Array => Uint8Array.of(...enc.encode(label), 0);
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

export const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const hmacSha256 = (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

// KDFa (Part 1 §11.4.10.2, SP 800-108 counter mode with HMAC-sha256):
//   K(i) = HMAC(key, [i]₃₂ ‖ label ‖ 0x00 ‖ contextU ‖ contextV ‖ [bits]₃₂), i = 1, 2, …; truncated to `bits`.
export function kdfa(key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  if (bits <= 0 || bits % 8 !== 0) throw new EdgesealError('INTERNAL', `KDFa: expected a positive whole number of bytes, found ${bits} bits`);
  const out: Uint8Array[] = [];
  for (let i = 1, have = 0; have < bits / 8; i++, have += 32) out.push(hmacSha256(key, u32(i), label0(label), contextU, contextV, u32(bits)));
  return concat(...out).slice(0, bits / 8);
}

// KDFe (Part 1 §11.4.10.3, SP 800-56A concatenation KDF with sha256):
//   K(i) = H([i]₃₂ ‖ Z ‖ label ‖ 0x00 ‖ partyUInfo ‖ partyVInfo); truncated to `bits`.
export function kdfe(z: Uint8Array, label: string, partyU: Uint8Array, partyV: Uint8Array, bits: number): Uint8Array {
  if (bits <= 0 || bits % 8 !== 0) throw new EdgesealError('INTERNAL', `KDFe: expected a positive whole number of bytes, found ${bits} bits`);
  const out: Uint8Array[] = [];
  for (let i = 1, have = 0; have < bits / 8; i++, have += 32) out.push(sha256(u32(i), z, label0(label), partyU, partyV));
  return concat(...out).slice(0, bits / 8);
}

// sessionKey = KDFa(authHash, bind.authValue ‖ salt, "ATH", nonceTPM, nonceCaller, digest bits) (Part 1 §19.6.8).
export function sessionKey(salt: Uint8Array, bindAuth: Uint8Array, nonceTpm: Uint8Array, nonceCaller: Uint8Array): Uint8Array {
  const key = concat(bindAuth, salt);
  return key.length ? kdfa(key, 'ATH', nonceTpm, nonceCaller, 256) : new Uint8Array(0);
}

// AES-128-CFB parameter encryption (Part 1 §21.3): key ‖ iv = KDFa(hash, sessionKey ‖ authValue, "CFB",
// nonceNewer, nonceOlder, 128 + 128). The caller's nonce is newer for a command, the TPM's for a response.
export function cfb(direction: 'encrypt' | 'decrypt', hmacKey: Uint8Array, nonceNewer: Uint8Array, nonceOlder: Uint8Array, data: Uint8Array): Uint8Array {
  const keyIv = kdfa(hmacKey, 'CFB', nonceNewer, nonceOlder, 256);
  const make = direction === 'encrypt' ? createCipheriv : createDecipheriv;
  const c = make('aes-128-cfb', keyIv.subarray(0, 16), keyIv.subarray(16, 32));
  return concat(c.update(data), c.final());
}

// cpHash = H(commandCode ‖ Name₁ ‖ … ‖ parameters) (Part 1 §18.7), over the parameters as sent (encrypted).
export function cpHash(commandCode: number, names: readonly Uint8Array[], params: Uint8Array): Uint8Array {
  return sha256(u32(commandCode), ...names, params);
}

// rpHash = H(responseCode ‖ commandCode ‖ parameters) (Part 1 §18.8); only success responses carry one.
export function rpHash(commandCode: number, params: Uint8Array): Uint8Array {
  return sha256(u32(0), u32(commandCode), params);
}

// The command HMAC (Part 1 §19.6.5): HMAC(sessionKey ‖ authValue, cpHash ‖ nonceCaller ‖ nonceTPM ‖
// nonceDecrypt ‖ nonceEncrypt ‖ sessionAttributes). We never split encryption from the session that
// carries it, so the decrypt/encrypt nonces (only for another session's) are always empty here.
export function commandHmac(key: Uint8Array, cp: Uint8Array, nonceCaller: Uint8Array, nonceTpm: Uint8Array, attributes: number): Uint8Array {
  return hmacSha256(key, cp, nonceCaller, nonceTpm, Uint8Array.of(attributes));
}

// The response HMAC (Part 1 §19.6.6): HMAC(key, rpHash ‖ nonceTPM ‖ nonceCaller ‖ sessionAttributes).
export function responseHmac(key: Uint8Array, rp: Uint8Array, nonceTpm: Uint8Array, nonceCaller: Uint8Array, attributes: number): Uint8Array {
  return hmacSha256(key, rp, nonceTpm, nonceCaller, Uint8Array.of(attributes));
}

// Name of an object or NV index: nameAlg(sha256) ‖ H(public area) (Part 1 §16); of a permanent handle, the handle.
export function entityName(publicArea: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x00, 0x0b), sha256(publicArea));
}

export function handleName(handle: number): Uint8Array {
  return u32(handle);
}

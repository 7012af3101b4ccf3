import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { EdgesealError } from '../core/errors.js';
import { tufPublicKey, type Ed25519Key } from './ed25519.js';

// The TUF public key objects the publisher can sign with (spec §4.2): ed25519 with a hex key, and
// ecdsa-sha2-nistp256 with a PEM SubjectPublicKeyInfo and DER signatures over SHA-256 (the form
// python-tuf/securesystemslib and @tufjs/models verify).
export type TufKey =
  | { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } }
  | { keytype: 'ecdsa'; scheme: 'ecdsa-sha2-nistp256'; keyval: { public: string } };

// A public key with its TUF key id, from a key file or from a signer.
export type PublicKeyInput = Ed25519Key | { readonly keyid: string; readonly publicKey: TufKey };

export function tufKeyOf(key: PublicKeyInput): TufKey {
  return 'publicKey' in key ? key.publicKey : tufPublicKey(key.publicHex);
}

// keyid = hex SHA-256 of the canonical JSON of the public key object.
export function tufKeyId(key: TufKey): string {
  return createHash('sha256').update(canonicalize(key)).digest('hex');
}

// Builds the TUF key object from a SubjectPublicKeyInfo, DER or PEM (pkcs11-tool 0.23 writes EC keys as
// DER and Edwards keys as PEM).
export function tufKeyFromSpki(spki: Uint8Array): TufKey {
  let key: KeyObject;
  const bytes = Buffer.from(spki);
  try {
    key = bytes.subarray(0, 5).toString('latin1') === '-----' ? createPublicKey(bytes.toString('utf8')) : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `public key: expected a SubjectPublicKeyInfo (DER or PEM), found bytes that do not parse (${(err as Error).message})`, { cause: err });
  }
  return tufKeyFromKeyObject(key);
}

function tufKeyFromKeyObject(key: KeyObject): TufKey {
  if (key.asymmetricKeyType === 'ed25519') {
    const raw = key.export({ format: 'der', type: 'spki' }).subarray(-32);
    return tufPublicKey(raw.toString('hex'));
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    const pem = key.export({ format: 'pem', type: 'spki' }).toString();
    return { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } };
  }
  const found = `${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`;
  throw new EdgesealError('KEY_INVALID', `public key: expected ed25519 or ECDSA P-256, found ${found}`);
}

// Checks the shape of a TUF key object read from a file or a signer's output.
export function parseTufKey(json: unknown): TufKey {
  const k = json as Partial<TufKey> | null;
  const pub = k?.keyval?.public;
  if (typeof pub !== 'string') throw new EdgesealError('KEY_INVALID', `public key: expected {keytype, scheme, keyval: {public}}, found ${JSON.stringify(json)?.slice(0, 80)}`);
  if (k?.keytype === 'ed25519' && k.scheme === 'ed25519' && /^[0-9a-f]{64}$/.test(pub)) return tufPublicKey(pub);
  if (k?.keytype === 'ecdsa' && k.scheme === 'ecdsa-sha2-nistp256' && pub.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const parsed = tufKeyFromKeyObject(createPublicKeySafe(pub));
    if (parsed.keytype === 'ecdsa') return { ...parsed, keyval: { public: pub } };
  }
  throw new EdgesealError('KEY_INVALID', `public key: expected ed25519 (64 hex digits) or ecdsa/ecdsa-sha2-nistp256 (PEM SPKI), found ${JSON.stringify({ keytype: k?.keytype, scheme: k?.scheme })}`);
}

function createPublicKeySafe(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `public key: expected a PEM SubjectPublicKeyInfo, found one that does not parse`, { cause: err });
  }
}

// Verifies a TUF signature (`sig` bytes) over message the way TUF clients do for this key's scheme.
export function verifyTufSignature(key: TufKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (key.keytype === 'ed25519') {
      const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.keyval.public, 'hex')]);
      return verify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature);
    }
    return verify('sha256', message, { key: createPublicKey(key.keyval.public), dsaEncoding: 'der' }, signature);
  } catch {
    return false; // a malformed signature is simply not valid
  }
}

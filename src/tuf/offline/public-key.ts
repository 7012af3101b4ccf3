import type { KeyObject } from 'node:crypto';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { constants, createPublicKey } = process.getBuiltinModule('node:crypto');

// A TUF public key as node:crypto verifies with it: the key types and schemes @tufjs/models'
// getPublicKey decodes, the same way (hex ed25519 and ecdsa points wrapped in SPKI DER, PEM as is).
// Stricter where a key could otherwise mean something else: the decoded key's type must be the one the
// metadata names, and a hex ecdsa key must be one point of the scheme's curve.

export interface VerifyKey {
  readonly key: KeyObject | { readonly key: KeyObject; readonly padding: number };
  readonly hashAlgorithm?: string; // undefined for ed25519 (the algorithm fixes the hash)
}

const PEM = '-----BEGIN PUBLIC KEY-----';
const HEX = /^[0-9a-fA-F]+$/;
// SubjectPublicKeyInfo prefixes: id-Ed25519 (RFC 8410); id-ecPublicKey with prime256v1 / secp384r1 (RFC 5480)
const ED25519_SPKI = '302a300506032b6570032100';
const EC_CURVES: Readonly<Record<string, { curve: string; hash: string; spki: Readonly<Record<number, string>> }>> = {
  'ecdsa-sha2-nistp256': {
    curve: 'prime256v1',
    hash: 'sha256',
    spki: { 33: '3039301306072a8648ce3d020106082a8648ce3d030107032200', 65: '3059301306072a8648ce3d020106082a8648ce3d030107034200' },
  },
  'ecdsa-sha2-nistp384': {
    curve: 'secp384r1',
    hash: 'sha384',
    spki: { 49: '3046301006072a8648ce3d020106052b81040022033200', 97: '3076301006072a8648ce3d020106052b81040022036200' },
  },
};
const RSA_SCHEMES: Readonly<Record<string, string>> = { 'rsassa-pss-sha256': 'sha256', 'rsassa-pss-sha384': 'sha384', 'rsassa-pss-sha512': 'sha512' };

export interface PublicKeyJson {
  readonly keyType: string;
  readonly scheme: string;
  readonly keyVal: string; // keyval.public
}

// Throws (a plain Error) for a key it cannot use: callers treat that as a signature that does not count.
export function publicKeyFor(k: PublicKeyJson): VerifyKey {
  switch (k.keyType) {
    case 'ed25519':
      return { key: decode(k.keyVal, 'ed25519', (hex) => (hex.length === 64 ? ED25519_SPKI + hex : undefined)) };
    case 'ecdsa':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
      return ecdsaKey(k);
    case 'rsa':
      return rsaKey(k);
    default:
      throw new Error(`unsupported key type ${k.keyType}`);
  }
}

function ecdsaKey(k: PublicKeyJson): VerifyKey {
  const ec = Object.hasOwn(EC_CURVES, k.scheme) ? EC_CURVES[k.scheme] : undefined;
  if (!ec) throw new Error(`unsupported ECDSA scheme ${k.scheme}`);
  if (k.keyType !== 'ecdsa' && k.keyType !== k.scheme) throw new Error(`ECDSA key type ${k.keyType} does not match scheme ${k.scheme}`);
  const key = decode(k.keyVal, 'ec', (hex) => {
    const prefix = ec.spki[hex.length / 2];
    return prefix === undefined ? undefined : prefix + hex;
  });
  if (key.asymmetricKeyDetails?.namedCurve !== ec.curve) throw new Error(`ECDSA key curve does not match scheme ${k.scheme}`);
  return { key, hashAlgorithm: ec.hash };
}

function rsaKey(k: PublicKeyJson): VerifyKey {
  const hash = Object.hasOwn(RSA_SCHEMES, k.scheme) ? RSA_SCHEMES[k.scheme] : undefined;
  if (!hash) throw new Error(`unsupported RSA scheme ${k.scheme}`);
  if (!k.keyVal.startsWith(PEM)) throw new Error('expected a PEM RSA public key');
  const key = createPublicKey(k.keyVal);
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') throw new Error(`expected an RSA key, found ${key.asymmetricKeyType}`);
  return { key: { key, padding: constants.RSA_PKCS1_PSS_PADDING }, hashAlgorithm: hash };
}

// PEM as it is, or hex wrapped in SPKI by `spki` (undefined: not a size this type has).
function decode(keyVal: string, type: string, spki: (hex: string) => string | undefined): KeyObject {
  let key: KeyObject;
  if (keyVal.startsWith(PEM)) {
    key = createPublicKey(keyVal);
  } else {
    const der = HEX.test(keyVal) ? spki(keyVal) : undefined;
    if (der === undefined) throw new Error(`expected a PEM or hex ${type} public key`);
    key = createPublicKey({ key: Buffer.from(der, 'hex'), format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== type) throw new Error(`expected an ${type} key, found ${key.asymmetricKeyType}`);
  return key;
}

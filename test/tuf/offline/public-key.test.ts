import { getPublicKey } from '@tufjs/models/dist/utils/key.js';
import { expect } from 'chai';
import { constants, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { publicKeyFor, type PublicKeyJson } from '../../../src/tuf/offline/public-key.js';

// Our key decoding against @tufjs/models' getPublicKey (what it replaces on the offline path): the same
// key, hash and padding for every key type, scheme and encoding it decodes, and a refusal wherever it
// refuses. Stricter in two places, each a key that is not what its metadata says it is.

const spki = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });
const pem = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
const hexTail = (k: KeyObject, n: number): string => spki(k).subarray(-n).toString('hex');
// the compressed point: 02/03 by the parity of y, then x
const compressed = (k: KeyObject, size: number): string => {
  const point = spki(k).subarray(-(2 * size + 1));
  return Buffer.concat([Buffer.from([2 + (point[2 * size] & 1)]), point.subarray(1, size + 1)]).toString('hex');
};

const ed = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

type Decoded = { der: string; hash?: string; padding?: number } | 'refused';

function theirs(k: PublicKeyJson): Decoded {
  try {
    const d = getPublicKey(k);
    return { der: spki(d.key).toString('hex'), ...(d.hashAlgorithm ? { hash: d.hashAlgorithm } : {}), ...(d.padding !== undefined ? { padding: d.padding } : {}) };
  } catch {
    return 'refused';
  }
}

function ours(k: PublicKeyJson): Decoded {
  try {
    const d = publicKeyFor(k);
    const key = 'padding' in d.key ? d.key.key : d.key;
    return { der: spki(key).toString('hex'), ...(d.hashAlgorithm ? { hash: d.hashAlgorithm } : {}), ...('padding' in d.key ? { padding: d.key.padding } : {}) };
  } catch {
    return 'refused';
  }
}

const SAME: [string, PublicKeyJson][] = [
  ['ed25519 hex', { keyType: 'ed25519', scheme: 'ed25519', keyVal: hexTail(ed.publicKey, 32) }],
  ['ed25519 hex, upper case', { keyType: 'ed25519', scheme: 'ed25519', keyVal: hexTail(ed.publicKey, 32).toUpperCase() }],
  ['ed25519 PEM', { keyType: 'ed25519', scheme: 'ed25519', keyVal: pem(ed.publicKey) }],
  ['P-256 uncompressed hex', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyVal: hexTail(p256.publicKey, 65) }],
  ['P-256 compressed hex', { keyType: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', keyVal: compressed(p256.publicKey, 32) }],
  ['P-256 PEM', { keyType: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', keyVal: pem(p256.publicKey) }],
  ['P-384 uncompressed hex', { keyType: 'ecdsa-sha2-nistp384', scheme: 'ecdsa-sha2-nistp384', keyVal: hexTail(p384.publicKey, 97) }],
  ['P-384 compressed hex', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp384', keyVal: compressed(p384.publicKey, 48) }],
  ['P-384 PEM', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp384', keyVal: pem(p384.publicKey) }],
  ['RSA PSS SHA-256', { keyType: 'rsa', scheme: 'rsassa-pss-sha256', keyVal: pem(rsa.publicKey) }],
  ['RSA PSS SHA-384', { keyType: 'rsa', scheme: 'rsassa-pss-sha384', keyVal: pem(rsa.publicKey) }],
  ['RSA PSS SHA-512', { keyType: 'rsa', scheme: 'rsassa-pss-sha512', keyVal: pem(rsa.publicKey) }],
];

const REFUSED_BY_BOTH: [string, PublicKeyJson][] = [
  ['an unknown key type', { keyType: 'dsa', scheme: 'dsa', keyVal: pem(rsa.publicKey) }],
  ['ed25519 not hex', { keyType: 'ed25519', scheme: 'ed25519', keyVal: 'zz'.repeat(32) }],
  ['ed25519 hex of 31 bytes', { keyType: 'ed25519', scheme: 'ed25519', keyVal: hexTail(ed.publicKey, 31) }],
  ['a P-256 key under the P-384 scheme', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp384', keyVal: pem(p256.publicKey) }],
  ['a P-256 hex point under the P-384 scheme', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp384', keyVal: hexTail(p256.publicKey, 65) }],
  ['an ECDSA key type that is not its scheme', { keyType: 'ecdsa-sha2-nistp384', scheme: 'ecdsa-sha2-nistp256', keyVal: pem(p256.publicKey) }],
  ['an unknown ECDSA scheme', { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp521', keyVal: pem(p256.publicKey) }],
  ['an RSA key as hex', { keyType: 'rsa', scheme: 'rsassa-pss-sha256', keyVal: spki(rsa.publicKey).toString('hex') }],
  ['an RSA PKCS#1 v1.5 scheme', { keyType: 'rsa', scheme: 'rsa-pkcs1v15-sha256', keyVal: pem(rsa.publicKey) }],
  ['a PEM header and garbage', { keyType: 'ed25519', scheme: 'ed25519', keyVal: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }],
];

describe('tuf/offline public keys against @tufjs/models getPublicKey', () => {
  for (const [what, key] of SAME) {
    it(`${what}: the same key, hash and padding`, () => {
      const expected = theirs(key);
      expect(expected).to.not.equal('refused');
      expect(ours(key)).to.deep.equal(expected);
    });
  }

  it('signatures made with each private key verify with the decoded public key', () => {
    const data = Buffer.from('signed bytes');
    const cases: [KeyObject, PublicKeyJson][] = [
      [ed.privateKey, SAME[0][1]],
      [p256.privateKey, SAME[4][1]],
      [p384.privateKey, SAME[6][1]],
    ];
    for (const [priv, pub] of cases) {
      const k = publicKeyFor(pub);
      expect(verify(k.hashAlgorithm, data, k.key, sign(k.hashAlgorithm, data, priv)), pub.scheme).to.equal(true);
    }
    const k = publicKeyFor(SAME[9][1]);
    expect(verify(k.hashAlgorithm, data, k.key, sign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }))).to.equal(true);
  });

  for (const [what, key] of REFUSED_BY_BOTH) {
    it(`${what}: refused by both`, () => {
      expect(theirs(key)).to.equal('refused');
      expect(ours(key)).to.equal('refused');
    });
  }

  it('stricter: a PEM key of another type than the metadata names (the models hand it back as is)', () => {
    for (const key of [
      { keyType: 'ed25519', scheme: 'ed25519', keyVal: pem(rsa.publicKey) },
      { keyType: 'rsa', scheme: 'rsassa-pss-sha256', keyVal: pem(p256.publicKey) },
    ]) {
      expect(theirs(key), key.keyType).to.not.equal('refused');
      expect(ours(key), key.keyType).to.equal('refused');
    }
  });

  it('stricter: a hex ECDSA key that is not one point of the scheme\'s curve (the models wrap any length in DER)', () => {
    const long: PublicKeyJson = { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyVal: `${hexTail(p256.publicKey, 65)}00` };
    expect(ours(long)).to.equal('refused');
    expect(ours({ ...long, keyVal: 'ab'.repeat(200) })).to.equal('refused');
  });
});

import { expect } from 'chai';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { generateKey, keyFromSeed, keyIdOf, publicKeyFromHex, signBytes, verifyBytes } from '../../src/crypto/ed25519.js';
import { expectCode } from '../helpers/expect-code.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

// RFC 8032 §7.1 test vectors for Ed25519 (SECRET KEY is the 32-byte seed).
const RFC8032 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST SHA(abc) (message = SHA-512("abc"))',
    seed: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pub: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: createHash('sha512').update('abc').digest('hex'),
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

describe('crypto/ed25519', () => {
  describe('RFC 8032 §7.1 test vectors', () => {
    for (const v of RFC8032) {
      it(`${v.name}: derives the public key, signs byte-exactly and verifies`, () => {
        const key = keyFromSeed(hex(v.seed));
        expect(key.publicHex).to.equal(v.pub);
        const sig = signBytes(key, hex(v.msg));
        expect(Buffer.from(sig).toString('hex')).to.equal(v.sig);
        expect(verifyBytes(v.pub, hex(v.msg), sig)).to.equal(true);
      });
    }

    it('rejects a signature after one flipped bit in the message or the signature', () => {
      const v = RFC8032[1];
      const sig = hex(v.sig);
      expect(verifyBytes(v.pub, hex('73'), sig)).to.equal(false);
      sig[10] = sig[10] ^ 1;
      expect(verifyBytes(v.pub, hex(v.msg), sig)).to.equal(false);
    });
  });

  it('computes the TUF keyid as sha256 over the canonical public key object', () => {
    const pub = RFC8032[0].pub;
    const canonical = `{"keytype":"ed25519","keyval":{"public":"${pub}"},"scheme":"ed25519"}`;
    expect(keyIdOf(pub)).to.equal(createHash('sha256').update(canonical).digest('hex'));
  });

  it('produces signatures node:crypto (the tuf-js verification path) accepts', () => {
    const key = generateKey();
    const msg = Buffer.from('signed metadata bytes');
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicHex, 'hex')]);
    const pub = createPublicKey({ key: der, format: 'der', type: 'spki' });
    expect(nodeVerify(null, msg, pub, signBytes(key, msg))).to.equal(true);
  });

  it('rejects seeds and public keys of the wrong shape with KEY_INVALID', () => {
    expectCode(() => keyFromSeed(new Uint8Array(31)), 'KEY_INVALID');
    expectCode(() => publicKeyFromHex('abc'), 'KEY_INVALID');
    expectCode(() => publicKeyFromHex(RFC8032[0].pub.toUpperCase()), 'KEY_INVALID');
  });
});

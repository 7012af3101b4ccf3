import { expect } from 'chai';
import { cfb, kdfa, kdfe, sessionKey } from '../../src/tpm/session-crypto.js';
import { expectCode } from '../helpers/expect-code.js';

// Known answers for the KDFs of TPM 2.0 Part 1 §11.4.10 (sha256), from a published set of vectors
// computed by another implementation; the swtpm tests (salted-sessions) prove the rest end to end.
const fill = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('TPM session cryptography (KDFa, KDFe, CFB)', () => {
  it('KDFa matches known answers for the ATH and CFB labels', () => {
    expect(hex(kdfa(fill(0x0b, 32), 'ATH', fill(0x01, 16), fill(0x02, 16), 256))).to.equal('63591fea5c8a26cee98e509a3cd1ba3b4e3c079f7014fc56e5805175d15e292b');
    expect(hex(kdfa(fill(0x0b, 32), 'CFB', fill(0x01, 16), fill(0x02, 16), 128))).to.equal('102d8c3954fd6f1e1decad8fa4cc2180');
  });

  it('KDFe matches a known answer for the SECRET label (ECC salt)', () => {
    expect(hex(kdfe(fill(0x0c, 32), 'SECRET', fill(0x03, 32), fill(0x04, 32), 256))).to.equal('792abfa6b8f56534e5cb0baf2492e49c11afe9ce3a2e72968e9db967a01b9d05');
  });

  it('KDFa spans several HMAC blocks and refuses partial bytes', () => {
    const long = kdfa(fill(1, 32), 'X', fill(2, 4), fill(3, 4), 512);
    expect(long.length).to.equal(64);
    expect(hex(long.subarray(0, 32))).to.not.equal(hex(long.subarray(32)));
    expectCode(() => kdfa(fill(1, 32), 'X', fill(2, 4), fill(3, 4), 12), 'INTERNAL');
  });

  it('an unsalted, unbound session has no key; CFB decrypts what it encrypted, with the nonces in order', () => {
    expect(sessionKey(new Uint8Array(0), new Uint8Array(0), fill(1, 16), fill(2, 16)).length).to.equal(0);
    const key = fill(9, 32);
    const data = new TextEncoder().encode('a secret of 45 bytes that is not block-sized.');
    const ct = cfb('encrypt', key, fill(1, 32), fill(2, 32), data);
    expect(ct.length).to.equal(data.length);
    expect(hex(ct)).to.not.equal(hex(data));
    expect(hex(cfb('decrypt', key, fill(1, 32), fill(2, 32), ct))).to.equal(hex(data));
    expect(hex(cfb('decrypt', key, fill(2, 32), fill(1, 32), ct))).to.not.equal(hex(data));
  });
});

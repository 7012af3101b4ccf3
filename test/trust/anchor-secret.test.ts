import { expect } from 'chai';
import { ANCHOR_SECRET_LENGTH, decodeAnchorSecret, encodeAnchorSecret, sha256 } from '../../src/trust/anchor-secret.js';
import { expectCode } from '../helpers/expect-code.js';

describe('anchor secret format', () => {
  const secret = { initialRootDigest: sha256(new TextEncoder().encode('{"signed":{}}')), reportSeed: new Uint8Array(32).fill(7) };

  it('round-trips and fits in a TPM sealed data object (≤ 128 bytes)', () => {
    const bytes = encodeAnchorSecret(secret);
    expect(bytes.length).to.equal(ANCHOR_SECRET_LENGTH).and.be.at.most(128);
    expect(bytes[0]).to.equal(1);
    const back = decodeAnchorSecret(bytes);
    expect(Buffer.from(back.initialRootDigest).equals(Buffer.from(secret.initialRootDigest))).to.be.true;
    expect(Buffer.from(back.reportSeed).equals(Buffer.from(secret.reportSeed))).to.be.true;
  });

  it('rejects unsealed bytes of another length or version as ANCHOR_MISMATCH', () => {
    const bytes = encodeAnchorSecret(secret);
    expectCode(() => decodeAnchorSecret(bytes.subarray(0, 64)), 'ANCHOR_MISMATCH');
    const v2 = bytes.slice();
    v2[0] = 2;
    expectCode(() => decodeAnchorSecret(v2), 'ANCHOR_MISMATCH');
  });

  it('refuses to encode a seed or digest of the wrong size', () => {
    expectCode(() => encodeAnchorSecret({ ...secret, reportSeed: new Uint8Array(31) }), 'INTERNAL');
    expectCode(() => encodeAnchorSecret({ ...secret, initialRootDigest: new Uint8Array(20) }), 'INTERNAL');
  });
});

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { checkMetaFile } from '../../../src/tuf/offline/meta-file.js';
import { expectCode } from '../../helpers/expect-code.js';

// A parent role's record of a metadata file (length, hashes) checked against the bytes, before parsing.
describe('tuf/offline checkMetaFile', () => {
  const bytes = Buffer.from('{"signed":{}}');
  const digest = (alg: string): string => createHash(alg).update(bytes).digest('hex');

  it('accepts the recorded length and every recorded hash, sha256, sha512 or another digest OpenSSL has', () => {
    expect(() => checkMetaFile({ version: 1, length: bytes.length, hashes: { sha256: digest('sha256'), sha512: digest('sha512').toUpperCase() } }, bytes, 'snapshot')).to.not.throw();
    expect(() => checkMetaFile({ version: 1, hashes: { sha384: digest('sha384') } }, bytes, 'snapshot')).to.not.throw();
  });

  it('refuses another length, another digest, and an algorithm OpenSSL does not have', () => {
    expectCode(() => checkMetaFile({ version: 1, length: bytes.length + 1 }, bytes, 'snapshot'), 'LENGTH_MISMATCH');
    expectCode(() => checkMetaFile({ version: 1, hashes: { sha256: digest('sha512') } }, bytes, 'snapshot'), 'DIGEST_MISMATCH');
    expectCode(() => checkMetaFile({ version: 1, hashes: { sha384: '00' } }, bytes, 'snapshot'), 'DIGEST_MISMATCH');
    expectCode(() => checkMetaFile({ version: 1, hashes: { 'no-such-hash': '00' } }, bytes, 'snapshot'), 'MALFORMED_METADATA');
    expectCode(() => checkMetaFile({ version: 1, hashes: { constructor: '00' } }, bytes, 'snapshot'), 'MALFORMED_METADATA');
  });
});

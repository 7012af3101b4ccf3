import { expect } from 'chai';
import { parseRevocationList, serializeRevocationList } from '../../src/revocation/list.js';
import { expectCode } from '../helpers/expect-code.js';
import { BAD_DIGEST, KEY_A, makeList } from './make-list.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('revocation list format', () => {
  it('round-trips a list with every entry kind and annotation', () => {
    const list = makeList({
      version: 4,
      keys: [{ keyid: KEY_A, reason: 'builder key leaked', reference: 'INC-12' }],
      digests: [{ sha256: BAD_DIGEST }],
      minimumVersions: [{ target: 'firmware/board-a/*', hardwareId: 'board-a', version: '2.0.0', reason: 'CVE-2026-1' }],
    });
    expect(parseRevocationList(serializeRevocationList(list))).to.deep.equal(list);
  });

  it('reports every bad field at once', () => {
    const err = expectCode(
      () =>
        parseRevocationList(
          enc({
            _type: 'other',
            version: 0,
            issued: '2026-01-01',
            expires: 'soon',
            keys: [{ keyid: 'ABC' }, 7],
            digests: [{ sha256: KEY_A, reason: '' }],
            minimumVersions: [{ target: '', version: 'v2', hardwareId: 3 }],
          }),
        ),
      'MALFORMED_METADATA',
    );
    for (const field of ['_type', 'version', 'issued', 'expires', 'keys[0].keyid', 'keys[1]', 'digests[0].reason', 'minimumVersions[0].target', 'minimumVersions[0].version', 'minimumVersions[0].hardwareId']) {
      expect(err.message).to.contain(`${field}:`);
    }
  });

  it('rejects a list that expires before it is issued', () => {
    const err = expectCode(() => parseRevocationList(serializeRevocationList(makeList({ issued: '2026-03-01T00:00:00Z' }))), 'MALFORMED_METADATA');
    expect(err.message).to.contain('expires');
  });

  it('caps the size before parsing', () => {
    expectCode(() => parseRevocationList(new Uint8Array(2048).fill(0x20), 1024), 'OVERSIZED');
  });

  describe('adversarial inputs are rejected, never crash the parser', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['truncated JSON', enc('{"_type":"edgeseal-revocations","version":')],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      ['a JSON array', enc([makeList()])],
      ['JSON null', enc('null')],
      ['missing entry lists', enc({ ...makeList(), keys: undefined, digests: null })],
      ['impossible date', enc({ ...makeList(), issued: '2026-02-30T00:00:00Z' })],
      ['fractional version', enc({ ...makeList(), version: 1.5 })],
      ['version as string', enc({ ...makeList(), version: '2' })],
      ['prototype pollution attempt', enc('{"__proto__":{"keys":[]},"_type":"edgeseal-revocations"}')],
    ];
    for (const [name, bytes] of cases) {
      it(name, () => {
        expectCode(() => parseRevocationList(bytes), 'MALFORMED_METADATA');
      });
    }
  });
});

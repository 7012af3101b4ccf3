import { expect } from 'chai';
import { NV_PIN_LENGTH, NV_PIN_V2_LENGTH, decodeNvPin, encodeNvPin, type NvPin } from '../../src/trust/nv-pin.js';
import { parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { expectCode } from '../helpers/expect-code.js';

describe('NV pin record', () => {
  const pin: NvPin = {
    initialRootDigest: new Uint8Array(32).map((_, i) => i),
    hardwareIdDigest: new Uint8Array(32).fill(0x5a),
    counters: {
      rootVersion: { nvIndex: 0x018e5e01, base: 17n },
      securityVersion: { nvIndex: 0x018e5e02, base: (1n << 63n) + 5n },
      revocationVersion: { nvIndex: 0x018e5e03, base: 0n },
      targetsVersion: { nvIndex: 0x018e5e04, base: 42n },
    },
    policyPcrs: parsePcrSelection('sha256:0,2,4,7'),
    sealedObjectName: Uint8Array.of(0x00, 0x0b, ...new Uint8Array(32).fill(0xab)),
    saltKeyName: Uint8Array.of(0x00, 0x0b, ...new Uint8Array(32).fill(0xcd)),
  };
  const v2pin: NvPin = { ...pin, saltKeyName: undefined };

  it('round-trips every field in a fixed-size layout', () => {
    const bytes = encodeNvPin(pin);
    expect(bytes.length).to.equal(NV_PIN_LENGTH);
    const back = decodeNvPin(bytes);
    expect([...back.initialRootDigest]).to.deep.equal([...pin.initialRootDigest]);
    expect([...back.hardwareIdDigest]).to.deep.equal([...pin.hardwareIdDigest]);
    expect(back.counters).to.deep.equal(pin.counters);
    expect(back.policyPcrs).to.deep.equal(pin.policyPcrs);
    expect([...back.sealedObjectName]).to.deep.equal([...pin.sealedObjectName]);
    expect([...(back.saltKeyName ?? [])]).to.deep.equal([...(pin.saltKeyName ?? [])]);
  });

  it('still reads a version-2 record (devices provisioned before salted sessions): no salt key name', () => {
    const bytes = encodeNvPin(v2pin);
    expect([bytes.length, bytes[0]]).to.deep.equal([NV_PIN_V2_LENGTH, 2]);
    const back = decodeNvPin(bytes);
    expect(back.saltKeyName).to.equal(undefined);
    expect(back.counters).to.deep.equal(pin.counters);
    // a version byte that disagrees with the length is refused either way
    const lying = bytes.slice();
    lying[0] = 3;
    expectCode(() => decodeNvPin(lying), 'NV_PIN_INVALID');
    const v3 = encodeNvPin(pin);
    v3[0] = 2;
    expectCode(() => decodeNvPin(v3), 'NV_PIN_INVALID');
  });

  it('rejects a record of another size, version or bank, or with no PCRs, as NV_PIN_INVALID', () => {
    const bytes = encodeNvPin(pin);
    expectCode(() => decodeNvPin(bytes.subarray(1)), 'NV_PIN_INVALID');
    const v0 = bytes.slice();
    v0[0] = 0;
    expectCode(() => decodeNvPin(v0), 'NV_PIN_INVALID');
    // a version-1 record (three counters, no targets floor) is not read as a later one
    const v1 = bytes.slice();
    v1[0] = 1;
    expectCode(() => decodeNvPin(v1), 'NV_PIN_INVALID');
    const sha1 = bytes.slice();
    sha1[NV_PIN_V2_LENGTH - 38] = 0x04;
    expectCode(() => decodeNvPin(sha1), 'NV_PIN_INVALID');
    const saltSha1 = bytes.slice();
    saltSha1[NV_PIN_V2_LENGTH + 1] = 0x04;
    expectCode(() => decodeNvPin(saltSha1), 'NV_PIN_INVALID');
    const none = bytes.slice();
    none.fill(0, NV_PIN_V2_LENGTH - 37, NV_PIN_V2_LENGTH - 34);
    expectCode(() => decodeNvPin(none), 'NV_PIN_INVALID');
    expectCode(() => decodeNvPin(new Uint8Array(NV_PIN_LENGTH)), 'NV_PIN_INVALID');
  });

  it('refuses to encode a sealed object name or hardware id digest of the wrong size', () => {
    expectCode(() => encodeNvPin({ ...pin, sealedObjectName: new Uint8Array(32) }), 'INTERNAL');
    expectCode(() => encodeNvPin({ ...pin, hardwareIdDigest: new Uint8Array(31) }), 'INTERNAL');
  });
});

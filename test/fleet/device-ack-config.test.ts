import { expect } from 'chai';
import { parseConfig } from '../../src/config/schema.js';
import { expectCode } from '../helpers/expect-code.js';

const minimal = {
  deviceId: 'dev-1',
  hardwareId: 'board-a',
  images: [{ target: 'firmware/board-a.bin', path: '/var/lib/edgeseal/slots/a/fw.bin', kind: 'firmware' }],
};
const KEY = 'ab'.repeat(32);

// Device side of the collector acknowledgement: telemetry.ack and telemetry.collectorKey.
describe('device config: telemetry.ack', () => {
  it('defaults to the broker acknowledgement and takes "collector" with a collector key', () => {
    expect(parseConfig(minimal).telemetry.ack).to.equal('broker');
    const c = parseConfig({ ...minimal, telemetry: { ack: 'collector', collectorKey: KEY } });
    expect([c.telemetry.ack, c.telemetry.collectorKey]).to.deep.equal(['collector', KEY]);
  });

  it('refuses "collector" without a key, a key without "collector", and a malformed key', () => {
    expect(expectCode(() => parseConfig({ ...minimal, telemetry: { ack: 'collector' } }), 'CONFIG_INVALID').message).to.include('telemetry.ack/telemetry.collectorKey');
    expectCode(() => parseConfig({ ...minimal, telemetry: { collectorKey: KEY } }), 'CONFIG_INVALID');
    expect(expectCode(() => parseConfig({ ...minimal, telemetry: { ack: 'collector', collectorKey: 'zz' } }), 'CONFIG_INVALID').message).to.include('telemetry.collectorKey');
    expectCode(() => parseConfig({ ...minimal, telemetry: { ack: 'peer' } }), 'CONFIG_INVALID');
  });
});

import { expect } from 'chai';
import {
  decodeDeviceIdentity,
  decodeSealedAnchor,
  encodeDeviceIdentity,
  encodeSealedAnchor,
  isValidHardwareId,
  trustPaths,
  type DeviceIdentity,
} from '../../src/trust/state-files.js';
import { expectCode } from '../helpers/expect-code.js';

describe('trust state files', () => {
  it('lays files out under <stateDir>/trust', () => {
    expect(trustPaths('/var/lib/edgeseal')).to.deep.equal({
      dir: '/var/lib/edgeseal/trust',
      initialRoot: '/var/lib/edgeseal/trust/initial-root.json',
      sealedAnchor: '/var/lib/edgeseal/trust/sealed-anchor.json',
      resealedAnchor: '/var/lib/edgeseal/trust/sealed-anchor.resealed.json',
      device: '/var/lib/edgeseal/trust/device.json',
      eventLog: '/var/lib/edgeseal/trust/measurements.jsonl',
      previousEventLog: '/var/lib/edgeseal/trust/measurements.prev.jsonl',
      pcrPolicies: '/var/lib/edgeseal/trust/pcr-policies',
      cachedPcrPolicies: '/var/lib/edgeseal/metadata/current/pcr-policies',
    });
  });

  it('round-trips the sealed blob and rejects a malformed one as ANCHOR_MISMATCH', () => {
    const blob = { public: Uint8Array.of(1, 2, 3), private: Uint8Array.of(4, 5) };
    const back = decodeSealedAnchor(encodeSealedAnchor(blob));
    expect([...back.public]).to.deep.equal([1, 2, 3]);
    expect([...back.private]).to.deep.equal([4, 5]);
    for (const bad of ['', '{}', '{"format":1,"public":"AQ=="}', '{"format":1,"public":"!!","private":"AQ=="}', '[1]']) {
      expectCode(() => decodeSealedAnchor(bad), 'ANCHOR_MISMATCH');
    }
  });

  it('round-trips the device identity and names every missing field', () => {
    const id: DeviceIdentity = {
      deviceId: 'board-a-0123456789ab',
      hardwareId: 'board-a',
      reportPublicKey: 'ab'.repeat(32),
      reportKeyId: 'cd'.repeat(32),
      nvIndices: { pin: 1, rootVersion: 2, securityVersion: 3, revocationVersion: 4, targetsVersion: 5 },
      policyPcrs: 'sha256:0,2,4,7',
      provisionedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(decodeDeviceIdentity(encodeDeviceIdentity(id))).to.deep.equal(id);
    const err = expectCode(() => decodeDeviceIdentity('{"format":1,"deviceId":"x","nvIndices":{"pin":1}}'), 'CONFIG_INVALID');
    expect(err.message).to.contain('hardwareId').and.contain('nvIndices.rootVersion');
  });

  it('accepts hardware ids that are safe MQTT topic segments only', () => {
    expect(isValidHardwareId('board-a_v2.1')).to.be.true;
    for (const bad of ['', 'a/b', 'a+b', 'a#', 'with space', 'x'.repeat(65)]) expect(isValidHardwareId(bad), bad).to.be.false;
  });
});

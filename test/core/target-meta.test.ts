import { expect } from 'chai';
import { parseTargetCustom } from '../../src/core/target-meta.js';
import { expectCode } from '../helpers/expect-code.js';

describe('parseTargetCustom', () => {
  it('accepts well-formed custom fields', () => {
    const c = parseTargetCustom('fw.bin', { hardwareIds: ['board-a'], version: '1.2.0', securityVersion: 3, kind: 'firmware', slot: 'a' });
    expect(c).to.deep.equal({ hardwareIds: ['board-a'], version: '1.2.0', securityVersion: 3, kind: 'firmware', slot: 'a' });
  });

  it('reports every bad field at once', () => {
    const err = expectCode(() => parseTargetCustom('fw.bin', { hardwareIds: [], version: 'x', securityVersion: -1, kind: 'bios' }), 'MALFORMED_METADATA');
    for (const field of ['hardwareIds', 'version', 'securityVersion', 'kind']) expect(err.message).to.contain(`custom.${field}`);
  });

  it('rejects a missing custom object', () => {
    expectCode(() => parseTargetCustom('fw.bin', undefined), 'MALFORMED_METADATA');
  });

  it('keeps pcrPolicyGeneration (1..63, the revocation bits) and refuses anything else', () => {
    const base = { hardwareIds: ['board-a'], version: '1.2.0', securityVersion: 3, kind: 'firmware' };
    expect(parseTargetCustom('fw.bin', { ...base, pcrPolicyGeneration: 63 }).pcrPolicyGeneration).to.equal(63);
    for (const bad of [0, 64, 1.5, '2']) {
      expect(expectCode(() => parseTargetCustom('fw.bin', { ...base, pcrPolicyGeneration: bad }), 'MALFORMED_METADATA').message).to.contain('custom.pcrPolicyGeneration: expected an integer 1..63');
    }
  });
});

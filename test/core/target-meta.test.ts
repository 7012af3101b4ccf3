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
});

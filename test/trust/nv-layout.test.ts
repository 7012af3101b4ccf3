import { expect } from 'chai';
import { TPMA_NV } from '../../src/tpm/constants.js';
import { DEFAULT_NV_INDICES, PIN_ATTRIBUTES_LOCKED, checkNvAttributes, checkOwnerRange, describeNvAttributes } from '../../src/trust/nv-layout.js';
import { expectCode } from '../helpers/expect-code.js';

describe('NV layout', () => {
  it('uses distinct default handles in the owner range', () => {
    checkOwnerRange(DEFAULT_NV_INDICES);
    expectCode(() => checkOwnerRange({ ...DEFAULT_NV_INDICES, pin: 0x01c00002 }), 'CONFIG_INVALID');
    expectCode(() => checkOwnerRange({ ...DEFAULT_NV_INDICES, pin: DEFAULT_NV_INDICES.rootVersion }), 'CONFIG_INVALID');
    expectCode(() => checkOwnerRange({ ...DEFAULT_NV_INDICES, targetsVersion: DEFAULT_NV_INDICES.revocationVersion }), 'CONFIG_INVALID');
    // the fixed indices (time floor, PCR-policy revocation bits, reseal record) are never a configured handle
    for (const fixed of [0x018e5e05, 0x018e5e10, 0x018e5e11]) {
      expectCode(() => checkOwnerRange({ ...DEFAULT_NV_INDICES, securityVersion: fixed }), 'CONFIG_INVALID');
    }
    expect(DEFAULT_NV_INDICES.targetsVersion).to.equal(0x018e5e04);
  });

  it('names attribute bits for humans', () => {
    expect(describeNvAttributes(PIN_ATTRIBUTES_LOCKED)).to.equal('ORDINARY|OWNERWRITE|WRITELOCKED|WRITEDEFINE|OWNERREAD|NO_DA|WRITTEN');
  });

  it('rejects a pin lacking the write lock, or with any extra bit, as NV_PIN_INVALID', () => {
    checkNvAttributes('pin', 0x018e5e00, PIN_ATTRIBUTES_LOCKED, PIN_ATTRIBUTES_LOCKED);
    const err = expectCode(() => checkNvAttributes('pin', 0x018e5e00, PIN_ATTRIBUTES_LOCKED, PIN_ATTRIBUTES_LOCKED & ~TPMA_NV.WRITELOCKED), 'NV_PIN_INVALID');
    expect(err.message).to.contain('0x018e5e00');
    expectCode(() => checkNvAttributes('pin', 0x018e5e00, PIN_ATTRIBUTES_LOCKED, PIN_ATTRIBUTES_LOCKED | TPMA_NV.AUTHWRITE), 'NV_PIN_INVALID');
  });
});

import { expect } from 'chai';
import { MAX_FLOOR_STEP, checkFloor, floorFromCounter, incrementsToRaise } from '../../src/trust/floors.js';
import { expectCode } from '../helpers/expect-code.js';

describe('floor arithmetic', () => {
  it('reads a floor as the distance from the pinned base (counters never start at zero)', () => {
    expect(floorFromCounter('rootVersion', 1000n, 1000n)).to.equal(0);
    expect(floorFromCounter('securityVersion', 1007n, 1000n)).to.equal(7);
  });

  it('treats a counter below its base, or a floor beyond safe integers, as NV_PIN_INVALID', () => {
    expectCode(() => floorFromCounter('rootVersion', 999n, 1000n), 'NV_PIN_INVALID');
    expectCode(() => floorFromCounter('rootVersion', 1n << 60n, 0n), 'NV_PIN_INVALID');
  });

  it('raises by (target − current) increments, and never lowers', () => {
    expect(incrementsToRaise('securityVersion', 3, 5)).to.equal(2);
    expect(incrementsToRaise('securityVersion', 3, 3)).to.equal(0);
    expectCode(() => incrementsToRaise('securityVersion', 3, 2), 'FLOOR_VIOLATION');
    expectCode(() => incrementsToRaise('securityVersion', 0, -1), 'FLOOR_VIOLATION');
    expectCode(() => incrementsToRaise('securityVersion', 0, 1.5), 'FLOOR_VIOLATION');
  });

  it('caps one raise so an absurd signed version cannot wear out TPM NV', () => {
    expect(incrementsToRaise('rootVersion', 1, 1 + MAX_FLOOR_STEP)).to.equal(MAX_FLOOR_STEP);
    expectCode(() => incrementsToRaise('rootVersion', 1, 2 + MAX_FLOOR_STEP), 'FLOOR_VIOLATION');
  });

  it('rejects a version below its floor as ROLLBACK and accepts one at or above it', () => {
    const floors = { rootVersion: 2, securityVersion: 5, revocationVersion: 0, targetsVersion: 7 };
    expectCode(() => checkFloor(floors, 'securityVersion', 4), 'ROLLBACK');
    checkFloor(floors, 'securityVersion', 5);
    checkFloor(floors, 'rootVersion', 3);
    expectCode(() => checkFloor(floors, 'targetsVersion', 6), 'ROLLBACK');
    checkFloor(floors, 'targetsVersion', 7);
  });
});

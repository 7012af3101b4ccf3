import { expect } from 'chai';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgesealError } from '../../src/core/errors.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { COUNTER_ATTRIBUTES_WRITTEN, COUNTER_DEFINITION, DEFAULT_NV_INDICES } from '../../src/trust/nv-layout.js';
import { establishTrust } from '../../src/trust/establish.js';
import { checkFloor } from '../../src/trust/floors.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { provisionFresh, startTrustFixture, type TrustFixture } from './tpm-fixture.js';

describe('anti-rollback floors in TPM NV counters against swtpm (P3)', function () {
  let fx: TrustFixture;
  before(async () => (fx = await startTrustFixture()));
  after(async () => fx?.close());
  const establish = (stateDir: string) => establishTrust({ tpm: fx.tpm, stateDir });

  it('raise, reboot, cannot lower, older security version rejected', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establish(p.stateDir);
    expect(await trust.raiseFloor('securityVersion', 3)).to.deep.equal({ rootVersion: 0, securityVersion: 3, revocationVersion: 0, targetsVersion: 0 });
    expect((await trust.raiseFloor('rootVersion', 2)).rootVersion).to.equal(2);
    await fx.reboot();
    const after = await establish(p.stateDir);
    expect(after.floors).to.deep.equal({ rootVersion: 2, securityVersion: 3, revocationVersion: 0, targetsVersion: 0 });
    await expectCodeAsync(() => after.raiseFloor('securityVersion', 2), 'FLOOR_VIOLATION');
    expect((await after.readFloors()).securityVersion).to.equal(3);
    expectCode(() => checkFloor(after.floors, 'securityVersion', 2), 'ROLLBACK');
    checkFloor(after.floors, 'securityVersion', 3);
    // raising to the current value is a no-op, not an error
    expect((await after.raiseFloor('securityVersion', 3)).securityVersion).to.equal(3);
  });

  it('targets version floor: its own counter at 0x018e5e04, defined at provisioning, raised, kept across reboot, never lowered', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establish(p.stateDir);
    expect(trust.pin.counters.targetsVersion.nvIndex).to.equal(DEFAULT_NV_INDICES.targetsVersion);
    const pub = await fx.tpm.nvReadPublic(DEFAULT_NV_INDICES.targetsVersion);
    expect(pub.public.attributes.raw).to.equal(COUNTER_ATTRIBUTES_WRITTEN);
    expect(trust.floors.targetsVersion).to.equal(0);
    expect(await trust.raiseFloor('targetsVersion', 4)).to.deep.equal({ rootVersion: 0, securityVersion: 0, revocationVersion: 0, targetsVersion: 4 });
    await fx.reboot();
    const after = await establish(p.stateDir);
    expect(after.floors.targetsVersion).to.equal(4);
    await expectCodeAsync(() => after.raiseFloor('targetsVersion', 3), 'FLOOR_VIOLATION');
    expect((await after.readFloors()).targetsVersion).to.equal(4);
    expectCode(() => checkFloor(after.floors, 'targetsVersion', 3), 'ROLLBACK');
    // an attacker who replaces the counter with a fresh one does not get a pinned counter back
    await fx.tpm.nvUndefineSpace(DEFAULT_NV_INDICES.targetsVersion);
    await fx.tpm.nvDefineSpace({ index: DEFAULT_NV_INDICES.targetsVersion, ...COUNTER_DEFINITION, dataSize: 8 });
    await expectCodeAsync(() => establish(p.stateDir), 'NV_PIN_INVALID');
  });

  it('concurrent raises do not overshoot: each is read-then-increment, one at a time', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establish(p.stateDir);
    const results = await Promise.allSettled([trust.raiseFloor('securityVersion', 5), trust.raiseFloor('securityVersion', 5), trust.raiseFloor('securityVersion', 3)]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected']);
    expect(results[2].status === 'rejected' && (results[2].reason as EdgesealError).code).to.equal('FLOOR_VIOLATION');
    expect((await trust.readFloors()).securityVersion).to.equal(5);
  });

  it('restoring an older copy of the whole state dir does not bring old floors back', async () => {
    const p = await provisionFresh(fx.tpm);
    const backup = await mkdtemp(join(tmpdir(), 'edgeseal-backup-'));
    await cp(p.stateDir, backup, { recursive: true });
    await (await establish(p.stateDir)).raiseFloor('securityVersion', 5);
    await rm(p.stateDir, { recursive: true });
    await cp(backup, p.stateDir, { recursive: true });
    expect((await establish(p.stateDir)).floors.securityVersion).to.equal(5);
  });

  it('counters never restart at zero: re-provisioning keeps counting up and pins the new base', async () => {
    const first = await provisionFresh(fx.tpm);
    await (await establish(first.stateDir)).raiseFloor('securityVersion', 4);
    const second = await provisionFresh(fx.tpm);
    const trust = await establish(second.stateDir);
    expect(trust.floors.securityVersion).to.equal(0);
    expect(trust.pin.counters.securityVersion.base > 4n).to.be.true;
  });

  it('an attacker who undefines and redefines a counter cannot lower its floor', async () => {
    const p = await provisionFresh(fx.tpm);
    await (await establish(p.stateDir)).raiseFloor('securityVersion', 6);
    const index = DEFAULT_NV_INDICES.securityVersion;
    await fx.tpm.nvUndefineSpace(index);
    await fx.tpm.nvDefineSpace({ index, ...COUNTER_DEFINITION, dataSize: 8 });
    // a defined but never incremented counter is not WRITTEN: not the pinned counter
    await expectCodeAsync(() => establish(p.stateDir), 'NV_PIN_INVALID');
    await fx.tpm.nvIncrement(index, ownerAuth());
    expect((await establish(p.stateDir)).floors.securityVersion).to.be.at.least(6);
  });
});

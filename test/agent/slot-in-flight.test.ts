import { expect } from 'chai';
import { inFlightText, slotInFlight } from '../../src/agent/slot-in-flight.js';
import type { InstallJournal, InstallState } from '../../src/ota/install-journal.js';

const target = { name: 'apps/foo', version: '1.2.0', length: 1000, sha256: 'ab'.repeat(32), securityVersion: 3 };
const at = (state: InstallState, offset?: number): InstallJournal => ({ seq: 4, state, install: { target, fromSlot: 'A', toSlot: 'B', floorsRaised: false, ...(offset === undefined ? {} : { offset }) } });

// Which slot holds an install's bytes rather than what its record names (edgeseal status).
describe('slot in flight (from the install journal)', () => {
  it('downloading: the target slot is being written, its journalled share shown, unverified', () => {
    const f = slotInFlight(at('downloading', 375))!;
    expect(f).to.deep.equal({ slot: 'B', target: 'apps/foo', version: '1.2.0', length: 1000, state: 'writing', durableBytes: 375, percent: 37, verified: false });
    expect(inFlightText(f)).to.equal('writing apps/foo 1.2.0 (37 % written, unverified)');
    expect(slotInFlight(at('downloading'))).to.include({ durableBytes: 0, percent: 0 });
    expect(slotInFlight(at('downloading', 5000)), 'an offset past the signed length is capped').to.include({ durableBytes: 1000, percent: 100 });
  });

  it('staged: written and verified, not armed yet; an older agent copying from staging: written, share unknown', () => {
    expect(inFlightText(slotInFlight(at('staged'))!)).to.equal('staged apps/foo 1.2.0 (verified, not armed yet)');
    const copying = slotInFlight(at('staging'))!;
    expect(copying).to.not.have.property('percent');
    expect(inFlightText(copying)).to.equal('writing apps/foo 1.2.0 (unverified)');
  });

  it('no slot in flight when idle, before the slot is touched, or once the trial is armed', () => {
    expect(slotInFlight({ seq: 0, state: 'idle', install: null })).to.equal(undefined);
    for (const state of ['downloaded', 'verified', 'trying', 'health', 'committed', 'rolled-back', 'abandoned'] as const) expect(slotInFlight(at(state)), state).to.equal(undefined);
  });
});

import { expect } from 'chai';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { applyMark } from '../../src/agent/marks.js';
import { flipByte, NOW, S, useBoardRig, withDevice } from './rig.js';

// A trial whose agent never starts (kernel panic, crash loop before the agent, hang ended by the
// watchdog) is ended by the bootloader's own try counting, played here by the file boot selector:
// update.maxTries boots of the new slot, then the good slot; the agent's next start reports the rollback.
describe('bootloader try counting when the agent never starts (file boot selector, real swtpm)', function () {
  const rig = useBoardRig(this);

  for (const mode of ['agent', 'external'] as const) {
    it(`maxTries 3, health mode ${mode}: three boots of B without an agent, then A; the agent rolls back and reports it, floors untouched`, async () => {
      const b = await rig.board({ update: { maxTries: 3, health: { mode } } });
      expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed', next: 'reboot' });
      const slots: string[] = [];
      for (let i = 0; i < 3; i++) slots.push(await b.boot.simulateBoot()); // B panics before userspace each time
      expect(slots).to.deep.equal(['B', 'B', 'B']);
      expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: 'B', tryCount: 0 });
      const boot = await rig.reboot(b); // tries spent: the bootloader picks A, where the agent starts
      expect(boot).to.include({ action: 'verified', proceed: true });
      expect(await b.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
      const j = await readJournal(agentPaths(b.config.stateDir).journal);
      expect(j.state).to.equal('rolled-back');
      expect(j.install?.outcome?.message).to.equal('slot B did not confirm its trial boot; the bootloader fell back to slot A');
      const { entries } = await new DiskOutboxStore(join(b.config.stateDir, 'outbox')).load();
      const rollbacks = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'rollback');
      expect(rollbacks.map((e) => [e.verdict, e.code, e.image?.version])).to.deep.equal([['refused', 'INSTALL_FAILED', S.v2.version]]);
      expect(await withDevice(b, async (dev) => (await dev.trust.readFloors()).securityVersion)).to.equal(0);
    });
  }

  // onFailure fallback chooses a slot as mark-active does: the clean-up of the journal's last decision
  // (here: a rollback, whose clean-up marks its origin A good) must not undo it at the next start
  it('onFailure fallback to a verified slot holds at the next start, after an earlier rollback', async () => {
    const b = await rig.board({ onFailure: 'fallback', update: { health: { mode: 'external' } } });
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    expect(await rig.reboot(b)).to.include({ action: 'awaiting-mark' });
    await withDevice(b, (dev) => applyMark(dev, { op: 'mark-bad', reason: 'canary failed' }, NOW));
    expect(await rig.reboot(b)).to.include({ action: 'verified' }); // back on A, B keeps the signed 1.1.0
    await flipByte(b.slots.a);
    expect(await rig.reboot(b)).to.include({ action: 'fallback', code: 'DIGEST_MISMATCH' });
    expect(await b.boot.state()).to.deep.include({ good: 'B', trySlot: null });
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state(), 'the next boot stays on the verified slot').to.deep.include({ active: 'B', good: 'B' });
  });
});
